// Follower lag on a NATS home: how long after a leader's flush resolved its write is readable on
// a follower fed by the store's watch (no refreshInterval), the follower in a process of its own.
//
//   node bench/nats.js [--n 1000] [--value 100] [--pause 2] [--nats nats://127.0.0.1:4222]
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

const o = benchArgs('nats.js', {
  n: { type: 'number', default: 1000 },
  value: { type: 'number', default: 100 },
  pause: { type: 'number', default: 2 },
  nats: { type: 'string' },
});
if (!(o.n >= 1 && o.n <= 1e6) || !(o.value >= 1 && o.value <= 65536) || !(o.pause >= 0 && o.pause <= 1000)) {
  throw new Error('nats.js: --n 1..1000000, --value 1..65536 bytes, --pause 0..1000 ms');
}
const now = () => performance.timeOrigin + performance.now();

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** One nats-server with JetStream: its url and stop(). */
async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-nats-'));
  const [port, http] = [await freePort(), await freePort()];
  const conf = join(dir, 'n1.conf');
  writeFileSync(conf, `server_name: n1\nlisten: 127.0.0.1:${port}\nhttp: 127.0.0.1:${http}\njetstream { store_dir: ${JSON.stringify(join(dir, 'js'))}, max_memory_store: 64MB, max_file_store: 1GB }\n`);
  const p = spawn('nats-server', ['-c', conf, '-l', join(dir, 'n1.log')], { stdio: 'ignore' });
  const exited = new Promise((r) => p.once('exit', r));
  p.once('error', (e) => { console.error(`nats.js: nats-server did not start (${e.message}); install it (apt-get install -y nats-server) or pass --nats`); process.exit(1); });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${http}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('nats.js: nats-server not ready within 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => { p.kill('SIGTERM'); await exited; rmSync(dir, { recursive: true, force: true }); },
  };
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
