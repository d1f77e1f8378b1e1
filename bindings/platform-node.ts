/**
 * The Node platform (see Platform in core.ts): the .wasm is read from the file next to dist/,
 * only worker threads may sleep in the core, and a directory home is a DirectoryPageStore. Installed by the Node entry (index.ts); never on the
 * browser path (browser.ts).
 *
 * Node's main thread could block, but it spins too: latches are held for microseconds, and one
 * rule for main threads keeps Node and browsers alike. (It first spun for another reason,
 * measured on node 20.20: a main thread asleep in wasm wait32 stalled workers. The core now
 * sleeps only through JS calls, assembly/futex.ts.) Blocking waits the bindings do themselves
 * (InjectionPoint.awaitArrived) are JS Atomics.wait.
 */

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { hostname } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import { setPlatform, type Platform, type ProcessIdentity, type Liveness } from './core.js';
import { DirectoryPageStore } from './store-dir.js';
import { NatsPageStore, setNatsTransport } from './store-nats.js';

/**
 * A process's start time: field 22 of /proc/<pid>/stat (clock ticks after boot), which tells a
 * reused pid from the process that recorded it. Undefined where there is no /proc (then the
 * leader lock checks the pid alone).
 */
function startTime(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) state ...": comm may hold spaces and parentheses, so count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let self: ProcessIdentity | undefined;

/** This machine's name; undefined where the runtime refuses it (Deno without --allow-sys). */
function hostName(): string | undefined {
  try {
    return hostname();
  } catch {
    return undefined;
  }
}

/**
 * Liveness tokens (Platform.liveness): a local socket listening under the token's name. When a
 * worker ends, however it ends (terminate() while it runs JS or sleeps in the core included),
 * Node closes its handles, and a connection to the name is then refused; while the thread lives,
 * the kernel accepts connections even if its event loop never runs. (Checked on node 20.20:
 * neither process 'exit' in the worker nor anything else a terminated worker leaves tells
 * another thread; a worker's 'exit' event reaches only its parent.) Linux: the abstract socket
 * namespace (nothing on disk, gone with the socket); Windows: a named pipe (not tried here).
 * Elsewhere none: a socket file could be removed by a temporary-file cleaner while its owner
 * lives, which would make a live owner look ended.
 */
function socketPath(name: string): string | undefined {
  if (process.platform === 'linux') return `\0${name}`;
  if (process.platform === 'win32') return `\\\\?\\pipe\\${name}`;
  return undefined;
}

function tokenHold(name: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', reject);
    server.listen(socketPath(name), () => {
      server.off('error', reject);
      server.on('error', () => {}); // a failed accept (EMFILE) must not end the thread
      server.unref(); // the token never keeps a thread alive
      resolve(() => new Promise<void>((done) => server.close(() => done())));
    });
  });
}

function tokenHeld(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath(name)!);
    s.once('connect', () => { s.destroy(); resolve(true); });
    // Refused or absent: no one listens, the owner has ended. Anything else: in doubt, held.
    s.once('error', (e: NodeJS.ErrnoException) => resolve(!(e.code === 'ECONNREFUSED' || e.code === 'ENOENT')));
  });
}

/**
 * Do tokens work on this runtime (Node, or Bun or Deno through the Node entry)? Checked once per
 * thread before any token is trusted: one held must be seen held, and seen free once released. A
 * runtime that answered "free" for a live owner would let a live thread's slot be reclaimed, so
 * where the check fails every token is taken to be held (no slot is ever reclaimed).
 */
let tokensWork: Promise<boolean> | undefined;
function checkTokens(): Promise<boolean> {
  return tokensWork ??= (async () => {
    try {
      const name = `latchkey-token-check-${process.pid}-${threadId}-${Math.random().toString(36).slice(2)}`;
      const release = await tokenHold(name);
      const whileHeld = await tokenHeld(name);
      await release();
      return whileHeld && !(await tokenHeld(name));
    } catch {
      return false;
    }
  })();
}

const nodeLiveness: Liveness = {
  hold: (name) => tokenHold(name).then((release) => () => { void release(); }),
  held: async (name) => !(await checkTokens()) || tokenHeld(name),
};

export const nodePlatform: Platform = {
  compile: async (url) => WebAssembly.compile(await readFile(url)),
  canBlock: async () => !isMainThread,
  openDirectory: (path, create) => DirectoryPageStore.open(path, create),
  // Imported on first use: the NATS client is an optional peer dependency.
  openRemote: (home, create) => NatsPageStore.open(home, create),
  // The etcd client (elections): imported when a connection has an election, never before.
  openElection: async (opts, ttl, id, target) => (await import('./election.js')).EtcdElection.start(opts, ttl, id, target),
  identity: () => (self ??= { pid: process.pid, host: hostName(), thread: threadId, start: startTime('self') }),
  alive: (pid, start) => {
    try {
      process.kill(pid, 0); // signal 0: only checks that the process exists
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
      // EPERM: it exists (another user's)
    }
    const now = start === undefined ? undefined : startTime(pid);
    return now === undefined || now === start;
  },
  liveness: socketPath('x') === undefined ? undefined : nodeLiveness,
  onExit: (fn) => {
    // beforeExit fires each time the loop runs empty; the flush's I/O keeps it alive until done.
    const hook = () => { fn()?.catch(() => {}); };
    process.on('beforeExit', hook);
    return () => { process.off('beforeExit', hook); };
  },
};

setPlatform(nodePlatform);
// nats:// homes connect over TCP; the client itself is imported on first use (optional peer dependencies).
setNatsTransport(async () => (await import('@nats-io/transport-node')).connect);
