/**
 * Sessions: the per-thread handle through which tables are created, opened, checked and measured.
 * A session belongs to the thread (connection object) that opened it.
 */

import { LatchkeyError, Status, errorFromStatus, invalid } from './errors.js';
import { Cursor, type CursorOwner, type Key, type Value } from './cursor.js';
import { type Format, type FormatType, FORMATS, FORMATS_ACCEPTED, formatCode, formatOf, writeBytesAt } from './codec.js';
import { Staging, fromArgument } from './batch.js';
import { describe, optionsOf, quoted } from './args.js';
import type { CoreThread } from './core.js';
import { readTreeShape, type TreeShape } from './shape.js';
import {
  type TableStats, STATS_FIELDS, VERIFY_RULES, VERIFY_OUT_PAGE, VERIFY_OUT_RULE, VERIFY_OUT_LEVEL, VERIFY_OUT_PAGES,
  VERIFY_OUT_LEVELS, VERIFY_OUT_DETAIL, MAX_NAME, MAX_DHANDLES, MAX_TABLES, NEXT_NAME_LEN, NEXT_FORMATS, NEXT_NAME,
  COMPACT_DELETED, COMPACT_FINISHED, COMPACT_RECYCLED, BATCH_IN_SIZE, BATCH_OP_HEADER, LOG_PUT, LOG_REMOVE,
} from './abi.generated.js';

export interface TableOptions<KF extends Format = Format, VF extends Format = Format> {
  keyFormat?: KF;
  valueFormat?: VF;
}

declare const tableFormats: unique symbol;
/**
 * A table's uri as create() returns it: the same string, typed with the table's formats, so that
 * openCursor(table) is a Cursor<string, string> for an 'S'/'S' table without written generics.
 * Any method that takes a uri takes it.
 */
export type Table<KF extends Format = Format, VF extends Format = Format> = string & { readonly [tableFormats]: [KF, VF] };
const TABLE_KEYS = new Set(['keyFormat', 'valueFormat']);

export interface VerifyOptions {
  /**
   * true: only the checks that hold while other threads write (safe at any time).
   * false (default): all checks; the caller guarantees no thread writes the table meanwhile.
   */
  concurrent?: boolean;
}
const VERIFY_KEYS = new Set(['concurrent']);

export interface VerifyReport {
  ok: true;
  uri: string;
  pages: number;
  levels: number;
  full: boolean;
}

export interface CompactResult {
  /** Pages unlinked and retired (leaves, chain pages above them, and old roots). */
  pagesDeleted: number;
  /** Half-dead leaves of interrupted deletions that were finished. */
  halfDeadFinished: number;
  /** Deleted pages moved to the free list (any table's, once no operation could reach them). */
  pagesRecycled: number;
}

// TableStats and the stats fields (assembly/btree/stats.ts) and the verifier's rules and report
// (assembly/verify.ts) are generated from the core's definitions.
export { type TableStats, VERIFY_RULES };

function notLeader(what: string): LatchkeyError {
  return new LatchkeyError('ENOTLEADER', `${what}: this connection is a follower; accepted: schema changes and writes on the leader (reconfigure({ role: 'leader' }) steps up)`);
}
const encoder = new TextEncoder();
// ignoreBOM: a table name that starts with U+FEFF keeps it.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A live tree of the catalog: its id, its table's name, and its formats as the core encodes them. */
export interface LiveTable {
  tree: number;
  name: string;
  formats: number;
}

/** The live trees, in catalog order (lk_table_next leaves each one's name and formats at OUT). */
export function liveTables(core: CoreThread): LiveTable[] {
  const { x, dv, u8, OUT } = core;
  const all: LiveTable[] = [];
  for (let t = x.lk_table_next(0); t >= 0; t = x.lk_table_next(t + 1)) {
    const len = dv.getInt32(OUT + NEXT_NAME_LEN, true);
    const name = OUT + NEXT_NAME;
    all.push({ tree: t, name: decoder.decode(u8.slice(name, name + len)), formats: dv.getInt32(OUT + NEXT_FORMATS, true) });
  }
  return all;
}

export interface SessionOwner {
  readonly core: CoreThread;
  checkOpen(): void;
  forgetSession(s: Session): void;
  checkpoint(): Promise<void>;
  /** Resolves once every write this thread made before the call is durable (bindings/log.ts). */
  flush(): Promise<void>;
}

/** One change of session.batch: the shape level's batch takes. */
export interface BatchOp {
  type: 'put' | 'remove';
  uri: string;
  key: Key;
  value?: Value;
}


/** Tries to get a usable dhandle before giving up (each retry means another thread changed it). */
const DHANDLE_TRIES = 10_000;

export class Session implements CursorOwner {
  readonly core: CoreThread;
  private readonly conn: SessionOwner;
  private readonly cursors = new Set<Cursor>();
  /** Dhandles this session caches (one reference each), by uri. Closing a cursor keeps them. */
  private readonly dhandles = new Map<string, number>();
  private closed = false;

  constructor(conn: SessionOwner) {
    this.conn = conn;
    this.core = conn.core;
  }

  checkOpen(): void {
    if (this.closed) throw new LatchkeyError('ECLOSED', 'session is closed');
    this.conn.checkOpen();
  }

  forget(c: Cursor, dh: number): void {
    this.cursors.delete(c);
    this.core.x.lk_dhandle_unuse(dh);
  }

  /**
   * A cursor's dhandle `old` is from before a role change (the core said EAGAIN): becomes a user
   * of a current one by the same path as an open (use: the cached one if current, else
   * dhandleGet), checks it is the same kind of table, then ends the use of `old`. The new use is
   * taken before the old one ends, so drop() never sees the cursor holding neither.
   * assembly/conn/README.md, "Cursors across role changes", has the argument.
   */
  renew(uri: string, old: number, what: string): number {
    this.checkOpen();
    const x = this.core.x;
    let dh: number;
    try {
      dh = this.use(uri);
    } catch (e) {
      if (!(e instanceof LatchkeyError) || e.code !== 'ENOENT') throw e;
      throw new LatchkeyError('ENOENT', `${what}: the table is gone since this cursor was opened (dropped, or absent from the checkpoint this node loaded at a role change); accepted: a cursor opened after it is created again`);
    }
    const was = x.lk_table_formats(old);
    const now = x.lk_table_formats(dh);
    if (was !== now) {
      x.lk_dhandle_unuse(dh);
      throw new LatchkeyError('ENOENT', `${what}: the table this cursor was opened on is gone; a table of that name now has key format '${formatOf(now >> 8)}' and value format '${formatOf(now & 0xff)}' (the cursor's table had '${formatOf(was >> 8)}', '${formatOf(was & 0xff)}'); accepted: a new cursor`);
    }
    x.lk_dhandle_unuse(old);
    return dh;
  }

  /** Writes a table uri's name into scratch; returns its byte length. */
  private writeName(uri: unknown): number {
    if (typeof uri !== 'string' || !uri.startsWith('table:') || uri.length === 6) {
      throw invalid(`table uri ${typeof uri === 'string' ? `'${uri}'` : describe(uri)}`, "a string 'table:<name>'");
    }
    // Encoding would turn each lone surrogate into U+FFFD: two names would become one table.
    if (!uri.isWellFormed()) throw invalid(`table name ${JSON.stringify(uri)} is not well-formed UTF-16 (lone surrogate)`, 'a well-formed string');
    const bytes = encoder.encode(uri.slice(6));
    if (bytes.length > MAX_NAME) throw invalid(`table name of ${bytes.length} bytes`, `names of 1 to ${MAX_NAME} UTF-8 bytes`);
    this.core.u8.set(bytes, this.core.KEY);
    return bytes.length;
  }

  /**
   * Becomes a user of the table's dhandle (assembly/conn/dhandle.ts): the cached one if it is
   * still usable, else a fresh one (an outdated one is dropped: a role change or a newer image
   * happened since). The caller ends the use with lk_dhandle_unuse.
   */
  private use(uri: string): number {
    const x = this.core.x;
    for (let i = 0; i < DHANDLE_TRIES; i++) {
      let dh = this.dhandles.get(uri);
      if (dh === undefined) {
        dh = x.lk_dhandle_get(this.writeName(uri));
        if (dh === Status.ENOENT) throw new LatchkeyError('ENOENT', `no table ${uri}; create it first with session.create('${uri}')`);
        if (dh === Status.EBUSY) throw new LatchkeyError('EBUSY', `the handle list is full (at most ${MAX_DHANDLES} table handles); close sessions or cursors`);
        if (dh < 0) throw errorFromStatus(dh, `open ${uri}`);
        this.dhandles.set(uri, dh);
      }
      if (x.lk_dhandle_use(dh) === Status.OK) return dh;
      this.dhandles.delete(uri);
      x.lk_dhandle_release(dh);
    }
    throw new LatchkeyError('EBUSY', `open ${uri}: its table handle kept changing under ${DHANDLE_TRIES} tries`);
  }

  /** Runs `fn` as a user of the table's dhandle. */
  private withTable<T>(uri: string, fn: (dh: number) => T): T {
    const dh = this.use(uri);
    try {
      return fn(dh);
    } finally {
      this.core.x.lk_dhandle_unuse(dh);
    }
  }

  /**
   * The uris of the live tables ('table:<name>'), sorted by name's UTF-16 order: the tables this
   * connection's memory holds now (created, or loaded from a checkpoint; not dropped, and not
   * retired by a newer image). Another thread may create or drop one right after.
   */
  tables(): string[] {
    this.checkOpen();
    return liveTables(this.core).map((t) => `table:${t.name}`).sort();
  }

  /** Creates a table; a no-op if it exists with the same formats. Returns the uri, typed (Table). */
  create<KF extends Format = 'u', VF extends Format = 'u'>(uri: string, opts: TableOptions<KF, VF> = {}): Table<KF, VF> {
    this.checkOpen();
    const o = optionsOf(opts, 'create', TABLE_KEYS);
    const kf = o.keyFormat === undefined ? 'u' : o.keyFormat;
    const vf = o.valueFormat === undefined ? 'u' : o.valueFormat;
    if (!FORMATS.includes(kf)) throw invalid(`keyFormat ${quoted(kf)}`, FORMATS_ACCEPTED);
    if (!FORMATS.includes(vf)) throw invalid(`valueFormat ${quoted(vf)}`, FORMATS_ACCEPTED);
    const n = this.writeName(uri);
    const r = this.core.x.lk_table_create(n, formatCode(kf), formatCode(vf));
    if (r === Status.ENOTLEADER) throw notLeader(`create ${uri}`);
    if (r === Status.EINVAL) throw invalid(`table ${uri} exists with other formats`, 'the formats it was created with');
    if (r === Status.EBUSY) throw new LatchkeyError('EBUSY', `table catalog full: at most ${MAX_TABLES} tables`);
    if (r < 0) throw errorFromStatus(r, `create ${uri}`);
    return uri as Table<KF, VF>;
  }

  /**
   * Drops a table: leader only (ENOTLEADER), EBUSY while any cursor (in any thread) is open on it.
   * This session's cached handle is let go first; other sessions' cached handles are swept.
   */
  drop(uri: string): void {
    this.checkOpen();
    const n = this.writeName(uri);
    const dh = this.dhandles.get(uri);
    if (dh !== undefined) {
      this.dhandles.delete(uri);
      this.core.x.lk_dhandle_release(dh);
    }
    const r = this.core.x.lk_table_drop(n);
    if (r === Status.ENOENT) throw new LatchkeyError('ENOENT', `drop ${uri}: no such table`);
    if (r === Status.EBUSY) throw new LatchkeyError('EBUSY', `drop ${uri}: the table is in use (open cursors); close them first`);
    if (r === Status.ENOTLEADER) throw notLeader(`drop ${uri}`);
    if (r < 0) throw errorFromStatus(r, `drop ${uri}`);
  }

  /**
   * Opens a cursor on an existing table. Its key and value types follow the formats of a Table
   * (create's result); for a uri string they are the types written (openCursor<string, string>),
   * or Key and Value.
   */
  openCursor<KF extends Format, VF extends Format>(table: Table<KF, VF>): Cursor<FormatType<KF>, FormatType<VF>>;
  openCursor<K extends Key = Key, V extends Value = Value>(uri: string): Cursor<K, V>;
  openCursor<K extends Key = Key, V extends Value = Value>(uri: string): Cursor<K, V> {
    this.checkOpen();
    const dh = this.use(uri);
    const f = this.core.x.lk_table_formats(dh);
    const c = new Cursor<K, V>(this, uri, dh, formatOf(f >> 8), formatOf(f & 0xff));
    this.cursors.add(c as unknown as Cursor);
    return c;
  }

  /** @internal The table's key and value formats (the CLI's dump header). */
  tableFormats(uri: string): { keyFormat: Format; valueFormat: Format } {
    this.checkOpen();
    const f = this.withTable(uri, (dh) => this.core.x.lk_table_formats(dh));
    return { keyFormat: formatOf(f >> 8), valueFormat: formatOf(f & 0xff) };
  }

  /** @internal A cursor that reads raw bytes whatever the table's formats (checkpoints, dump). */
  openRawCursor(uri: string): Cursor<Uint8Array, Uint8Array> {
    this.checkOpen();
    const c = new Cursor<Uint8Array, Uint8Array>(this, uri, this.use(uri), 'u', 'u');
    this.cursors.add(c as unknown as Cursor);
    return c;
  }

  /**
   * Leader only: writes a consistent image of every table to the page store and publishes it
   * (bindings/checkpoint.ts); nothing, when no write changed a table since the newest image. ENOTLEADER on a follower; ESTALE if another node took the leader
   * role (this connection is then a follower).
   */
  async checkpoint(): Promise<void> {
    this.checkOpen();
    await this.conn.checkpoint();
  }

  /**
   * Resolves once every write this session made before the call is durable: in the page store's
   * log (bindings/log.ts), flushed together with other threads' flushes (group commit). With
   * `log: false`, a checkpoint. ESTALE if another node took the leader role meanwhile.
   */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.conn.flush();
  }

  /**
   * Applies `ops` ({ type: 'put' | 'remove', uri, key, value }) as one batch: after a crash, all
   * of it is there or none of it (its commit record is in the log or not). Every op is checked
   * before any is applied. Other threads may see a batch partly applied while it runs (there is no
   * isolation), and a checkpoint never holds part of one. Leader only.
   */
  batch(ops: readonly BatchOp[]): void {
    this.checkOpen();
    const core = this.core;
    const x = core.x;
    const uris = new Map<string, number>(); // uri -> index in dhs
    const dhs: number[] = [];
    // Every op checked and packed first, in the core's chunk layout (BATCH_OP_HEADER), the
    // dhandle field holding the table's index in dhs until the chunk is sent.
    const staged = new Staging();
    try {
      let i = 0;
      try {
        if (!Array.isArray(ops)) throw invalid(`ops must be an array, got ${describe(ops)}`, "an array of { type: 'put' | 'remove', uri, key, value }");
        for (; i < ops.length; i++) {
          const op = ops[i] as unknown as Record<string, unknown>;
          if (op === null || typeof op !== 'object') throw invalid(`the op is ${describe(op)}`, "an object { type: 'put' | 'remove', uri, key, value }");
          const { type, uri, key, value } = op;
          if (type !== 'put' && type !== 'remove') throw invalid(`type ${typeof type === 'string' ? JSON.stringify(type) : describe(type)}`, "'put' or 'remove'");
          if (typeof uri !== 'string') throw invalid(`uri ${describe(uri)}`, "a string 'table:<name>'");
          let table = uris.get(uri);
          if (table === undefined) {
            table = dhs.push(this.use(uri)) - 1;
            uris.set(uri, table);
          }
          const f = x.lk_table_formats(dhs[table]);
          staged.reserve(BATCH_OP_HEADER + core.maxKey + core.maxValue);
          const at = staged.length;
          const b = staged.buf;
          const kl = writeBytesAt(b, at + BATCH_OP_HEADER, formatOf(f >> 8), key, core.maxKey, 'key');
          if (kl === 0) throw new LatchkeyError('EKEYSIZE', `empty key; accepted: keys of 1 to ${core.maxKey} bytes`);
          const vl = type === 'put'
            ? writeBytesAt(b, at + BATCH_OP_HEADER + kl, formatOf(f & 0xff), value, core.valueLimit(kl), 'value', kl + core.maxValue > core.itemMax ? core.itemLimitWhy : ' (a quarter page)')
            : 0;
          b[at] = type === 'put' ? LOG_PUT : LOG_REMOVE;
          b[at + 1] = 0;
          staged.dv().setUint16(at + 2, table, true);
          staged.dv().setUint16(at + 4, kl, true);
          staged.dv().setUint16(at + 6, vl, true);
          staged.length = at + BATCH_OP_HEADER + kl + vl;
          staged.count++;
        }
      } catch (e) {
        throw fromArgument(e, 'batch', `op ${i}`);
      }
      // Begin: every dhandle must be current (EAGAIN: a role change since; take current ones).
      for (let tries = 0; ; tries++) {
        dhs.forEach((dh, j) => core.dv.setUint32(core.OUT + j * 4, dh, true));
        const r = x.lk_batch_begin(dhs.length);
        if (r === Status.OK) break;
        if (r === Status.ENOTLEADER) throw notLeader('batch');
        if (r !== Status.EAGAIN || tries >= DHANDLE_TRIES) throw errorFromStatus(r, 'batch');
        for (const [uri, j] of uris) dhs[j] = this.renew(uri, dhs[j], 'batch');
      }
      let done = 0;
      try {
        for (let at = 0; done < staged.count;) {
          // A chunk: whole ops that fit the batch input, copied, then each one's dhandle filled in.
          let len = 0;
          let count = 0;
          const b = staged.buf;
          const sdv = staged.dv();
          while (done + count < staged.count) {
            const size = BATCH_OP_HEADER + sdv.getUint16(at + len + 4, true) + sdv.getUint16(at + len + 6, true);
            if (len + size > BATCH_IN_SIZE) break;
            len += size;
            count++;
          }
          core.u8.set(b.subarray(at, at + len), core.OUT);
          for (let o = 0; o < len; o += BATCH_OP_HEADER + core.dv.getUint16(core.OUT + o + 4, true) + core.dv.getUint16(core.OUT + o + 6, true)) {
            core.dv.setUint16(core.OUT + o + 2, dhs[core.dv.getUint16(core.OUT + o + 2, true)], true);
          }
          const r = x.lk_batch_apply(count, len);
          if (r < count) {
            const failed = done + Math.max(r, 0);
            throw errorFromStatus(r < 0 ? r : Status.ENOMEM, `batch: op ${failed} failed; the ${failed} before it are applied in this memory but the batch has no commit record: after a crash none of it is there`);
          }
          done += count;
          at += len;
        }
      } finally {
        x.lk_batch_end(done === staged.count ? 1 : 0);
      }
    } finally {
      for (const dh of dhs) x.lk_dhandle_unuse(dh);
    }
  }

  /** Checks the table's invariants; throws ECORRUPT naming the page and the rule. */
  verify(uri: string, opts?: VerifyOptions): VerifyReport {
    this.checkOpen();
    const { concurrent } = optionsOf(opts, 'verify', VERIFY_KEYS);
    if (concurrent !== undefined && typeof concurrent !== 'boolean') throw invalid('verify: concurrent must be a boolean', 'true or false');
    const full = concurrent !== true;
    const r = this.withTable(uri, (dh) => this.core.x.lk_verify(dh, full ? 1 : 0));
    const dv = this.core.dv;
    const out = this.core.OUT;
    if (r < 0) {
      if (r !== Status.ECORRUPT) throw errorFromStatus(r, `verify ${uri}`);
      const page = dv.getUint32(out + VERIFY_OUT_PAGE, true);
      const rule = VERIFY_RULES[dv.getUint32(out + VERIFY_OUT_RULE, true)] ?? 'UNKNOWN';
      const level = dv.getInt32(out + VERIFY_OUT_LEVEL, true);
      const detail = dv.getUint32(out + VERIFY_OUT_DETAIL, true);
      throw new LatchkeyError('ECORRUPT', `verify ${uri}: page ${page} (level ${level}) breaks rule ${rule} (detail ${detail})`);
    }
    return { ok: true, uri, pages: dv.getUint32(out + VERIFY_OUT_PAGES, true), levels: dv.getUint32(out + VERIFY_OUT_LEVELS, true), full };
  }

  /**
   * Page deletion: finishes interrupted deletions, deletes empty leaves (two-stage, concurrently
   * with other threads' operations), shrinks the root, recycles pages no operation can reach.
   */
  compact(uri: string): CompactResult {
    this.checkOpen();
    const r = this.withTable(uri, (dh) => this.core.x.lk_compact(dh));
    if (r < 0) throw errorFromStatus(r, `compact ${uri}`);
    const dv = this.core.dv;
    const out = this.core.OUT;
    return {
      pagesDeleted: dv.getUint32(out + COMPACT_DELETED, true),
      halfDeadFinished: dv.getUint32(out + COMPACT_FINISHED, true),
      pagesRecycled: dv.getUint32(out + COMPACT_RECYCLED, true),
    };
  }

  /** Counts of the table's tree and of the connection's arena. */
  stats(uri: string): TableStats {
    this.checkOpen();
    const r = this.withTable(uri, (dh) => this.core.x.lk_stats(dh));
    if (r < 0) throw errorFromStatus(r, `stats ${uri}`);
    const s = {} as TableStats;
    STATS_FIELDS.forEach((f, i) => { s[f] = this.core.dv.getFloat64(this.core.OUT + i * 8, true); });
    return s;
  }

  /** The tree's pages level by level, for pictures (shape.ts; draw it with renderTreeSvg). */
  treeShape(uri: string): TreeShape {
    this.checkOpen();
    return this.withTable(uri, (dh) => readTreeShape(this.core, uri, dh));
  }

  close(): void {
    if (this.closed) return;
    for (const c of [...this.cursors]) c.close();
    for (const dh of this.dhandles.values()) this.core.x.lk_dhandle_release(dh);
    this.dhandles.clear();
    this.closed = true;
    this.conn.forgetSession(this);
  }
}
