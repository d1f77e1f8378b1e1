/**
 * Connections: one shared memory holding the superblock, catalog and trees, seen by every thread
 * through its own instance of the core. `open` lays out a fresh memory; `share` packs what a
 * worker needs; `attach` (in the worker) instantiates the same module over the same memory.
 */

import { LatchkeyError, invalid } from './errors.js';
import { parseConfig, type ConnectionConfig, type ResolvedConfig, type Role } from './config.js';
import { CoreThread, loadModule, threadCanBlock } from './core.js';
import { Session, type SessionOwner } from './session.js';
import { InjectionPoint } from './inject.js';
import { checkIsolation } from './isolation.js';

const WASM_PAGE = 65536;
/** Pages the module declares as its initial memory (asconfig.json's initialMemory). */
const MODULE_INITIAL_PAGES = 16;

/** What conn.share() returns: structured-cloneable, for postMessage to a worker. */
export interface ShareHandle {
  kind: 'latchkey/connection';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  config: { pageSize: number; cacheSize: number; debug: boolean; role: Role };
}

export class Connection implements SessionOwner {
  readonly core: CoreThread;
  private readonly cfg: ShareHandle['config'];
  private readonly sessions = new Set<Session>();
  private closed = false;

  private constructor(core: CoreThread, cfg: ShareHandle['config']) {
    this.core = core;
    this.cfg = cfg;
  }

  /** @internal */
  static async open(config?: ConnectionConfig | string): Promise<Connection> {
    checkIsolation();
    const cfg: ResolvedConfig = parseConfig(config);
    if (cfg.home !== undefined) {
      throw new LatchkeyError('EINVAL', 'home: checkpoints to a page store are not built yet; accepted: no home (an in-memory connection)');
    }
    if (cfg.role !== 'leader') {
      throw new LatchkeyError('EINVAL', "role 'follower' needs checkpoints in a page store, which are not built yet; accepted: 'leader'");
    }
    const module = await loadModule(cfg.debug);
    const memory = new WebAssembly.Memory({
      initial: MODULE_INITIAL_PAGES,
      maximum: Math.floor(cfg.cacheSize / WASM_PAGE),
      shared: true,
    });
    const core = CoreThread.create(module, memory, cfg.pageSize, cfg.cacheSize, await threadCanBlock());
    return new Connection(core, { pageSize: cfg.pageSize, cacheSize: cfg.cacheSize, debug: cfg.debug, role: cfg.role });
  }

  /** @internal */
  static async attach(handle: ShareHandle): Promise<Connection> {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'latchkey/connection'
      || !(handle.module instanceof WebAssembly.Module) || !(handle.memory instanceof WebAssembly.Memory)) {
      throw invalid('attach: not a connection handle', 'the object returned by conn.share()');
    }
    const core = CoreThread.attach(handle.module, handle.memory, await threadCanBlock());
    return new Connection(core, { ...handle.config });
  }

  checkOpen(): void {
    if (this.closed) throw new LatchkeyError('ECLOSED', 'connection is closed');
  }

  forgetSession(s: Session): void {
    this.sessions.delete(s);
  }

  get role(): Role {
    return this.cfg.role;
  }

  get pageSize(): number {
    return this.cfg.pageSize;
  }

  /** Opens a session for this thread. */
  openSession(): Session {
    this.checkOpen();
    const s = new Session(this);
    this.sessions.add(s);
    return s;
  }

  /** A handle to postMessage to a worker, which passes it to attach(). */
  share(): ShareHandle {
    this.checkOpen();
    return { kind: 'latchkey/connection', module: this.core.module, memory: this.core.memory, config: { ...this.cfg } };
  }

  /** An injection point of the core, for deterministic interleaving tests. */
  inject(name: string): InjectionPoint {
    this.checkOpen();
    return new InjectionPoint(this.core, name);
  }

  /** Threads (connection objects in any worker) attached to this memory. */
  get threadsAttached(): number {
    return this.core.x.lk_threads_attached();
  }

  /** Closes this thread's view: its sessions and cursors, and its thread slot. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const s of [...this.sessions]) s.close();
    this.core.unregister();
    this.closed = true;
  }
}

/** Opens a new connection (a fresh shared memory). */
export function open(config?: ConnectionConfig | string): Promise<Connection> {
  return Connection.open(config);
}

/** Attaches to a connection shared by another thread. */
export function attach(handle: ShareHandle): Promise<Connection> {
  return Connection.attach(handle);
}
