// The peer benchmark: latchkey against what an application would pick instead, each engine in a
// fresh process (bench/peer-process.js: one per engine, size and run), all on the same keys.
//
//   node bench/peer.js [--sizes 100000,1000000] [--runs 3] [--engines latchkey,sorted-btree,...]
//                      [--chunk 10000] [--warmup 20000] [--node node24|PATH]
//
// N random 8-byte keys and 8-byte values (bench/keys.js, from a fixed seed); tasks: insert into an
// empty store (random order), lookup in a fresh random order, one ordered scan of everything
// (entries/s), delete of a random half. Engines (bench/engines.js): latchkey per operation (cursor
// API, Uint8Array keys) and through its batch APIs (getMany / putMany / removeMany / batches():
// "not built" where the cursor lacks one), both again on a table with keyFormat 'q' given the
// same numbers as sorted-btree and Map (latchkey-q, latchkey-q-batch), sorted-btree with number keys and (a, b) => a - b
// (scan: forEachPair; its entries() iterator is printed below the table), Map with number keys
// (unordered: no scan), lmdb and better-sqlite3 when installed, sqlite-wasm through its raw C
// exports. Each figure is the median of --runs runs, every run a fresh process, the engine order
// reversed every other run; ratios are against sorted-btree's medians from this same invocation.
// Peak RSS is the process's (process.resourceUsage().maxRSS), keys and harness included; beside
// it the RSS before insert (its keys built, the store empty) and the store's own size after
// insert (bench/peer-process.js says how each engine's is measured). Nothing here asserts on a
// timing: a process that fails, or whose checks fail, is reported and the exit status is 1.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { PEER_ENGINES } from './peer-process.js';
import { fmtOps, fmtRatio, printTable } from './format.js';
import { benchArgs } from './args.js';
import { nodeBinary } from './node-binary.js';

const TASKS = [['insert', 'insert'], ['lookup', 'lookup'], ['scan', 'scan (entries/s)'], ['delete', 'delete half']];
/** The batch method behind each task of the batch engine. */
const BATCH_TASK = { insert: 'putMany', lookup: 'getMany', scan: 'batches', delete: 'removeMany' };
const BATCH_TASKS_ALL = Object.keys(BATCH_TASK).length;
/** Seconds before a process still running is killed (a hang guard: lmdb at 1M keys takes about a minute on a quiet 2-core machine, several on a loaded one). */
const PROCESS_LIMIT_S = 600;
const REFERENCE = 'sorted-btree';

const o = benchArgs('peer.js', {
  sizes: { type: 'list', default: [100_000, 1_000_000] },
  runs: { type: 'number', default: 3 },
  engines: { type: 'string', default: Object.keys(PEER_ENGINES).join(',') },
  chunk: { type: 'number', default: 10_000 },
  warmup: { type: 'number', default: 20_000 },
  node: { type: 'string' },
});
const engines = o.engines.split(',');
for (const e of engines) if (!PEER_ENGINES[e]) throw new Error(`peer.js: --engines: no engine ${e} (accepted: ${Object.keys(PEER_ENGINES).join(', ')})`);
if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('peer.js: --runs must be a positive integer');
if (o.sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error('peer.js: --sizes: integers >= 2');
const exe = nodeBinary(o.node);
const child = fileURLToPath(new URL('peer-process.js', import.meta.url));
const childRel = relative(process.cwd(), child);

function runOne(engine, n) {
  const args = ['--expose-gc', child, '--engine', engine, '--n', String(n), '--chunk', String(o.chunk), '--warmup', String(o.warmup)];
  const r = spawnSync(exe, args, { encoding: 'utf8', timeout: PROCESS_LIMIT_S * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 24 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('peer-result '));
  if (r.status !== 0 || !line) {
    const why = r.error?.code === 'ETIMEDOUT' ? `killed after ${PROCESS_LIMIT_S} s` : (r.signal ?? `exit ${r.status}`);
    return { failed: `${engine} at N = ${n} failed (${why}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' / ')}` };
  }
  return JSON.parse(line.slice('peer-result '.length));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mb = (bytes) => (bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`);

const failures = [];
let nodeVersion;
const t0 = performance.now();
console.log(`\n## peer: ${o.sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} random 8-byte keys, 8-byte values; ` +
  `median of ${o.runs} run(s), each engine in a fresh process; callers' batches of ${o.chunk.toLocaleString('en-US')}`);
console.log(`command: node bench/peer.js ${process.argv.slice(2).join(' ')}`.trimEnd());
console.log(`each process: ${exe} --expose-gc ${childRel} --engine E --n N --chunk ${o.chunk} --warmup ${o.warmup}`);
for (const n of o.sizes) {
  const results = {}; // engine -> [result per run]
  for (let run = 0; run < o.runs; run++) {
    for (const engine of run % 2 ? [...engines].reverse() : engines) {
      const r = runOne(engine, n);
      if (r.failed) { failures.push(r.failed); console.error(r.failed); continue; }
      nodeVersion ??= `${r.node} (V8 ${r.v8})`;
      (results[engine] ??= []).push(r);
    }
  }
  const med = {}; // engine -> { task: median rate, peakRss, rssBefore, storeBytes, storeMeasure }
  let spread = { pct: 0 };
  for (const [engine, list] of Object.entries(results)) {
    if (list[0].unavailable) continue;
    med[engine] = {};
    for (const task of [...TASKS.map(([t]) => t), 'scanIter']) {
      const xs = list.map((r) => r.rate?.[task]).filter((x) => x !== undefined);
      if (!xs.length) continue;
      med[engine][task] = median(xs);
      const pct = (100 * (Math.max(...xs) - Math.min(...xs))) / med[engine][task];
      if (pct > spread.pct) spread = { pct, what: `${engine} ${task}` };
    }
    if (list[0].peakRss === undefined) continue; // nothing timed (no batch method built): no memory figures
    med[engine].peakRss = median(list.map((r) => r.peakRss));
    med[engine].storeBytes = median(list.map((r) => r.storeBytes));
    med[engine].rssBefore = median(list.map((r) => r.rssBefore));
    med[engine].storeMeasure = list[0].storeMeasure;
  }
  const ref = med[REFERENCE];
  const cell = (engine, task) => {
    const x = med[engine][task];
    if (x === undefined) {
      if (engine === 'latchkey-batch' && results[engine][0].missing.includes(BATCH_TASK[task])) return `not built (${BATCH_TASK[task]})`;
      return 'n/a';
    }
    return ref?.[task] ? `${fmtOps(x)} (${fmtRatio(x / ref[task])})` : fmtOps(x);
  };
  const label = (engine) => {
    const r = results[engine][0];
    return `${r.name}${r.version ? ` ${r.version}` : ''}`;
  };
  console.log(`\n### N = ${n.toLocaleString('en-US')}: ops/s (ratio to ${REFERENCE} in this run)`);
  printTable(['engine', ...TASKS.map(([, h]) => h), 'peak RSS', 'RSS before insert', 'store size'],
    Object.keys(med).map((e) => [label(e), ...TASKS.map(([t]) => cell(e, t)), mb(med[e].peakRss), mb(med[e].rssBefore),
      `${mb(med[e].storeBytes)}${med[e].storeMeasure === 'heap' ? ' (heap)' : ''}`]));
  console.log('peak RSS: the whole process, keys and harness included; RSS before insert: its keys built, the store empty; ' +
    'store size after insert: the pages the engine counts (latchkey: arena; lmdb: tree pages; SQLite: page_count x page_size) ' +
    'or, marked (heap), the JS heap\'s growth over the insert');
  if (med[REFERENCE]?.scanIter) {
    console.log(`${REFERENCE} scan through its entries() iterator (a fresh [k, v] per entry, like range()): ` +
      `${fmtOps(med[REFERENCE].scanIter)} entries/s; the table's figure is forEachPair (a callback per entry)`);
  }
  for (const [engine, list] of Object.entries(results)) if (list[0].unavailable) console.log(`${engine}: ${list[0].unavailable}`);
  const missing = results['latchkey-batch']?.[0]?.missing;
  if (missing?.length) {
    const why = missing.length === BATCH_TASKS_ALL ? ' (none built: that process times nothing)'
      : missing.includes('putMany') ? ' (the store is loaded with put, untimed)' : '';
    console.log(`latchkey batch: cursor.${missing.join(', cursor.')} not built${why}`);
  }
  if (spread.what) console.log(`largest spread between runs: ${spread.pct.toFixed(0)}% of the median (${spread.what})`);
  const shares = Object.values(results).flat().filter((r) => Number.isFinite(r.cpuShare)).map((r) => r.cpuShare);
  if (shares.length) {
    console.log(`CPU time / wall time of the timed tasks, per process: ${Math.min(...shares).toFixed(2)} to ` +
      `${Math.max(...shares).toFixed(2)} (well below 1 means other work took the core: noisy figures)`);
  }
}
console.log(`\npeer: node ${nodeVersion ?? '?'}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (failures.length) {
  console.error(`${failures.length} peer process(es) failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
