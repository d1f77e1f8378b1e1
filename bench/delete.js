// Delete-heavy throughput: page deletion under a sliding-window workload, with and without a
// concurrent compactor.
//
//   node bench/delete.js [--n 200000] [--workers 2] [--seconds 3] [--rounds 2] [--page-size 8192]
//                        [--debug]    (the core's debug build, with its assertions: for hunting bugs)
//
// The table starts with N entries (8-byte keys, 8-byte values), split into one contiguous key
// range per worker (key byte 0 = the worker's id, bytes 4..7 = a big-endian counter), loaded in
// key order. Each worker then slides its window through its range: insert a fresh key at the
// front (the counter after the largest), remove the key at the back (the smallest), repeat. The
// removes come in ascending runs, so the leaves at the back of each window empty out one after
// the other; the inserts fill and split the leaf at the front. The table keeps N entries, but
// without page deletion its arena would grow by a leaf for every leaf's worth of keys inserted
// (a queue, or time-ordered keys that expire, on a B-tree that never frees a page).
//
// Two runs on a fresh connection each, same N and workers:
//   (a) removes only: a remove that empties a leaf deletes it at once (pagedelNoteEmpty), unless
//       another deleter of the table is busy (then the leaf waits in the candidate ring, or for
//       the next compaction);
//   (b) the same plus one extra worker calling session.compact(uri) in a tight loop (it takes the
//       table's vacuum latch every call, so removers that empty a leaf meanwhile leave the
//       deletion to it).
// Workers (node:worker_threads, attached through conn.share()) warm up untimed by sliding their
// windows 20k steps, then a shared start flag releases them together and a stop flag ends the
// run after --seconds. ops/s counts the churn workers' inserts and removes (the compactor's calls
// are reported apart). With --rounds 2 the order is a b, then b a.
//
// Printed per run: the churn workers' total ops/s, the cores the process got (CPU time / wall
// time: the compactor in (b) is a third busy thread, on a 2-core machine it takes CPU from the
// workers), the arena (stats.arenaPages x pageSize: pages ever handed out, the high-water mark)
// at the start flag and at the end, the pages in the tree then, stats.deletions (leaves and
// chain pages unlinked over the table's life), stats.deleted (unlinked, not yet recycled) and
// stats.freePages. After each run the table is verified (session.verify) and its entry count
// checked.
//
// A watchdog: if the workers are not ready, or have not all reported, WATCHDOG_S seconds (20;
// env LATCHKEY_BENCH_WATCHDOG_S) after they should have, the script prints which worker stopped
// advancing and where, and exits with status 2 (a hang inside the core; bench/run.js reports it
// and goes on with the next benchmark). A hang of the main thread itself (its stats() or
// verify() spinning) stops the watchdog too; bench/run.js kills the step after 60 s.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { open } from '../dist/index.js';
import { fmtOps, fmtRatio, printTable } from './format.js';
import { benchArgs } from './args.js';

const READY = 0;
const GO = 1;
const STOP = 2;
/** ctrl[PROGRESS + id]: churn worker id's chunks of 128 steps done (delete-worker.js). */
const PROGRESS = 4;
/** Seconds to wait for the workers to get ready, or to report after the stop flag. */
const WATCHDOG_S = Number(process.env.LATCHKEY_BENCH_WATCHDOG_S ?? 20);
const URI = 'table:churn';
const WARMUP_STEPS = 20_000;
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

function parseOptions() {
  const o = benchArgs('delete.js', {
    n: { type: 'number', default: 200_000 },
    workers: { type: 'number', default: 2 },
    seconds: { type: 'number', default: 3 },
    rounds: { type: 'number', default: 2 },
    'page-size': { type: 'number', default: 8192 },
    debug: { type: 'boolean' },
  });
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 60) throw new Error('--workers: an integer from 1 to 60');
  if (!Number.isInteger(o.n) || o.n < 1000 * o.workers) throw new Error('--n: an integer, at least 1000 per worker');
  if (!(o.seconds > 0)) throw new Error('--seconds: a positive number');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds: a positive integer');
  return o;
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** Resolves as `p` does, or to undefined after `s` seconds (the timer does not outlive it). */
function within(p, s) {
  let timer;
  const late = new Promise((res) => { timer = setTimeout(res, s * 1000, undefined); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The watchdog fired: says what each worker was doing, then exits (see the header). */
function hang(o, phase, ctrl, perWorker, compactor) {
  const at = [];
  for (let id = 0; id < o.workers; id++) {
    const steps = WARMUP_STEPS + 128 * Atomics.load(ctrl, PROGRESS + id);
    at.push(`worker ${id}: ${Atomics.load(ctrl, PROGRESS + id)} chunks done, window near counters ` +
      `${steps}..${perWorker + steps} (key byte 0 = ${id})`);
  }
  console.log(`HANG (${phase}${compactor ? ', with the compactor' : ''}): the workers did not ${phase === 'start' ? 'get ready' : 'all report'} ` +
    `within ${WATCHDOG_S} s. ${at.join('; ')}. Stopping here.`);
  process.exit(2);
}
const mib = (st) => `${((st.arenaPages * st.pageSize) / 2 ** 20).toFixed(1)} MiB`;

/** A fresh connection with the preloaded table: N / workers keys per worker, in key order. */
async function preload(o) {
  const conn = await open({ cacheSize: '1GB', pageSize: o.pageSize, debug: o.debug, log: false });
  const s = conn.openSession();
  s.create(URI);
  const c = s.openCursor(URI);
  const key = new Uint8Array(8);
  const kv = new DataView(key.buffer);
  const perWorker = Math.floor(o.n / o.workers);
  for (let w = 0; w < o.workers; w++) {
    key[0] = w;
    for (let i = 0; i < perWorker; i++) {
      kv.setUint32(4, i);
      c.put(key, VALUE);
    }
  }
  return { conn, s, perWorker };
}

function startWorker(msg, reports) {
  const w = new Worker(new URL('./delete-worker.js', import.meta.url));
  reports.push(new Promise((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
    w.once('exit', (code) => rej(new Error(`worker exited with code ${code} before reporting`)));
  }));
  w.postMessage(msg);
  return w;
}

/** One run on a fresh table; `compactor`: with the extra compacting worker. */
async function runOnce(o, compactor) {
  const { conn, s, perWorker } = await preload(o);
  const handle = conn.share();
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (PROGRESS + o.workers)));
  const workers = [];
  const reports = [];
  for (let id = 0; id < o.workers; id++) {
    workers.push(startWorker({ handle, uri: URI, role: 'churn', id, perWorker, warmupSteps: WARMUP_STEPS, ctrl }, reports));
  }
  if (compactor) workers.push(startWorker({ handle, uri: URI, role: 'compact', ctrl }, reports));
  const ready = performance.now();
  while (Atomics.load(ctrl, READY) < workers.length) {
    if (performance.now() - ready > WATCHDOG_S * 1000) hang(o, 'start', ctrl, perWorker, compactor);
    await sleep(5);
  }
  const start = s.stats(URI);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  Atomics.store(ctrl, GO, 1);
  Atomics.notify(ctrl, GO);
  await sleep(o.seconds * 1000);
  Atomics.store(ctrl, STOP, 1);
  const cpu = process.cpuUsage(cpu0);
  const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  const all = await within(Promise.all(reports), WATCHDOG_S);
  if (!all) hang(o, 'stop', ctrl, perWorker, compactor);
  await Promise.all(workers.map((w) => w.terminate()));
  const end = s.stats(URI);
  s.verify(URI);
  await conn.close();

  const churn = all.filter((r) => r.role === 'churn');
  const failed = churn.reduce((a, r) => a + r.failed, 0);
  if (failed) console.log(`WARNING: ${failed} inserts or removes did not take effect`);
  if (end.entries !== perWorker * o.workers) {
    console.log(`WARNING: ${end.entries} entries after the run, expected ${perWorker * o.workers}`);
  }
  const comp = all.find((r) => r.role === 'compact');
  return {
    ops: churn.reduce((a, r) => a + r.ops / (r.ms / 1000), 0),
    // How far the windows moved during the timed run, in multiples of the table.
    turnover: churn.reduce((a, r) => a + r.ops / 2, 0) / (perWorker * o.workers),
    cores,
    start,
    end,
    comp,
  };
}

const o = parseOptions();
console.log(`\n## delete-heavy: N = ${o.n.toLocaleString('en-US')} keys, pageSize ${o.pageSize}, ${o.workers} ` +
  `churn worker(s) sliding their windows (insert at the front, remove at the back), ${o.seconds} s per run, ` +
  `${o.rounds} round(s)${o.debug ? ', DEBUG build of the core' : ''} (this machine: ${availableParallelism()} cores)`);

const RUNS = [
  { name: 'a', label: '(a) removes delete emptied leaves', compactor: false },
  { name: 'b', label: '(b) (a) + a worker looping compact()', compactor: true },
];
const results = { a: [], b: [] };
for (let round = 0; round < o.rounds; round++) {
  for (const run of round % 2 ? [...RUNS].reverse() : RUNS) results[run.name].push(await runOnce(o, run.compactor));
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pm = (xs) => (xs.length > 1 ? ` ±${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / mean(xs)).toFixed(0)}%` : '');
const rows = [];
for (const run of RUNS) {
  results[run.name].forEach((r, i) => {
    rows.push([run.label, i + 1, fmtOps(r.ops), `${r.turnover.toFixed(1)}x`, r.cores.toFixed(2),
      `${mib(r.start)} (${r.start.arenaPages})`, `${mib(r.end)} (${r.end.arenaPages})`,
      `${r.start.pages} -> ${r.end.pages}`, r.end.deletions, r.end.deleted, r.end.freePages]);
  });
}
printTable(['run', 'round', 'churn ops/s', 'table turned over', 'cores used', 'arena at start (pages)',
  'arena at end (pages)', 'tree pages', 'deletions', 'deleted', 'freePages'], rows);

const opsA = mean(results.a.map((r) => r.ops));
const opsB = mean(results.b.map((r) => r.ops));
console.log(`churn ops/s, mean of ${o.rounds}: (a) ${fmtOps(opsA)}${pm(results.a.map((r) => r.ops))}, ` +
  `(b) ${fmtOps(opsB)}${pm(results.b.map((r) => r.ops))}; (b)/(a) = ${fmtRatio(opsB / opsA)}`);
const comps = results.b.map((r) => r.comp);
const secs = comps.reduce((a, c) => a + c.ms / 1000, 0);
console.log(`compactor in (b): ${fmtOps(comps.reduce((a, c) => a + c.calls, 0) / secs)} compact() calls/s; ` +
  `per run on average ${(mean(comps.map((c) => c.pagesDeleted))).toFixed(0)} pages deleted, ` +
  `${(mean(comps.map((c) => c.halfDeadFinished))).toFixed(0)} half-dead finished, ` +
  `${(mean(comps.map((c) => c.pagesRecycled))).toFixed(0)} pages recycled by it`);
