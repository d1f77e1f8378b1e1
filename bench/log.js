// What the write-ahead log costs and gives (bindings/log.ts), on a directory home in the system's
// temp directory (the disk the figures are for). Each case runs in a fresh process.
//
//   node bench/log.js [--n 500000] [--rounds 3] [--flushes 500]
//
//   puts            random 8-byte keys and values, one thread and 1, 2, 4 workers: log on (flushInterval
//                   10 ms: the background flusher writes while the puts run) against log: false,
//                   puts/s (median of --rounds), and CPU time of all threads per put (steadier on
//                   a shared machine); the puts only, no final flush or checkpoint
//   flush           put, then await flush(), one thread and 4 workers at once: latency p50/p99,
//                   next to a raw write + fsync of the same disk; segments written per flush
//   replay          open() of a home whose last --n puts are only in the log: records/s
//   checkpoint      after changing 10 keys of --n: bytes the checkpoint writes against the image
//   walk            a delta checkpoint after --n puts to 1, 1000 and 100k keys of 1M: every record
//                   since the last checkpoint is read back and indexed
//   follower lag    leader flush -> visible on a follower polling the log, p50/p99
//   durable writes  batches of 1000 puts made durable: latchkey (puts, then flush) against lmdb
//                   (puts, await the batch's commit) and classic-level (batch), where installed
// Nothing is asserted.

import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync, readdirSync, statSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../dist/index.js';
import { makeKeys, byteKeys, range } from './keys.js';
import { printTable } from './format.js';
import { benchArgs } from './args.js';

const args = benchArgs('log.js', {
  n: { type: 'number', default: 500_000 },
  rounds: { type: 'number', default: 3 },
  flushes: { type: 'number', default: 500 },
  case: { type: 'string', default: '' },
  log: { type: 'string', default: 'on' },
  workers: { type: 'number', default: 0 },
  keys: { type: 'number', default: 1000 },
  home: { type: 'string', default: '' },
});
const SELF = fileURLToPath(import.meta.url);
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)} k` : x.toFixed(0));
const us = (x) => `${(x * 1000).toFixed(0)} us`;
const tempHome = () => mkdtempSync(join(tmpdir(), 'latchkey-bench-log-'));
const segments = (home) => readdirSync(home).filter((f) => f.startsWith('wal-')).length;
const namesIn = (home) => new Set(readdirSync(home));
/** Bytes of the files of `home` whose names start with `prefix`, of those not in `had` only. */
const filesBytes = (home, { prefix = '', had = new Set() } = {}) => readdirSync(home)
  .filter((f) => f.startsWith(prefix) && !had.has(f)).reduce((n, f) => n + statSync(join(home, f)).size, 0);

/** Runs this file with `caseArgs` in a fresh process; returns its JSON line. */
function child(caseArgs) {
  const r = spawnSync(process.execPath, [SELF, ...caseArgs], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bench/log.js ${caseArgs.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// ---- cases (each in its own process) ----

async function casePuts() {
  const home = tempHome();
  const conn = await open({ home, cacheSize: '1GB', log: args.log === 'on' });
  const s = conn.openSession();
  s.create('table:b');
  let t;
  let cpu;
  if (args.workers === 0) {
    const keys = byteKeys(makeKeys(args.n), range(0, args.n));
    const c = s.openCursor('table:b');
    cpu = process.cpuUsage();
    t = performance.now();
    // Turns of 10000 puts: between them the thread's event loop runs, and with it the background
    // flusher (on this thread), so the log's writes are inside the time, as for the workers.
    for (let i = 0; i < keys.length; i += 10_000) {
      for (let j = i; j < Math.min(i + 10_000, keys.length); j++) c.put(keys[j], VALUE);
      await new Promise((res) => setImmediate(res));
    }
    t = performance.now() - t;
  } else {
    const ws = [];
    const per = Math.ceil(args.n / args.workers);
    const ready = [];
    for (let i = 0; i < args.workers; i++) {
      const w = new Worker(new URL('./log-worker.js', import.meta.url), { workerData: { handle: conn.share(), from: i * per, to: Math.min(args.n, (i + 1) * per), n: args.n } });
      ws.push(w);
      ready.push(new Promise((res) => w.once('message', res)));
    }
    await Promise.all(ready);
    const done = ws.map((w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); }));
    cpu = process.cpuUsage();
    t = performance.now();
    for (const w of ws) w.postMessage('go');
    await Promise.all(done);
    t = performance.now() - t;
    await Promise.all(ws.map((w) => w.terminate()));
  }
  cpu = process.cpuUsage(cpu);
  // CPU time of all the process's threads per put: steadier than the rate on a shared machine.
  const out = { rate: args.n / (t / 1000), cpuNs: ((cpu.user + cpu.system) * 1000) / args.n, sysNs: (cpu.system * 1000) / args.n };
  // Untimed: the log's last segment written before the home is removed (else the removal can race
  // a segment being published: ENOTEMPTY).
  if (args.log === 'on') await conn.flush();
  conn.core.unregister();
  rmSync(home, { recursive: true, force: true });
  return out;
}

async function caseFlush() {
  const home = tempHome();
  // The disk's own sync: a 4 KiB write + fsync of a file in the same directory.
  const fd = openSync(join(home, 'raw'), 'w');
  const block = new Uint8Array(4096);
  const raw = [];
  for (let i = 0; i < args.flushes; i++) {
    const t = performance.now();
    writeSync(fd, block, 0, block.length, 0);
    fsyncSync(fd);
    raw.push(performance.now() - t);
  }
  closeSync(fd);
  rmSync(join(home, 'raw'));
  const conn = await open({ home, cacheSize: '256MB' });
  const s = conn.openSession();
  s.create('table:b');
  const lat = [];
  let flushes = 0;
  const before = segments(home);
  if (args.workers === 0) {
    const c = s.openCursor('table:b');
    for (let i = 0; i < args.flushes; i++) {
      c.put(Uint8Array.of(i & 255, i >> 8, 1), VALUE);
      const t = performance.now();
      await s.flush();
      lat.push(performance.now() - t);
      flushes++;
    }
  } else {
    const ws = [];
    const per = Math.ceil(args.flushes / args.workers);
    for (let i = 0; i < args.workers; i++) {
      ws.push(new Worker(new URL('./log-worker.js', import.meta.url), { workerData: { handle: conn.share(), flushes: per, id: i } }));
    }
    const results = await Promise.all(ws.map((w) => new Promise((res, rej) => {
      w.on('message', (m) => { if (m !== 'ready') res(m); });
      w.once('error', rej);
    })));
    for (const r of results) { lat.push(...r); flushes += r.length; }
    await Promise.all(ws.map((w) => w.terminate()));
  }
  const segs = segments(home) - before;
  conn.core.unregister();
  rmSync(home, { recursive: true, force: true });
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), raw50: pct(raw, 0.5), raw99: pct(raw, 0.99), perFlush: segs / flushes };
}

async function caseWriteLog() {
  const conn = await open({ home: args.home, cacheSize: '1GB' });
  const s = conn.openSession();
  s.create('table:b');
  const c = s.openCursor('table:b');
  for (const k of byteKeys(makeKeys(args.n), range(0, args.n))) c.put(k, VALUE);
  await conn.flush();
  return { written: args.n }; // exits without close: the puts are only in the log
}

async function caseReplay() {
  const t = performance.now();
  const conn = await open({ home: args.home, cacheSize: '1GB', role: 'follower' });
  const ms = performance.now() - t;
  const { entries } = conn.openSession().stats('table:b');
  await conn.close();
  return { ms, entries };
}

async function caseCheckpoint() {
  const home = tempHome();
  const conn = await open({ home, cacheSize: '1GB' });
  const s = conn.openSession();
  s.create('table:b');
  const c = s.openCursor('table:b');
  const keys = byteKeys(makeKeys(args.n), range(0, args.n));
  for (const k of keys) c.put(k, VALUE);
  await s.checkpoint();
  const full = filesBytes(home, { prefix: 'ckpt-' });
  for (let i = 0; i < 10; i++) c.put(keys[i * 997], Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
  const had = namesIn(home);
  const t = performance.now();
  await s.checkpoint();
  const ms = performance.now() - t;
  const written = filesBytes(home, { had });
  await conn.close();
  rmSync(home, { recursive: true, force: true });
  return { full, written, ms };
}

/**
 * A delta checkpoint after --n puts to --keys keys of a table of 1M checkpointed just before: it
 * reads every record since (the log's segments read back and checked) and keeps each key's last
 * (the changes stay under a quarter of the image: a delta, not a full image).
 */
async function caseWalk() {
  const home = tempHome();
  const conn = await open({ home, cacheSize: '1GB', log: { checkpointSize: '2GB' } });
  const s = conn.openSession();
  s.create('table:b');
  const c = s.openCursor('table:b');
  const all = byteKeys(makeKeys(1_000_000), range(0, 1_000_000));
  for (const k of all) c.put(k, VALUE);
  await s.checkpoint();
  const full = filesBytes(home, { prefix: 'ckpt-' });
  const keys = all.slice(0, args.keys);
  for (let i = 0; i < args.n; i += 10_000) {
    for (let j = i; j < Math.min(i + 10_000, args.n); j++) c.put(keys[j % keys.length], VALUE);
    await new Promise((res) => setImmediate(res));
  }
  await conn.flush();
  const had = namesIn(home);
  const t = performance.now();
  await s.checkpoint();
  const ms = performance.now() - t;
  // A delta, not a full image (the changes stay under a quarter of it): else this timed the merge.
  const written = filesBytes(home, { had });
  if (written > full / 4) throw new Error(`bench/log.js walk: the checkpoint wrote ${written} bytes against a full image of ${full}: not a delta`);
  await conn.close();
  rmSync(home, { recursive: true, force: true });
  return { ms, written };
}

async function caseLag() {
  const home = tempHome();
  const leader = await open({ home, cacheSize: '256MB' });
  const s = leader.openSession();
  s.create('table:b');
  const c = s.openCursor('table:b');
  const follower = await open({ home, role: 'follower', cacheSize: '256MB' });
  const lag = [];
  for (let i = 0; i < 200; i++) {
    const k = Uint8Array.of(i & 255, i >> 8, 7);
    c.put(k, VALUE);
    await s.flush();
    const t = performance.now();
    for (;;) {
      await follower.reconfigure({ checkpoint: 'latest' });
      if (follower.openSession().openCursor('table:b').get(k)) break;
    }
    lag.push(performance.now() - t);
  }
  await follower.close();
  await leader.close();
  rmSync(home, { recursive: true, force: true });
  return { p50: pct(lag, 0.5), p99: pct(lag, 0.99) };
}

const BATCH = 1000;
async function caseDurable() {
  const keys = byteKeys(makeKeys(args.n), range(0, args.n));
  const home = tempHome();
  let t;
  if (args.log === 'latchkey') {
    const conn = await open({ home, cacheSize: '1GB' });
    const s = conn.openSession();
    s.create('table:b');
    const c = s.openCursor('table:b');
    t = performance.now();
    for (let i = 0; i < keys.length; i += BATCH) {
      for (let j = i; j < Math.min(i + BATCH, keys.length); j++) c.put(keys[j], VALUE);
      await s.flush();
    }
    t = performance.now() - t;
    conn.core.unregister();
  } else if (args.log === 'lmdb') {
    let lmdb;
    try { lmdb = await import('lmdb'); } catch { return { missing: 'npm install --no-save lmdb' }; }
    const db = lmdb.open({ path: home, keyEncoding: 'binary', encoding: 'binary' });
    t = performance.now();
    for (let i = 0; i < keys.length; i += BATCH) {
      let last;
      for (let j = i; j < Math.min(i + BATCH, keys.length); j++) last = db.put(Buffer.from(keys[j]), Buffer.from(VALUE));
      await last;
    }
    t = performance.now() - t;
    await db.close();
  } else {
    let level;
    try { level = await import('classic-level'); } catch { return { missing: 'npm install --no-save classic-level' }; }
    const db = new level.ClassicLevel(home, { keyEncoding: 'view', valueEncoding: 'view' });
    t = performance.now();
    for (let i = 0; i < keys.length; i += BATCH) {
      await db.batch(keys.slice(i, i + BATCH).map((k) => ({ type: 'put', key: k, value: VALUE })), { sync: true });
    }
    t = performance.now() - t;
    await db.close();
  }
  rmSync(home, { recursive: true, force: true });
  return { rate: keys.length / (t / 1000) };
}

const CASES = { puts: casePuts, flush: caseFlush, writelog: caseWriteLog, replay: caseReplay, checkpoint: caseCheckpoint, walk: caseWalk, lag: caseLag, durable: caseDurable };

if (args.case) {
  const r = await CASES[args.case]();
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

// ---- the run ----
const { n, rounds } = args;
console.log(`\n## the write-ahead log: directory home in ${tmpdir()}, ${n} random 8-byte keys and values, median of ${rounds}`);
console.log(`command: node bench/log.js --n ${n} --rounds ${rounds} --flushes ${args.flushes}`);

// One thread, then workers: with one worker the log's writer (the opening thread) has a core of
// its own on a 2-core machine; with two or more, its work and the log's shared state compete with
// the puts. The order of on and off alternates between rounds; 'paired' is the median of each
// round's on / off rate.
const putRows = [];
for (const workers of [0, 1, 2, 4]) {
  const on = [];
  const off = [];
  for (let r = 0; r < rounds; r++) {
    const run = (log) => child(['--case', 'puts', '--n', String(n), '--log', log, '--workers', String(workers)]);
    if (r % 2 === 0) { on.push(run('on')); off.push(run('off')); } else { off.push(run('off')); on.push(run('on')); }
  }
  const rate = (xs) => median(xs.map((x) => x.rate));
  const cpu = (xs) => median(xs.map((x) => x.cpuNs));
  const paired = median(on.map((x, r) => x.rate / off[r].rate));
  putRows.push([workers === 0 ? '1 thread' : `${workers} worker${workers > 1 ? 's' : ''}`, `${fmt(rate(on))}/s`, `${fmt(rate(off))}/s`, `${(rate(on) / rate(off)).toFixed(2)}x`,
    `${paired.toFixed(2)}x`, `${cpu(on).toFixed(0)} / ${cpu(off).toFixed(0)} ns`, `${(cpu(off) / cpu(on)).toFixed(2)}x`]);
}
printTable(['puts', 'log on (flushInterval 10)', 'log: false', 'on / off', 'paired', 'CPU per put, on / off (all threads)', 'off / on CPU'], putRows);

const flushRows = [];
for (const workers of [0, 4]) {
  const f = child(['--case', 'flush', '--flushes', String(args.flushes), '--workers', String(workers)]);
  flushRows.push([workers === 0 ? '1 thread' : `${workers} workers at once`, `${us(f.p50)} / ${us(f.p99)}`, `${us(f.raw50)} / ${us(f.raw99)}`, f.perFlush.toFixed(2)]);
}
printTable(['flush after a put', 'flush p50 / p99', 'raw write+fsync p50 / p99', 'segments per flush'], flushRows);

{
  const home = tempHome();
  child(['--case', 'writelog', '--n', String(n), '--home', home]);
  const reps = [];
  for (let r = 0; r < rounds; r++) reps.push(child(['--case', 'replay', '--home', home]));
  const ms = median(reps.map((x) => x.ms));
  rmSync(home, { recursive: true, force: true });
  printTable(['replay', 'open (recovery)', 'records/s'], [[`${n} logged puts, no checkpoint`, `${ms.toFixed(0)} ms`, `${fmt(n / (ms / 1000))}/s`]]);
}

{
  const c = child(['--case', 'checkpoint', '--n', String(n)]);
  printTable(['checkpoint after 10 changed keys', 'bytes written', 'full image', 'share', 'time'],
    [[`of ${n}`, String(c.written), String(c.full), `${((100 * c.written) / c.full).toFixed(1)}%`, `${c.ms.toFixed(0)} ms`]]);
}

{
  const rows = [];
  for (const keys of [1, 1000, 100_000]) {
    const ms = median(Array.from({ length: rounds }, () => child(['--case', 'walk', '--n', String(n), '--keys', String(keys)]).ms));
    rows.push([`${n} puts to ${keys} key${keys > 1 ? 's' : ''} of 1M`, `${ms.toFixed(0)} ms`, `${fmt(n / (ms / 1000))}/s`]);
  }
  printTable(['delta checkpoint, every record since the last read back', 'time', 'records/s'], rows);
}

{
  const l = child(['--case', 'lag']);
  printTable(['follower lag', 'p50', 'p99'], [['leader flush -> follower sees it (polling the log)', `${l.p50.toFixed(2)} ms`, `${l.p99.toFixed(2)} ms`]]);
}

{
  const rows = [];
  const dn = Math.min(n, 200_000);
  for (const engine of ['latchkey', 'lmdb', 'classic-level']) {
    const rs = [];
    let missing;
    for (let r = 0; r < rounds; r++) {
      const x = child(['--case', 'durable', '--n', String(dn), '--log', engine]);
      if (x.missing) { missing = x.missing; break; }
      rs.push(x.rate);
    }
    rows.push([engine, missing ? `not installed (${missing})` : `${fmt(median(rs))}/s`]);
  }
  const base = rows[0][1];
  printTable([`durable writes, ${dn} puts in batches of ${BATCH}`, 'puts/s'], rows.map((r) => [...r]));
  void base;
}
