// One engine, one size, one run of the peer benchmark (bench/peer.js starts one such process per
// engine, size and run, so that no engine's heap, JIT state or memory colours another's figures).
//
//   node --expose-gc bench/peer-process.js --engine sorted-btree --n 1000000 [--chunk 10000]
//
// The tasks, in order, on one store that starts empty (each timed once, over every key):
//   insert   put each of the N keys, in generation order (random in key order)
//   lookup   get each key, in a seeded random order unrelated to the insertion order, through
//            key objects distinct from the inserted ones
//   scan     one ordered scan of every entry, reading each key and value
//   delete   remove a random half of the keys (the first N/2 of a third permutation)
// Keys for each task are built just before it, untimed, as fresh objects in the engine's own
// representation (bench/engines.js); a full GC runs before each timed task. Memory: the peak RSS
// of the process (keys and harness included), the RSS before insert (insert's keys built, the
// store empty), and the store's own size after insert: as the engine counts its pages
// (engine.size()), or for the in-heap engines the JS heap's growth over the insert (each after
// a full GC, with insert's keys alive at both). The RSS difference would be no measure of it:
// V8 reuses, without returning them, the pages that the key building's garbage leaves.
// Warm-up, untimed, before any of that: the same four tasks on a throwaway store of the engine
// (a second instance, closed after) with --warmup other keys, so that what is timed is mostly
// optimized code rather than the JIT's first tiers.
// Callers' batches: the keys go to the engine CHUNK at a time, so a transactional engine commits
// once per chunk and the batch engine makes one getMany / putMany / removeMany call per chunk.
//
// Every task's result is checked (entries after insert, hits, entries seen, keys removed, entries
// left); a shortfall is an error, not a figure. Also reported: the process CPU time over the wall
// time of the timed tasks (GC helper threads count too), which falls well below 1 when other work
// takes the core. Prints one line: `peer-result <JSON>`.

import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeKeys, range, shuffled } from './keys.js';
import {
  latchkeyEngine, latchkeyBatchEngine, sortedBtreeEngine, mapEngine, lmdbEngine, sqliteWasmEngine,
  betterSqliteEngine, sinkValue, lastLoadError,
} from './engines.js';
import { benchArgs } from './args.js';

/** Engines by name: the factory, and the npm package whose version is reported. */
export const PEER_ENGINES = {
  latchkey: { factory: latchkeyEngine },
  'latchkey-batch': { factory: latchkeyBatchEngine },
  'latchkey-q': { factory: (keys) => latchkeyEngine(keys, { keyFormat: 'q' }) },
  'latchkey-q-batch': { factory: (keys) => latchkeyBatchEngine(keys, { keyFormat: 'q' }) },
  'sorted-btree': { factory: sortedBtreeEngine, pkg: 'sorted-btree' },
  map: { factory: mapEngine },
  lmdb: { factory: lmdbEngine, pkg: 'lmdb', install: 'npm install --no-save lmdb@3.5.6' },
  'sqlite-wasm': { factory: sqliteWasmEngine, pkg: '@sqlite.org/sqlite-wasm' },
  'better-sqlite3': { factory: betterSqliteEngine, pkg: 'better-sqlite3', install: 'npm install --no-save better-sqlite3@12' },
};

/** The installed version of `pkg` (read from its package.json, which some exports maps hide). */
function version(pkg) {
  try {
    const file = fileURLToPath(new URL(`../node_modules/${pkg}/package.json`, import.meta.url));
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return undefined;
  }
}

function chunksOf(list, size) {
  const out = [];
  for (let at = 0; at < list.length; at += size) out.push(list.slice(at, at + size));
  return out;
}

/** CPU time and wall time of the timed tasks, summed: how much of a core they got. */
const used = { cpuMs: 0, wallMs: 0 };

/** Runs fn after a full GC; returns [ms, fn's result]. */
function timed(fn) {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  used.cpuMs += (c.user + c.system) / 1000;
  used.wallMs += ms;
  return [ms, r];
}

function expect(what, got, want) {
  if (got !== want) throw new Error(`${what}: ${got}, expected ${want}`);
}

/**
 * The four tasks on engine `e`, empty, over `n` keys: key j of the run is index at(perm)[j] of
 * the key set. Each task's keys are built just before it (untimed), and insert's are dropped
 * after it, so that the harness holds at most two key lists at a time. `measure(stage)` runs
 * after a full GC at 'before insert' (insert's keys built, the store empty) and 'after insert'.
 * Checks each task's result; returns the milliseconds of each task measured.
 */
function runTasks(e, n, at, chunk, measure) {
  const half = n >>> 1;
  const keysOf = (perm) => chunksOf(e.keysFor(at(perm)), chunk);
  const ms = {};
  let ks = keysOf(range(0, n));
  let writes = e.entriesFor ? ks.map(e.entriesFor) : ks;
  globalThis.gc();
  measure?.('before insert');
  if (e.put) {
    [ms.insert] = timed(() => { for (const ch of writes) e.put(ch, 0, ch.length); });
  } else {
    // putMany not built: the store is loaded untimed one put at a time, so that the batch
    // engine's other methods can still be measured.
    if (!e.putEach) throw new Error(`${e.name}: no put`);
    for (const ch of ks) e.putEach(ch, 0, ch.length);
  }
  expect(`${e.name}: entries after inserting ${n}`, e.entries(), n);
  globalThis.gc();
  measure?.('after insert'); // insert's keys still alive, as before it
  ks = writes = undefined;
  if (e.get) {
    const look = keysOf(shuffled(n, 1));
    let hits;
    [ms.lookup, hits] = timed(() => { let h = 0; for (const ch of look) h += e.get(ch, 0, ch.length); return h; });
    expect(`${e.name}: lookup hits`, hits, n);
  }
  if (e.scanAll) {
    let seen;
    [ms.scan, seen] = timed(() => e.scanAll());
    expect(`${e.name}: entries scanned`, seen, n);
  }
  if (e.scanIter) {
    let seen;
    [ms.scanIter, seen] = timed(() => e.scanIter());
    expect(`${e.name}: entries scanned by the iterator`, seen, n);
  }
  if (e.remove) {
    const del = keysOf(shuffled(n, 2).subarray(0, half));
    let removed;
    [ms.delete, removed] = timed(() => { let r = 0; for (const ch of del) r += e.remove(ch, 0, ch.length); return r; });
    expect(`${e.name}: keys removed`, removed, half);
    expect(`${e.name}: entries left`, e.entries(), n - half);
  }
  return ms;
}

async function main() {
  const o = benchArgs('peer-process.js', {
    engine: { type: 'string' },
    n: { type: 'number', default: 100_000 },
    chunk: { type: 'number', default: 10_000 },
    warmup: { type: 'number', default: 20_000 },
  });
  const spec = PEER_ENGINES[o.engine];
  if (!spec) throw new Error(`peer-process.js: --engine ${o.engine}: accepted ${Object.keys(PEER_ENGINES).join(', ')}`);
  if (!Number.isInteger(o.n) || o.n < 2) throw new Error('peer-process.js: --n must be an integer >= 2');
  if (!Number.isInteger(o.chunk) || o.chunk < 1) throw new Error('peer-process.js: --chunk must be a positive integer');
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new Error('peer-process.js: --warmup must be an integer >= 0');
  if (!globalThis.gc) throw new Error('peer-process.js: run with node --expose-gc');
  const n = o.n;
  const out = { engine: o.engine, n, chunk: o.chunk, node: process.version, v8: process.versions.v8, version: spec.pkg && version(spec.pkg) };

  // Keys 0..n-1 are measured; n..n+warmup-1 warm the engine up (key i depends on i alone).
  const keys = makeKeys(n + o.warmup);
  const e = await spec.factory(keys);
  if (!e) {
    // Installed but not loadable: a native addon built for another Node's ABI, say.
    const why = lastLoadError()?.message.split('\n').slice(0, 2).join(' ');
    out.unavailable = !out.version ? `not installed (${spec.install})`
      : `${out.version} is installed but does not load under node ${process.version}: ${why}`;
    console.log(`peer-result ${JSON.stringify(out)}`);
    return;
  }
  out.name = e.name;
  out.missing = e.missing ?? [];
  if (!e.put && !e.get && !e.scanAll && !e.remove) {
    // Nothing to time (the batch engine before its methods are built): no load, no figures.
    await e.close();
    console.log(`peer-result ${JSON.stringify(out)}`);
    return;
  }
  if (o.warmup >= 2) {
    const w = await spec.factory(keys);
    const idx = range(n, o.warmup);
    runTasks(w, o.warmup, (perm) => perm.map((i) => idx[i]), o.chunk);
    await w.close();
  }
  used.cpuMs = used.wallMs = 0; // the warm-up's tasks do not count
  const heap = {};
  const ms = runTasks(e, n, (perm) => perm, o.chunk, (stage) => {
    heap[stage] = process.memoryUsage().heapUsed;
    if (stage === 'before insert') out.rssBefore = process.memoryUsage.rss();
    else out.storeBytes = e.size ? e.size() : heap['after insert'] - heap['before insert'];
  });
  out.storeMeasure = e.size ? 'engine' : 'heap';
  if (used.wallMs > 0) out.cpuShare = used.cpuMs / used.wallMs;
  const half = n >>> 1;
  const count = { insert: n, lookup: n, scan: n, scanIter: n, delete: half };
  out.rate = Object.fromEntries(Object.entries(ms).map(([t, m]) => [t, (count[t] * 1000) / m]));
  out.peakRss = process.resourceUsage().maxRSS * 1024;
  out.sink = sinkValue();
  await e.close();
  console.log(`peer-result ${JSON.stringify(out)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
