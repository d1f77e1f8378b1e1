// Follower lag on a NATS home: how long after a leader's flush resolved its write is readable on
// a follower fed by the store's watch (no refreshInterval), the follower in a process of its own.
//
//   node bench/nats.js [--n 1000] [--value 100] [--pause 2] [--nats nats://127.0.0.1:4222]
//   node bench/nats.js --case flush [--flushes 500] [--value 100]
//   node bench/nats.js --case failover [--ttls 2,5] [--kills 5] [--resigns 1]    (bench/nats-failover.js)
//   node bench/nats.js --case image [--sizes 64,256] [--rounds 3] [--value 1000] (bench/nats-image.js)
//
// --case flush: flush latency p50/p99 (--flushes sequential put + flush), 100k puts and one
// flush, and a checkpoint of them, on a directory home, a 1-node NATS home and a 3-node R3 one
// (servers started here as below).
//
// Without --nats it starts one nats-server (JetStream, on 127.0.0.1, ports the kernel picks, a
// fresh data directory; the binary from PATH: test/servers.ts, through bench/servers.js) and
// stops it by its pid at the end; failover also starts one etcd member. The leader puts
// key m<i> (a --value byte value), awaits the flush, notes the time and pauses --pause ms; the
// follower (bench/nats-follower.js) reads m<i> until it is there and notes the time. Times are
// performance.timeOrigin + performance.now() in each process (one machine, one clock). Printed:
// p50, p90, p99 and max of (visible on follower - flush resolved on leader), and how many were
// visible before the leader's flush had resolved (the follower heard of the segment before the
// leader had its acknowledgement: counted as 0). Nothing asserts on a timing; a check that fails
// (a key missing or wrong on the follower) exits 1.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../dist/index.js';
import { benchArgs } from './args.js';
import { printTable } from './format.js';
import { loadServers } from './servers.js';
import { failoverCase } from './nats-failover.js';
import { imageCase } from './nats-image.js';

const o = benchArgs('nats.js', {
  n: { type: 'number', default: 1000 },
  value: { type: 'number' },
  pause: { type: 'number', default: 2 },
  nats: { type: 'string' },
  case: { type: 'string', default: 'lag' },
  flushes: { type: 'number', default: 500 },
  ttls: { type: 'list', default: [2] },
  kills: { type: 'number', default: 5 },
  resigns: { type: 'number', default: 1 },
  sizes: { type: 'list', default: [64, 256] },
  rounds: { type: 'number', default: 3 },
});
o.value ??= o.case === 'image' ? 1000 : 100; // bytes
if (!(o.n >= 1 && o.n <= 1e6) || !(o.value >= 1 && o.value <= 65536) || !(o.pause >= 0 && o.pause <= 1000)) {
  throw new Error('nats.js: --n 1..1000000, --value 1..65536 bytes, --pause 0..1000 ms');
}
const CASES = ['lag', 'flush', 'failover', 'image'];
if (!CASES.includes(o.case)) throw new Error(`nats.js: --case ${o.case}: accepted: ${CASES.join(', ')}`);
if (o.ttls.some((t) => !Number.isInteger(t) || t < 2 || t > 60) || !(o.kills >= 0 && o.kills <= 100) || !(o.resigns >= 0 && o.resigns <= 100)) {
  throw new Error('nats.js: --ttls integers 2..60 (seconds), --kills 0..100, --resigns 0..100');
}
if (o.sizes.some((m) => !(m >= 1 && m <= 512)) || !(o.rounds >= 1 && o.rounds <= 20)) throw new Error('nats.js: --sizes 1..512 (MiB), --rounds 1..20');
const now = () => performance.timeOrigin + performance.now();

const { startNats, startEtcd } = await loadServers();
/** `nodes` nats-servers with JetStream (3: routed into one cluster; test/servers.ts): the url of all and stop(). */
async function startServer(nodes = 1) {
  try {
    const c = await startNats({ nodes });
    return { url: c.url(), cluster: c, stop: () => c.stop() };
  } catch (e) {
    console.error(`nats.js: nats-server did not start (${e.message}); install it (apt-get install -y nats-server) or pass --nats`);
    process.exit(1);
  }
}

/** Sequential put + flush (--flushes), then 100k puts and one flush, then a checkpoint, on `home`. */
async function flushCase(home) {
  const conn = await open({ home, cacheSize: '256MB' });
  const s = conn.openSession();
  s.create('table:f', { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor('table:f');
  const value = 'v'.repeat(o.value);
  const lat = [];
  for (let i = 0; i < o.flushes; i++) {
    c.put(`k${i}`, value);
    const t = performance.now();
    await s.flush();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  let t = performance.now();
  for (let i = 0; i < 100_000; i++) c.put(`b${i}`, value);
  await s.flush();
  const rate = 100_000 / ((performance.now() - t) / 1000);
  t = performance.now();
  await s.checkpoint();
  const ckpt = performance.now() - t;
  await conn.close();
  const q = (p) => `${lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2)} ms`;
  return [q(0.5), q(0.99), `${(rate / 1000).toFixed(0)} k/s`, `${ckpt.toFixed(0)} ms`];
}

if (o.case === 'failover' || o.case === 'image') {
  console.log(`command: node bench/nats.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  if (o.case === 'failover') await failoverCase({ startNats, startEtcd, ttls: o.ttls, kills: o.kills, resigns: o.resigns });
  else await imageCase({ startNats, sizes: o.sizes, value: o.value, rounds: o.rounds });
  process.exit(0);
}

if (o.case === 'flush') {
  console.log(`flush latency and write rate: ${o.flushes} sequential put + flush of ${o.value} bytes, then 100k puts and one flush, then a checkpoint of them`);
  console.log(`command: node bench/nats.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  const rows = [];
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-nats-dir-'));
  try { rows.push(['directory (fsync)', ...(await flushCase(dir))]); } finally { rmSync(dir, { recursive: true, force: true }); }
  for (const [nodes, label, query] of [[1, 'NATS, 1 node', ''], [3, 'NATS, 3 nodes, R3', '?replicas=3']]) {
    const srv = await startServer(nodes);
    try { rows.push([label, ...(await flushCase(`${srv.url}/flush-${process.pid}${query}`))]); } finally { await srv.stop(); }
  }
  printTable(['home', 'flush p50', 'flush p99', '100k puts + flush', 'checkpoint'], rows);
  process.exit(0);
}

const server = o.nats ? undefined : await startServer();
const base = o.nats ?? server.url;
if (!/^nats:\/\/[^/]+$/.test(base)) throw new Error(`nats.js: --nats ${base}: accepted: nats://host:port[,host:port...] (no name: the home is lag-<pid>)`);
const home = `${base}/lag-${process.pid}`;
let failed = false;
try {
  const leader = await open({ home, cacheSize: '256MB' });
  const s = leader.openSession();
  s.create('table:lag', { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor('table:lag');
  await s.flush();
  const child = spawn(process.execPath, [fileURLToPath(new URL('./nats-follower.js', import.meta.url)), home, String(o.n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  const done = new Promise((r) => child.once('exit', r));
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null) throw new Error('nats.js: the follower process ended before it was ready');
    await new Promise((r) => setTimeout(r, 5));
  }
  const flushed = [];
  const written = [];
  for (let i = 0; i < o.n; i++) {
    c.put(`m${String(i).padStart(8, '0')}`, `${i}`.padEnd(o.value, '.'));
    written.push(now());
    await s.flush();
    flushed.push(now());
    if (o.pause > 0) await new Promise((r) => setTimeout(r, o.pause));
  }
  const code = await done;
  await leader.close();
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`nats.js: the follower process failed (exit ${code})`);
  const r = JSON.parse(line);
  if (r.wrong > 0) { failed = true; console.error(`nats.js: ${r.wrong} keys read wrong on the follower`); }
  const lags = r.visible.map((t, i) => t - flushed[i]);
  const early = lags.filter((x) => x < 0).length;
  const stats = (xs) => {
    const sorted = xs.map((x) => Math.max(0, x)).sort((a, b) => a - b);
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
    return `p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms`;
  };
  console.log(`follower lag on ${home} (${o.n} writes of ${o.value} bytes, each flushed, ${o.pause} ms apart; follower in its own process, fed by the watch):`);
  console.log(`  leader's flush resolved -> visible on the follower: ${stats(lags)}; ${early} of ${o.n} were visible before the flush resolved (counted as 0)`);
  console.log(`  put on the leader (flush called) -> visible on the follower: ${stats(r.visible.map((t, i) => t - written[i]))}`);
  console.log(`  leader's flush: ${stats(flushed.map((t, i) => t - written[i]))}; the follower's final lag ${JSON.stringify(r.lag)}`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await server?.stop();
}
process.exitCode = failed ? 1 : 0;
