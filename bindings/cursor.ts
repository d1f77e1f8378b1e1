/**
 * Cursors: point operations, range iteration and positioned movement over one table.
 *
 * A cursor never holds a latch between calls. Scans are read a leaf at a time into this thread's
 * scratch area (assembly/btree/scan.ts) and decoded into a batch of copies; the next batch resumes
 * after the last key returned. Every key present for the whole scan is returned once, in order.
 */

import { LatchkeyError, Status, errorFromStatus, invalid } from './errors.js';
import { type Format, writeBytes, readBytes, decodeBytes, keyBytes } from './codec.js';
import { optionsOf, quoted, shown } from './args.js';
import type { CoreThread } from './core.js';
import { MODE_PUT, MODE_INSERT } from './abi.generated.js';

export type Key = Uint8Array | string;
export type Value = Uint8Array | string;

export interface RangeOptions<K> {
  gt?: K;
  gte?: K;
  lt?: K;
  lte?: K;
  reverse?: boolean;
  limit?: number;
}
const RANGE_KEYS = new Set(['gt', 'gte', 'lt', 'lte', 'reverse', 'limit']);

const BOUND_NONE = 0;
const BOUND_INCLUSIVE = 1;
const BOUND_EXCLUSIVE = 2;
const SCAN_END = 1;

/** One leaf's worth of results as the core writes them: `count` items (u16 key length, u16 value length, key, value). */
export interface RawBatch {
  bytes: Uint8Array;
  count: number;
  /** Raw bytes of the last key (the next batch's exclusive bound). */
  last: Uint8Array | undefined;
  nextPage: number;
  nextGen: number;
  end: boolean;
  /** The leaf the entries came from and its version then (read-ahead validity). */
  leaf: number;
  leafVersion: number;
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
  private buf: Batch<K, V> | undefined;
  private bufPos = 0;
  private bufReverse = false;

  constructor(owner: CursorOwner, uri: string, dh: number, kf: Format, vf: Format) {
    this.owner = owner;
    this.core = owner.core;
    this.uri = uri;
    this.dh = dh;
    this.kf = kf;
    this.vf = vf;
  }

  private check(): void {
    if (this.closed) throw new LatchkeyError('ECLOSED', `cursor on ${this.uri} is closed`);
    this.owner.checkOpen();
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
      limit < this.core.maxValue ? ` (key + value at most ${this.core.itemMax} bytes on ${this.core.x.lk_page_size()}-byte pages)` : ' (a quarter page)');
    this.buf = undefined; // a write through this cursor invalidates its read-ahead
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
    this.buf = undefined;
    let r = this.core.x.lk_remove(this.dh, klen);
    for (let i = 0; r === Status.EAGAIN; i++) r = this.core.x.lk_remove(this.renew('remove', i), this.writeKey(key));
    if (r < 0) this.fail(r, 'remove');
    return r === 1;
  }

  /**
   * Reads one batch from the core: one copy of its items (u16 key length, u16 value length, key,
   * value), never a view of shared memory, and where to resume.
   */
  private fetchRaw(reverse: boolean, mode: number, start: Uint8Array | undefined, endMode: number,
    end: Uint8Array | undefined, hint: number, hintGen: number, limit: number): RawBatch {
    const core = this.core;
    let r = Status.EAGAIN as number;
    for (let i = 0; r === Status.EAGAIN; i++) {
      // After a renew the hint is dropped: it names a page of the old dhandle's tree. The scan
      // resumes by key (`start`, exclusive after the last key returned), so an iterator in
      // progress keeps its order and once-only guarantees on the new dhandle's tree.
      const dh = i === 0 ? this.dh : this.renew('scan', i - 1);
      if (start) core.u8.set(start, core.KEY);
      if (end) core.u8.set(end, core.KEY2);
      r = core.x.lk_scan(dh, reverse ? 1 : 0, mode, start?.length ?? 0, endMode, end?.length ?? 0,
        i === 0 ? hint : 0, i === 0 ? hintGen : 0, limit);
    }
    if (r < 0) this.fail(r, 'scan');
    const dv = core.dv;
    const out = core.OUT;
    const count = dv.getUint32(out, true);
    const bytes = core.u8.slice(out + 28, out + 28 + dv.getUint32(out + 24, true));
    const bv = new DataView(bytes.buffer);
    let pos = 0;
    let lastAt = 0;
    let lastLen = 0;
    for (let i = 0; i < count; i++) {
      lastAt = pos + 4;
      lastLen = bv.getUint16(pos, true);
      pos += 4 + lastLen + bv.getUint16(pos + 2, true);
    }
    return {
      bytes,
      count,
      // The cursor's own copy of its resume key: the caller may mutate the keys it was given.
      last: count > 0 ? bytes.slice(lastAt, lastAt + lastLen) : undefined,
      nextPage: dv.getUint32(out + 4, true),
      nextGen: dv.getUint32(out + 8, true),
      end: (dv.getUint32(out + 12, true) & SCAN_END) !== 0,
      leaf: dv.getUint32(out + 16, true),
      leafVersion: dv.getUint32(out + 20, true),
    };
  }

  /** Reads one batch and decodes its keys and values (views of the batch's copy, or strings). */
  private fetch(reverse: boolean, mode: number, start: Uint8Array | undefined, endMode: number,
    end: Uint8Array | undefined, hint: number, hintGen: number, limit: number): Batch<K, V> {
    const raw = this.fetchRaw(reverse, mode, start, endMode, end, hint, hintGen, limit);
    const { bytes, count } = raw;
    const bv = new DataView(bytes.buffer);
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
    return this.walk(BOUND_NONE, undefined, (m, st, h, g) => this.fetchRaw(false, m, st, BOUND_NONE, undefined, h, g, 0x7fffffff));
  }

  /** The batch walk of range() and rawBatches(): fetch, then resume after the last key, by the hint. */
  private *walk<B extends RawBatch>(mode: number, start: Uint8Array | undefined,
    fetch: (mode: number, start: Uint8Array | undefined, hint: number, hintGen: number) => B): IterableIterator<B> {
    let hint = 0;
    let hintGen = 0;
    while (true) {
      this.check();
      const b = fetch(mode, start, hint, hintGen);
      yield b;
      if (b.end) return;
      if (b.last) {
        start = b.last;
        mode = BOUND_EXCLUSIVE;
      }
      hint = b.nextPage;
      hintGen = b.nextGen;
    }
  }

  private bound(opts: RangeOptions<K>, strict: 'gt' | 'lt', loose: 'gte' | 'lte'): [number, Uint8Array | undefined] {
    const s = opts[strict];
    const l = opts[loose];
    if (s !== undefined && l !== undefined) throw invalid(`range: both ${strict} and ${loose} given`, `at most one of ${strict}, ${loose}`);
    if (s === undefined && l === undefined) return [BOUND_NONE, undefined];
    const b = keyBytes(this.kf, s !== undefined ? s : l);
    if (b.length === 0 || b.length > this.core.maxKey) {
      throw new LatchkeyError('EKEYSIZE', `range bound of ${b.length} bytes; accepted: 1 to ${this.core.maxKey} bytes`);
    }
    return [s !== undefined ? BOUND_EXCLUSIVE : BOUND_INCLUSIVE, b];
  }

  /** Iterates [key, value] pairs in key order (or reversed) within the bounds. */
  *range(opts?: RangeOptions<K>): IterableIterator<[K, V]> {
    this.check();
    const o = optionsOf(opts, 'range', RANGE_KEYS);
    const limit: unknown = o.limit;
    if (limit !== undefined && limit !== Infinity && !(Number.isInteger(limit) && (limit as number) >= 0)) {
      throw invalid(`range: limit ${shown(limit)}`, 'a non-negative integer');
    }
    let remaining = (limit ?? Infinity) as number;
    if (o.reverse !== undefined && typeof o.reverse !== 'boolean') throw invalid('range: reverse must be a boolean', 'true or false');
    const reverse = o.reverse === true;
    const lower = this.bound(o, 'gt', 'gte');
    const upper = this.bound(o, 'lt', 'lte');
    const [mode, start] = reverse ? upper : lower;
    const [endMode, end] = reverse ? lower : upper;
    if (remaining <= 0) return;
    const batches = this.walk(mode, start,
      (m, st, h, g) => this.fetch(reverse, m, st, endMode, end, h, g, Math.min(remaining, 0x7fffffff)));
    for (const b of batches) {
      for (let i = 0; i < b.keys.length && remaining > 0; i++, remaining--) yield [b.keys[i], b.values[i]];
      if (remaining <= 0) return;
    }
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

  private takeFromBuffer(): boolean {
    const b = this.buf!;
    if (this.bufPos >= b.keys.length) return false;
    // Serve the next step from the read-ahead only if its leaf has not changed since: then the
    // next entry there is still the true neighbour. Otherwise the caller fetches afresh.
    // (The check also fails after a role change: the next step then moves to a current dhandle.)
    if (this.bufPos > 0 && this.core.x.lk_leaf_unchanged(this.dh, b.leaf, b.leafVersion) !== 1) return false;
    this.curKey = b.keys[this.bufPos];
    this.curValue = b.values[this.bufPos];
    // The raw position is the cursor's own copy: the caller may mutate the key it was given.
    this.curRaw = this.bufPos === b.keys.length - 1 ? b.last : keyBytes(this.kf, this.curKey);
    this.bufPos++;
    return true;
  }

  private step(reverse: boolean, mode: number, start: Uint8Array | undefined): boolean {
    this.check();
    if (this.buf && this.bufReverse === reverse && mode === BOUND_EXCLUSIVE && this.takeFromBuffer()) return true;
    // The right-sibling hint holds only once this leaf's entries were all taken and the leaf has
    // not changed since (a key inserted after our position must not be skipped).
    const b = this.buf;
    const exhausted = b !== undefined && this.bufPos >= b.keys.length
      && this.core.x.lk_leaf_unchanged(this.dh, b.leaf, b.leafVersion) === 1;
    let hint = exhausted && !reverse && this.bufReverse === reverse && mode === BOUND_EXCLUSIVE ? b!.nextPage : 0;
    let hintGen = hint ? this.buf!.nextGen : 0;
    let from = start;
    let m = mode;
    for (;;) {
      const b = this.fetch(reverse, m, from, BOUND_NONE, undefined, hint, hintGen, 0);
      this.buf = b;
      this.bufPos = 0;
      this.bufReverse = reverse;
      if (this.takeFromBuffer()) return true;
      if (b.end) {
        this.reset();
        return false;
      }
      hint = b.nextPage;
      hintGen = b.nextGen;
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
