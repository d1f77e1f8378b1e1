// Multi-worker throughput: one connection, one table preloaded with N keys, then W workers
// (node:worker_threads, each attached through conn.share()) hammering it at once.
//
//   node bench/throughput.js [--n 1000000] [--workers 1,2,4] [--seconds 2] [--rounds 2]
//                            [--page-size 8192] [--no-control] [--log]
// e.g. on a 16-core machine: node bench/throughput.js --workers 1,2,4,8,16 --seconds 3
//
// Two mixes over the same key space: read-only (random gets, all hits) and 50/50 (random gets
// and puts that overwrite existing keys, so the tree's shape stays put and the runs compare).
// For each worker count the workers are started fresh, attach, build their key pools and warm up
// untimed; then a shared start flag releases them together and a stop flag ends the run after
// --seconds. Each worker counts its operations over its own measured window; the total is the sum
// of the per-worker rates. Speedup is against the 1-worker run of the same mix (when measured).
// Worker counts above the machine's cores oversubscribe it: reported, not hidden.
//
// Also printed: the cores the workers actually got (process CPU time / wall time) and ops per
// CPU-second. On a machine shared with other work, a worker count that got fewer cores than it
// asked for shows here, and ops per CPU-second says how efficiently the cores it did get were used.
//
// Control (read-only, private trees): each worker opens its own connection with its own copy of
// the table and runs the same gets. Nothing is shared, so its speedup is what the machine itself
// allows (cores, caches, memory bandwidth, noise); the gap between it and the shared read-only
// speedup is what sharing one tree costs (latch words written by every reader, for one).
// --no-control skips it.
//
// The connection is in memory with the log off, as the engines of bench/peer.js: what is measured
// is the tree shared by workers. --log turns the log on (in memory, checkpoints by log.checkpointSize
// on the opening thread): what the log and its checkpoints cost writers.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { open } from '../dist/index.js';
import { makeKeys, range, byteKeys } from './keys.js';
import { fmtOps, printTable } from './format.js';
import { benchArgs } from './args.js';

const READY = 0;
const GO = 1;
const STOP = 2;

function parseOptions() {
  const { noControl, ...o } = benchArgs('throughput.js', {
    n: { type: 'number', default: 1_000_000 },
    workers: { type: 'list', default: [1, 2, 4] },
    seconds: { type: 'number', default: 2 },
    rounds: { type: 'number', default: 2 },
    'page-size': { type: 'number', default: 8192 },
    'no-control': { type: 'boolean' },
    log: { type: 'boolean' },
  });
  o.control = !noControl;
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error('--n: a positive integer');
  if (!o.workers.length || o.workers.some((w) => !Number.isInteger(w) || w < 1 || w > 60)) {
    throw new Error('--workers: a comma-separated list of integers from 1 to 60');
  }
  if (!(o.seconds > 0)) throw new Error('--seconds: a positive number');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds: a positive integer');
  return o;
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/**
 * Runs `count` workers on `mix` for `seconds`; returns { total, perWorker: [ops/s], cores }.
 * `cores` is this process's CPU time over the run divided by its wall time: how many cores the
 * workers actually got (the main thread only sleeps meanwhile). On a shared machine it shows when
 * other processes took cores away; spinning on a latch counts as CPU used.
 */
async function runOnce(handle, keys, n, { mix, privateTree }, count, seconds) {
  const ctrl = new Int32Array(new SharedArrayBuffer(16));
  const workers = [];
  const done = [];
  for (let i = 0; i < count; i++) {
    const w = new Worker(new URL('./throughput-worker.js', import.meta.url));
    done.push(new Promise((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
      w.once('exit', (code) => rej(new Error(`worker exited with code ${code} before reporting`)));
    }));
    w.postMessage({ handle, keyBytes: keys.bytes.buffer, n, mix, privateTree, seed: 0x1000 + 7919 * i + count, ctrl });
    workers.push(w);
  }
  while (Atomics.load(ctrl, READY) < count) await sleep(5);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  Atomics.store(ctrl, GO, 1);
  Atomics.notify(ctrl, GO);
  await sleep(seconds * 1000);
  Atomics.store(ctrl, STOP, 1);
  const cpu = process.cpuUsage(cpu0);
  const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  const reports = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  const misses = reports.reduce((s, r) => s + r.misses, 0);
  if (misses) console.log(`WARNING: ${mix} x${count}: ${misses} gets missed keys that are present`);
  const perWorker = reports.map((r) => r.ops / (r.ms / 1000));
  return { total: perWorker.reduce((a, b) => a + b, 0), perWorker, cores };
}

const o = parseOptions();
console.log(`\n## throughput: N = ${o.n.toLocaleString('en-US')} keys, pageSize ${o.pageSize}, ` +
  `${o.seconds} s per run, workers ${o.workers.join(',')}, ${o.rounds} round(s), log ${o.log ? 'on' : 'off'} ` +
  `(this machine: ${availableParallelism()} cores)`);

const keys = makeKeys(o.n, true);
const conn = await open({ cacheSize: '1GB', pageSize: o.pageSize, log: o.log === true });
const s = conn.openSession();
s.create('table:bench');
const c = s.openCursor('table:bench');
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
for (const k of byteKeys(keys, range(0, o.n))) c.put(k, VALUE);
const handle = conn.share();

const RUNS = [
  { name: 'read', label: 'read-only (get)', mix: 'read', privateTree: false },
  { name: 'mixed', label: '50/50 get/put', mix: 'mixed', privateTree: false },
  ...(o.control ? [{ name: 'control', label: 'control: private trees, get', mix: 'read', privateTree: true }] : []),
];
// Rounds alternate the order of the worker counts (1,2,4 then 4,2,1), so drift in the machine's
// speed does not favour one count; each figure is the mean over rounds, ± half their spread.
const results = {};
for (let round = 0; round < o.rounds; round++) {
  for (const run of RUNS) {
    for (const w of round % 2 ? [...o.workers].reverse() : o.workers) {
      const r = await runOnce(handle, keys, o.n, run, w, o.seconds);
      ((results[run.name] ??= {})[w] ??= []).push(r);
    }
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows = [];
for (const { name, label } of RUNS) {
  const base = results[name][1] && mean(results[name][1].map((r) => r.total));
  for (const w of o.workers) {
    const xs = results[name][w].map((r) => r.total);
    const m = mean(xs);
    const cores = mean(results[name][w].map((r) => r.cores));
    const spread = (100 * (Math.max(...xs) - Math.min(...xs))) / 2 / m;
    const pm = xs.length > 1 ? ` ±${spread.toFixed(0)}%` : '';
    const perCpu = mean(results[name][w].map((r) => r.total / r.cores));
    rows.push([label, w, `${fmtOps(m)}${pm}`, fmtOps(m / w), base ? `${(m / base).toFixed(2)}x` : 'n/a',
      cores.toFixed(2), fmtOps(perCpu)]);
  }
}
printTable(['mix', 'workers', 'total ops/s', 'per worker', 'speedup vs 1', 'cores used', 'ops per CPU-second'], rows);

const st = s.stats('table:bench');
if (st.entries !== o.n) console.log(`WARNING: ${st.entries} entries after the runs, expected ${o.n}`);
await conn.close();
