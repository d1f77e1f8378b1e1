// The engines under test, behind one batch interface so every benchmark task is the same loop.
//
//   keysFor(idx)        the keys idx[0..] (indices into the key set), in that order, as fresh
//                       objects in the engine's own key representation: built untimed, up front
//   entriesFor(ks)      (batch engines only) the [key, value] pairs putMany takes, untimed; put
//                       then gets these instead of keys
//   get(ks, at, n)      looks up ks[at..at+n), returns the number of hits
//   put(ks, at, n)      inserts or overwrites them with VALUE
//   insert(ks, at, n)   inserts them if absent, returns the number inserted
//   remove(ks, at, n)   removes them, returns the number removed
//   scan(key, n)        iterates n entries in key order from `key`, reading each key and value,
//                       returns the number seen
//   scanAll()           iterates every entry in key order, reading a byte of each key and value
//                       (a number key: the number itself), returns the number seen
//   size()              bytes the store's own structure takes, as the engine counts it (latchkey:
//                       arena pages x page size; lmdb: tree pages x page size; SQLite: page_count
//                       x page_size); undefined for the in-heap engines, whose callers measure
//                       the JS heap instead
//
// An operation an engine lacks is undefined (Map has no order: no scan; the batch engine's
// methods not built yet). Engines whose writes take transactions (lmdb, sqlite) run one
// transaction per put/insert/remove call: callers choose the batch. Each engine writes its own
// loops (no per-operation callback), so no engine pays for indirection the others don't.
// Key representations:
//
//   latchkey, lmdb, sqlite  8-byte Uint8Arrays, each a fresh object, scattered in the heap
//                           (scatteredByteKeys): their native key type, as an application has it.
//   Map, sorted-btree       numbers: the key's top 53 bits (numberKeys), which order and stay
//                           unique exactly as the bytes do for this key set. sorted-btree with
//                           the comparator (a, b) => a - b. What an application with 8-byte ids
//                           would pick for them.
//
// Both forms order exactly as the bytes do, so ranges mean the same on every engine.
// The value is the same 8-byte Uint8Array for every entry. Map and sorted-btree store and return
// a reference to it; latchkey, lmdb and sqlite copy it in on writes and return a fresh copy on
// gets. That (and converting keys outside the timed region) favours the in-heap peers; it is
// what an application using them would do.

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sortedBtree from 'sorted-btree';
import { open } from '../dist/index.js';
import { scatteredByteKeys, numberKeys } from './keys.js';

const BTree = sortedBtree.default ?? sortedBtree;

export const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

/** What the scans read goes here, so that no compiler can drop the reads. */
let sunk = 0;
const sink = (x) => { sunk = (sunk + x) % 65521; };
export const sinkValue = () => sunk;

/** Why the last optional engine (lmdb, better-sqlite3) could not be loaded. */
let loadError;
export const lastLoadError = () => loadError;

/**
 * A fresh in-memory connection with one empty table and a cursor on it. Without the log (`log:
 * false`) unless `log` is given: the engines it is compared with keep nothing durable either
 * (sorted-btree, Map, sqlite-wasm in memory), as WiredTiger's in-memory mode logs nothing; what
 * the log costs a put is measured on its own (bench/log.js).
 */
async function latchkeyTable({ pageSize = 8192, cacheSize = '1GB', log = false, keyFormat = 'u' } = {}) {
  const conn = await open({ cacheSize, pageSize, log });
  const s = conn.openSession();
  s.create('table:bench', { keyFormat });
  return {
    conn,
    c: s.openCursor('table:bench'),
    size() {
      const st = s.stats('table:bench');
      return st.arenaPages * st.pageSize;
    },
    stats: () => s.stats('table:bench'),
    entries: () => s.stats('table:bench').entries,
    close: () => conn.close(),
  };
}

/**
 * The keys latchkey takes for a table of `keyFormat`: 'u' (the default), Uint8Arrays scattered in
 * the heap; 'q', the numbers sorted-btree and Map get (numberKeys: the same order as the bytes).
 */
const latchkeyKeys = (keyFormat) => (keyFormat === 'q' ? numberKeys : scatteredByteKeys);
/** The engine's name in the tables: 'latchkey', or 'latchkey q' with integer keys. */
const latchkeyName = (base, keyFormat) => (keyFormat === 'q' ? `${base} (q: number keys)` : base);

export async function latchkeyEngine(keys, options = {}) {
  const { c, ...table } = await latchkeyTable(options);
  const V = VALUE;
  const q = options.keyFormat === 'q';
  return {
    name: latchkeyName('latchkey', options.keyFormat),
    keysFor: (idx) => latchkeyKeys(options.keyFormat)(keys, idx),
    get(ks, at, n) {
      let hits = 0;
      for (let j = at; j < at + n; j++) if (c.get(ks[j]) !== undefined) hits++;
      return hits;
    },
    put(ks, at, n) { for (let j = at; j < at + n; j++) c.put(ks[j], V); },
    insert(ks, at, n) {
      let done = 0;
      for (let j = at; j < at + n; j++) if (c.insert(ks[j], V)) done++;
      return done;
    },
    remove(ks, at, n) {
      let done = 0;
      for (let j = at; j < at + n; j++) if (c.remove(ks[j])) done++;
      return done;
    },
    scan(key, n) {
      let seen = 0;
      for (const [k, v] of c.range({ gte: key, limit: n })) if (k !== v) seen++;
      return seen;
    },
    scanAll() {
      let seen = 0;
      let acc = 0;
      if (q) for (const [k, v] of c.range({})) { acc += k + v[0]; seen++; }
      else for (const [k, v] of c.range({})) { acc += k[7] + v[0]; seen++; }
      sink(acc);
      return seen;
    },
    stats: table.stats,
    size: table.size,
    entries: table.entries,
    close: table.close,
  };
}

/** The batch APIs of the issue, each present only once built: feature-detected, never faked. */
export const BATCH_METHODS = ['getMany', 'putMany', 'removeMany', 'batches'];

/**
 * latchkey through its batch APIs: one getMany / putMany / removeMany call per get / put /
 * remove call of the caller (so the caller's batch size is the batch size), batches() for the
 * scan. An operation whose method the cursor lacks is undefined here, and `missing` names it.
 */
export async function latchkeyBatchEngine(keys, options = {}) {
  const { c, ...table } = await latchkeyTable(options);
  const V = VALUE;
  const has = (m) => typeof c[m] === 'function';
  const part = (ks, at, n) => (at === 0 && n === ks.length ? ks : ks.slice(at, at + n));
  return {
    name: latchkeyName('latchkey batch', options.keyFormat),
    missing: BATCH_METHODS.filter((m) => !has(m)),
    keysFor: (idx) => latchkeyKeys(options.keyFormat)(keys, idx),
    entriesFor: (ks) => ks.map((k) => [k, V]),
    get: has('getMany') ? (ks, at, n) => {
      let hits = 0;
      for (const v of c.getMany(part(ks, at, n))) if (v !== undefined) hits++;
      return hits;
    } : undefined,
    put: has('putMany') ? (entries, at, n) => { c.putMany(part(entries, at, n)); } : undefined,
    /** One put per key: loads the store (untimed) when putMany is not built. */
    putEach(ks, at, n) { for (let j = at; j < at + n; j++) c.put(ks[j], V); },
    insert: undefined,
    remove: has('removeMany') ? (ks, at, n) => c.removeMany(part(ks, at, n)) : undefined,
    scan: has('batches') ? (key, n) => {
      let seen = 0;
      for (const b of c.batches({ gte: key, limit: n })) seen += b.count;
      return seen;
    } : undefined,
    scanAll: has('batches') ? () => {
      let seen = 0;
      let acc = 0;
      for (const { count, keys: kb, keyEnds, values, valueEnds } of c.batches({})) {
        for (let i = 0; i < count; i++) acc += kb[keyEnds[i] - 1] + values[i ? valueEnds[i - 1] : 0];
        seen += count;
      }
      sink(acc);
      return seen;
    } : undefined,
    stats: table.stats,
    size: table.size,
    entries: table.entries,
    close: table.close,
  };
}

export function mapEngine(keys) {
  const m = new Map();
  const V = VALUE;
  return {
    name: 'Map',
    keysFor: (idx) => numberKeys(keys, idx),
    get(ks, at, n) {
      let hits = 0;
      for (let j = at; j < at + n; j++) if (m.get(ks[j]) !== undefined) hits++;
      return hits;
    },
    put(ks, at, n) { for (let j = at; j < at + n; j++) m.set(ks[j], V); },
    insert(ks, at, n) {
      let done = 0;
      for (let j = at; j < at + n; j++) {
        if (!m.has(ks[j])) { m.set(ks[j], V); done++; }
      }
      return done;
    },
    remove(ks, at, n) {
      let done = 0;
      for (let j = at; j < at + n; j++) if (m.delete(ks[j])) done++;
      return done;
    },
    scan: undefined, // a Map is unordered: no range scan to compare
    scanAll: undefined,
    entries: () => m.size,
    async close() { m.clear(); },
  };
}

const compareNumbers = (a, b) => a - b;

export function sortedBtreeEngine(keys) {
  const t = new BTree(undefined, compareNumbers);
  const V = VALUE;
  return {
    name: 'sorted-btree',
    keysFor: (idx) => numberKeys(keys, idx),
    get(ks, at, n) {
      let hits = 0;
      for (let j = at; j < at + n; j++) if (t.get(ks[j]) !== undefined) hits++;
      return hits;
    },
    put(ks, at, n) { for (let j = at; j < at + n; j++) t.set(ks[j], V); },
    insert(ks, at, n) {
      let done = 0;
      for (let j = at; j < at + n; j++) if (t.setIfNotPresent(ks[j], V)) done++;
      return done;
    },
    remove(ks, at, n) {
      let done = 0;
      for (let j = at; j < at + n; j++) if (t.delete(ks[j])) done++;
      return done;
    },
    scan(key, n) {
      // entries(low) starts at the first key >= low and yields a fresh [k, v] per entry,
      // like latchkey's range(); stored values come back by reference, not copied.
      let seen = 0;
      for (const [k, v] of t.entries(key)) if (k !== v && ++seen >= n) break;
      return seen;
    },
    /** forEachPair: sorted-btree's fastest full scan, a callback per entry (no iterator). */
    scanAll() {
      let seen = 0;
      let acc = 0;
      let last = 0;
      t.forEachPair((k, v) => { acc += v[0]; last = k; seen++; });
      sink(acc + last);
      return seen;
    },
    /** entries(): the iterator form, a fresh [k, v] per entry, like latchkey's range(). */
    scanIter() {
      let seen = 0;
      let acc = 0;
      let last = 0;
      for (const [k, v] of t.entries()) { acc += v[0]; last = k; seen++; }
      sink(acc + last);
      return seen;
    },
    entries: () => t.size,
    async close() { t.clear(); },
  };
}

/**
 * lmdb (optional): returns undefined when the package cannot be loaded.
 * Settings for an in-memory comparison: a fresh environment in /dev/shm (tmpfs) when there is
 * one, noSync + noMemInit, binary keys and values, no lmdb-js value cache. Not useWritemap: with it,
 * lmdb 3.5.6 aborts (assertion `x <= dl[0].mid` in mdb_freelist_save) in 10k-put transactions.
 * Writes run as one synchronous transaction per batch of operations (the cheapest way to write
 * with lmdb; latchkey has no transactions, each operation is applied as it is called).
 */
export async function lmdbEngine(keys) {
  let lmdb;
  try {
    lmdb = await import('lmdb');
  } catch (err) {
    loadError = err;
    return undefined;
  }
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'latchkey-bench-lmdb-'));
  const db = lmdb.open({
    path: dir,
    noSync: true,
    noMemInit: true,
    encoding: 'binary',
    keyEncoding: 'binary',
    cache: false,
    compression: false,
    mapSize: 2 * 1024 ** 3,
  });
  const V = VALUE;
  return {
    name: 'lmdb',
    keysFor: (idx) => scatteredByteKeys(keys, idx),
    get(ks, at, n) {
      let hits = 0;
      for (let j = at; j < at + n; j++) if (db.get(ks[j]) !== undefined) hits++;
      return hits;
    },
    put(ks, at, n) {
      db.transactionSync(() => { for (let j = at; j < at + n; j++) db.putSync(ks[j], V); });
    },
    insert(ks, at, n) {
      return db.transactionSync(() => {
        let done = 0;
        for (let j = at; j < at + n; j++) if (db.putSync(ks[j], V, { noOverwrite: true }) !== false) done++;
        return done;
      });
    },
    remove(ks, at, n) {
      return db.transactionSync(() => {
        let done = 0;
        for (let j = at; j < at + n; j++) if (db.removeSync(ks[j])) done++;
        return done;
      });
    },
    scan(key, n) {
      let seen = 0;
      for (const { key: k, value: v } of db.getRange({ start: key, limit: n })) if (k !== v) seen++;
      return seen;
    },
    scanAll() {
      let seen = 0;
      let acc = 0;
      for (const { key: k, value: v } of db.getRange({})) { acc += k[7] + v[0]; seen++; }
      sink(acc);
      return seen;
    },
    entries: () => db.getStats().entryCount,
    size() {
      const st = db.getStats();
      return (st.treeBranchPageCount + st.treeLeafPageCount + st.overflowPages) * st.pageSize;
    },
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The SQL both SQLite engines run: a WITHOUT ROWID table (the rows live in the primary key's
 * B-tree, as in the other engines; a rowid table would add a second index), in-memory databases,
 * one prepared statement per operation, blob keys and values.
 */
const SQL = {
  create: 'CREATE TABLE t (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID',
  put: 'INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)',
  insert: 'INSERT OR IGNORE INTO t (k, v) VALUES (?, ?)',
  get: 'SELECT v FROM t WHERE k = ?',
  remove: 'DELETE FROM t WHERE k = ?',
  scanFrom: 'SELECT k, v FROM t WHERE k >= ? ORDER BY k LIMIT ?',
  scanAll: 'SELECT k, v FROM t ORDER BY k',
  count: 'SELECT count(*) FROM t',
  size: 'SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()',
};

/**
 * sqlite-wasm (@sqlite.org/sqlite-wasm) through its raw C exports: sqlite3_prepare_v2 once per
 * statement, then per operation the key copied into one scratch buffer in the wasm heap,
 * sqlite3_bind_blob with SQLITE_STATIC (no copy, no destructor), sqlite3_step, sqlite3_reset.
 * Values read are copied out of the heap (a fresh Uint8Array, as latchkey returns); the scan
 * reads the bytes in place. None of the library's JS wrappers (capi argument conversion, oo1)
 * is on the timed path. Writes: one transaction per put/insert/remove call, like lmdb.
 */
export async function sqliteWasmEngine(keys) {
  const sqlite3 = await (await import('@sqlite.org/sqlite-wasm')).default();
  const w = sqlite3.wasm;
  const x = w.exports;
  const { SQLITE_OK, SQLITE_ROW, SQLITE_DONE, SQLITE_OPEN_READWRITE, SQLITE_OPEN_CREATE } = sqlite3.capi;
  const SQLITE_STATIC = 0;
  const check = (rc, what) => {
    if (rc !== SQLITE_OK) throw new Error(`sqlite-wasm: ${what} returned ${rc}`);
  };
  const pOut = w.alloc(8);
  check(x.sqlite3_open_v2(w.allocCString(':memory:'), pOut, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 0), 'open');
  const db = w.peekPtr(pOut);
  const exec = (sql) => check(x.sqlite3_exec(db, w.allocCString(sql), 0, 0, 0), sql);
  const prepare = (sql) => {
    check(x.sqlite3_prepare_v2(db, w.allocCString(sql), -1, pOut, 0), sql);
    return w.peekPtr(pOut);
  };
  exec(SQL.create);
  const st = Object.fromEntries(['put', 'insert', 'get', 'remove', 'scanFrom', 'scanAll', 'count', 'size'].map((k) => [k, prepare(SQL[k])]));
  const kp = w.alloc(8);
  const vp = w.alloc(8);
  // The heap view: renewed when the memory grows (which detaches the old buffer).
  let heap = w.heap8u();
  const mem = () => (heap.byteLength === 0 ? (heap = w.heap8u()) : heap);
  mem().set(VALUE, vp);
  const bindKey = (stmt, k) => {
    mem().set(k, kp);
    x.sqlite3_bind_blob(stmt, 1, kp, k.length, SQLITE_STATIC);
  };
  const step = (stmt, want, what) => {
    const rc = x.sqlite3_step(stmt);
    x.sqlite3_reset(stmt);
    if (rc !== want) throw new Error(`sqlite-wasm: ${what} step returned ${rc}`);
  };
  // One transaction; returns the rows changed (a DELETE's changes() counts the rows removed).
  const write = (stmt, ks, at, n, withValue = true) => {
    exec('BEGIN');
    let changed = 0;
    if (withValue) x.sqlite3_bind_blob(stmt, 2, vp, 8, SQLITE_STATIC);
    for (let j = at; j < at + n; j++) {
      bindKey(stmt, ks[j]);
      step(stmt, SQLITE_DONE, 'write');
      changed += x.sqlite3_changes(db);
    }
    exec('COMMIT');
    return changed;
  };
  const oneInt = (stmt) => {
    if (x.sqlite3_step(stmt) !== SQLITE_ROW) throw new Error('sqlite-wasm: no row');
    const c = x.sqlite3_column_double(stmt, 0);
    x.sqlite3_reset(stmt);
    return c;
  };
  // Reads each row's key (last byte) and value (first byte) in place; returns the rows seen.
  const scanRows = (stmt) => {
    let seen = 0;
    let acc = 0;
    let rc;
    while ((rc = x.sqlite3_step(stmt)) === SQLITE_ROW) {
      const k = x.sqlite3_column_blob(stmt, 0);
      const klen = x.sqlite3_column_bytes(stmt, 0);
      const v = x.sqlite3_column_blob(stmt, 1);
      const h = mem();
      acc += h[k + klen - 1] + h[v];
      seen++;
    }
    x.sqlite3_reset(stmt);
    if (rc !== SQLITE_DONE) throw new Error(`sqlite-wasm: scan step returned ${rc}`);
    sink(acc);
    return seen;
  };
  return {
    name: 'sqlite-wasm',
    keysFor: (idx) => scatteredByteKeys(keys, idx),
    get(ks, at, n) {
      let hits = 0;
      for (let j = at; j < at + n; j++) {
        bindKey(st.get, ks[j]);
        if (x.sqlite3_step(st.get) === SQLITE_ROW) {
          const p = x.sqlite3_column_blob(st.get, 0);
          if (mem().slice(p, p + x.sqlite3_column_bytes(st.get, 0)) !== undefined) hits++;
        }
        x.sqlite3_reset(st.get);
      }
      return hits;
    },
    put(ks, at, n) { write(st.put, ks, at, n); },
    insert: (ks, at, n) => write(st.insert, ks, at, n),
    remove: (ks, at, n) => write(st.remove, ks, at, n, false),
    scan(key, n) {
      bindKey(st.scanFrom, key);
      x.sqlite3_bind_int(st.scanFrom, 2, n);
      return scanRows(st.scanFrom);
    },
    scanAll: () => scanRows(st.scanAll),
    entries: () => oneInt(st.count),
    size: () => oneInt(st.size),
    async close() {
      for (const stmt of Object.values(st)) x.sqlite3_finalize(stmt);
      x.sqlite3_close_v2(db);
    },
  };
}

/**
 * better-sqlite3 (optional; a native addon built for the running Node): returns undefined when
 * it cannot be loaded. The same SQL, prepared statements, blob keys (Uint8Array) and values,
 * .pluck() for gets and .raw() for the scan; writes in one transaction per call, like lmdb.
 */
export async function betterSqliteEngine(keys) {
  let Database;
  try {
    Database = (await import('better-sqlite3')).default;
    new Database(':memory:').close();
  } catch (err) {
    loadError = err;
    return undefined;
  }
  const db = new Database(':memory:');
  db.exec(SQL.create);
  const put = db.prepare(SQL.put);
  const ins = db.prepare(SQL.insert);
  const get = db.prepare(SQL.get).pluck();
  const del = db.prepare(SQL.remove);
  const scanFrom = db.prepare(SQL.scanFrom).raw();
  const scanAll = db.prepare(SQL.scanAll).raw();
  const count = db.prepare(SQL.count).pluck();
  const size = db.prepare(SQL.size).pluck();
  const V = VALUE;
  const write = (stmt) => db.transaction((ks, at, n) => {
    let changed = 0;
    for (let j = at; j < at + n; j++) changed += stmt.run(ks[j], V).changes;
    return changed;
  });
  const putTx = write(put);
  const insTx = write(ins);
  const delTx = db.transaction((ks, at, n) => {
    let removed = 0;
    for (let j = at; j < at + n; j++) removed += del.run(ks[j]).changes;
    return removed;
  });
  const rows = (it) => {
    let seen = 0;
    let acc = 0;
    for (const [k, v] of it) { acc += k[k.length - 1] + v[0]; seen++; }
    sink(acc);
    return seen;
  };
  return {
    name: 'better-sqlite3',
    keysFor: (idx) => scatteredByteKeys(keys, idx),
    get(ks, at, n) {
      let hits = 0;
      for (let j = at; j < at + n; j++) if (get.get(ks[j]) !== undefined) hits++;
      return hits;
    },
    put(ks, at, n) { putTx(ks, at, n); },
    insert: (ks, at, n) => insTx(ks, at, n),
    remove: (ks, at, n) => delTx(ks, at, n),
    scan: (key, n) => rows(scanFrom.iterate(key, n)),
    scanAll: () => rows(scanAll.iterate()),
    entries: () => count.get(),
    size: () => size.get(),
    async close() { db.close(); },
  };
}
