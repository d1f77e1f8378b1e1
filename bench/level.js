// latchkey through the level API (latchkey/level) against the level backends a user would pick
// instead, through the same abstract-level calls, each engine in a fresh process, the same keys.
//
//   node bench/level.js [--n 1000000] [--runs 3] [--engines latchkey,...] [--workers 2]
//
// N random 8-byte keys and 8-byte values (bench/keys.js), keyEncoding and valueEncoding 'view'.
// Tasks, in order, each timed once over every key:
//   put        await db.put(k, v), one at a time, into an empty database (random key order)
//   batch      await db.batch([...1000 puts]) into a second empty database, closed after
//   get        await db.get(k), one at a time, in a fresh random order (distinct key objects)
//   getMany    await db.getMany(1000 keys), the same order
//   scan       for await (const [k, v] of db.iterator()): every entry, in order
//   nextv      await it.nextv(1000) until done: every entry, in order
// Engines: latchkey (no home: in memory, log off, as memory-level), latchkey-dir (a directory
// home with the log on, flushInterval 10 ms: writes durable within 10 ms, which classic-level's
// default (sync: false) does not promise), memory-level, classic-level (LevelDB, on a directory).
// Then, where only latchkey can: one database shared by --workers worker threads
// (db.share() / LatchkeyLevel.attach), each putting and getting its own share of the keys
// through the level API, against one worker doing all of it: aggregate ops/s.
// Each figure is the median of --runs fresh processes, the engine order reversed every other
// run; ratios are against memory-level's medians from this invocation. Nothing is asserted on a
// timing; a task whose result is short (entries missing) is an error, and the exit status is 1.

import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKeys, byteKeys, range, shuffled } from './keys.js';
import { fmtOps, fmtRatio, printTable } from './format.js';
import { benchArgs } from './args.js';

const ENGINES = ['latchkey', 'latchkey-dir', 'memory-level', 'classic-level'];
const TASKS = ['put', 'batch', 'get', 'getMany', 'scan', 'nextv'];
const REFERENCE = 'memory-level';
const CHUNK = 1000;
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const ENC = { keyEncoding: 'view', valueEncoding: 'view' };

const o = benchArgs('level.js', {
  n: { type: 'number', default: 1_000_000 },
  runs: { type: 'number', default: 3 },
  engines: { type: 'string', default: ENGINES.join(',') },
  workers: { type: 'number', default: 2 },
  engine: { type: 'string', default: '' },
  shared: { type: 'boolean' },
});
const SELF = fileURLToPath(import.meta.url);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const temp = () => mkdtempSync(join(tmpdir(), 'latchkey-bench-level-'));

/** A fresh, unopened database of `engine` in `dir` (for the engines that keep files). */
async function makeDb(engine, dir) {
  if (engine === 'latchkey') return new (await import('../dist/level-node.js')).LatchkeyLevel({}, ENC);
  if (engine === 'latchkey-dir') return new (await import('../dist/level-node.js')).LatchkeyLevel({ home: dir, log: { flushInterval: 10 } }, ENC);
  if (engine === 'memory-level') return new (await import('memory-level')).MemoryLevel(ENC);
  if (engine === 'classic-level') {
    let m;
    try { m = await import('classic-level'); } catch { return undefined; }
    return new m.ClassicLevel(dir, ENC);
  }
  throw new Error(`level.js: --engines: no engine ${engine} (accepted: ${ENGINES.join(', ')})`);
}

function check(what, got, want) {
  if (got !== want) throw new Error(`level.js: ${o.engine} ${what}: ${got} of ${want}`);
}

/** One engine, one run (in its own process): { task: ops/s }. */
async function runEngine(engine) {
  const n = o.n;
  const keys = makeKeys(n);
  const dirs = [temp(), temp()];
  const out = {};
  const time = async (task, count, fn) => {
    globalThis.gc?.();
    const t = performance.now();
    const r = await fn();
    out[task] = count / ((performance.now() - t) / 1000);
    return r;
  };
  try {
    const db = await makeDb(engine, dirs[0]);
    if (!db) return { missing: 'npm install classic-level' };
    await db.open();
    let ks = byteKeys(keys, range(0, n));
    await time('put', n, async () => { for (let i = 0; i < n; i++) await db.put(ks[i], VALUE); });
    const db2 = await makeDb(engine, dirs[1]);
    await db2.open();
    await time('batch', n, async () => {
      for (let i = 0; i < n; i += CHUNK) {
        const ops = [];
        for (let j = i; j < Math.min(n, i + CHUNK); j++) ops.push({ type: 'put', key: ks[j], value: VALUE });
        await db2.batch(ops);
      }
    });
    await db2.close();
    ks = byteKeys(keys, shuffled(n, 0x6e7));
    const hits = await time('get', n, async () => {
      let h = 0;
      for (let i = 0; i < n; i++) if ((await db.get(ks[i])) !== undefined) h++;
      return h;
    });
    check('get hits', hits, n);
    const manyHits = await time('getMany', n, async () => {
      let h = 0;
      for (let i = 0; i < n; i += CHUNK) for (const v of await db.getMany(ks.slice(i, i + CHUNK))) if (v !== undefined) h++;
      return h;
    });
    check('getMany hits', manyHits, n);
    ks = undefined;
    const seen = await time('scan', n, async () => {
      let c = 0, b = 0;
      for await (const [k, v] of db.iterator()) { c++; b += k[0] + v[7]; }
      return b >= 0 ? c : -1;
    });
    check('scan entries', seen, n);
    const seenV = await time('nextv', n, async () => {
      const it = db.iterator();
      let c = 0;
      for (;;) {
        const batch = await it.nextv(CHUNK);
        if (batch.length === 0) break;
        c += batch.length;
      }
      await it.close();
      return c;
    });
    check('nextv entries', seenV, n);
    await db.close();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  return out;
}

/** For W = 1 and --workers: one fresh latchkey database, put then got by W workers at once: { W: { put, get } }. */
async function runShared() {
  const { LatchkeyLevel } = await import('../dist/level-node.js');
  const n = o.n;
  const keys = makeKeys(n, true);
  const out = {};
  for (const w of [1, o.workers]) {
    const db = new LatchkeyLevel({}, ENC); // a fresh one each time: every round inserts into an empty database
    await db.open();
    const workers = [];
    for (let i = 0; i < w; i++) {
      const worker = new Worker(new URL('level-worker.js', import.meta.url), { workerData: { handle: db.share(), keys: keys.bytes, id: i, of: w, n } });
      workers.push(new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); }).then((ready) => ({ worker, ready })));
    }
    const ready = await Promise.all(workers);
    const results = await Promise.all(ready.map(({ worker }) => new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage('go');
    })));
    for (const { worker } of ready) await worker.terminate();
    const put = n / (Math.max(...results.map((r) => r.putMs)) / 1000);
    const get = n / (Math.max(...results.map((r) => r.getMs)) / 1000);
    check(`${w} workers' get hits`, results.reduce((s, r) => s + r.hits, 0), n);
    out[w] = { put, get };
    await db.close();
  }
  return out;
}

if (o.engine) {
  const r = o.shared ? await runShared() : await runEngine(o.engine);
  console.log(JSON.stringify(r));
  process.exit(0);
}

function child(args) {
  const r = spawnSync(process.execPath, ['--expose-gc', SELF, '--n', String(o.n), '--workers', String(o.workers), ...args], { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 900_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) return { failed: `${args.join(' ')}: ${(r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' / ')}` };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const engines = o.engines.split(',');
for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`level.js: --engines: no engine ${e} (accepted: ${ENGINES.join(', ')})`);
if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('level.js: --runs must be a positive integer');
if (!Number.isInteger(o.workers) || o.workers < 2) throw new Error('level.js: --workers must be an integer >= 2');
const require = createRequire(import.meta.url);
const version = (pkg) => { try { return require(`${pkg}/package.json`).version; } catch { return 'not installed'; } };

console.log(`\n## level: ${o.n.toLocaleString('en-US')} random 8-byte keys, 8-byte values, through abstract-level; median of ${o.runs} run(s), each engine in a fresh process`);
console.log(`command: node bench/level.js ${process.argv.slice(2).join(' ')}`.trimEnd());
console.log(`node ${process.version}; abstract-level ${version('abstract-level')}, memory-level ${version('memory-level')}, classic-level ${version('classic-level')}`);
const failures = [];
const results = Object.fromEntries(engines.map((e) => [e, []]));
const shared = [];
for (let run = 0; run < o.runs; run++) {
  for (const e of run % 2 ? [...engines].reverse() : engines) {
    const r = child(['--engine', e]);
    if (r.failed) failures.push(r.failed);
    else results[e].push(r);
  }
  const s = child(['--engine', 'latchkey', '--shared']);
  if (s.failed) failures.push(s.failed); else shared.push(s);
}
const med = (e, t) => (results[e].length && !results[e][0].missing ? median(results[e].map((r) => r[t])) : undefined);
const rows = [];
for (const e of engines) {
  if (results[e][0]?.missing) { rows.push([e, ...TASKS.map(() => 'not installed')]); continue; }
  rows.push([e, ...TASKS.map((t) => (med(e, t) === undefined ? 'failed' : fmtOps(med(e, t))))]);
}
printTable(['ops/s (entries/s for scans)', ...TASKS], rows);
if (engines.includes(REFERENCE)) {
  console.log(`\nratios against ${REFERENCE}, same run:`);
  printTable(['engine', ...TASKS], engines.filter((e) => e !== REFERENCE && med(e, 'put') !== undefined)
    .map((e) => [e, ...TASKS.map((t) => fmtRatio(med(e, t) / med(REFERENCE, t)))]));
}
if (shared.length) {
  const m = (w, t) => median(shared.map((s) => s[w][t]));
  console.log(`\none latchkey database shared by worker threads (db.share() / LatchkeyLevel.attach), each putting then getting N / W keys through the level API, aggregate ops/s:`);
  printTable(['workers', 'put', 'get', 'get vs 1 worker'], [1, o.workers].map((w) => [String(w), fmtOps(m(w, 'put')), fmtOps(m(w, 'get')), fmtRatio(m(w, 'get') / m(1, 'get'))]));
}
if (failures.length) {
  console.error(`${failures.length} run(s) failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
