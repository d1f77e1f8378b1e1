// The core's own per-operation cost: raw lk_get / lk_put / lk_remove exports on N random 8-byte
// keys with 8-byte values, no binding in between (the key's halves written into the scratch area
// with a DataView, then the export). What the per-op path of assembly/ costs, for before/after
// comparisons of a change to it.
//
//   node bench/core-ops.js [--n 1000000] [--ops 200000] [--rounds 3] [--op all|get|put|remove|none] [--root DIR]
//
// A round runs, each timed on its own: `get` of --ops preloaded keys (hits, in a seeded random
// order unrelated to the load order), `put` of --ops fresh keys (inserts), `remove` of those same
// fresh keys (in another random order), so every round starts from the same N entries. Each
// result is checked (a get that misses, a put that does not insert, a remove that finds nothing
// is an error). Figures are ns per operation, the median over the rounds.
//
// --root DIR runs another checkout's build (DIR/build/latchkey.wasm with DIR/dist/core.js) instead
// of this one's. --vs DIR runs DIR's build alongside, each core in its own memory with its own
// copy of the table, the two taking turns round by round (A B, then B A), so that the machine's
// changing speed (a shared machine) hits both alike.
//
// Instruction counts and simulated cache misses, which are repeatable on a noisy machine: run one
// phase (--op get) under valgrind, once with --ops 0 (the load only) and once with --ops K, and
// divide the difference of the totals by K. V8 flags: --no-liftoff compiles the core with the
// optimizing compiler at once (otherwise the count depends on when tier-up happens),
// --single-threaded keeps background compiler and GC threads out of the count:
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded --no-liftoff bench/core-ops.js --op get --ops 0
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded --no-liftoff bench/core-ops.js --op get --ops 200000
//   valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null node ... (the same two)
//
// The totals also count the rest of the process (the harness, V8's GC and compiler), which differ
// a little from run to run: for the core alone, and always for cache misses (the GC's misses
// swamp the difference of the totals), add --dump-instr=yes (callgrind, with --cache-sim=yes for
// misses) and node's --perf-basic-prof, and sum the costs of the addresses that the perf map
// names wasm-function[i] (function i of the core's release .wat, imports first).
//
// (`--op put` runs the inserts of fresh keys; `--op remove` runs those inserts, then removes the
// keys again, so its count is remove's minus put's: subtract the `--op put` run at the same --ops.)

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeKeys, shuffled } from './keys.js';
import { benchArgs } from './args.js';

const PAGE_SIZE = 8192;
const CACHE_SIZE = 1024 ** 3;
const WASM_PAGE = 65536;
/** asconfig.json's initialMemory (bindings/connection.ts: MODULE_INITIAL_PAGES). */
const MODULE_INITIAL_PAGES = 16;
/**
 * Keys prepared per phase, whatever --ops runs of them, so that the harness's own work (making
 * and shuffling key lists) is the same in a valgrind run with --ops 0 and one with --ops K.
 */
const PHASE_KEYS = 200_000;

const o = benchArgs('core-ops.js', {
  n: { type: 'number', default: 1_000_000 },
  ops: { type: 'number', default: 200_000 },
  rounds: { type: 'number', default: 3 },
  op: { type: 'string', default: 'all' },
  root: { type: 'string', default: fileURLToPath(new URL('..', import.meta.url)) },
  vs: { type: 'string' },
});
if (!Number.isInteger(o.n) || o.n < 1000) throw new Error('core-ops.js: --n must be an integer >= 1000');
if (!Number.isInteger(o.ops) || o.ops < 0 || o.ops > PHASE_KEYS) throw new Error(`core-ops.js: --ops must be an integer in 0..${PHASE_KEYS}`);
if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('core-ops.js: --rounds must be a positive integer');
if (!['all', 'get', 'put', 'remove', 'none'].includes(o.op)) throw new Error('core-ops.js: --op must be all, get, put, remove or none');

/** One core over its own shared memory, as Connection.open lays it out, with an empty table. */
async function makeCore(dir) {
  const root = resolve(dir);
  const { CoreThread } = await import(pathToFileURL(join(root, 'dist', 'core.js')).href);
  const { Session } = await import(pathToFileURL(join(root, 'dist', 'session.js')).href);
  const module = await WebAssembly.compile(readFileSync(join(root, 'build', 'latchkey.wasm')));
  const memory = new WebAssembly.Memory({ initial: MODULE_INITIAL_PAGES, maximum: CACHE_SIZE / WASM_PAGE, shared: true });
  const core = await CoreThread.create(module, memory, PAGE_SIZE, CACHE_SIZE, false);
  core.x.lk_role_init(1); // a leader, as Connection.open makes one after its step-up
  const s = new Session({ core, checkOpen() {}, forgetSession() {}, async checkpoint() {} });
  s.create('table:bench');
  const name = new TextEncoder().encode('bench');
  core.u8.set(name, core.KEY);
  const dh = core.x.lk_dhandle_get(name.length);
  if (dh < 0 || core.x.lk_dhandle_use(dh) !== 0) throw new Error(`core-ops.js: no dhandle for the table (${root})`);
  core.u8.set(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), core.VALUE);
  return { root, core, x: core.x, dv: core.dv, KEY: core.KEY, dh };
}

const keys = makeKeys(o.n + PHASE_KEYS);

/** Key index lists as (hi, lo) arrays in the order they are used (sequential harness reads). */
function halves(idx) {
  const hi = new Uint32Array(idx.length);
  const lo = new Uint32Array(idx.length);
  for (let j = 0; j < idx.length; j++) { hi[j] = keys.hi[idx[j]]; lo[j] = keys.lo[idx[j]]; }
  return { hi, lo };
}

/** Runs `op` (0 get, 1 put, 2 remove) on core `e` over the keys; returns the number of calls that did not succeed. */
function run(e, op, ks) {
  const { x, dv, KEY, dh } = e;
  const { hi, lo } = ks;
  const n = hi.length;
  let bad = 0;
  if (op === 0) {
    for (let i = 0; i < n; i++) {
      dv.setUint32(KEY, hi[i]);
      dv.setUint32(KEY + 4, lo[i]);
      if (x.lk_get(dh, 8) !== 8) bad++;
    }
  } else if (op === 1) {
    for (let i = 0; i < n; i++) {
      dv.setUint32(KEY, hi[i]);
      dv.setUint32(KEY + 4, lo[i]);
      if (x.lk_put(dh, 8, 8, 0) !== 1) bad++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      dv.setUint32(KEY, hi[i]);
      dv.setUint32(KEY + 4, lo[i]);
      if (x.lk_remove(dh, 8) !== 1) bad++;
    }
  }
  return bad;
}

function check(what, bad) { if (bad) throw new Error(`core-ops.js: ${bad} ${what} calls failed`); }

const load = halves(shuffled(o.n, 7)); // a random load order
const first = (ks) => ({ hi: ks.hi.subarray(0, o.ops), lo: ks.lo.subarray(0, o.ops) });
const gets = first(halves(shuffled(o.n, 1).subarray(0, PHASE_KEYS)));
const fresh = first(halves(Array.from({ length: PHASE_KEYS }, (_, i) => o.n + i)));
// The same fresh keys in another order (the first --ops of them, shuffled among themselves).
const removes = halves(Array.from(shuffled(PHASE_KEYS, 2)).filter((j) => j < o.ops).map((j) => o.n + j));

const timed = (e, op, ks) => {
  const t0 = performance.now();
  const bad = run(e, op, ks);
  const ns = ((performance.now() - t0) * 1e6) / Math.max(1, ks.hi.length);
  check(['get', 'put', 'remove'][op], bad);
  return ns;
};

const engines = [await makeCore(o.root)];
if (o.vs) engines.push(await makeCore(o.vs));
for (const e of engines) check('load put', run(e, 1, load));

if (o.op !== 'all') {
  // One phase, for valgrind (see the head of this file).
  const e = engines[0];
  if (o.op === 'get') timed(e, 0, gets);
  else if (o.op === 'put') timed(e, 1, fresh);
  else if (o.op === 'remove') { check('put', run(e, 1, fresh)); timed(e, 2, removes); }
  console.log(`core-ops.js: ${o.op} x ${o.ops} on ${o.n} keys done`);
} else {
  const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
  const res = engines.map(() => ({ get: [], put: [], remove: [] }));
  for (const e of engines) run(e, 0, gets); // warm-up
  for (let r = 0; r < o.rounds; r++) {
    // With --vs the cores take turns, A B then B A, so a change in the machine's speed hits both.
    const order = r % 2 ? [...engines.keys()].reverse() : [...engines.keys()];
    for (const ei of order) {
      const e = engines[ei];
      res[ei].get.push(timed(e, 0, gets));
      res[ei].put.push(timed(e, 1, fresh));
      res[ei].remove.push(timed(e, 2, removes));
    }
  }
  console.log(`core-ops.js: N = ${o.n}, ${o.ops} ops per phase, ${o.rounds} rounds, page size ${PAGE_SIZE}; ns per op, median of the rounds`);
  engines.forEach((e, ei) => {
    console.log(`  ${e.root}`);
    for (const [k, v] of Object.entries(res[ei])) {
      console.log(`    ${k.padEnd(7)} ${median(v).toFixed(0).padStart(5)} ns/op (rounds: ${v.map((t) => t.toFixed(0)).join(', ')})`);
    }
  });
}
for (const e of engines) e.core.unregister();
