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
import { hostname } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import { setPlatform, type Platform, type ProcessIdentity } from './core.js';
import { DirectoryPageStore } from './store-dir.js';

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

export const nodePlatform: Platform = {
  compile: async (url) => WebAssembly.compile(await readFile(url)),
  canBlock: async () => !isMainThread,
  openDirectory: (path, create) => DirectoryPageStore.open(path, create),
  identity: () => (self ??= { pid: process.pid, host: hostname(), thread: threadId, start: startTime('self') }),
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
};

setPlatform(nodePlatform);
