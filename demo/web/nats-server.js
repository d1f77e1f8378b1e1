// One nats-server for the follower demo (`npm run demo:web -- --follow`): JetStream on, NATS over
// WebSocket on (no TLS), everything on 127.0.0.1 with ports the kernel hands out, a fresh data
// directory, the binary from PATH. Stopped by its pid (stop(), or SIGKILL when this process
// exits without it), its directory removed. Node modules only.
//
//   const nats = await startNatsServer();   // { url: 'nats://127.0.0.1:p', wsUrl: 'ws://127.0.0.1:q', pid, stop() }
//
// Without the binary it rejects with NATS_MISSING's message (how to install it).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_MISSING = 'nats-server is not on PATH: the follower demo needs one (JetStream and WebSocket). '
  + 'Install it with `apt-get install -y nats-server` (Debian/Ubuntu; 2.9 or newer).';
const READY_MS = 20_000;

export const hasNatsServer = () => spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0;

/** A port no one listens on now (the kernel's choice for port 0 on 127.0.0.1). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function startNatsServer() {
  if (!hasNatsServer()) throw new Error(NATS_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-demo-nats-'));
  const [port, http, ws] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, 'nats.conf');
  const log = join(dir, 'nats.log');
  writeFileSync(conf, [
    'server_name: demo', `listen: 127.0.0.1:${port}`, `http: 127.0.0.1:${http}`,
    `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))}, max_memory_store: 64MB, max_file_store: 1GB }`,
    `websocket { host: 127.0.0.1, port: ${ws}, no_tls: true }`, '',
  ].join('\n'));
  const p = spawn('nats-server', ['-c', conf, '-l', log], { stdio: 'ignore' });
  const exited = new Promise((r) => p.once('exit', r));
  const lastResort = () => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone already */ } };
  process.on('exit', lastResort);
  const stop = async () => {
    process.off('exit', lastResort);
    if (p.exitCode === null && p.signalCode === null) {
      process.kill(p.pid, 'SIGTERM');
      const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_MS;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${http}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ok) break;
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    if (p.exitCode !== null || p.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server (pid ${p.pid}) ${p.exitCode !== null ? 'exited while starting' : `not ready within ${READY_MS} ms`}\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${ws}`, pid: p.pid, stop };
}
