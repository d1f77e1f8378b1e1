/**
 * The core, as one thread sees it: the compiled module, this thread's instance over the shared
 * memory, and views of this thread's scratch area. Everything here is runtime-neutral (Node and
 * browsers); what differs (reading the .wasm, may a thread block) is a Platform.
 */

import { LatchkeyError, Status, errorFromStatus } from './errors.js';
import type { PageStore, PageStoreRef } from './store.js';
import type { ElectionOptions } from './config.js';
import {
  type CoreExports, S_KEY, S_KEY2, S_VALUE, S_OUT, S_OUT_SIZE, MAX_KEY, MAX_THREADS, ARENA_GUARD, TOKEN_NONE, TOKEN_RECLAIMING,
} from './abi.generated.js';

// The functions assembly/index.ts exports, typed as asc declares them (generated from the core).
export type { CoreExports };

const modules = new Map<boolean, Promise<WebAssembly.Module>>();

/**
 * What differs between runtimes: how the .wasm bytes are compiled and whether this thread may
 * block. The default is the web platform (fetch, WorkerGlobalScope), runtime-neutral code only;
 * the Node entry (index.ts) installs platform-node.ts, which reads files and asks worker_threads.
 */
export interface Platform {
  compile(url: URL): Promise<WebAssembly.Module>;
  /** May this thread sleep (Atomics.wait) inside the core? */
  canBlock(): Promise<boolean>;
  /** A page store over a directory (`home` as a path); absent where there is no file system. */
  openDirectory?(path: string, create: boolean): Promise<PageStore & { ref(): PageStoreRef }>;
  /** A page store on servers (`home` as a `nats://` or `ws://` string: bindings/store-nats.ts), loaded on first use; absent where it cannot run. */
  openRemote?(home: string, create: boolean): Promise<PageStore & { close(): Promise<void> }>;
  /** Joins an etcd election (`election`: bindings/election.ts), loaded on first use; absent where it cannot run. */
  openElection?(opts: ElectionOptions, ttl: number, id: string, target: ElectionTarget): Promise<ElectionHandle>;
  /** This process: pid, host, thread, start time (bindings/leader.ts); absent where there are no processes. */
  identity?(): ProcessIdentity;
  /** Is process `pid` alive, and (if `start` is given and can be read) the one that started then? */
  alive?(pid: number, start: string | undefined): boolean;
  /**
   * Liveness tokens: a thread holds one, by name, while it is registered, and the runtime lets go
   * of it when the thread ends, whatever it was doing; another thread can tell whether a name is
   * held. What lets a thread that finds the thread table full reclaim the slots of threads that
   * ended without closing (assembly/arena.ts, "Thread slots of threads that end"). Absent where
   * the runtime has no such thing: those slots then stay taken until the memory goes.
   */
  liveness?: Liveness;
  /**
   * Runs `fn` when this thread's event loop runs empty without the connection closed (Node's
   * beforeExit): the log is flushed before the process ends. Returns the unregistration.
   */
  onExit?(fn: () => Promise<void> | undefined): () => void;
}

/** What an election asks of its connection (bindings/election.ts). */
export interface ElectionTarget {
  /** Won: step up (claim a term, replay the log); a rejection resigns and campaigns again. */
  up(): Promise<void>;
  /** The lease may have lapsed: step down at once. */
  down(why: string): Promise<void>;
}

/** A connection's part in an election. */
export interface ElectionHandle {
  /** The last failure of the background campaign, if any. */
  readonly error: LatchkeyError | undefined;
  /** The connection was fenced while leading: resign and campaign again. */
  demoted(): void;
  /** Tests: keepalives and the local lease check stop (the node keeps believing it leads). */
  deafen(): void;
  /** Resigns and disconnects. */
  close(): Promise<void>;
}

export interface ProcessIdentity {
  pid?: number;
  host?: string;
  thread?: number;
  start?: string;
}

export interface Liveness {
  /** Holds the token `name` until the returned release is called or this thread ends. */
  hold(name: string): Promise<() => void>;
  /** Is the token `name` held (by a thread that has not ended)? True when in doubt. */
  held(name: string): Promise<boolean>;
}

// Owner tokens (assembly/arena.ts): TOKEN_NONE, a thread registered without a liveness token
// (never reclaimed); TOKEN_RECLAIMING, a slot's state while another thread reclaims it.

/** The name of a thread's liveness token: the memory's id and the owner's token number. */
function livenessName(x: CoreExports, token: number): string {
  const hex = (w: number) => (w >>> 0).toString(16).padStart(8, '0');
  return `latchkey-${hex(x.lk_thread_table_id(1))}${hex(x.lk_thread_table_id(0))}-${token >>> 0}`;
}

/**
 * Takes a thread slot for this instance: holding a fresh liveness token first where the platform
 * has them, and, when the table is full, reclaiming the slots of owners whose token is free.
 * Returns the slot and the token's release.
 */
async function takeSlot(x: CoreExports, canBlock: boolean): Promise<{ slot: number; release?: () => void }> {
  const liveness = platform.liveness;
  let token = TOKEN_NONE;
  let release: (() => void) | undefined;
  if (liveness) {
    const t = x.lk_thread_token();
    try {
      release = await liveness.hold(livenessName(x, t));
      token = t;
    } catch {
      // No token to hold (the runtime refused): register as an owner that is never reclaimed.
    }
  }
  let slot = x.lk_thread_register(canBlock ? 1 : 0, token);
  if (slot === Status.EBUSY && liveness) {
    await reclaimEnded(x, liveness);
    slot = x.lk_thread_register(canBlock ? 1 : 0, token);
  }
  if (slot < 0) {
    release?.();
    throw new LatchkeyError('EBUSY', `no free thread slot: at most ${MAX_THREADS} threads may attach to one connection (threads that ended inside an operation keep theirs); close connections of other threads`);
  }
  return { slot, release };
}

/** Reclaims the slots whose owners' liveness tokens are free (assembly/arena.ts threadReclaim). */
async function reclaimEnded(x: CoreExports, liveness: Liveness): Promise<void> {
  const probes: Promise<void>[] = [];
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    const token = x.lk_thread_owner(slot) >>> 0;
    if (token === 0 || token === TOKEN_NONE || token === TOKEN_RECLAIMING) continue;
    probes.push(liveness.held(livenessName(x, token)).then((held) => {
      if (!held) x.lk_thread_reclaim(slot, token);
    }, () => undefined));
  }
  await Promise.all(probes);
}

/**
 * Browsers: a window's main thread cannot block at all (Atomics.wait throws there), so only
 * workers sleep in the core; the main thread spins on latches (assembly/latch.ts). See
 * README.md, "Browsers", for why that spin is not bounded.
 */
const webPlatform: Platform = {
  compile: (url) => WebAssembly.compileStreaming(fetch(url)),
  canBlock: async () => typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined',
  liveness: webLiveness(),
  // NATS over WebSocket (`ws://` homes); the client is imported on first use (optional peer dependencies).
  openRemote: async (home, create) => (await import('./store-nats.js')).NatsPageStore.open(home, create),
};

/**
 * Liveness tokens in browsers: Web Locks, which the user agent releases when the window or worker
 * holding one goes away (terminate() included). A probe asks for the lock only if it is free
 * (ifAvailable), and lets go of it at once. Absent where navigator.locks is (an insecure context).
 */
function webLiveness(): Liveness | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return undefined;
  return {
    hold: (name) => new Promise((resolve, reject) => {
      locks.request(name, () => new Promise<void>((release) => resolve(() => release()))).catch(reject);
    }),
    held: (name) => locks.request(name, { ifAvailable: true }, (lock) => lock === null),
  };
}
let platform: Platform = webPlatform;

/** Installs the platform (the Node entry does, before anything is opened). */
export function setPlatform(p: Platform): void {
  platform = p;
}

/**
 * Where the debug build is, once its entry (debug.ts, `import 'latchkey/debug'`) has run. Only
 * that entry names the file, so a bundle of an application that never imports it carries the
 * release build alone.
 */
let debugBuild: URL | undefined;

/** Makes `open({ debug: true })` possible: the debug entry calls this with its build's URL. */
export function registerDebugBuild(url: URL): void {
  debugBuild = url;
}

/** Compiles (once per process or page) the release or debug build of the core. */
export function loadModule(debug: boolean): Promise<WebAssembly.Module> {
  let m = modules.get(debug);
  if (!m) {
    if (debug && !debugBuild) {
      throw new LatchkeyError('EINVAL', "debug: true needs the debug build of the core, which has its own entry; accepted: import 'latchkey/debug' once before open({ debug: true }), or debug: false");
    }
    // A literal `new URL('...', import.meta.url)`: bundlers (Vite) recognise it and emit the asset.
    const url = debug ? debugBuild! : new URL('../build/latchkey.wasm', import.meta.url);
    m = platform.compile(url);
    modules.set(debug, m);
  }
  return m;
}

/** The platform's directory page store (Node), or EINVAL naming what browsers use instead. */
export function openDirectory(path: string, create: boolean): Promise<PageStore & { ref(): PageStoreRef }> {
  if (!platform.openDirectory) {
    throw new LatchkeyError('EINVAL', `home ${JSON.stringify(path)}: a directory home needs Node's file system; accepted here: a PageStore object (new OpfsPageStore(name) for a durable store in browsers, or new MemoryPageStore())`);
  }
  return platform.openDirectory(path, create);
}

/** Is `home` a server home (`nats://...`, or `ws://` / `wss://`: NATS over WebSocket) rather than a directory path? */
export function isRemoteHome(home: string): boolean {
  return /^(nats|wss?):\/\//i.test(home);
}

/** The platform's page store for a server home (Node), or EINVAL naming what works here. */
export function openRemote(home: string, create: boolean): Promise<PageStore & { close(): Promise<void> }> {
  if (!platform.openRemote) {
    throw new LatchkeyError('EINVAL', `home ${JSON.stringify(home)}: a nats:// home needs Node (the NATS client's TCP transport); accepted here: a PageStore object`);
  }
  return platform.openRemote(home, create);
}

/** Joins an election (Node), or EINVAL naming what works here. */
export function openElection(opts: ElectionOptions, ttl: number, id: string, target: ElectionTarget): Promise<ElectionHandle> {
  if (!platform.openElection) {
    throw new LatchkeyError('EINVAL', `election etcd://${opts.endpoints.join(',')}/${opts.name}: elections need Node (the etcd3 client speaks gRPC); accepted here: roles changed by reconfigure({ role })`);
  }
  return platform.openElection(opts, ttl, id, target);
}

/** This process, as the leader lock records it (empty in browsers). */
export function processIdentity(): ProcessIdentity {
  return platform.identity ? platform.identity() : {};
}

/** Is that process alive (the leader lock's liveness test; bindings/leader.ts)? */
export function processAlive(pid: number, start: string | undefined): boolean {
  return platform.alive ? platform.alive(pid, start) : true;
}

/** Runs `fn` before the process ends on its own (platform onExit); a no-op where there is none. */
export function onProcessExit(fn: () => Promise<void> | undefined): () => void {
  return platform.onExit ? platform.onExit(fn) : () => {};
}

/** Atomics.waitAsync where the runtime has it (Node 16+, Chromium, recent Firefox, Bun, Deno). */
const atomicsWaitAsync = (Atomics as {
  waitAsync?: (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<string> | string };
}).waitAsync;
export const HAS_WAIT_ASYNC = atomicsWaitAsync !== undefined;

/**
 * Resolves once the word `words[index]` may no longer hold `value` (it was notified, or `timeoutMs`
 * passed), without blocking the thread: Atomics.waitAsync, else a 1 ms timer. With `keepAlive`, a
 * timer keeps the thread's event loop alive meanwhile (a pending waitAsync does not).
 */
export async function waitWord(words: Int32Array, index: number, value: number, timeoutMs = Infinity, keepAlive = false): Promise<void> {
  if (!atomicsWaitAsync) return new Promise((res) => setTimeout(res, 1));
  const r = atomicsWaitAsync(words, index, value, timeoutMs);
  if (!r.async) return;
  const alive = keepAlive ? setTimeout(() => {}, Math.min(timeoutMs, 1000)) : undefined;
  await r.value;
  if (alive) clearTimeout(alive);
}

/** May this thread sleep inside the core? Only in workers (see the platforms). */
export function threadCanBlock(): Promise<boolean> {
  return platform.canBlock();
}

/**
 * The hooks of a thread that does not write the log: a full buffer asks the log's writer to drain
 * (SB_LOG_REQUEST) and sleeps until a drain, where the thread may sleep (else the core retries).
 */
function newHooks(memory: WebAssembly.Memory, canBlock: boolean): CoreHooks & { x?: CoreExports } {
  const hooks: CoreHooks & { x?: CoreExports } = {
    logFull(): void {
      const x = hooks.x!;
      const words = new Int32Array(memory.buffer);
      const drained = Atomics.load(words, x.lk_log_word(0) >> 2);
      const request = x.lk_log_word(2) >> 2;
      Atomics.add(words, request, 1);
      Atomics.notify(words, request);
      if (canBlock) Atomics.wait(words, x.lk_log_word(0) >> 2, drained, 50);
    },
  };
  return hooks;
}

/** Reads an AssemblyScript string (UTF-16, length before it) for assertion messages. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const u8 = new Uint8Array(memory.buffer);
  const len = new DataView(memory.buffer).getUint32(ptr - 4, true);
  let s = '';
  for (let i = 0; i < len; i += 2) s += String.fromCharCode(u8[ptr + i] | (u8[ptr + i + 1] << 8));
  return s;
}

/**
 * What the core calls back for (imports that need the thread's JS state). `logFull`: the log
 * buffer has no room for a write's records; the thread that writes the log (bindings/log.ts)
 * replaces it with its drain.
 */
export interface CoreHooks {
  logFull(): void;
}

/** One thread's instance of the core, registered in the thread table. */
export class CoreThread {
  readonly x: CoreExports;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  /** View of the whole memory as of registration; the scratch area is always inside it. */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly dv: DataView;
  /** Absolute addresses in this thread's scratch area. */
  readonly KEY: number;
  readonly KEY2: number;
  readonly VALUE: number;
  readonly OUT: number;
  readonly OUT_SIZE: number;
  /** The key and value areas, each exactly as long as the largest key and value: a copy into one cannot run past it. */
  readonly keyArea: Uint8Array;
  readonly valueArea: Uint8Array;
  readonly maxKey: number;
  /** A quarter page: the largest value for short keys. */
  readonly maxValue: number;
  /** Largest key + value of one item (binds on 4 KiB pages only). */
  readonly itemMax: number;
  /** Largest value accepted with a key of k bytes (1 to maxKey), as the core says: at [k]. */
  private readonly valueLimits: Int32Array;
  /** Why a value is too large when the item limit binds (valueLimit(k) < maxValue), for messages. */
  readonly itemLimitWhy: string;
  /** Bytes the connection's cacheSize allows for pages. */
  readonly cacheBytes: number;
  readonly debug: boolean;
  private registered = false;
  /** Lets go of this thread's liveness token (after its slot is given back). */
  private readonly releaseToken: (() => void) | undefined;

  /** May this thread sleep in the core (see threadCanBlock)? */
  readonly canBlock: boolean;

  /** The core's callbacks into this thread (the log's writer replaces logFull). */
  readonly hooks: CoreHooks;

  private constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, x: CoreExports, canBlock: boolean,
    releaseToken: (() => void) | undefined, hooks: CoreHooks) {
    this.hooks = hooks;
    this.module = module;
    this.memory = memory;
    this.x = x;
    this.canBlock = canBlock;
    this.releaseToken = releaseToken;
    this.registered = true;
    this.u8 = new Uint8Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
    const base = x.lk_scratch();
    this.KEY = base + S_KEY;
    this.KEY2 = base + S_KEY2;
    this.VALUE = base + S_VALUE;
    this.OUT = base + S_OUT;
    this.OUT_SIZE = S_OUT_SIZE;
    this.maxKey = MAX_KEY;
    this.maxValue = x.lk_max_value();
    this.itemMax = x.lk_leaf_item_max();
    // Asked once here, not per write: a crossing into the core per put for a constant.
    this.valueLimits = new Int32Array(MAX_KEY + 1);
    for (let k = 1; k <= MAX_KEY; k++) this.valueLimits[k] = x.lk_value_max(k);
    this.itemLimitWhy = ` (key + value at most ${this.itemMax} bytes on ${x.lk_page_size()}-byte pages)`;
    this.cacheBytes = x.lk_arena_max_pages() * x.lk_page_size();
    this.debug = x.lk_debug() === 1;
    this.keyArea = this.u8.subarray(this.KEY, this.KEY + this.maxKey);
    this.valueArea = this.u8.subarray(this.VALUE, this.VALUE + this.maxValue);
  }

  private static instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory, hooks: CoreHooks): CoreExports {
    // The core's sleeping and waking (assembly/futex.ts): JS Atomics on the shared memory. The
    // view is renewed when the memory has grown past it.
    let words = new Int32Array(memory.buffer);
    const wordsAt = (addr: number) => {
      if (addr + 4 > words.byteLength) words = new Int32Array(memory.buffer);
      return words;
    };
    const imports = {
      env: {
        memory,
        lk_wait(addr: number, expected: number, timeoutMs: number): number {
          const r = Atomics.wait(wordsAt(addr), addr >> 2, expected, timeoutMs < 0 ? Infinity : timeoutMs);
          return r === 'ok' ? 0 : r === 'not-equal' ? 1 : 2;
        },
        lk_wake(addr: number, count: number): number {
          return Atomics.notify(wordsAt(addr), addr >> 2, count < 0 ? Infinity : count);
        },
        // The log buffer is full (assembly/log/log.ts, ROOM): the log's writer drains it now;
        // any other thread asks the writer to and sleeps until a drain (bindings/log.ts).
        lk_log_full(): void {
          hooks.logFull();
        },
        abort(msg: number, file: number, line: number, col: number): never {
          // Only debug-build assertions reach here: an invariant of the core is broken.
          throw new LatchkeyError('ECORRUPT',
            `core assertion failed: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`);
        },
      },
    };
    return new WebAssembly.Instance(module, imports).exports as unknown as CoreExports;
  }

  /** Lays out a fresh memory (first thread) and registers this thread. */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, pageSize: number, cacheSize: number,
    canBlock: boolean): Promise<CoreThread> {
    const hooks = newHooks(memory, canBlock);
    const x = CoreThread.instantiate(module, memory, hooks);
    hooks.x = x;
    // The arena keeps a guard zone mapped past its last page (assembly/arena.ts, ARENA_GUARD).
    const base = x.lk_arena_base() + ARENA_GUARD;
    const maxPages = Math.floor((cacheSize - base) / pageSize);
    if (maxPages < 16) {
      throw new LatchkeyError('EINVAL', `cacheSize ${cacheSize} leaves no room for pages; accepted: more than ${base + 16 * pageSize} bytes`);
    }
    // The memory's id names its threads' liveness tokens apart from other memories' in the same
    // process or origin.
    const id = crypto.getRandomValues(new Uint32Array(2));
    const r = x.lk_init(pageSize, maxPages, id[0], id[1]);
    if (r < 0) throw errorFromStatus(r, 'laying out the shared memory');
    const { release } = await takeSlot(x, canBlock);
    return new CoreThread(module, memory, x, canBlock, release, hooks);
  }

  /** Instantiates over a memory another thread laid out, checks its build, registers. */
  static async attach(module: WebAssembly.Module, memory: WebAssembly.Memory, canBlock: boolean): Promise<CoreThread> {
    const hooks = newHooks(memory, canBlock);
    const x = CoreThread.instantiate(module, memory, hooks);
    hooks.x = x;
    const r = x.lk_attach();
    if (r === Status.EBUSY) {
      throw new LatchkeyError('EINVAL',
        `the shared memory was laid out by core build ${x.lk_superblock_build_id()}, this module is build ${x.lk_build_id()}; accepted: the same build (debug and release builds cannot share a memory)`);
    }
    if (r < 0) throw new LatchkeyError('EINVAL', 'the memory holds no latchkey superblock; accepted: a handle from conn.share()');
    const { release } = await takeSlot(x, canBlock);
    return new CoreThread(module, memory, x, canBlock, release, hooks);
  }

  /** Largest value accepted with a key of `klen` bytes (1 to maxKey), as the core says. */
  valueLimit(klen: number): number {
    return this.valueLimits[klen];
  }

  /** Returns this thread's slot and stashed pages to the shared state, then its liveness token. */
  unregister(): void {
    if (this.registered) {
      this.registered = false;
      this.x.lk_thread_unregister();
      this.releaseToken?.();
    }
  }
}
