/**
 * Real servers for the tests: `nats-server` and `etcd` processes started from the binary on PATH, on
 * 127.0.0.1 only, each with a fresh data directory and ports the kernel handed out, waited for
 * until ready (bounded), and stopped by their pid. Nothing here mocks a server.
 *
 *   const c = await startNats({ nodes: 3 });   // a JetStream cluster with routes
 *   c.url()                                    // 'nats://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3'
 *   c.kill(0)                                  // SIGKILL one node, by its pid
 *   await c.restart(0)                         // stop it (SIGTERM) and start it again: same ports and data
 *   startNats({ nodes: 1, websocket: true })   // also NATS over WebSocket: c.wsUrl('db') is 'ws://127.0.0.1:p/db'
 *   await c.stop()                             // every process it started, and its directories
 *
 * Every process started here is also killed when the test process exits (a last resort for a
 * test that failed before its afterAll), and at most MAX_PROCESSES run at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Is the binary on PATH? */
export function onPath(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).status === 0;
}

/** A bound on the processes the suites may run at once (a runaway test cannot fork a swarm). */
const MAX_PROCESSES = 8;
/** How long a node (or a cluster) may take to be ready: measured about 1 s for three. */
const READY_TIMEOUT_MS = 20_000;

const running = new Map<number, ChildProcess>();
process.on('exit', () => {
  for (const pid of running.keys()) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  }
});

/** A port no one listens on now (the kernel's choice for port 0). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsNode {
  readonly name: string;
  readonly port: number;
  readonly monitorPort: number;
  /** The WebSocket port, when started with `websocket: true`. */
  readonly wsPort?: number;
  pid: number;
  /** Is the process still running (not killed, not exited)? */
  alive: boolean;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** `nats://127.0.0.1:p1,...` for the given nodes (default all), with `/name` and a query when given. */
  url(name?: string, query?: string, which?: readonly number[]): string;
  /** `ws://127.0.0.1:p1,...` (the WebSocket ports; started with `websocket: true`), with `/name` when given. */
  wsUrl(name?: string): string;
  /** SIGKILL node i by its pid and wait until it is gone (bounded). */
  kill(i: number): Promise<void>;
  /** Stops node i (SIGTERM, by its pid) and starts it again with the same ports and data; resolves once it is healthy (bounded). */
  restart(i: number): Promise<void>;
  /** Stops every process it started (SIGTERM, then SIGKILL after 5 s) and removes its directories. */
  stop(): Promise<void>;
}

function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** Stops `procs` (SIGTERM, then SIGKILL after 5 s), forgets them, removes `dir`. */
async function stopAll(procs: readonly ChildProcess[], dir: string): Promise<void> {
  for (const p of procs) if (p.pid !== undefined && running.has(p.pid)) p.kill('SIGTERM');
  for (const p of procs) {
    if (!(await waitExit(p, 5000))) { p.kill('SIGKILL'); await waitExit(p, 5000); }
    if (p.pid !== undefined) running.delete(p.pid);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `ready` every 50 ms until true; throws if one of `servers` exited, or after READY_TIMEOUT_MS. */
async function untilReady(what: string, servers: readonly { name: string; alive: boolean }[], ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const gone = servers.find((x) => !x.alive);
    if (gone) throw new Error(`${what} ${gone.name} exited while starting`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error of a start that failed, with the end of each server log, after stopping what it started. */
async function startFailed(e: unknown, logs: readonly string[], stop: () => Promise<void>): Promise<Error> {
  const tail = logs.filter(existsSync).map((l) => readFileSync(l, 'utf8').slice(-2000)).join('\n');
  await stop();
  return new Error(`${(e as Error).message}\n${tail}`);
}

/** `scheme://127.0.0.1:p1,...` for the given ports (default all), with `/name` and a query when given. */
function urlOf(scheme: string, ports: readonly number[], name?: string, query?: string, which?: readonly number[]): string {
  const hosts = (which ?? ports.map((_, i) => i)).map((i) => `127.0.0.1:${ports[i]}`).join(',');
  return `${scheme}://${hosts}${name === undefined ? '' : `/${name}`}${query ? `?${query}` : ''}`;
}

/**
 * Starts `nodes` nats-server processes (1, or 3 routed into one cluster), JetStream on unless
 * `jetstream: false` (each node's file store bounded by `maxFileStore`, default '1GB'), and
 * resolves once every node answers its health check (and, clustered,
 * the JetStream meta group has a leader). Rejects, having stopped what it started, after
 * READY_TIMEOUT_MS.
 */
export async function startNats(opts: { nodes: 1 | 3; jetstream?: boolean; websocket?: boolean; maxFileStore?: string }): Promise<NatsCluster> {
  const jetstream = opts.jetstream ?? true;
  if (running.size + opts.nodes > MAX_PROCESSES) throw new Error(`test/servers.ts: more than ${MAX_PROCESSES} server processes at once`);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-nats-'));
  const ports = await Promise.all(Array.from({ length: opts.nodes }, async () => ({ client: await freePort(), monitor: await freePort(), route: await freePort(), ws: opts.websocket ? await freePort() : undefined })));
  const procs: ChildProcess[] = [];
  const nodes: NatsNode[] = [];
  const logs: string[] = [];
  const confs: [string, string][] = [];
  const launch = (i: number, conf: string, log: string): ChildProcess => {
    const p = spawn('nats-server', ['-c', conf, '-l', log], { stdio: 'ignore' });
    if (p.pid === undefined) throw new Error('nats-server did not start');
    running.set(p.pid, p);
    const node = nodes[i];
    node.pid = p.pid;
    node.alive = true;
    p.once('exit', () => { if (node.pid === p.pid) node.alive = false; running.delete(p.pid!); });
    return p;
  };
  const stop = async () => {
    await stopAll(procs, dir);
    for (const n of nodes) n.alive = false;
  };
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const name = `n${i + 1}`;
      const lines = [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${ports[i].client}`,
        `http: 127.0.0.1:${ports[i].monitor}`,
      ];
      if (jetstream) lines.push(`jetstream { store_dir: ${JSON.stringify(join(dir, name))}, max_memory_store: 64MB, max_file_store: ${opts.maxFileStore ?? '1GB'} }`);
      if (ports[i].ws !== undefined) lines.push(`websocket { host: 127.0.0.1, port: ${ports[i].ws}, no_tls: true }`);
      if (opts.nodes > 1) {
        const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`).join(', ');
        lines.push(`cluster { name: lk, listen: 127.0.0.1:${ports[i].route}, routes: [${routes}] }`);
      }
      const conf = join(dir, `${name}.conf`);
      writeFileSync(conf, `${lines.join('\n')}\n`);
      const log = join(dir, `${name}.log`);
      logs.push(log);
      const node: NatsNode = { name, port: ports[i].client, monitorPort: ports[i].monitor, ...(ports[i].ws !== undefined ? { wsPort: ports[i].ws } : {}), pid: 0, alive: false };
      nodes.push(node);
      procs.push(launch(i, conf, log));
      confs.push([conf, log]);
    }
    await untilReady('nats-server', nodes, async () => {
      const health = await Promise.all(nodes.map((n) => get(`http://127.0.0.1:${n.monitorPort}/healthz`)));
      if (!health.every((h) => h?.status === 200)) return false;
      if (!jetstream || opts.nodes === 1) return true;
      const jsz = await get(`http://127.0.0.1:${nodes[0].monitorPort}/jsz`);
      const meta = jsz && (JSON.parse(jsz.body) as { meta_cluster?: { leader?: string; cluster_size?: number } }).meta_cluster;
      return Boolean(meta?.leader) && meta?.cluster_size === opts.nodes;
    });
  } catch (e) {
    throw await startFailed(e, logs, stop);
  }
  return {
    nodes,
    url: (name, query, which) => urlOf('nats', nodes.map((n) => n.port), name, query, which),
    wsUrl(name) {
      const hosts = nodes.map((n) => {
        if (n.wsPort === undefined) throw new Error('test/servers.ts: wsUrl needs startNats({ websocket: true })');
        return `127.0.0.1:${n.wsPort}`;
      }).join(',');
      return `ws://${hosts}${name === undefined ? '' : `/${name}`}`;
    },
    async restart(i) {
      const old = procs[i];
      old.kill('SIGTERM');
      if (!(await waitExit(old, 5000))) { old.kill('SIGKILL'); await waitExit(old, 5000); }
      procs[i] = launch(i, confs[i][0], confs[i][1]);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while ((await get(`http://127.0.0.1:${nodes[i].monitorPort}/healthz`))?.status !== 200) {
        if (!nodes[i].alive) throw new Error(`nats-server ${nodes[i].name} exited while restarting`);
        if (Date.now() > deadline) throw new Error(`nats-server ${nodes[i].name} not ready within ${READY_TIMEOUT_MS} ms of a restart`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill(i) {
      const p = procs[i];
      p.kill('SIGKILL');
      if (!(await waitExit(p, 5000))) throw new Error(`nats-server ${nodes[i].name} (pid ${p.pid}) did not die`);
      nodes[i].alive = false;
    },
    stop,
  };
}

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly pid: number;
  alive: boolean;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** `etcd://127.0.0.1:p1,...` for the given members (default all), with `/name` and a query when given. */
  url(name?: string, query?: string, which?: readonly number[]): string;
  /** SIGKILL member i by its pid and wait until it is gone (bounded). */
  kill(i: number): Promise<void>;
  /** The index of the member that is the Raft leader, as the live members agree (bounded wait until they do). */
  leader(): Promise<number>;
  /** Stops every process it started (SIGTERM, then SIGKILL after 5 s) and removes its directories. */
  stop(): Promise<void>;
}

/** A member's view (the v3 gRPC gateway's maintenance status): its own id and its leader's. */
async function etcdStatus(m: EtcdMember): Promise<{ member: string; leader: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${m.clientPort}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    const j = await r.json() as { header?: { member_id?: string }; leader?: string };
    return j.header?.member_id && j.leader && j.leader !== '0' ? { member: j.header.member_id, leader: j.leader } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `members` etcd processes (1, or 3 in one cluster) with fresh data directories, and
 * resolves once every member's /health says true (a cluster has a Raft leader then). Rejects,
 * having stopped what it started, after READY_TIMEOUT_MS.
 */
export async function startEtcd(opts: { members: 1 | 3 }): Promise<EtcdCluster> {
  if (running.size + opts.members > MAX_PROCESSES) throw new Error(`test/servers.ts: more than ${MAX_PROCESSES} server processes at once`);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-etcd-'));
  const ports = await Promise.all(Array.from({ length: opts.members }, async () => ({ client: await freePort(), peer: await freePort() })));
  const names = ports.map((_, i) => `e${i + 1}`);
  const cluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i].peer}`).join(',');
  const procs: ChildProcess[] = [];
  const members: EtcdMember[] = [];
  const logs: string[] = [];
  const stop = async () => {
    await stopAll(procs, dir);
    for (const m of members) m.alive = false;
  };
  try {
    for (let i = 0; i < opts.members; i++) {
      const name = names[i];
      const client = `http://127.0.0.1:${ports[i].client}`;
      const peer = `http://127.0.0.1:${ports[i].peer}`;
      const args = [
        '--name', name, '--data-dir', join(dir, name),
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `lk-${process.pid}-${ports[0].peer}`,
        '--logger', 'zap', '--log-outputs', join(dir, `${name}.log`),
      ];
      logs.push(join(dir, `${name}.log`));
      const p = spawn('etcd', args, { stdio: 'ignore' });
      if (p.pid === undefined) throw new Error('etcd did not start');
      procs.push(p);
      running.set(p.pid, p);
      const member: EtcdMember = { name, clientPort: ports[i].client, peerPort: ports[i].peer, pid: p.pid, alive: true };
      p.once('exit', () => { member.alive = false; running.delete(p.pid!); });
      members.push(member);
    }
    await untilReady('etcd', members, async () => {
      const health = await Promise.all(members.map((m) => get(`http://127.0.0.1:${m.clientPort}/health`)));
      return health.every((h) => h?.status === 200 && /"health":\s*"true"/.test(h.body));
    });
  } catch (e) {
    throw await startFailed(e, logs, stop);
  }
  return {
    members,
    url: (name, query, which) => urlOf('etcd', members.map((m) => m.clientPort), name, query, which),
    async kill(i) {
      const p = procs[i];
      p.kill('SIGKILL');
      if (!(await waitExit(p, 5000))) throw new Error(`etcd ${members[i].name} (pid ${p.pid}) did not die`);
      members[i].alive = false;
    },
    async leader() {
      let found = -1;
      await untilReady('etcd leader', [], async () => {
        const live = members.filter((m) => m.alive);
        const views = await Promise.all(live.map(etcdStatus));
        if (views.some((v) => v === undefined) || new Set(views.map((v) => v!.leader)).size !== 1) return false;
        found = members.indexOf(live[views.findIndex((v) => v!.member === views[0]!.leader)]);
        return found >= 0;
      });
      return found;
    },
    stop,
  };
}
