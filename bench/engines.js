// The engines under test, behind one batch interface so every benchmark task is the same loop.
//
//   keysFor(idx)        the keys idx[0..] (indices into the key set), in that order, as fresh
//                       objects in the engine's own key representation: built untimed, up front
//   get(ks, at, n)      looks up ks[at..at+n), returns the number of hits
//   put(ks, at, n)      inserts or overwrites them with VALUE
//   insert(ks, at, n)   inserts them if absent, returns the number inserted
//   remove(ks, at, n)   removes them, returns the number removed
//   scan(key, n)        iterates n entries in key order from `key`, reading each key and value,
//                       returns the number seen
//
// Each engine writes its own loops (no per-operation callback), so no engine pays for
// indirection the others don't. Key representations:
//
//   latchkey, lmdb  Uint8Array (8 bytes): their native key type.
//   Map             a 4-character string, 16 bits of the key per UTF-16 code unit, big-endian.
//                   Faster than BigInt keys in a Map on Node 20, so Map's best representation of
//                   an 8-byte key. Lookups use string objects distinct from the stored ones (as
//                   keys arriving in a request would be): Map hashes and compares contents.
//   sorted-btree    a BigInt (the key as an unsigned 64-bit big-endian integer) with an explicit
//                   `a < b ? -1 : a > b ? 1 : 0` comparator: faster than the same strings under
//                   sorted-btree's default comparator, and exact (a double holds only 53 bits).
//
// Both converted forms order exactly as the bytes do, so ranges mean the same on every engine.
// The value is the same 8-byte Uint8Array for every entry. Map and sorted-btree store and return
// a reference to it; latchkey and lmdb copy it in on writes and return a fresh copy on gets.
// That (and converting keys outside the timed region) favours the in-heap peers; it is what an
// application using them would do.

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sortedBtree from 'sorted-btree';
import { open } from '../dist/index.js';
import { byteKeys } from './keys.js';

const BTree = sortedBtree.default ?? sortedBtree;

export const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

export async function latchkeyEngine(keys, { pageSize = 8192, cacheSize = '1GB' } = {}) {
  const conn = await open({ cacheSize, pageSize });
  const s = conn.openSession();
  s.create('table:bench');
  const c = s.openCursor('table:bench');
  const V = VALUE;
  return {
    name: 'latchkey',
    keysFor: (idx) => byteKeys(keys, idx),
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
    stats: () => s.stats('table:bench'),
    entries: () => s.stats('table:bench').entries,
    close: () => conn.close(),
  };
}

export function mapEngine(keys) {
  const m = new Map();
  const V = VALUE;
  return {
    name: 'Map',
    keysFor(idx) {
      const out = new Array(idx.length);
      for (let j = 0; j < idx.length; j++) {
        const hi = keys.hi[idx[j]];
        const lo = keys.lo[idx[j]];
        out[j] = String.fromCharCode(hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff);
      }
      return out;
    },
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
    entries: () => m.size,
    async close() { m.clear(); },
  };
}

const compareBigInt = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export function sortedBtreeEngine(keys) {
  const t = new BTree(undefined, compareBigInt);
  const V = VALUE;
  return {
    name: 'sorted-btree',
    keysFor(idx) {
      const out = new Array(idx.length);
      for (let j = 0; j < idx.length; j++) out[j] = (BigInt(keys.hi[idx[j]]) << 32n) | BigInt(keys.lo[idx[j]]);
      return out;
    },
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
    entries: () => t.size,
    async close() { t.clear(); },
  };
}

/**
 * lmdb (optional): returns undefined when the package cannot be loaded.
 * Settings for an in-memory comparison: a fresh environment in /dev/shm (tmpfs) when there is
 * one, noSync + useWritemap + noMemInit, binary keys and values, no lmdb-js value cache.
 * Writes run as one synchronous transaction per batch of operations (the cheapest way to write
 * with lmdb; latchkey has no transactions, each operation is applied as it is called).
 */
export async function lmdbEngine(keys) {
  let lmdb;
  try {
    lmdb = await import('lmdb');
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'latchkey-bench-lmdb-'));
  const db = lmdb.open({
    path: dir,
    noSync: true,
    useWritemap: true,
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
    keysFor: (idx) => byteKeys(keys, idx),
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
    entries: () => db.getStats().entryCount,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
