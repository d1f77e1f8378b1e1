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
import { isMainThread } from 'node:worker_threads';
import { setPlatform, type Platform } from './core.js';
import { DirectoryPageStore } from './store-dir.js';

export const nodePlatform: Platform = {
  compile: async (url) => WebAssembly.compile(await readFile(url)),
  canBlock: async () => !isMainThread,
  openDirectory: (path, create) => DirectoryPageStore.open(path, create),
};

setPlatform(nodePlatform);
