// Follower lag on a NATS home: how long after a leader's flush resolved its write is readable on
// a follower fed by the store's watch (no refreshInterval), the follower in a process of its own.
//
//   node bench/nats.js [--n 1000] [--value 100] [--pause 2] [--nats nats://127.0.0.1:4222]
//   node bench/nats.js --case flush [--flushes 500] [--value 100]
//
// --case flush: flush latency p50/p99 (--flushes sequential put + flush), 100k puts and one
// flush, and a checkpoint of them, on a directory home, a 1-node NATS home and a 3-node R3 one
// (servers started here as below).
//
// Without --nats it starts one nats-server (JetStream, on 127.0.0.1, ports the kernel picks, a
// fresh data directory; the binary from PATH) and stops it by its pid at the end. The leader puts
// key m<i> (a --value byte value), awaits the flush, notes the time and pauses --pause ms; the
// follower (bench/nats-follower.js) reads m<i> until it is there and notes the time. Times are
// performance.timeOrigin + performance.now() in each process (one machine, one clock). Printed:
// p50, p90, p99 and max of (visible on follower - flush resolved on leader), and how many were
// visible before the leader's flush had resolved (the follower heard of the segment before the
// leader had its acknowledgement: counted as 0). Nothing asserts on a timing; a check that fails
// (a key missing or wrong on the follower) exits 1.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../dist/index.js';
import { benchArgs } from './args.js';
import { printTable } from './format.js';

const o = benchArgs('nats.js', {
  n: { type: 'number', default: 1000 },
  value: { type: 'number', default: 100 },
  pause: { type: 'number', default: 2 },
  nats: { type: 'string' },
  case: { type: 'string', default: 'lag' },
  flushes: { type: 'number', default: 500 },
});
if (!(o.n >= 1 && o.n <= 1e6) || !(o.value >= 1 && o.value <= 65536) || !(o.pause >= 0 && o.pause <= 1000)) {
  throw new Error('nats.js: --n 1..1000000, --value 1..65536 bytes, --pause 0..1000 ms');
}
if (o.case !== 'lag' && o.case !== 'flush') throw new Error(`nats.js: --case ${o.case}: accepted: lag, flush`);
const now = () => performance.timeOrigin + performance.now();

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** `nodes` nats-servers with JetStream (3: routed into one cluster): the url of all and stop(). */
async function startServer(nodes = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-nats-'));
  const ports = [];
  for (let i = 0; i < nodes; i++) ports.push({ port: await freePort(), http: await freePort(), route: await freePort() });
  const routes = ports.map((q) => `nats-route://127.0.0.1:${q.route}`).join(', ');
  const procs = ports.map((q, i) => {
    const conf = join(dir, `n${i + 1}.conf`);
    writeFileSync(conf, `server_name: n${i + 1}\nlisten: 127.0.0.1:${q.port}\nhttp: 127.0.0.1:${q.http}\n` +
      `jetstream { store_dir: ${JSON.stringify(join(dir, `js${i + 1}`))}, max_memory_store: 64MB, max_file_store: 1GB }\n` +
      (nodes > 1 ? `cluster { name: bench, listen: 127.0.0.1:${q.route}, routes: [${routes}] }\n` : ''));
    const p = spawn('nats-server', ['-c', conf, '-l', join(dir, `n${i + 1}.log`)], { stdio: 'ignore' });
    p.once('error', (e) => { console.error(`nats.js: nats-server did not start (${e.message}); install it (apt-get install -y nats-server) or pass --nats`); process.exit(1); });
    return { p, exited: new Promise((r) => p.once('exit', r)) };
  });
  const get = (url) => fetch(url, { signal: AbortSignal.timeout(1000) }).then(async (r) => (r.status === 200 ? r.text() : undefined), () => undefined);
  const deadline = Date.now() + 20_000;
  for (;;) {
    let ok = (await Promise.all(ports.map((q) => get(`http://127.0.0.1:${q.http}/healthz`)))).every((x) => x !== undefined);
    if (ok && nodes > 1) ok = JSON.parse((await get(`http://127.0.0.1:${ports[0].http}/jsz`)) ?? '{}').meta_cluster?.cluster_size === nodes;
    if (ok) break;
    if (Date.now() > deadline) throw new Error('nats.js: nats-server not ready within 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://${ports.map((q) => `127.0.0.1:${q.port}`).join(',')}`,
    stop: async () => {
      for (const { p } of procs) p.kill('SIGTERM');
      for (const { exited } of procs) await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
