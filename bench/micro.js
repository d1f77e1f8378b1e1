// Single-thread microbenchmarks: latchkey against Map, sorted-btree and (if installed) lmdb on
// the same N random 8-byte keys with 8-byte values, in one process, with tinybench.
//
//   node --expose-gc bench/micro.js --n 1000000 [--page-sizes [--no-engines]] [--time 400] [--rounds 2]
//
// (bench/peer.js is the comparison with each engine in a fresh process; this one measures each
// operation against a loaded tree. --no-engines: only latchkey's page-size table.)
//
// Every task is one batch of BATCH (1000) operations, so timer resolution and tinybench's own
// per-call overhead are noise next to the work; ops/s = BATCH * task hz (hz = 1000 / mean ms).
//
//   get     hits, in a seeded random order unrelated to the insertion order
//   put     put of fresh keys (absent from the preloaded N); an untimed afterEach hook removes
//           them again, so every batch runs against a tree of N entries
//   insert  the same with insert-if-absent (Map: has + set; sorted-btree: setIfNotPresent;
//           lmdb: putSync with noOverwrite)
//   remove  removes 1000 random preloaded keys; the untimed afterEach hook puts them back
//   scan    1000 consecutive entries in key order from a random preloaded key (ops/s counts
//           entries; every start has at least 1000 keys after it); n/a for Map, which has no order
//
// Each batch's result is checked (hits, inserts, removals, entries seen) and any shortfall is
// reported: a benchmark of operations that silently do nothing would be worthless.

import { Bench } from 'tinybench';
import { makeKeys, shuffled, range, sortedIndices, prng } from './keys.js';
import { latchkeyEngine, mapEngine, sortedBtreeEngine, lmdbEngine } from './engines.js';
import { fmtOps, fmtRatio, printTable } from './format.js';
import { benchArgs } from './args.js';

const BATCH = 1000;
/** Fresh keys for put/insert: batches reused cyclically (each batch is undone after it runs). */
const FRESH_BATCHES = 64;
const SCAN_STARTS = 4096;
const OPS = ['get', 'put', 'insert', 'remove', 'scan'];

function parseOptions() {
  const o = benchArgs('micro.js', {
    n: { type: 'number', default: 100_000 },
    time: { type: 'number', default: 400 },
    'page-sizes': { type: 'boolean' },
    'no-engines': { type: 'boolean' },
    rounds: { type: 'number', default: 1 },
  });
  o.warmupTime = 100;
  if (!Number.isInteger(o.n) || o.n < 10 * BATCH) throw new Error('micro.js: --n must be an integer >= 10000');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('micro.js: --rounds must be a positive integer');
  return o;
}

/** The key indices every engine uses: the same keys, orders and batches for all. */
function context(n) {
  const keys = makeKeys(n + FRESH_BATCHES * BATCH);
  const sorted = sortedIndices(keys, n);
  const r = prng(0x5ca9);
  const scanStarts = new Uint32Array(SCAN_STARTS);
  for (let i = 0; i < SCAN_STARTS; i++) scanStarts[i] = sorted[r.below(n - BATCH + 1)];
  return {
    keys,
    n,
    idx: {
      load: range(0, n), // generation order: a random key order
      get: shuffled(n, 1),
      remove: shuffled(n, 2),
      fresh: range(n, FRESH_BATCHES * BATCH),
      scan: scanStarts,
    },
  };
}

/** One (op, engine) task: { fn, afterEach?, bad } or undefined when the op does not apply. */
function makeTask(op, e, ks, n) {
  const bad = { count: 0 };
  let at = 0;
  const next = (len) => { at += BATCH; if (at + BATCH > len) at = 0; };
  switch (op) {
    case 'get':
      return { bad, fn() { if (e.get(ks.get, at, BATCH) !== BATCH) bad.count++; next(n); } };
    case 'put':
    case 'insert':
      return {
        bad,
        fn() {
          if (op === 'put') e.put(ks.fresh, at, BATCH);
          else if (e.insert(ks.fresh, at, BATCH) !== BATCH) bad.count++;
        },
        afterEach() {
          if (e.remove(ks.fresh, at, BATCH) !== BATCH) bad.count++;
          next(ks.fresh.length);
        },
      };
    case 'remove':
      return {
        bad,
        fn() { if (e.remove(ks.remove, at, BATCH) !== BATCH) bad.count++; },
        afterEach() { e.put(ks.remove, at, BATCH); next(n); },
      };
    case 'scan': {
      if (!e.scan) return undefined;
      let s = 0;
      return {
        bad,
        fn() {
          if (e.scan(ks.scan[s], BATCH) !== BATCH) bad.count++;
          s = (s + 1) % ks.scan.length;
        },
      };
    }
    default:
      throw new Error(op);
  }
}

/** Measures `ops` on one loaded engine; returns { [op]: { ops, rme } }. */
function measure(e, ops, ks, n, opts) {
  const bench = new Bench({ time: opts.time, warmupTime: opts.warmupTime, iterations: 10, warmupIterations: 5 });
  const checks = [];
  for (const op of ops) {
    const t = makeTask(op, e, ks, n);
    if (!t) continue;
    // async: false stops tinybench from probing fn with one call (without hooks) at add time,
    // which would leave a removed (or extra) batch behind for the tasks that run before.
    bench.add(op, t.fn, { async: false, ...(t.afterEach ? { afterEach: t.afterEach } : {}) });
    checks.push([op, t.bad]);
  }
  bench.runSync();
  const out = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name} ${e.name}: ${r.state} ${r.error?.stack ?? ''}`);
    out[task.name] = { ops: BATCH * (1000 / r.period), rme: r.latency.rme };
  }
  for (const [op, bad] of checks) {
    if (bad.count) console.log(`WARNING: ${op} ${e.name}: ${bad.count} batches did not do all their work`);
  }
  return out;
}

/** Loads the N keys one put at a time (random key order); returns ops/s. */
function load(e, ks, n) {
  const t0 = performance.now();
  for (let at = 0; at < n; at += BATCH) e.put(ks.load, at, Math.min(BATCH, n - at));
  const ms = performance.now() - t0;
  if (e.entries() !== n) throw new Error(`${e.name}: ${e.entries()} entries after loading ${n}`);
  return n / (ms / 1000);
}

function keysFor(e, ctx) {
  const ks = {};
  for (const [name, idx] of Object.entries(ctx.idx)) ks[name] = e.keysFor(idx);
  return ks;
}

const arenaBytesPerEntry = (st) => (st.arenaPages * st.pageSize) / st.entries;

/**
 * One figure from the rounds: the mean rate, and as its ± the larger of tinybench's relative
 * margin of error and half the spread between rounds (on a noisy machine the latter dominates).
 */
function summarize(list) {
  const mean = list.reduce((a, r) => a + r.ops, 0) / list.length;
  const spread = list.length > 1 ? (100 * (Math.max(...list.map((r) => r.ops)) - Math.min(...list.map((r) => r.ops)))) / 2 / mean : 0;
  return { ops: mean, err: Math.max(spread, ...list.map((r) => r.rme)) };
}
const cell = (r) => (r ? `${fmtOps(r.ops)} ±${r.err.toFixed(0)}%` : 'n/a');
const push = (obj, key, v) => (obj[key] ??= []).push(v);

/**
 * Engines run one after the other: create, load, measure every op, close. Only one engine's
 * data is alive at a time, so no engine is timed while another's million-entry heap inflates its
 * garbage collections (with all four loaded at once, latchkey's get at 1M keys lost about a
 * third of its rate to the JS peers' heaps). All engines see the same keys, orders and batches.
 * With --rounds > 1 the engine order reverses every other round (ABCD DCBA), so slow drift of the
 * machine's speed hits every engine alike.
 */
const FACTORIES = [
  (keys) => latchkeyEngine(keys),
  (keys) => mapEngine(keys),
  (keys) => sortedBtreeEngine(keys),
  async (keys) => {
    const e = await lmdbEngine(keys);
    if (!e) console.log('lmdb: not available');
    return e;
  },
];

async function compareEngines(ctx, opts) {
  const runs = {}; // runs[engine][op] = [{ ops, rme } per round]
  const loads = {};
  for (let round = 0; round < opts.rounds; round++) {
    for (const factory of round % 2 ? [...FACTORIES].reverse() : FACTORIES) {
      const e = await factory(ctx.keys);
      if (!e) continue;
      const ks = keysFor(e, ctx);
      push(loads, e.name, { ops: load(e, ks, ctx.n), rme: 0 });
      if (e.stats && round === 0) {
        const st = e.stats();
        console.log(`latchkey after load: entries ${st.entries}, depth ${st.depth}, pages ${st.pages} ` +
          `(leaf ${st.leafPages}), arenaPages ${st.arenaPages} x ${st.pageSize} B = ` +
          `${arenaBytesPerEntry(st).toFixed(1)} arena bytes/entry (raw key + value: 16 B)`);
      }
      const r = measure(e, OPS, ks, ctx.n, opts);
      runs[e.name] ??= {};
      for (const op of Object.keys(r)) push(runs[e.name], op, r[op]);
      await e.close();
      globalThis.gc?.();
    }
  }
  const names = Object.keys(loads);
  console.log(`load (one put per key, random key order): ` +
    `${names.map((nm) => `${nm} ${fmtOps(summarize(loads[nm]).ops)}`).join(', ')} ops/s`);

  const res = {};
  for (const nm of names) {
    res[nm] = {};
    for (const op of Object.keys(runs[nm])) res[nm][op] = summarize(runs[nm][op]);
  }
  const ratio = (op, peer) => (res[peer]?.[op] && res.latchkey?.[op]
    ? fmtRatio(res.latchkey[op].ops / res[peer][op].ops) : 'n/a');
  printTable(['op (ops/s)', ...names, 'latchkey/sorted-btree', 'latchkey/Map'],
    OPS.map((op) => [op === 'scan' ? 'scan (entries/s)' : op, ...names.map((nm) => cell(res[nm][op])),
      ratio(op, 'sorted-btree'), ratio(op, 'Map')]));
  return res;
}

/** latchkey alone at each page size: shape, arena bytes per entry, get/put/scan rates. */
async function comparePageSizes(ctx, opts) {
  console.log(`\nlatchkey page sizes at N = ${ctx.n.toLocaleString('en-US')}:`);
  const SIZES = [4096, 8192, 16384];
  const runs = {};
  const shape = {};
  for (let round = 0; round < opts.rounds; round++) {
    for (const pageSize of round % 2 ? [...SIZES].reverse() : SIZES) {
      const e = await latchkeyEngine(ctx.keys, { pageSize });
      const ks = keysFor(e, ctx);
      const loadRate = load(e, ks, ctx.n);
      shape[pageSize] = e.stats();
      const r = measure(e, ['get', 'put', 'scan'], ks, ctx.n, opts);
      runs[pageSize] ??= {};
      push(runs[pageSize], 'load', { ops: loadRate, rme: 0 });
      for (const op of Object.keys(r)) push(runs[pageSize], op, r[op]);
      await e.close();
      globalThis.gc?.();
    }
  }
  printTable(['pageSize', 'depth', 'leaf pages', 'arena B/entry', 'load ops/s', 'get ops/s', 'put ops/s',
    'scan entries/s'], SIZES.map((ps) => {
    const st = shape[ps];
    return [ps, st.depth, st.leafPages, arenaBytesPerEntry(st).toFixed(1), fmtOps(summarize(runs[ps].load).ops),
      ...['get', 'put', 'scan'].map((op) => cell(summarize(runs[ps][op])))];
  }));
}

const opts = parseOptions();
console.log(`\n## micro: N = ${opts.n.toLocaleString('en-US')} keys, batches of ${BATCH} ops, ` +
  `tinybench time ${opts.time} ms + warmup ${opts.warmupTime} ms per task, ${opts.rounds} round(s)`);
const ctx = context(opts.n);
if (!opts.noEngines) await compareEngines(ctx, opts);
if (opts.pageSizes) await comparePageSizes(ctx, opts);
