/**
 * latchkey/level: an abstract-level backend. `LatchkeyLevel` is a level database whose data is a
 * latchkey table, so every level library works on it, and, unlike any other level backend, one
 * open database can be used by many worker threads at once (`db.share()` in one thread,
 * `LatchkeyLevel.attach(handle)` in another).
 *
 * The level API is async; latchkey's core is synchronous, so every method does its work at once
 * and returns a settled promise (no await inside). abstract-level (its peer dependency, loaded only
 * by this entry) does the rest: encodings through level-transcoder (the table stores bytes: the
 * `view` encoding), sublevels (key prefixes in the same table), deferred open, events and hooks,
 * chained batches, iterator limits.
 *
 * KEYS. Level allows the empty key; latchkey's keys are 1 to 1024 bytes. Each level key is stored
 * with one 0x00 byte in front: that keeps their order and makes every key non-empty, so level keys
 * are 0 to 1023 bytes (a longer one is a LatchkeyError EKEYSIZE).
 *
 * DURABILITY. As classic-level: a write resolves once the database holds it, and is durable within
 * the log's flushInterval (10 ms); `{ sync: true }` on put, del or batch resolves once it is
 * durable (a flush). A batch is atomic after a crash (session.batch). Iterators read without a
 * snapshot (a write made meanwhile may or may not be seen: the manifest says so).
 */

import { AbstractLevel, AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level';
import { open, attach, type Connection, type ShareHandle } from './connection.js';
import type { ConnectionConfig } from './config.js';
import type { Session, BatchOp } from './session.js';
import type { Cursor, RangeOptions } from './cursor.js';
import { LatchkeyError } from './errors.js';
import { MemoryPageStore } from './store.js';
import { compareBytes } from './codec.js';

type Bytes = Uint8Array;

/** Options of `new LatchkeyLevel(...)`: a latchkey connection's config, or a connection of yours. */
export interface LatchkeyLevelOptions extends ConnectionConfig {
  /** Use this open connection (not closed by db.close()) instead of opening one. */
  connection?: Connection;
  /** The table that holds the database; default 'table:level'. */
  table?: string;
  /** Level's own options (keyEncoding, valueEncoding, ...) may be given here too, as abstract-level allows. */
  [levelOption: string]: unknown;
}

/** What db.share() returns: structured-cloneable, for postMessage to a worker, which passes it to LatchkeyLevel.attach. */
export interface LatchkeyLevelHandle {
  connection: ShareHandle;
  table: string;
}

const DEFAULT_TABLE = 'table:level';
/** The option LatchkeyLevel.attach passes (not a public one). */
const ATTACH = Symbol('attach');
const CLEAR_CHUNK = 1000;

/** A level key as the table stores it: 0x00, then the key. */
function stored(key: Bytes): Bytes {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 1);
  return out;
}


interface LevelRange {
  gt?: Bytes;
  gte?: Bytes;
  lt?: Bytes;
  lte?: Bytes;
  reverse?: boolean;
  limit?: number;
}

/** Level's range options (encoded: bytes) as the table's, keys stored with their 0x00 in front. */
function tableRange(o: LevelRange): RangeOptions<Bytes> {
  const r: RangeOptions<Bytes> = { reverse: !!o.reverse };
  // gte and lte win over gt and lt (abstract-level's rule).
  if (o.gte !== undefined) r.gte = stored(o.gte);
  else if (o.gt !== undefined) r.gt = stored(o.gt);
  else r.gte = new Uint8Array(1); // every stored key begins with 0x00
  if (o.lte !== undefined) r.lte = stored(o.lte);
  else if (o.lt !== undefined) r.lt = stored(o.lt);
  if (o.limit !== undefined && o.limit >= 0 && Number.isFinite(o.limit)) r.limit = o.limit;
  return r;
}

/**
 * An iterator's scan of the table: a cursor of its own and the range, restarted from the target on
 * seek (within the range it was opened with). `pick` makes each item (an entry, a key or a value)
 * from the stored key and the value: the three iterator classes differ only in it.
 */
class Scan<T> {
  private readonly cursor: Cursor<Bytes, Bytes>;
  private it: Iterator<[Bytes, Bytes]>;
  private readonly range: RangeOptions<Bytes>;

  constructor(db: LatchkeyLevel, options: LevelRange, private readonly pick: (key: Bytes, value: Bytes) => T) {
    this.cursor = db.session().openRawCursor(db.table);
    this.range = tableRange(options);
    this.it = this.cursor.range(this.range);
  }

  /** The next item (its key without the 0x00); undefined at the end. */
  next(): T | undefined {
    const r = this.it.next();
    return r.done ? undefined : this.pick(r.value[0].subarray(1), r.value[1]);
  }

  take(size: number): T[] {
    const out: T[] = [];
    while (out.length < size) {
      const r = this.it.next();
      if (r.done) break;
      out.push(this.pick(r.value[0].subarray(1), r.value[1]));
    }
    return out;
  }

  /** Moves to the first entry at or after `target` (at or before it, reversed), within the range. */
  seek(target: Bytes): void {
    const t = stored(target);
    const r: RangeOptions<Bytes> = { ...this.range };
    delete r.limit; // the level iterator counts its limit across seeks
    if (!r.reverse) {
      const low = r.gt ?? r.gte!;
      if (compareBytes(t, low) > 0 || (r.gte !== undefined && compareBytes(t, low) === 0)) { delete r.gt; r.gte = t; }
    } else {
      const high = r.lt ?? r.lte;
      if (high === undefined || compareBytes(t, high) < 0 || (r.lte !== undefined && compareBytes(t, high) === 0)) { delete r.lt; r.lte = t; }
    }
    this.it.return?.();
    this.it = this.cursor.range(r);
  }

  close(): void {
    this.it.return?.();
    this.cursor.close();
  }
}

const entry = (k: Bytes, v: Bytes): [Bytes, Bytes] => [k, v];
const keyOnly = (k: Bytes): Bytes => k;
const valueOnly = (_k: Bytes, v: Bytes): Bytes => v;

// abstract-level's three iterator bases, each delegating to a Scan (the same five methods: the
// bases are distinct classes, so the delegation is written out for each).
class LatchkeyIterator extends AbstractIterator<LatchkeyLevel, Bytes, Bytes> {
  private readonly scan: Scan<[Bytes, Bytes]>;
  constructor(db: LatchkeyLevel, options: LevelRange & object) { super(db, options as never); this.scan = new Scan(db, options, entry); }
  async _next() { return this.scan.next(); }
  async _nextv(size: number) { return this.scan.take(size); }
  async _all() { return this.scan.take(this.limit - this.count); }
  _seek(target: Bytes): void { this.scan.seek(target); }
  async _close(): Promise<void> { this.scan.close(); }
}

class LatchkeyKeyIterator extends AbstractKeyIterator<LatchkeyLevel, Bytes> {
  private readonly scan: Scan<Bytes>;
  constructor(db: LatchkeyLevel, options: LevelRange & object) { super(db, options as never); this.scan = new Scan(db, options, keyOnly); }
  async _next() { return this.scan.next(); }
  async _nextv(size: number) { return this.scan.take(size); }
  async _all() { return this.scan.take(this.limit - this.count); }
  _seek(target: Bytes): void { this.scan.seek(target); }
  async _close(): Promise<void> { this.scan.close(); }
}

class LatchkeyValueIterator extends AbstractValueIterator<LatchkeyLevel, Bytes, Bytes> {
  private readonly scan: Scan<Bytes>;
  constructor(db: LatchkeyLevel, options: LevelRange & object) { super(db, options as never); this.scan = new Scan(db, options, valueOnly); }
  async _next() { return this.scan.next(); }
  async _nextv(size: number) { return this.scan.take(size); }
  async _all() { return this.scan.take(this.limit - this.count); }
  _seek(target: Bytes): void { this.scan.seek(target); }
  async _close(): Promise<void> { this.scan.close(); }
}

interface WriteOptions { sync?: boolean }

/**
 * A level database in a latchkey table. `new LatchkeyLevel()` keeps it in memory;
 * `new LatchkeyLevel('dir')` or `new LatchkeyLevel({ home: 'dir', ...config })` in a directory
 * home; `{ connection }` in a connection you opened (the database then leaves it open on close).
 */
export class LatchkeyLevel extends AbstractLevel<Bytes, Bytes, Bytes> {
  /** The table holding the data. */
  readonly table: string;
  private readonly config: ConnectionConfig;
  private readonly given: Connection | undefined;
  private readonly handle: ShareHandle | undefined;
  private conn: Connection | undefined;
  private sess: Session | undefined;
  private cur: Cursor<Bytes, Bytes> | undefined;

  constructor(location?: string | LatchkeyLevelOptions, options?: Record<string, unknown>) {
    const o: LatchkeyLevelOptions = typeof location === 'object' && location !== null ? location : { ...(location === undefined ? {} : { home: location }) };
    const { connection, table, home, create, cacheSize, pageSize, role, refreshInterval, debug, takeover, log, election, electionTtl, [ATTACH]: handle, ...level } = o as LatchkeyLevelOptions & { [ATTACH]?: ShareHandle };
    if (table !== undefined && (typeof table !== 'string' || !table.startsWith('table:'))) {
      throw new LatchkeyError('EINVAL', `LatchkeyLevel: table ${String(table)}; accepted: a table uri such as 'table:level'`);
    }
    // (level-supports' type lags abstract-level 3's manifest: getSync, has, snapshots.)
    super({
      encodings: { view: true },
      seek: true,
      getSync: true,
      has: true,
      createIfMissing: typeof home === 'string',
      errorIfExists: typeof home === 'string',
      permanence: home !== undefined || connection !== undefined || handle !== undefined,
      implicitSnapshots: false,
      explicitSnapshots: false,
      deferredOpen: true,
      additionalMethods: { share: true },
    } as object, { ...level, ...options });
    this.table = table ?? DEFAULT_TABLE;
    this.config = Object.fromEntries(Object.entries({ home, create, cacheSize, pageSize, role, refreshInterval, debug, takeover, log }).filter(([, v]) => v !== undefined));
    // No home: the database lives in a page store of this object's own, so that, as with
    // memory-level, what it holds survives a close and a reopen of the same object (not the
    // process). Its log would only copy every write once more: off unless asked for.
    if (home === undefined && !connection && !handle) Object.assign(this.config, { home: new MemoryPageStore(), ...(log === undefined ? { log: false } : {}) });
    this.given = connection;
    this.handle = handle;
  }

  /** A database that another thread opened and shared (db.share()), used by this thread at once. */
  static attach(handle: LatchkeyLevelHandle): LatchkeyLevel {
    if (typeof handle !== 'object' || handle === null || typeof handle.table !== 'string') {
      throw new LatchkeyError('EINVAL', 'LatchkeyLevel.attach: not a database handle; accepted: the object db.share() returned');
    }
    return new LatchkeyLevel({ table: handle.table, [ATTACH]: handle.connection } as LatchkeyLevelOptions);
  }

  /** A handle to postMessage to a worker, which passes it to LatchkeyLevel.attach(). The database must be open. */
  share(): LatchkeyLevelHandle {
    if (this.status !== 'open' || !this.conn) throw new LatchkeyError('EINVAL', `LatchkeyLevel.share: the database is ${this.status}; accepted: an open database (await db.open() first)`);
    return { connection: this.conn.share(), table: this.table };
  }

  /** The latchkey connection underneath (open databases only): for its checkpoint, flush, verify and stats. */
  get connection(): Connection {
    if (!this.conn) throw new LatchkeyError('EINVAL', `LatchkeyLevel.connection: the database is ${this.status}; accepted: an open database`);
    return this.conn;
  }

  /** This database's session (internal: the iterators' cursors come from it). */
  session(): Session { return this.sess!; }

  async _open(options: { createIfMissing?: boolean; errorIfExists?: boolean }): Promise<void> {
    const conn = this.given ?? (this.handle ? await attach(this.handle) : await open({ ...this.config, ...(options.createIfMissing === false ? { create: false } : {}) }));
    try {
      const s = conn.openSession();
      const existed = s.tables().includes(this.table);
      if (existed && options.errorIfExists && !this.given && !this.handle) {
        throw new LatchkeyError('EINVAL', `LatchkeyLevel: database ${String(this.config.home)} exists (table ${this.table}); accepted with errorIfExists: false`);
      }
      if (!existed) {
        if (conn.role !== 'leader') throw new LatchkeyError('ENOENT', `LatchkeyLevel: no table ${this.table} on this follower; accepted: a database its leader created`);
        s.create(this.table, { keyFormat: 'u', valueFormat: 'u' });
      }
      this.sess = s;
      this.cur = s.openRawCursor(this.table);
      this.conn = conn;
    } catch (e) {
      if (!this.given) await conn.close().catch(() => {});
      throw e;
    }
  }

  async _close(): Promise<void> {
    this.cur?.close();
    this.sess?.close();
    this.cur = undefined;
    this.sess = undefined;
    const conn = this.conn;
    this.conn = undefined;
    if (conn && !this.given) await conn.close();
  }

  private async durable(options: WriteOptions | undefined): Promise<void> {
    if (options?.sync) await this.sess!.flush();
  }

  async _put(key: Bytes, value: Bytes, options?: WriteOptions): Promise<void> {
    this.cur!.put(stored(key), value);
    return this.durable(options);
  }

  async _del(key: Bytes, options?: WriteOptions): Promise<void> {
    this.cur!.remove(stored(key));
    return this.durable(options);
  }

  async _get(key: Bytes): Promise<Bytes | undefined> { return this.cur!.get(stored(key)); }
  _getSync(key: Bytes): Bytes | undefined { return this.cur!.get(stored(key)); }
  async _getMany(keys: Bytes[]): Promise<(Bytes | undefined)[]> { return this.cur!.getMany(keys.map(stored)); }
  async _has(key: Bytes): Promise<boolean> { return this.cur!.get(stored(key)) !== undefined; }
  async _hasMany(keys: Bytes[]): Promise<boolean[]> { return this.cur!.getMany(keys.map(stored)).map((v) => v !== undefined); }

  async _batch(operations: { type: 'put' | 'del'; key: Bytes; value?: Bytes }[], options?: WriteOptions): Promise<void> {
    const ops: BatchOp[] = operations.map((op) => op.type === 'put'
      ? { type: 'put', uri: this.table, key: stored(op.key), value: op.value! }
      : { type: 'remove', uri: this.table, key: stored(op.key) });
    this.sess!.batch(ops);
    return this.durable(options);
  }

  async _clear(options: LevelRange): Promise<void> {
    const scan = new Scan(this, options, stored); // the keys as stored, to remove
    try {
      for (;;) {
        const keys = scan.take(CLEAR_CHUNK);
        if (keys.length === 0) break;
        this.cur!.removeMany(keys);
      }
    } finally {
      scan.close();
    }
  }

  _iterator(options: LevelRange & object): LatchkeyIterator { return new LatchkeyIterator(this, options); }
  _keys(options: LevelRange & object): LatchkeyKeyIterator { return new LatchkeyKeyIterator(this, options); }
  _values(options: LevelRange & object): LatchkeyValueIterator { return new LatchkeyValueIterator(this, options); }
}
