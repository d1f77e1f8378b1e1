/**
 * Cursors: point operations, range iteration and positioned movement over one table.
 *
 * A cursor never holds a latch between calls. Scans are read a batch at a time into this thread's
 * scratch area (assembly/btree/scan.ts: a positioned cursor's batch is one leaf; range() and
 * batches() take one leaf first, then several leaves a call) and decoded into a batch of copies.
 * Each batch carries the core's resume record; the next call passes it back with how many entries
 * were taken and the last of them, and the core decides whether the batch still serves the next
 * step, where to continue, or to search again by key. Every key present for the whole scan is returned once, in
 * order.
 */

import { LatchkeyError, Status, errorFromStatus, invalid } from './errors.js';
import { type Format, writeBytes, readBytes, decodeBytes, keyBytes } from './codec.js';
import { keyList, packKeys, packed, stageKeys, stageEntries, type Staging } from './batch.js';
import { optionsOf, quoted, shown } from './args.js';
import { RangeIterator, type ScanPlan } from './range.js';
import type { CoreThread } from './core.js';
import {
  MODE_PUT, MODE_INSERT, BOUND_NONE, BOUND_INCLUSIVE, BOUND_EXCLUSIVE, SCAN_FLAGS, SCAN_BYTES, SCAN_LAST, SCAN_COUNT,
  SCAN_RESUME, SCAN_RESUME_SIZE, SCAN_ENTRIES, SCAN_END, SCAN_NO_RESUME, SCAN_REVERSE, SCAN_SPAN, BATCH_IN, BATCH_IN_SIZE, BATCH_OUT, BATCH_NOTFOUND,
  COLUMNS_KEY_ENDS,
} from './abi.generated.js';

export type Key = Uint8Array | string | number;
export type Value = Uint8Array | string | number;

export interface RangeOptions<K> {
  gt?: K;
  gte?: K;
  lt?: K;
  lte?: K;
  reverse?: boolean;
  limit?: number;
}
const RANGE_KEYS = new Set(['gt', 'gte', 'lt', 'lte', 'reverse', 'limit']);


/** One leaf's worth of results as the core writes them: `count` items (u16 key length, u16 value length, key, value). */
export interface RawBatch {
  bytes: Uint8Array;
  count: number;
  /** Raw bytes of the last key (the next batch's exclusive bound). */
  last: Uint8Array | undefined;
  end: boolean;
  /** The core's resume record for this batch, as words: passed back as it is, never read here. */
  resume: Int32Array;
}

/**
 * One batch of cursor.batches(): `count` entries in scan order, as private copies in columns.
 * Entry i's key is keys.subarray(i ? keyEnds[i - 1] : 0, keyEnds[i]); its value the same in
 * values and valueEnds.
 */
export interface EntryBatch {
  count: number;
  keys: Uint8Array;
  keyEnds: Uint32Array;
  values: Uint8Array;
  valueEnds: Uint32Array;
}

/** What a batch walk needs of a batch to resume after it. */
type Resumable = Pick<RawBatch, 'last' | 'end' | 'resume'>;

/** A columnar batch with what resumes after it. */
interface ColumnBatch extends Resumable {
  entries: EntryBatch;
}

/** One leaf's worth of results, decoded. */
interface Batch<K, V> extends RawBatch {
  keys: K[];
  values: V[];
}

/** Owner interface: the session that opened the cursor. */
export interface CursorOwner {
  readonly core: CoreThread;
  checkOpen(): void;
  /** The cursor closed: it stops using its dhandle. */
  forget(c: Cursor, dh: number): void;
  /**
   * The cursor's dhandle `old` is from before a role change: a user of a current dhandle of the
   * same table (same formats), then `old`'s use ended. Throws ENOENT when the table is gone.
   */
  renew(uri: string, old: number, what: string): number;
}

/** Dhandles a cursor takes for one operation before giving up (each one means another role change). */
const RENEW_TRIES = 1000;

export class Cursor<K extends Key = Key, V extends Value = Value> {
  readonly uri: string;
  private readonly owner: CursorOwner;
  private readonly core: CoreThread;
  /**
   * The dhandle this cursor uses (assembly/conn/dhandle.ts); the session made it a user. Replaced
   * by a current one when the core says it is from before a role change (renew).
   */
  private dh: number;
  private readonly kf: Format;
  private readonly vf: Format;
  private closed = false;
  // positioned state
  private curKey: K | undefined;
  private curValue: V | undefined;
  private curRaw: Uint8Array | undefined;
  /** The batch the position came from, and how many of its entries were taken (the read-ahead). */
  private buf: Batch<K, V> | undefined;
  private bufPos = 0;

  constructor(owner: CursorOwner, uri: string, dh: number, kf: Format, vf: Format) {
    this.owner = owner;
    this.core = owner.core;
    this.uri = uri;
    this.dh = dh;
    this.kf = kf;
    this.vf = vf;
  }

  /**
   * ECLOSED once closed. The cursor's flag alone: closing a session closes its cursors first, and
   * closing a connection its sessions, so an open cursor's session and connection are open.
   */
  private check(): void {
    if (this.closed) throw new LatchkeyError('ECLOSED', `cursor on ${this.uri} is closed`);
  }

  private writeKey(key: unknown): number {
    const n = writeBytes(this.core.keyArea, this.kf, key, this.core.maxKey, 'key');
    if (n === 0) throw new LatchkeyError('EKEYSIZE', `empty key; accepted: keys of 1 to ${this.core.maxKey} bytes`);
    return n;
  }

  /**
   * The core answered EAGAIN: this cursor's dhandle is from before a role change. Takes a current
   * one, as an open would (assembly/conn/README.md, "Cursors across role changes"); the caller
   * writes its key (and bounds) again, since the table's name went through the scratch area, and
   * calls again. The read-ahead belonged to the old dhandle's tree; the position is by key.
   */
  private renew(what: string, attempt: number): number {
    if (attempt >= RENEW_TRIES) {
      throw new LatchkeyError('EBUSY', `${what} on ${this.uri}: the connection's role changed under ${RENEW_TRIES} tries`);
    }
    this.dh = this.owner.renew(this.uri, this.dh, `${what} on ${this.uri}`);
    this.buf = undefined;
    return this.dh;
  }

  private fail(status: number, what: string): never {
    if (status === Status.ENOTLEADER) {
      throw new LatchkeyError('ENOTLEADER', `${what} on ${this.uri}: this connection is a follower; accepted: writes on the leader (reconfigure({ role: 'leader' }) steps up)`);
    }
    if (status === Status.ENOMEM) {
      throw new LatchkeyError('ENOMEM', `${what} on ${this.uri}: the cache is full (cacheSize allows ${this.core.cacheBytes} bytes of pages); nothing was changed; accepted: a larger cacheSize at open(), or removing data first`);
    }
    throw errorFromStatus(status, `${what} on ${this.uri}`);
  }

  /** The value stored under `key`, or undefined. */
  get(key: K): V | undefined {
    this.check();
    let r = this.core.x.lk_get(this.dh, this.writeKey(key));
    for (let i = 0; r === Status.EAGAIN; i++) r = this.core.x.lk_get(this.renew('get', i), this.writeKey(key));
    if (r === Status.NOTFOUND) return undefined;
    if (r < 0) this.fail(r, 'get');
    return readBytes(this.core, this.vf, this.core.OUT, r) as V;
  }

  private write(key: K, value: V, mode: number, what: string): number {
    this.check();
    const klen = this.writeKey(key);
    const limit = this.core.valueLimit(klen);
    const vlen = writeBytes(this.core.valueArea, this.vf, value, limit, 'value',
      limit < this.core.maxValue ? this.core.itemLimitWhy : ' (a quarter page)');
    let r = this.core.x.lk_put(this.dh, klen, vlen, mode);
    // The value stays at VALUE: a renew writes only the table's name, at KEY.
    for (let i = 0; r === Status.EAGAIN; i++) r = this.core.x.lk_put(this.renew(what, i), this.writeKey(key), vlen, mode);
    if (r < 0) this.fail(r, what);
    return r;
  }

  /** Inserts or overwrites. */
  put(key: K, value: V): void {
    this.write(key, value, MODE_PUT, 'put');
  }

  /** Inserts if absent; false (nothing changed) if the key exists. */
  insert(key: K, value: V): boolean {
    return this.write(key, value, MODE_INSERT, 'insert') === 1;
  }

  /** Removes the key; false if it was absent. */
  remove(key: K): boolean {
    this.check();
    const klen = this.writeKey(key);
    let r = this.core.x.lk_remove(this.dh, klen);
    for (let i = 0; r === Status.EAGAIN; i++) r = this.core.x.lk_remove(this.renew('remove', i), this.writeKey(key));
    if (r < 0) this.fail(r, 'remove');
    return r === 1;
  }

  // ---- batches of point operations (assembly/btree/batch.ts) ----
  // A batch goes to the core a chunk at a time: as many keys (entries) as the scratch area's batch
  // input holds. Each key is one linearizable operation, as its single-key call would be; the
  // batch as a whole is not atomic. A renew (EAGAIN) writes the table's name into the scratch
  // area, so the chunk is packed again after one.

  /** The values stored under `keys` (undefined where absent), in the order given. */
  getMany(keys: Iterable<K>): (V | undefined)[] {
    this.check();
    const list = keyList(keys, 'getMany');
    const core = this.core;
    const u8 = core.u8;
    const values: (V | undefined)[] = new Array(list.length);
    const input = core.OUT + BATCH_IN;
    for (let done = 0, tries = 0; done < list.length;) {
      const n = packKeys(u8, input, BATCH_IN_SIZE, list, done, this.kf, core.maxKey, 'getMany');
      const r = core.x.lk_get_many(this.dh, n, packed.bytes);
      if (r === Status.EAGAIN) { this.renew('getMany', tries++); continue; }
      if (r < 0) this.fail(r, 'getMany');
      let o = core.OUT + BATCH_OUT;
      for (let i = 0; i < r; i++) {
        const len = u8[o] | (u8[o + 1] << 8);
        o += 2;
        if (len !== BATCH_NOTFOUND) {
          values[done + i] = readBytes(core, this.vf, o, len) as V;
          o += len;
        } else {
          values[done + i] = undefined; // no hole: an absent key's slot holds undefined
        }
      }
      done += r;
    }
    return values;
  }

  /**
   * Inserts or overwrites each [key, value] entry, in order. Every entry is checked before any is
   * applied: a refused one (its index named) leaves the table as it was.
   */
  putMany(entries: Iterable<readonly [K, V]>): void {
    this.check();
    const core = this.core;
    const staged = stageEntries(entries, this.kf, this.vf, core.maxKey, core.maxValue, core.itemMax, (klen) => core.valueLimit(klen), 'putMany');
    this.applyStaged(staged, true, core.x.lk_put_many, 'putMany');
  }

  /** Removes each key, in order; returns how many were present. Every key is checked first. */
  removeMany(keys: Iterable<K>): number {
    this.check();
    const core = this.core;
    const staged = stageKeys(keyList(keys, 'removeMany'), this.kf, core.maxKey, 'removeMany');
    return this.applyStaged(staged, false, core.x.lk_remove_many, 'removeMany');
  }

  /**
   * Sends staged keys or entries to the core a chunk at a time (`apply`, lk_put_many or
   * lk_remove_many); returns the sum of the counts the core leaves at BATCH_OUT (removeMany's).
   */
  private applyStaged(staged: Staging, entries: boolean, apply: (dh: number, count: number, len: number) => number,
    what: string): number {
    const core = this.core;
    let sum = 0;
    for (let at = 0, done = 0, tries = 0; done < staged.count;) {
      const chunk = staged.span(at, BATCH_IN_SIZE, entries, staged.count - done);
      core.u8.set(staged.buf.subarray(at, at + chunk.bytes), core.OUT + BATCH_IN);
      const r = apply(this.dh, chunk.count, chunk.bytes);
      if (r === Status.EAGAIN) { this.renew(what, tries++); continue; }
      if (r < 0) this.fail(r, done > 0 ? `${what} (stopped at ${entries ? 'entry' : 'key'} ${done}: the ${done} before it were applied)` : what);
      if (!entries) sum += core.dv.getUint32(core.OUT + BATCH_OUT, true);
      at += r === chunk.count ? chunk.bytes : staged.span(at, BATCH_IN_SIZE, entries, r).bytes;
      done += r;
    }
    return sum;
  }

  /**
   * Reads one batch from the core: one copy of its items (u16 key length, u16 value length, key,
   * value), never a view of shared memory, and its resume record. With `from`, the batch resumes
   * after the `taken` entries of `from`, the last of them being `start` (exclusive). With `span`
   * (and a positive limit) the batch may take several leaves (assembly/btree/scan.ts SCAN_SPAN).
   */
  private fetchRaw(reverse: boolean, mode: number, start: Uint8Array | undefined, endMode: number,
    end: Uint8Array | undefined, limit: number, from: RawBatch | undefined, taken: number, span = false): RawBatch {
    const core = this.core;
    const out = core.OUT;
    this.scanCall(core.x.lk_scan, reverse, span, mode, start, endMode, end, limit, from, taken);
    const dv = core.dv;
    const flags = dv.getUint32(out + SCAN_FLAGS, true);
    const copy = core.u8.slice(out, out + SCAN_ENTRIES + dv.getUint32(out + SCAN_BYTES, true));
    const bytes = copy.subarray(SCAN_ENTRIES);
    const count = dv.getUint32(out + SCAN_COUNT, true);
    const lastAt = dv.getUint32(out + SCAN_LAST, true);
    return {
      bytes,
      count,
      // The cursor's own copy of its resume key: the caller may mutate the keys it was given.
      last: count > 0 ? bytes.slice(lastAt + 4, lastAt + 4 + (bytes[lastAt] | (bytes[lastAt + 1] << 8))) : undefined,
      end: (flags & SCAN_END) !== 0,
      resume: new Int32Array(copy.buffer, SCAN_RESUME, SCAN_RESUME_SIZE >> 2),
    };
  }

  /**
   * Calls the core for one scan batch (lk_scan, or lk_scan_columns), taking a current dhandle
   * after a role change; the batch is in the output area. Returns its entry count.
   */
  private scanCall(scan: CoreThread['x']['lk_scan'], reverse: boolean, span: boolean, mode: number, start: Uint8Array | undefined,
    endMode: number, end: Uint8Array | undefined, limit: number, from: Resumable | undefined, taken: number): number {
    const core = this.core;
    let r = Status.EAGAIN as number;
    for (let i = 0; r === Status.EAGAIN; i++) {
      // After a renew the record is dropped: it names a page of the old dhandle's tree. The scan
      // resumes by key (`start`, exclusive after the last key returned), so an iterator in
      // progress keeps its order and once-only guarantees on the new dhandle's tree.
      const dh = i === 0 ? this.dh : this.renew('scan', i - 1);
      if (start) core.u8.set(start, core.KEY);
      if (end) core.u8.set(end, core.KEY2);
      const resume = i === 0 && from !== undefined;
      if (resume) this.passBack(from);
      r = scan(dh, (reverse ? SCAN_REVERSE : 0) | (span ? SCAN_SPAN : 0), mode, start?.length ?? 0, endMode, end?.length ?? 0, limit,
        resume ? taken : SCAN_NO_RESUME);
    }
    if (r < 0) this.fail(r, 'scan');
    return r;
  }

  /** Writes batch b's resume record back where the core reads it (word stores: a hot path). */
  private passBack(b: Resumable): void {
    const words = b.resume;
    const i32 = this.core.i32;
    const at = (this.core.OUT + SCAN_RESUME) >> 2;
    for (let i = 0; i < words.length; i++) i32[at + i] = words[i];
  }

  /** Reads one batch and decodes its keys and values (views of the batch's copy, or strings). */
  private fetch(reverse: boolean, mode: number, start: Uint8Array | undefined, endMode: number,
    end: Uint8Array | undefined, limit: number, from: Batch<K, V> | undefined, taken: number): Batch<K, V> {
    const raw = this.fetchRaw(reverse, mode, start, endMode, end, limit, from, taken);
    const { bytes, count } = raw;
    const bv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keys: K[] = new Array(count);
    const values: V[] = new Array(count);
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const kl = bv.getUint16(pos, true);
      const vl = bv.getUint16(pos + 2, true);
      keys[i] = decodeBytes(this.kf, bytes, pos + 4, kl) as K;
      values[i] = decodeBytes(this.vf, bytes, pos + 4 + kl, vl) as V;
      pos += 4 + kl + vl;
    }
    return { ...raw, keys, values };
  }

  /**
   * @internal Every item of the table in key order, as the core's raw batches (one per leaf):
   * what a checkpoint copies while writers wait, to encode after they go on.
   */
  rawBatches(): IterableIterator<RawBatch> {
    this.check();
    return this.walk(BOUND_NONE, undefined, (m, st, from) => this.fetchRaw(false, m, st, BOUND_NONE, undefined, 0x7fffffff, from, from ? from.count : 0));
  }

  /** The batch walk of range() and rawBatches(): fetch, then resume from the batch with all of its entries taken. */
  private *walk<B extends Resumable>(mode: number, start: Uint8Array | undefined,
    fetch: (mode: number, start: Uint8Array | undefined, from: B | undefined) => B): IterableIterator<B> {
    let from: B | undefined;
    while (true) {
      this.check();
      const b = fetch(mode, start, from);
      yield b;
      if (b.end) return;
      if (b.last) {
        start = b.last;
        mode = BOUND_EXCLUSIVE;
      }
      from = b;
    }
  }

  private bound(opts: RangeOptions<K>, strict: 'gt' | 'lt', loose: 'gte' | 'lte', what: string): [number, Uint8Array | undefined] {
    const s = opts[strict];
    const l = opts[loose];
    if (s !== undefined && l !== undefined) throw invalid(`${what}: both ${strict} and ${loose} given`, `at most one of ${strict}, ${loose}`);
    if (s === undefined && l === undefined) return [BOUND_NONE, undefined];
    const b = keyBytes(this.kf, s !== undefined ? s : l);
    if (b.length === 0 || b.length > this.core.maxKey) {
      throw new LatchkeyError('EKEYSIZE', `${what === 'range' ? 'range' : `${what}: range`} bound of ${b.length} bytes; accepted: 1 to ${this.core.maxKey} bytes`);
    }
    return [s !== undefined ? BOUND_EXCLUSIVE : BOUND_INCLUSIVE, b];
  }

  /** The options of range() or batches() (`what`), checked: the scan's direction, bounds and limit. */
  private scanOptions(opts: RangeOptions<K> | undefined, what: string) {
    const o = optionsOf(opts, what, RANGE_KEYS);
    const limit: unknown = o.limit;
    if (limit !== undefined && limit !== Infinity && !(Number.isInteger(limit) && (limit as number) >= 0)) {
      throw invalid(`${what}: limit ${shown(limit)}`, 'a non-negative integer');
    }
    if (o.reverse !== undefined && typeof o.reverse !== 'boolean') throw invalid(`${what}: reverse must be a boolean`, 'true or false');
    const reverse = o.reverse === true;
    const lower = this.bound(o, 'gt', 'gte', what);
    const upper = this.bound(o, 'lt', 'lte', what);
    const [mode, start] = reverse ? upper : lower;
    const [endMode, end] = reverse ? lower : upper;
    return { reverse, mode, start, endMode, end, limit: (limit ?? Infinity) as number };
  }

  /**
   * Iterates [key, value] pairs in key order (or reversed) within the bounds. Nothing runs until
   * the first next() (bindings/range.ts), which checks the cursor and the options.
   */
  range(opts?: RangeOptions<K>): IterableIterator<[K, V]> {
    return new RangeIterator<K, V>(this.kf, this.vf, () => this.planScan(opts));
  }

  /** range()'s first step: checks the options and reads the first batch; undefined for limit 0. */
  private planScan(opts: RangeOptions<K> | undefined): ScanPlan | undefined {
    this.check();
    const { reverse, mode, start, endMode, end, limit: remaining } = this.scanOptions(opts, 'range');
    if (remaining <= 0) return undefined;
    // As rawBatches' walk: each batch resumes from the one before, all of its entries taken, with
    // its last key as the exclusive bound (when it had one). The first batch is one leaf (a scan
    // that stops early copies no more); the ones after it span leaves.
    const fetch = (m: number, st: Uint8Array | undefined, from: RawBatch | undefined, left: number): RawBatch => {
      this.check();
      return this.fetchRaw(reverse, m, st, endMode, end, Math.min(left, 0x7fffffff), from, from ? from.count : 0, from !== undefined);
    };
    let m = mode;
    let st = start;
    return {
      remaining,
      first: fetch(m, st, undefined, remaining),
      after: (from, left) => {
        if (from.last) {
          st = from.last;
          m = BOUND_EXCLUSIVE;
        }
        return fetch(m, st, from, left);
      },
    };
  }

  /**
   * Iterates the entries within the bounds in key order (or reversed) as columnar batches (the
   * first one leaf's worth at most, the ones after it several leaves', up to COLUMNS_MAX
   * entries), private copies: the scan of range(), with its guarantees.
   */
  *batches(opts?: RangeOptions<K>): IterableIterator<EntryBatch> {
    this.check();
    const { reverse, mode, start, endMode, end, limit } = this.scanOptions(opts, 'batches');
    let remaining = limit;
    if (remaining <= 0) return;
    const batches = this.walk<ColumnBatch>(mode, start,
      (m, st, from) => this.fetchColumns(reverse, m, st, endMode, end, Math.min(remaining, 0x7fffffff), from));
    for (const b of batches) {
      if (b.entries.count === 0) continue;
      remaining -= b.entries.count;
      yield b.entries;
      if (remaining <= 0) return;
    }
  }

  /**
   * Reads one columnar batch (lk_scan_columns): one private copy of its packed columns (key ends,
   * value ends, keys, values), the four columns views of it, and its resume record (a copy of its own).
   */
  private fetchColumns(reverse: boolean, mode: number, start: Uint8Array | undefined, endMode: number,
    end: Uint8Array | undefined, limit: number, from: ColumnBatch | undefined): ColumnBatch {
    const core = this.core;
    const out = core.OUT;
    const count = this.scanCall(core.x.lk_scan_columns, reverse, from !== undefined, mode, start, endMode, end, limit, from,
      from ? from.entries.count : 0);
    const packed = count > 0 ? core.dv.getUint32(out + SCAN_BYTES, true) : 0;
    const buf = core.u8.slice(out + COLUMNS_KEY_ENDS, out + COLUMNS_KEY_ENDS + packed).buffer;
    const keyEnds = new Uint32Array(buf, 0, count);
    const keyLen = count > 0 ? keyEnds[count - 1] : 0;
    const at = 8 * count;
    const keys = new Uint8Array(buf, at, keyLen);
    return {
      entries: {
        count,
        keys,
        keyEnds,
        values: new Uint8Array(buf, at + keyLen, packed - 8 * count - keyLen),
        valueEnds: new Uint32Array(buf, 4 * count, count),
      },
      // The cursor's own copy of its resume key: the caller may mutate the keys it was given.
      last: count > 0 ? keys.slice(count > 1 ? keyEnds[count - 2] : 0, keyLen) : undefined,
      end: (core.dv.getUint32(out + SCAN_FLAGS, true) & SCAN_END) !== 0,
      resume: core.i32.slice((out + SCAN_RESUME) >> 2, (out + SCAN_RESUME + SCAN_RESUME_SIZE) >> 2),
    };
  }

  // ---- positioned cursor ----

  /** Current key, or undefined when not positioned. */
  get key(): K | undefined {
    return this.curKey;
  }

  /** Current value, or undefined when not positioned. */
  get value(): V | undefined {
    return this.curValue;
  }

  /** Positions at entry i of batch b (the core said it is the next one). */
  private take(b: Batch<K, V>, i: number): true {
    this.curKey = b.keys[i];
    this.curValue = b.values[i];
    // The raw position is the cursor's own copy: the caller may mutate the key it was given.
    this.curRaw = i === b.count - 1 ? b.last : keyBytes(this.kf, this.curKey);
    this.bufPos = i + 1;
    return true;
  }

  /**
   * One step. With a batch held, the core says whether its next entry is still the one (its
   * record, the entries taken); otherwise it resumes from that batch (or the position, by key)
   * and hands a new one.
   */
  private step(reverse: boolean, mode: number, start: Uint8Array | undefined): boolean {
    this.check();
    let from = this.buf;
    let taken = this.bufPos;
    if (from !== undefined) {
      this.passBack(from);
      if (this.core.x.lk_scan_kept(this.dh, reverse ? 1 : 0, taken) === 1) return this.take(from, taken);
    }
    for (;;) {
      const b = this.fetch(reverse, mode, start, BOUND_NONE, undefined, 0, from, taken);
      this.buf = b;
      if (b.count > 0) return this.take(b, 0);
      if (b.end) {
        this.reset();
        return false;
      }
      from = b;
      taken = 0;
    }
  }

  /** Positions at the smallest key >= `key` ('ge') or the largest key <= `key` ('le'). */
  seek(key: K, how: 'ge' | 'le' = 'ge'): boolean {
    this.check();
    if (how !== 'ge' && how !== 'le') throw invalid(`seek: ${quoted(how)}`, "'ge' or 'le'");
    const raw = keyBytes(this.kf, key);
    if (raw.length === 0 || raw.length > this.core.maxKey) {
      throw new LatchkeyError('EKEYSIZE', `seek key of ${raw.length} bytes; accepted: 1 to ${this.core.maxKey} bytes`);
    }
    this.buf = undefined;
    return this.step(how === 'le', BOUND_INCLUSIVE, raw);
  }

  /** Moves to the next key (the first, when not positioned); false at the end (unpositions). */
  next(): boolean {
    return this.curRaw ? this.step(false, BOUND_EXCLUSIVE, this.curRaw) : this.step(false, BOUND_NONE, undefined);
  }

  /** Moves to the previous key (the last, when not positioned); false at the start (unpositions). */
  prev(): boolean {
    return this.curRaw ? this.step(true, BOUND_EXCLUSIVE, this.curRaw) : this.step(true, BOUND_NONE, undefined);
  }

  /** Forgets the position. */
  reset(): void {
    this.curKey = undefined;
    this.curValue = undefined;
    this.curRaw = undefined;
    this.buf = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reset();
    this.owner.forget(this as Cursor, this.dh);
  }
}
