/**
 * Connections: one shared memory holding the superblock, catalog, handle list and trees, seen by
 * every thread through its own instance of the core; a page store holding checkpoints; a role.
 *
 * `open` lays out a fresh memory, loads the latest checkpoint of its home (if any) as a follower,
 * then steps up if it is to lead. `share` packs what a worker needs; `attach` (in the worker)
 * instantiates the same module over the same memory. Role, handle list, checkpoint lock and trees
 * live in shared memory and are changed by the core (assembly/conn/); this file sequences a role
 * change or a checkpoint with the page store's I/O:
 *
 *   checkpoint  lock; leader?; nothing to do if the trees equal the newest image and the newest
 *               record is this node's (IMAGE_SEQ, below); else image (write gate closed while it
 *               is copied); publish at seq+1
 *   step-down   lock; role word -> follower (new writes refused) + sweep + drain in-flight writes;
 *               final checkpoint (so every acknowledged write is in it), or, if the trees equal
 *               the newest image, only a record that lets go of the leader lock; trees READONLY
 *   step-up     lock; load the latest image unless the trees already equal it (the work that
 *               can fail, done before the claim, so a failed step-up leaves the old leader
 *               leading); claim a term (publish a term record at latest+1: the old leader is
 *               fenced; taken by another node meanwhile: start again from the newest record);
 *               trees writable; role word -> leader + sweep
 *   open        as a follower, then a step-up that first refuses (EBUSY) a home whose newest
 *               record names a live leader (the leader lock, bindings/leader.ts), unless
 *               takeover: true. A step-up by reconfigure() is the deliberate act: it fences.
 *   refresh     lock; follower; load the latest image if newer (its trees replace the live ones,
 *               whose dhandles are outdated: open cursors keep reading the old image until a
 *               role change moves them; assembly/conn/README.md)
 *   fenced      a checkpoint found its seq taken: role word -> follower, ESTALE naming how many
 *               tables had changes that were not published; the connection's next checkpoint
 *               and its close() fail with ESTALE too (it never reports lost work as saved)
 *
 * "lock" is the checkpoint lock (SB_CHECKPOINT_LOCK), taken asynchronously: it is held across I/O.
 *
 * IMAGE_SEQ (superblock SB_IMAGE_SEQ) is the checkpoint the live trees equal, 0 for none. A load
 * sets it, a checkpoint sets it inside its write gate, and every write that passes the gate clears
 * it, from any thread (assembly/conn/role.ts, imageStale: why a write racing a checkpoint always
 * leaves it 0). So a connection that changed nothing writes no image: its checkpoints resolve at
 * once, and its close() only lets go of the leader lock (release).
 */

import { LatchkeyError, Status, errorFromStatus, invalid } from './errors.js';
import { parseConfig, parseReconfigure, type ConnectionConfig, type ReconfigureOptions, type ResolvedConfig, type Role } from './config.js';
import {
  CoreThread, loadModule, openDirectory, openRemote, isRemoteHome, threadCanBlock, waitWord, onProcessExit, openElection, processIdentity, type ElectionHandle,
} from './core.js';
import { Session, liveTables, type SessionOwner } from './session.js';
import type { RawBatch } from './cursor.js';
import { InjectionPoint } from './inject.js';
import { MemoryPageStore, canWatch, removeAll, type NameChange, type PageStore, type PageStoreRef } from './store.js';
import {
  ImageWriter, type ImageTable, type LogRecord, blobName, crc32, encodeRecord, latestRecord, pruneStore, readImage, readRecord, recordName,
} from './checkpoint.js';
import { checkIsolation } from './isolation.js';
import {
  MAX_TABLES, ROLE_LEADER, INITIAL_MEMORY_PAGES, LOG_R_TREE, CONN_TERM as TERM, CONN_LAST_SEQ as LAST_SEQ, CONN_IMAGE_SEQ as IMAGE_SEQ,
} from './abi.generated.js';
import { type Holder, newHolder, dropHolder, describeHolder, holderLive } from './leader.js';
import { LogWriter, LogGap, flushRemote, replay, segmentBounds, segmentName, SEGMENT_PREFIX, type ReplayTarget } from './log.js';
import { Changes, decodeDelta, encodeDelta, DELTA_CHAIN_MAX } from './delta.js';

const WASM_PAGE = 65536;
/** The sweep closes dhandles unused for this many sweeps (one a second, and at each role change). */
const SWEEP_IDLE_TICKS = 2;
const SWEEP_INTERVAL_MS = 1000;
/** A follower's feed tries a failed refresh again after this long. */
const FEED_RETRY_MS = 1000;
/** Claims a step-up makes before giving up (each lost to another node publishing first). */
const STEP_UP_ATTEMPTS = 1000;

/** What conn.share() returns: structured-cloneable, for postMessage to a worker. */
export interface ShareHandle {
  kind: 'latchkey/connection';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  config: { pageSize: number; cacheSize: number; debug: boolean; log: boolean; flushInterval: number; checkpointSize: number };
  /** The page store, where another thread can reopen it (a directory); absent otherwise. */
  store?: PageStoreRef;
  /** The connection's leader-lock holder, which a worker's checkpoints name too. */
  holder: Holder;
}

interface Image {
  /** An incremental checkpoint (bindings/delta.ts): what it builds on, and the bytes of its changes. */
  delta?: { prev: number; chain: number[]; bytes: number };
  seq: number;
  /** The log position the image was copied at: it holds exactly the records before it. */
  lsn: number;
  tables: ImageTable[];
  /** Each table's blob; in a delta, only those of tables with changes (or reset). */
  blobs: (Uint8Array | undefined)[];
  /** Each table's content digest (tableDigest), to tell which tables changed since a checkpoint. */
  digests: string[];
}

/** A table's content as one string: formats, entries and the crc32 of its items in key order. */
function tableDigest(formats: number, entries: number, crc: number): string {
  return `${formats}:${entries}:${crc}`;
}

/** A checkpoint that is gone or incomplete in the store (a follower retries from the latest). */
class ImageGone extends LatchkeyError {
  constructor(seq: number, what: string) {
    super('ECORRUPT', `checkpoint ${seq}: ${what}`);
  }
}

const encoder = new TextEncoder();

/**
 * The connection's shared memory, `cacheSize` of address space reserved. A runtime that cannot
 * reserve it (a browser page holds only about 125 shared memories at once, measured in Chromium)
 * throws a RangeError: ENOMEM, saying what to do instead.
 */
function sharedMemory(cacheSize: number): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: INITIAL_MEMORY_PAGES, maximum: Math.floor(cacheSize / WASM_PAGE), shared: true });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new LatchkeyError('ENOMEM', `open: the runtime refused a shared memory of cacheSize ${cacheSize} bytes (${e.message}); ` +
      'accepted: a smaller cacheSize, or fewer connections open at once (a browser page holds about 125): tables of one connection share its memory');
  }
}

/**
 * Fired on the connection at every change of its role: reconfigure(), an election won or a
 * lease lost, a close() that lets go, fencing (ESTALE). `conn.role` is already `role` when it
 * fires.
 */
export class RoleChangeEvent extends Event {
  readonly role: Role;
  readonly previous: Role;
  /**
   * What changed it, a sentence starting with one word: 'reconfigure', 'elected' (an election
   * won), 'lease: ...' (the election's lease lapsed or was lost: why), 'fenced: ...' (an append or
   * checkpoint refused: another node's term started; the ESTALE's message).
   */
  readonly reason: string;
  constructor(role: Role, previous: Role, reason: string) {
    super('rolechange');
    this.role = role;
    this.previous = previous;
    this.reason = reason;
  }
}

/** The connection's events, typed (Connection is an EventTarget). */
export interface Connection {
  addEventListener(type: 'rolechange', listener: ((event: RoleChangeEvent) => void) | { handleEvent(event: RoleChangeEvent): void } | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: 'rolechange', listener: ((event: RoleChangeEvent) => void) | { handleEvent(event: RoleChangeEvent): void } | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export class Connection extends EventTarget implements SessionOwner {
  readonly core: CoreThread;
  private readonly cfg: ShareHandle['config'];
  private readonly store: PageStore | undefined;
  private readonly storeRef: PageStoreRef | undefined;
  /** Checkpoint on close, when leading: a home was configured and this is the connection open() made. */
  private readonly checkpointOnClose: boolean;
  private readonly sessions = new Set<Session>();
  private internal: Session | undefined;
  private timers: ReturnType<typeof setInterval>[] = [];
  private closed = false;
  /** This connection in the leader lock (bindings/leader.ts); an attached thread's is its opener's. */
  private readonly holder: Holder;
  private readonly ownHolder: boolean;
  /** Table name -> digest, as of the last image this object published or loaded. */
  private published = new Map<string, string>();
  /**
   * The term record this object's last step-up published, if the record it claimed after named no
   * holder: a close() that changed nothing can remove it and leave the home as it found it.
   */
  private claimAfterRelease: number | undefined;
  /** An image whose record's publish failed (EIO): it may be in the store (publishRecord, settle). */
  private unsettled: { image: Image; bytes: Uint8Array } | undefined;
  /** Set when a checkpoint found this node fenced: the ESTALE its next checkpoint and close() give. */
  private fenced: string | undefined;
  /** The last error of a background refresh (refreshInterval), if it failed. */
  refreshError: LatchkeyError | undefined;
  /** The last error of a checkpoint the leader took by itself (log.checkpointSize), if it failed. */
  checkpointError: LatchkeyError | undefined;
  private autoCheckpointing = false;
  /** The log's writer, while this connection (the one open() returned) leads with its log on. */
  private log: LogWriter | undefined;
  /**
   * Where the trees stand in the log's history: every record before this position is in them
   * (from an image's lsn and replay, or written by this node); -1 when they hold writes the
   * history lost (fenced): the next refresh loads an image. logTrees maps the logged tree ids
   * of that history to this node's trees.
   */
  private logPos = 0;
  private logTrees = new Map<number, number>();
  /** Term starts of the history (bindings/log.ts, TRUNCATION), carried in every checkpoint record. */
  private termStarts: number[] = [];
  /** This object's term start and where its first segment ended, while it leads. */
  private termStart: { pos: number; end: number } | undefined;
  /** The log position of the newest checkpoint this node published or loaded (truncation keeps the log from the one before). */
  private checkpointLsn: number[] = [];
  private removeExitHook: (() => void) | undefined;
  /**
   * What this leader's next checkpoint may build on incrementally (bindings/delta.ts): the chain
   * since its last full image, that image's log position and size, and the changes written since.
   */
  private deltaBase: { chain: number[]; lsn: number; fullBytes: number; changedBytes: number } | undefined;

  /**
   * The feed of a follower whose store tells when names appear (a WatchablePageStore): the
   * watch's stop; a refresh running, and another asked for meanwhile; the end of the newest log
   * segment known of (from the watch, or a replay), and since when the trees have been behind it.
   */
  private unwatch: (() => void) | undefined;
  private feeding = false;
  private feedAgain = false;
  /** Segments the watch delivered, not yet applied, by start position (the fast path: no listing). */
  private fedSegments = new Map<number, { name: string; data: Uint8Array }>();
  private knownEnd = 0;
  private behindSince: number | undefined;

  /** The role the last rolechange event announced (or the role open() or attach() ended with). */
  private lastRole: Role;
  /** This connection's part in an election (`election`), if it campaigns. */
  private election: ElectionHandle | undefined;
  private closing = false;

  /** The store of a server home, which open() made: closed by close(). */
  private remote: { close(): Promise<void> } | undefined;

  private constructor(core: CoreThread, cfg: ShareHandle['config'], store: PageStore | undefined,
    storeRef: PageStoreRef | undefined, checkpointOnClose: boolean, holder?: Holder) {
    super();
    this.core = core;
    this.cfg = cfg;
    this.store = store;
    this.storeRef = storeRef;
    this.checkpointOnClose = checkpointOnClose;
    this.ownHolder = holder === undefined;
    // Alive while open, whatever its role word says now: the newest record names this holder
    // only while it leads or is about to (its term record is published before its role word
    // turns leader, and a directory store's publish resolves after an fsync); a step-down
    // publishes a record naming no holder, and a fenced holder has a newer record after it.
    this.holder = holder ?? newHolder(() => !this.closed);
    this.lastRole = this.role;
  }

  /** Fires rolechange (saying `reason`) if the role moved since the last one announced. */
  private noteRole(reason: string): void {
    if (this.closed) return;
    const role = this.role;
    if (role === this.lastRole) return;
    const previous = this.lastRole;
    this.lastRole = role;
    this.dispatchEvent(new RoleChangeEvent(role, previous, reason));
  }

  /** @internal */
  static async open(config?: ConnectionConfig | string): Promise<Connection> {
    checkIsolation();
    const cfg: ResolvedConfig = parseConfig(config);
    let store: PageStore;
    let storeRef: PageStoreRef | undefined;
    /** A server home's store: this connection made it, so its close() closes it. */
    let remote: (PageStore & { close(): Promise<void> }) | undefined;
    if (cfg.home === undefined) store = new MemoryPageStore();
    else if (typeof cfg.home === 'string' && isRemoteHome(cfg.home)) store = remote = await openRemote(cfg.home, cfg.create);
    else if (typeof cfg.home === 'string') {
      const dir = await openDirectory(cfg.home, cfg.create);
      store = dir;
      storeRef = dir.ref();
    } else store = cfg.home as PageStore;
    let conn: Connection;
    try {
      // With an election the connection opens as a follower; the election steps it up.
      conn = await Connection.openOn(cfg.election ? { ...cfg, role: 'follower' } : cfg, store, storeRef, remote);
    } catch (e) {
      await remote?.close();
      throw e;
    }
    if (cfg.election) {
      const me = processIdentity();
      const id = `${me.host ?? 'host'}:${me.pid ?? 0}:${me.thread ?? 0}:${Math.random().toString(36).slice(2, 10)}`;
      try {
        conn.election = await openElection(cfg.election, cfg.electionTtl, id, {
          up: () => conn.electedUp(store),
          down: (why) => conn.electedDown(store, why),
        });
      } catch (e) {
        await conn.close().catch(() => {});
        throw e;
      }
    }
    return conn;
  }

  /** The election won: step up as reconfigure({ role: 'leader' }) would (a deliberate act: it fences). */
  private async electedUp(store: PageStore): Promise<void> {
    if (this.closing) throw new LatchkeyError('ECLOSED', 'connection is closing');
    try {
      await this.locked(() => this.stepUp(store, false));
    } finally {
      this.noteRole('elected');
    }
  }

  /** The lease may have lapsed: step down now, and stay down whatever the final checkpoint gives. */
  private async electedDown(store: PageStore, why: string): Promise<void> {
    if (this.closed) return;
    try {
      await this.locked(() => this.stepDown(store, false));
    } finally {
      this.noteRole(`lease: ${why}`);
    }
  }

  /** @internal Tests (latchkey/testing, deafenElection): this connection's election. */
  electionHandle(): ElectionHandle | undefined {
    return this.election;
  }

  private static async openOn(cfg: ResolvedConfig, store: PageStore, storeRef: PageStoreRef | undefined,
    remote: (PageStore & { close(): Promise<void> }) | undefined): Promise<Connection> {
    const latest = await latestRecord(store);
    if (!latest && !cfg.create) {
      throw new LatchkeyError('ENOENT', `home holds no latchkey checkpoints; accepted: an existing database, or create: true`);
    }
    const pageSize = latest ? latest.pageSize : cfg.pageSize;
    if (latest && cfg.pageSizeGiven && cfg.pageSize !== latest.pageSize) {
      throw invalid(`pageSize ${cfg.pageSize} differs from the home's page size ${latest.pageSize}`, `${latest.pageSize} (fixed when the home was created), or no pageSize`);
    }
    const module = await loadModule(cfg.debug);
    const memory = sharedMemory(cfg.cacheSize);
    const core = await CoreThread.create(module, memory, pageSize, cfg.cacheSize, await threadCanBlock());
    core.x.lk_role_init(0);
    const conn = new Connection(core, { pageSize, cacheSize: cfg.cacheSize, debug: cfg.debug, log: cfg.log, flushInterval: cfg.flushInterval, checkpointSize: cfg.checkpointSize },
      store, storeRef, cfg.home !== undefined);
    conn.remote = remote;
    try {
      await conn.loadLatest(store); // the latest image, then the log after it (recovery)
      if (cfg.role === 'leader') await conn.locked(() => conn.stepUp(store, !cfg.takeover));
      conn.lastRole = conn.role; // open() itself announces nothing
    } catch (e) {
      dropHolder(conn.holder);
      core.unregister();
      throw e;
    }
    conn.startTimers(cfg.refreshInterval);
    conn.startFeed(store);
    // A process that ends without close() (its event loop ran empty) flushes its log first.
    conn.removeExitHook = onProcessExit(() => conn.log?.flush());
    return conn;
  }

  /** @internal */
  static async attach(handle: ShareHandle): Promise<Connection> {
    if (!isShareHandle(handle)) throw invalid('attach: not a connection handle', 'the object returned by conn.share()');
    const store = handle.store ? await openDirectory(handle.store.path, false) : undefined;
    const core = await CoreThread.attach(handle.module, handle.memory, await threadCanBlock());
    return new Connection(core, { ...handle.config }, store, handle.store, false, handle.holder);
  }

  private startTimers(refreshInterval: number): void {
    const sweep = setInterval(() => { if (!this.closed) this.core.x.lk_sweep(SWEEP_IDLE_TICKS); }, SWEEP_INTERVAL_MS);
    this.timers.push(sweep);
    if (refreshInterval > 0) {
      this.timers.push(setInterval(() => {
        if (this.closed || this.role === 'leader') return;
        this.reconfigure({ checkpoint: 'latest' }).then(
          () => { this.refreshError = undefined; },
          (e: unknown) => { this.refreshError = e as LatchkeyError; },
        );
      }, refreshInterval));
    }
    for (const t of this.timers) (t as { unref?: () => void }).unref?.();
  }

  /**
   * A store that tells when names appear feeds this connection while it follows. A new log
   * segment delivered with its bytes that starts where the trees stand is replayed from those
   * bytes alone (it is the history's next segment: each position is created once, by its one
   * winner, and never re-created); anything else (a checkpoint record, a segment past a gap or
   * without bytes, a resync after a reconnect) starts a refresh, which lists the store and
   * replays the log from where the trees stand. Changes arriving during either start one more.
   */
  private startFeed(store: PageStore): void {
    if (!canWatch(store)) return;
    const fed = (c: NameChange) => this.fed(c);
    const stops = [store.watch(SEGMENT_PREFIX, fed), store.watch('log-', fed)];
    this.unwatch = () => { for (const stop of stops) stop(); };
  }

  private fed(c: NameChange): void {
    if (this.closed) return;
    const bounds = !c.resync && c.data && c.name.startsWith(SEGMENT_PREFIX) ? segmentBounds(c.data) : undefined;
    if (bounds && bounds.end > this.knownEnd) {
      this.knownEnd = bounds.end;
      if (bounds.end > Math.max(this.logPos, 0)) this.behindSince ??= performance.now();
    }
    if (this.role === 'leader') {
      this.fedSegments.clear();
      return;
    }
    if (bounds && !c.resync && c.data && c.name === segmentName(bounds.start)) this.fedSegments.set(bounds.start, { name: c.name, data: c.data });
    else this.feedAgain = true; // a full refresh
    if (this.feeding) return;
    this.feeding = true;
    void (async () => {
      try {
        while (!this.closed && this.role !== 'leader' && (this.feedAgain || this.fedSegments.size > 0)) {
          for (const start of this.fedSegments.keys()) if (start < this.logPos) this.fedSegments.delete(start);
          const next = this.logPos >= 0 ? this.fedSegments.get(this.logPos) : undefined;
          if (next && !this.feedAgain) {
            this.fedSegments.delete(this.logPos);
            await this.locked(() => this.applySegment(next.name, next.data));
          } else {
            this.feedAgain = false;
            if (this.fedSegments.size > 0 && !next) this.fedSegments.clear(); // a gap: the refresh lists
            await this.reconfigure({ checkpoint: 'latest' });
          }
          this.refreshError = undefined;
        }
      } catch (e) {
        this.refreshError = e as LatchkeyError;
        this.fedSegments.clear();
        // Tried again in a second (sooner if another change comes), so that a follower with no
        // refreshInterval does not stay behind when no more writes come.
        const retry = setTimeout(() => this.fed({ resync: true }), FEED_RETRY_MS);
        (retry as { unref?: () => void }).unref?.();
      } finally {
        this.feeding = false;
      }
    })();
  }

  /** Replays one delivered segment, the history's next (under the checkpoint lock, as a follower). */
  private async applySegment(name: string, data: Uint8Array): Promise<void> {
    if (this.role === 'leader' || this.logPos < 0 || segmentName(this.logPos) !== name) return;
    const one: PageStore = {
      read: async (n) => (n === name ? data : undefined),
      list: async (prefix = '') => (name.startsWith(prefix) ? [name] : []),
      write: async () => { throw new LatchkeyError('EINVAL', 'a delivered segment is read only'); },
      publish: async () => false,
      remove: async () => {},
    };
    await this.replayLog(one);
  }

  /**
   * How far this follower is behind the log it knows of: `bytes`, the log bytes between the end
   * of the newest log segment it has heard of (from its store's watch, or seen by its last
   * refresh) and the position its trees have applied; `ms`, how long it has been behind without
   * a break (0 when bytes is 0). A leader's lag is 0. Without a watching store only refreshes
   * learn of segments, and they apply what they see: lag is then 0 between refreshes.
   */
  get lag(): { bytes: number; ms: number } {
    if (this.role === 'leader') return { bytes: 0, ms: 0 };
    const bytes = Math.max(0, this.knownEnd - Math.max(this.logPos, 0));
    if (bytes === 0) this.behindSince = undefined;
    return { bytes, ms: bytes === 0 || this.behindSince === undefined ? 0 : performance.now() - this.behindSince };
  }

  checkOpen(): void {
    if (this.closed) throw new LatchkeyError('ECLOSED', 'connection is closed');
  }

  forgetSession(s: Session): void {
    this.sessions.delete(s);
  }

  /** The connection's role, as every thread sees it (one word in shared memory). */
  get role(): Role {
    return (this.core.x.lk_role_word() & ROLE_LEADER) !== 0 ? 'leader' : 'follower';
  }

  /** The leader term this connection last claimed in its page store (0: never led). */
  get term(): number {
    return this.core.x.lk_conn_get(TERM);
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
    const h: ShareHandle = {
      kind: 'latchkey/connection', module: this.core.module, memory: this.core.memory, config: { ...this.cfg }, holder: { ...this.holder },
    };
    if (this.storeRef) h.store = { ...this.storeRef };
    return h;
  }

  /** An injection point of the core, for deterministic interleaving tests. */
  inject(name: string): InjectionPoint {
    this.checkOpen();
    return new InjectionPoint(this.core, name);
  }

  /**
   * Threads (connection objects in any worker) attached to this memory, counting threads that
   * ended without closing until an attach that finds the table full reclaims their slots.
   */
  get threadsAttached(): number {
    return this.core.x.lk_threads_attached();
  }

  /** Closes idle and outdated dhandles now (a sweep also runs every second); returns how many. */
  sweep(): number {
    this.checkOpen();
    return this.core.x.lk_sweep(SWEEP_IDLE_TICKS);
  }

  // ---- the log (bindings/log.ts) ----

  /**
   * Resolves once every write any thread of this connection made before the call is durable:
   * the log's writer publishes a segment (shared by every flush waiting meanwhile: group commit).
   * From another thread, the writer is asked and this thread waits without blocking. With the
   * log off (`log: false`, or a worker that stepped up and ran the log closed), a checkpoint; on a
   * follower, at once (it writes nothing).
   */
  async flush(): Promise<void> {
    this.checkOpen();
    const x = this.core.x;
    const log = this.liveLog();
    if (log) return log.flush();
    if (x.lk_log_on()) return flushRemote(this.core, x.lk_log_position(0));
    // No log running (log: false, or its writer's thread closed): durable by a checkpoint.
    if (this.role === 'leader') return this.checkpoint();
    if (this.fenced) throw new LatchkeyError('ESTALE', this.fenced);
  }

  /** How replay changes this node's trees: outside the write gate (a follower's, or before a step-up lets writes in). */
  private replayTarget(): ReplayTarget {
    const core = this.core;
    const x = core.x;
    return {
      core,
      liveTrees: () => new Map(liveTables(core).map((t) => [t.name, t.tree])),
      createTree: (name, keyFormat, valueFormat) => {
        const bytes = encoder.encode(name);
        core.u8.set(bytes, core.KEY);
        const tree = x.lk_table_load_begin(bytes.length, keyFormat, valueFormat);
        if (tree < 0) throw errorFromStatus(tree, `log: replaying the create of table '${name}'`);
        x.lk_table_load_publish(tree);
        return tree;
      },
      retireTree: (tree) => { x.lk_table_retire(tree); },
    };
  }

  /**
   * Replays the log's history from where the trees stand (logPos) to its end: recovery at open,
   * a step-up's catch-up, a follower's refresh. Any change applied means the trees equal no image.
   */
  private async replayLog(store: PageStore): Promise<void> {
    if (this.logPos < 0) return;
    const r = await replay(store, this.replayTarget(), this.logPos, this.logTrees);
    this.logPos = r.end;
    if (r.end >= this.knownEnd) {
      this.knownEnd = r.end;
      this.behindSince = undefined;
    }
    this.logTrees = r.trees;
    for (const t of r.termStarts) if (!this.termStarts.includes(t)) this.termStarts.push(t);
    if (r.applied > 0) {
      this.core.x.lk_conn_set(IMAGE_SEQ, 0);
      this.core.x.lk_sweep(SWEEP_IDLE_TICKS);
    }
  }

  /**
   * Starts this leader's term in the log at the history's end: its first segment claims that
   * position (bindings/log.ts, FENCING); taken by another node's segment, replays it and tries at
   * the new end. With `log: false` the log then stops again: the claim alone fences older writers.
   */
  private async startLog(store: PageStore): Promise<void> {
    const w = new LogWriter(this.core, store, (e) => this.logFenced(e));
    for (let attempt = 0; ; attempt++) {
      await this.replayLog(store);
      const pos = this.logPos;
      if (await w.startTerm(pos)) {
        this.termStart = { pos, end: w.durable };
        if (!this.termStarts.includes(pos)) this.termStarts.push(pos);
        break;
      }
      if (attempt >= STEP_UP_ATTEMPTS) throw new LatchkeyError('EBUSY', `step-up: could not start a term in the log in ${STEP_UP_ATTEMPTS} attempts: other nodes kept writing segments first`);
    }
    if (this.cfg.log) {
      this.log = w;
      w.checkpointed(this.logPos);
      w.checkpointSize = this.cfg.checkpointSize;
      w.checkpointDue = () => this.autoCheckpoint();
      w.startTimer(this.cfg.flushInterval);
    } else w.stop();
  }

  /**
   * The log passed log.checkpointSize since the last checkpoint: a checkpoint in the background
   * (one at a time; its failure is kept in checkpointError, and the next one tries again).
   */
  private autoCheckpoint(): void {
    if (this.autoCheckpointing || this.closed) return;
    this.autoCheckpointing = true;
    this.checkpoint().then(
      () => { this.checkpointError = undefined; },
      (e: unknown) => { this.checkpointError = e as LatchkeyError; },
    ).finally(() => { this.autoCheckpointing = false; });
  }

  /**
   * The log's writer found its segment's position taken: fenced, as a checkpoint would be. The
   * tables with changes since the last published image are counted from a copy of the trees
   * (taken once, after the role change drained every write).
   */
  private logFenced(reason: string): LatchkeyError {
    const x = this.core.x;
    if (this.role === 'leader') x.lk_role_change(0);
    let lost = 0;
    let tables = 0;
    try {
      const image = this.takeImage(0, false);
      lost = this.unpublished(image);
      tables = image.tables.length;
    } catch {
      // Counted as none: the refusal itself is what matters.
    }
    return this.fenceWith(reason, lost, tables);
  }

  /**
   * This object's log writer, if it still owns the log (another thread's role change may have
   * stopped or restarted it: the writer then retires, and incremental checkpoints start over).
   */
  private liveLog(): LogWriter | undefined {
    if (this.log && !this.log.active) {
      this.log.retire();
      this.log = undefined;
      this.deltaBase = undefined;
    }
    return this.log;
  }

  /**
   * Stops the log after a role change drained every write, everything written durable first:
   * this object's writer, or, from another thread, the writer asked for a last flush.
   */
  private async stopLog(): Promise<void> {
    const x = this.core.x;
    if (!this.liveLog()) {
      if (x.lk_log_on()) {
        await flushRemote(this.core, x.lk_log_position(0));
        x.lk_log_stop(); // the writer sees it and retires
      }
      return;
    }
    const log = this.log!;
    await log.flush();
    this.logPos = log.end;
    log.stop();
    this.log = undefined;
    this.deltaBase = undefined;
  }

  // ---- role changes and checkpoints ----

  private needStore(what: string): PageStore {
    if (!this.store) {
      throw new LatchkeyError('EINVAL', `${what}: this thread attached to a connection whose page store is a JS object of another thread; accepted: calling it on the connection open() returned, or a directory home (which every thread can reopen)`);
    }
    return this.store;
  }

  /** Runs `fn` holding the checkpoint lock, waiting for it without blocking the thread. */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const x = this.core.x;
    const words = new Int32Array(this.core.memory.buffer);
    const at = x.lk_ckpt_lock_addr() >> 2;
    while (!x.lk_ckpt_try_lock()) await waitWord(words, at, 1, 50);
    try {
      return await fn();
    } finally {
      x.lk_ckpt_unlock();
    }
  }

  /**
   * Changes the role or picks up the latest checkpoint:
   *   { role: 'follower' }  step-down (a final checkpoint first; resolves once no write can pass)
   *   { role: 'leader' }    step-up (claims a new term; fences the previous leader)
   *   { checkpoint: 'latest' }  a follower loads the newest checkpoint of its page store
   * Also the string forms "disaggregated=(role=follower)" and "checkpoint=latest".
   */
  async reconfigure(options: ReconfigureOptions | string): Promise<void> {
    this.checkOpen();
    const o = parseReconfigure(options);
    if (o.role !== undefined && this.election) {
      throw invalid(`reconfigure role '${o.role}' on a connection opened with election: the election decides the role`, 'checkpoint=latest; to hand leadership over, close() the leader (it resigns)');
    }
    const store = this.needStore('reconfigure');
    try {
      if (o.role === 'follower') await this.locked(() => this.stepDown(store));
      if (o.role === 'leader') await this.locked(() => this.stepUp(store, false));
      if (o.checkpoint === 'latest') await this.locked(() => this.refresh(store));
    } finally {
      this.noteRole('reconfigure');
    }
    this.core.x.lk_sweep(SWEEP_IDLE_TICKS);
  }

  /**
   * Leader only: a consistent image of every table, published in the page store; nothing when no
   * write changed a table since the newest image, which is this node's (unchanged).
   */
  async checkpoint(): Promise<void> {
    this.checkOpen();
    await this.checkpointAs(false);
  }

  /** A checkpoint; with `release`, its record names no holder (the leader lets go of the lock). */
  private async checkpointAs(release: boolean): Promise<void> {
    const store = this.needStore('checkpoint');
    await this.locked(async () => {
      if (this.role !== 'leader') {
        if (this.fenced) throw new LatchkeyError('ESTALE', this.fenced);
        throw new LatchkeyError('ENOTLEADER', 'checkpoint: this connection is a follower; accepted: checkpoints on the leader');
      }
      await this.settle(store);
      const same = await this.unchanged(store);
      if (same) {
        if (release) await this.release(store, same, true);
        return;
      }
      const seq = this.core.x.lk_conn_get(LAST_SEQ) + 1;
      try {
        await this.publishImage(store, (await this.takeDelta(seq)) ?? this.takeImage(seq, true), release);
      } catch (e) {
        // takeImage named `seq` in IMAGE_SEQ, which was not published: the trees equal no image.
        this.core.x.lk_conn_set(IMAGE_SEQ, 0);
        throw e;
      }
    });
  }

  /**
   * The newest record, if it is this node's own (the last seq it published) and names the image
   * the trees equal: a checkpoint now would write that image again. IMAGE_SEQ is read before the
   * store is: a write acknowledged before this call has cleared it already, and one landing
   * after clears it for the next checkpoint. A newer record (fenced) is not "unchanged": the
   * checkpoint goes ahead and finds the fence, as it would have with changes.
   */
  private async unchanged(store: PageStore): Promise<LogRecord | undefined> {
    const x = this.core.x;
    const image = x.lk_conn_get(IMAGE_SEQ);
    if (image === 0) return undefined;
    const latest = await latestRecord(store);
    return latest && latest.seq === x.lk_conn_get(LAST_SEQ) && latest.checkpoint === image ? latest : undefined;
  }

  /**
   * Lets go of the leader lock without an image: the trees equal the one `latest` (this node's
   * newest record) names. With `close`, and `latest` the term record this object claimed after a
   * record that named no holder, that claim is removed, so a connection that changed nothing
   * leaves the home as it found it: first the role word turns follower (this memory can never
   * publish under that term again, so the term a next leader claims at the same seq names no
   * blobs of this one), and only when no other thread is attached (an attached worker could
   * otherwise be mid-write or mid-checkpoint under it). Otherwise a holderless term record at
   * seq+1, naming the same term and image (ESTALE if fenced, as a checkpoint).
   */
  private async release(store: PageStore, latest: LogRecord, close: boolean): Promise<void> {
    const x = this.core.x;
    if (close && latest.seq === this.claimAfterRelease && latest.kind === 'term' && x.lk_threads_attached() === 1) {
      x.lk_role_change(0);
      x.lk_tables_readonly(1);
      // Nothing was logged after this term's first segment either (the trees equal the image):
      // the segment goes too, and the next leader starts its term at the same position.
      const onlyStart = this.termStart !== undefined && (this.log?.end ?? this.logPos) === this.termStart.end;
      this.log?.stop();
      this.log = undefined;
      try {
        await store.remove(recordName(latest.seq));
        if (onlyStart) await store.remove(segmentName(this.termStart!.pos));
        return;
      } catch {
        // Not removed: the record below lets go all the same.
      }
    }
    const seq = x.lk_conn_get(LAST_SEQ) + 1;
    const term = x.lk_conn_get(TERM);
    const rec: LogRecord = { v: 1, kind: 'term', seq, term, pageSize: this.cfg.pageSize, checkpoint: latest.checkpoint };
    const published = await store.publish(recordName(seq), encodeRecord(rec));
    const newest = published ? await latestRecord(store) : await readRecord(store, seq).catch(() => undefined);
    if (!published || (newest && newest.seq > seq)) throw this.fence(seq, term, published, newest, 0, liveTables(this.core).length);
    x.lk_conn_set(LAST_SEQ, seq);
  }

  /** Step-down; with `revert` false (an election's lease lapsed), a failed final checkpoint leaves it a follower all the same. */
  private async stepDown(store: PageStore, revert = true): Promise<void> {
    const x = this.core.x;
    if (this.role === 'follower') return;
    x.lk_role_change(0); // new writes refused from here; returns once in-flight writes are done
    let seq = 0;
    try {
      // Read after the drain: every write that passed has cleared IMAGE_SEQ, and none can pass
      // now. Inside the try: reading the newest record can fail (I/O) like the rest.
      await this.settle(store);
      const same = await this.unchanged(store);
      seq = same ? same.checkpoint : x.lk_conn_get(LAST_SEQ) + 1;
      await this.stopLog(); // every logged write durable, then the log stops
      if (same) await this.release(store, same, false);
      else await this.publishImage(store, this.takeImage(seq, false), true);
    } catch (e) {
      // Fenced (ESTALE): another node leads; stay a follower. Any other failure (I/O): the final
      // checkpoint is not there, so this node must not give up the writes only it holds: it goes
      // back to leading (a new role word: cursors move to new dhandles) and reports.
      if (!(e instanceof LatchkeyError && e.code === 'ESTALE')) {
        // No longer entitled to lead (revert false): what was not durable stays unacknowledged.
        if (revert) x.lk_role_change(1);
        else this.staleFollower();
      }
      throw e;
    }
    x.lk_tables_readonly(1);
    x.lk_conn_set(IMAGE_SEQ, seq);
  }

  /**
   * Step-up. The image is loaded first (it can fail: I/O, ENOMEM, a full catalog) and the term
   * claimed after, at the seq after the record that named that image: a failure claims nothing,
   * so the leader it would have replaced still leads. A claim lost to another node publishing
   * first, or an image pruned while it is read, starts again from the newest record, as a
   * follower's refresh does. With `refuseLive` (open() without takeover), a newest record naming
   * a live leader is EBUSY: the leader lock (bindings/leader.ts).
   */
  private async stepUp(store: PageStore, refuseLive: boolean): Promise<void> {
    const x = this.core.x;
    if (this.role === 'leader') return;
    let claimed: LogRecord | undefined;
    let afterRelease = false;
    for (let attempt = 0; attempt < STEP_UP_ATTEMPTS && !claimed; attempt++) {
      const latest = await latestRecord(store);
      afterRelease = latest !== undefined && latest.holder === undefined;
      const live = refuseLive ? holderLive(latest?.holder) : undefined;
      if (live) throw this.busy(latest!, live);
      const checkpoint = latest?.checkpoint ?? 0;
      try {
        await this.catchUp(store, checkpoint);
      } catch (e) {
        if (await this.prunedMeanwhile(e, store, latest)) continue;
        throw e;
      }
      const rec: LogRecord = {
        v: 1, kind: 'term', seq: (latest?.seq ?? 0) + 1, term: (latest?.term ?? 0) + 1, pageSize: this.cfg.pageSize,
        checkpoint, holder: this.holder,
      };
      if (await store.publish(recordName(rec.seq), encodeRecord(rec))) claimed = rec;
    }
    if (!claimed) throw new LatchkeyError('EBUSY', `step-up: could not claim a term in ${STEP_UP_ATTEMPTS} attempts: other nodes kept publishing first`);
    x.lk_conn_set(TERM, claimed.term);
    x.lk_conn_set(LAST_SEQ, claimed.seq);
    this.unsettled = undefined; // an earlier term's: its seq is behind the claim
    // The term in the log: every segment the old leader published is replayed first (IMAGE_SEQ
    // stays the image's only if nothing was: catchUp, replayLog).
    await this.startLog(store);
    x.lk_tables_readonly(0);
    x.lk_role_change(1);
    this.claimAfterRelease = afterRelease ? claimed.seq : undefined;
    this.fenced = undefined;
    await pruneStore(store, claimed.seq);
  }

  /** EBUSY: the home's newest record names a live leader. */
  private busy(latest: LogRecord, live: string): LatchkeyError {
    const home = this.storeRef ? `home ${JSON.stringify(this.storeRef.path)}` : 'the home';
    return new LatchkeyError('EBUSY', `open as leader: ${home} has a live leader: ${describeHolder(latest.holder!)}, term ${latest.term} (${live}); accepted: open it as a follower (role: 'follower', or disaggregated=(role=follower)), or takeover: true (takeover=true) to fence that leader deliberately (its next checkpoint and its close then fail with ESTALE)`);
  }

  private async refresh(store: PageStore): Promise<void> {
    if (this.role === 'leader') {
      throw invalid("checkpoint=latest on the leader (it writes the checkpoints)", "checkpoint=latest on a follower");
    }
    await this.loadLatest(store);
  }

  /**
   * Loads the newest checkpoint unless the trees already equal it. A leader may prune an image
   * while it is read (when it publishes two more meanwhile): then it starts again from the newest.
   */
  private async loadLatest(store: PageStore): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const latest = await latestRecord(store);
      if (latest) this.core.x.lk_conn_set(LAST_SEQ, latest.seq);
      try {
        await this.catchUp(store, latest?.checkpoint ?? 0);
        return;
      } catch (e) {
        if (!(await this.prunedMeanwhile(e, store, latest)) || attempt > 20) throw e;
      }
    }
  }

  /**
   * Did catching up from `latest` fail because a leader pruned what it read (an image, or the log
   * after it, when it published two newer checkpoints meanwhile)? Then the reader starts again
   * from the newest record.
   */
  private async prunedMeanwhile(e: unknown, store: PageStore, latest: LogRecord | undefined): Promise<boolean> {
    return e instanceof ImageGone || (e instanceof LogGap && (await latestRecord(store))?.seq !== latest?.seq);
  }

  /**
   * Brings the trees to the end of the log's history from checkpoint `checkpoint`: its image is
   * loaded unless the trees already equal it or hold all of it (their log position is at or past
   * the image's, in the same history: the image holds exactly the records before its lsn, unless
   * its leader wrote with the log off), then the log after it is replayed.
   */
  private async catchUp(store: PageStore, checkpoint: number): Promise<void> {
    const x = this.core.x;
    let load = this.logPos < 0 || (checkpoint !== 0 && checkpoint !== x.lk_conn_get(IMAGE_SEQ));
    if (load && this.logPos >= 0) {
      const rec = await readRecord(store, checkpoint).catch(() => undefined);
      if (rec && rec.lsn !== undefined && !rec.logOff && rec.lsn <= this.logPos) load = false;
    }
    if (load) await this.loadImage(checkpoint);
    await this.replayLog(store);
  }

  /** The internal session checkpoints and loads use (never closed before the connection). */
  private session(): Session {
    if (!this.internal) this.internal = this.openSession();
    return this.internal;
  }

  /**
   * Copies every live table, then encodes the copy into image pages. With `gate`, writes wait
   * while the tables are copied (the write gate, assembly/conn/role.ts), so the image is one point
   * in time across all tables; the copy is the core's raw scan batches, one per leaf, and the
   * encoding happens after the gate has opened again. A step-down has already refused and
   * drained every write, so it needs no gate. The copy is synchronous: nothing else runs on this
   * thread while the gate is closed.
   */
  private takeImage(seq: number, gate: boolean): Image {
    const x = this.core.x;
    const s = this.session();
    let lsn = 0;
    const copies: { name: string; tree: number; formats: number; batches: RawBatch[] }[] = [];
    if (gate) {
      x.lk_gate_close();
      // Inside the gate: every announced writer has drained and none passes until gateOpen, so a
      // write after the copy clears this again (assembly/conn/role.ts, imageStale). Stored after
      // the publish instead, it would overwrite that clear and the next checkpoint would skip
      // the write. Until the publish succeeds only lock holders read it; checkpointAs resets it
      // on a failure.
      x.lk_conn_set(IMAGE_SEQ, seq);
    }
    try {
      for (const { name, tree, formats } of liveTables(this.core)) {
        const c = s.openRawCursor(`table:${name}`);
        try {
          copies.push({ name, tree, formats, batches: [...c.rawBatches()] });
        } finally {
          c.close();
        }
      }
      // Inside the gate (or after a step-down's drain): no record is being appended.
      lsn = x.lk_log_position(0);
    } finally {
      if (gate) x.lk_gate_open();
    }
    const tables: ImageTable[] = [];
    const blobs: Uint8Array[] = [];
    const digests: string[] = [];
    for (const { name, tree, formats, batches } of copies) {
      const w = new ImageWriter(this.cfg.pageSize, seq, tables.length);
      let crc = 0;
      for (const b of batches) {
        w.addItems(b.bytes, b.count);
        crc = crc32(b.bytes, 0, b.bytes.length, crc);
      }
      const { blob, pages } = w.finish();
      tables.push({ name, keyFormat: formats >> 8, valueFormat: formats & 0xff, entries: w.entries, pages, tree });
      blobs.push(blob);
      digests.push(tableDigest(formats, w.entries, crc));
    }
    return { seq, lsn, tables, blobs, digests };
  }

  /**
   * An incremental checkpoint of the changes since the last one (bindings/delta.ts), or undefined
   * where a full image is due: no base (after a step-up, or with the log off), the records since
   * it not all this writer's, DELTA_CHAIN_MAX deltas already, changes past a quarter of the full
   * image (the merge), or the records not to be had (LogWriter.history: it flushes the log to the
   * delta's position and reads back what it did not keep; a failure there costs a full image, not
   * the checkpoint). The position and the tables are read inside the write gate, as an image's.
   */
  private async takeDelta(seq: number): Promise<Image | undefined> {
    const log = this.liveLog();
    const base = this.deltaBase;
    const x = this.core.x;
    // The base must be the newest record (another thread's checkpoint, or a term record, since: a full image).
    if (!base || !log || base.chain.length >= DELTA_CHAIN_MAX || x.lk_conn_get(LAST_SEQ) !== base.chain[base.chain.length - 1]
      || !log.hasHistory(base.lsn)) return undefined;
    let lsn: number;
    let live: ReturnType<typeof liveTables>;
    x.lk_gate_close();
    try {
      x.lk_conn_set(IMAGE_SEQ, seq); // as takeImage: inside the gate
      lsn = x.lk_log_position(0);
      live = liveTables(this.core);
    } finally {
      x.lk_gate_open();
    }
    // The records not to be had, or changes past a quarter of the full image since it: a full
    // image (takeImage sets IMAGE_SEQ again in its gate).
    const found = new Changes(base.lsn, lsn, base.fullBytes / 4 - base.changedBytes);
    if (!await log.history(base.lsn, lsn, (records, start) => found.add(records, start)).catch(() => false)) return undefined;
    if (found.over) return undefined;
    const { tables: changes, bytes } = found;
    const tables: ImageTable[] = [];
    const blobs: (Uint8Array | undefined)[] = [];
    const digests: string[] = [];
    live.forEach(({ name, tree, formats }, i) => {
      const ch = changes.get(tree);
      const reset = ch?.reset === true;
      const entries = ch?.count ?? 0;
      const blob = entries > 0 || reset ? encodeDelta(found.records(ch!)) : undefined;
      tables.push({ name, keyFormat: formats >> 8, valueFormat: formats & 0xff, entries, pages: 1, tree, ...(reset ? { reset: true as const } : {}) });
      blobs.push(blob);
      digests.push(blob ? `delta:${seq}:${i}` : this.published.get(name) ?? `delta:${seq}:${i}`);
    });
    return { seq, lsn, tables, blobs, digests, delta: { prev: base.chain[base.chain.length - 1], chain: [...base.chain, seq], bytes } };
  }

  /**
   * Writes an image's blobs, then publishes its record at its seq. ESTALE if that seq is taken,
   * or if a newer record exists once it is published (a gap left by pruning; bindings/checkpoint.ts).
   */
  private async publishImage(store: PageStore, image: Image, release: boolean): Promise<void> {
    const { seq } = image;
    const x = this.core.x;
    const term = x.lk_conn_get(TERM);
    // The log up to the image's position is durable before the image is: the history then runs
    // unbroken through it, and a deposed leader's next segment still meets this term's start.
    try {
      const log = this.liveLog();
      if (log) await log.flush(image.lsn);
      else if (x.lk_log_on()) await flushRemote(this.core, image.lsn); // a worker's checkpoint: the opener writes the log
    } catch (e) {
      if (e instanceof LatchkeyError && e.code === 'ESTALE') {
        throw new LatchkeyError('ESTALE', `checkpoint ${seq} refused: ${this.fenced ?? e.message}`);
      }
      throw e;
    }
    for (let i = 0; i < image.blobs.length; i++) if (image.blobs[i]) await store.write(blobName(seq, term, i), image.blobs[i]!);
    const rec: LogRecord = {
      v: 1, kind: 'checkpoint', seq, term, pageSize: this.cfg.pageSize, checkpoint: seq, tables: image.tables,
      lsn: image.lsn, termStarts: [...this.termStarts],
    };
    if (image.delta) {
      rec.prev = image.delta.prev;
      rec.chain = image.delta.chain;
    }
    if (!this.cfg.log) rec.logOff = true;
    if (!release) rec.holder = this.holder;
    await this.publishRecord(store, image, encodeRecord(rec));
  }

  /**
   * Publishes the record of `image` (its blobs written), then what follows a published image:
   * LAST_SEQ, pruning, truncation. ESTALE if its seq is taken by another record. A publish that
   * fails (EIO: its answer may have been lost after the record landed) leaves the image
   * UNSETTLED: before another record is published under this term, settle() publishes exactly
   * these bytes again. Never other bytes under a seq whose record may be there: a second image at
   * the same seq would overwrite the blobs the landed record names (same names: seq and term),
   * then find the seq taken, remove them and fence this node, leaving a record whose image is
   * gone (every open of the home then ECORRUPT). The same bytes are told apart from another
   * writer's record by the store (PageStore.publish), and a request delivered late lands the same
   * record.
   */
  private async publishRecord(store: PageStore, image: Image, bytes: Uint8Array): Promise<void> {
    const { seq } = image;
    const x = this.core.x;
    const term = x.lk_conn_get(TERM);
    let published: boolean;
    try {
      published = await store.publish(recordName(seq), bytes);
    } catch (e) {
      this.unsettled = { image, bytes };
      throw e;
    }
    this.unsettled = undefined;
    const newest = published ? await latestRecord(store) : await readRecord(store, seq).catch(() => undefined);
    if (!published || (newest && newest.seq > seq)) {
      if (!published) for (let i = 0; i < image.blobs.length; i++) if (image.blobs[i]) await store.remove(blobName(seq, term, i));
      throw this.fence(seq, term, published, newest, this.unpublished(image), image.tables.length);
    }
    x.lk_conn_set(LAST_SEQ, seq);
    this.published = new Map(image.tables.map((t, i) => [t.name, image.digests[i]]));
    await pruneStore(store, seq);
    this.noteCheckpoint(image.lsn);
    const base = this.deltaBase;
    this.deltaBase = !this.log ? undefined : image.delta && base
      ? { ...base, chain: image.delta.chain, lsn: image.lsn, changedBytes: base.changedBytes + image.delta.bytes }
      : { chain: [seq], lsn: image.lsn, fullBytes: image.blobs.reduce((n, b) => n + (b?.length ?? 0), 0), changedBytes: 0 };
    if (this.log) {
      this.log.checkpointed(image.lsn);
      this.log.dropHistory(image.lsn);
    }
    await this.truncateLog(store);
  }

  /** An unsettled image's record (publishRecord), published again as it was: before any checkpoint or step-down picks its seq. */
  private async settle(store: PageStore): Promise<void> {
    if (this.unsettled) await this.publishRecord(store, this.unsettled.image, this.unsettled.bytes);
  }

  /** Remembers a checkpoint's log position (the two newest: pruneStore keeps both images). */
  private noteCheckpoint(lsn: number): void {
    this.checkpointLsn.push(lsn);
    if (this.checkpointLsn.length > 2) this.checkpointLsn.shift();
  }

  /**
   * Removes the segments no kept checkpoint needs: those ending at or before the older of the two
   * newest checkpoints' positions (a segment ends where the next one starts), except term starts
   * (bindings/log.ts, TRUNCATION). Best effort, as pruneStore.
   */
  private async truncateLog(store: PageStore): Promise<void> {
    if (this.checkpointLsn.length < 2) return;
    const keep = this.checkpointLsn[0];
    try {
      const starts = (await store.list(SEGMENT_PREFIX)).map((n) => Number(n.slice(SEGMENT_PREFIX.length))).sort((a, b) => a - b);
      await removeAll(store, starts.filter((start, i) => i + 1 < starts.length && starts[i + 1] <= keep && !this.termStarts.includes(start)).map(segmentName));
    } catch {
      // Garbage stays until the next checkpoint.
    }
  }

  /** Fenced: another node claimed a newer term. This one stops writing at once; the ESTALE to throw. */
  private fence(seq: number, term: number, published: boolean, newest: LogRecord | undefined, lost: number, tables: number): LatchkeyError {
    return this.fenceWith(`checkpoint ${seq} refused: the page store ${published ? `has a newer record ${newest!.seq}` : `already has record ${seq}`}${newest ? ` (a ${newest.kind} of term ${newest.term}; this node's term is ${term})` : ''}`, lost, tables);
  }

  /** This node was fenced (`reason`): it stops writing and logging at once; the ESTALE to throw. */
  private fenceWith(reason: string, lost: number, tables: number): LatchkeyError {
    this.staleFollower();
    this.fenced = `${reason}; another node took the leader role, and this connection is now a follower; ${lost} of its ${tables} table${tables === 1 ? '' : 's'} had changes since its last published checkpoint that were not published and are lost`;
    const error = new LatchkeyError('ESTALE', this.fenced);
    this.noteRole(`fenced: ${this.fenced}`);
    this.election?.demoted();
    return error;
  }

  /**
   * Makes this node a follower whose trees may hold writes the history lacks (fenced, or a lapsed
   * lease's step-down whose final checkpoint failed): the log stopped, incremental checkpoints
   * over, and the next refresh loads an image rather than replaying onto these trees.
   */
  private staleFollower(): void {
    const x = this.core.x;
    this.deltaBase = undefined;
    this.unsettled = undefined; // its term is over: never this node's to settle now
    if (this.role === 'leader') x.lk_role_change(0);
    this.log?.stop();
    this.log = undefined;
    this.logPos = -1;
    x.lk_tables_readonly(1);
    x.lk_conn_set(IMAGE_SEQ, 0);
  }

  /** How many tables of `image` differ from the last image published or loaded (added and dropped ones count). */
  private unpublished(image: Image): number {
    const now = new Map(image.tables.map((t, i) => [t.name, image.digests[i]]));
    let n = 0;
    for (const [name, d] of now) if (this.published.get(name) !== d) n++;
    for (const name of this.published.keys()) if (!now.has(name)) n++;
    return n;
  }

  /**
   * Loads checkpoint `seq` (0: the empty image) into new trees, checking every page, and makes
   * them the live trees; tables absent from the image are retired. Nothing changes on a failure.
   */
  private async loadImage(seq: number): Promise<void> {
    const x = this.core.x;
    const store = this.needStore('load');
    // The checkpoint's chain (bindings/delta.ts): its full image, then each delta, all read first.
    const chain: { rec: LogRecord; blobs: (Uint8Array | undefined)[] }[] = [];
    if (seq !== 0) {
      const last = await readRecord(store, seq);
      if (!last || last.kind !== 'checkpoint') throw new ImageGone(seq, `its record ${recordName(seq)} is missing`);
      for (const s of last.chain ?? [seq]) {
        const rec = s === seq ? last : await readRecord(store, s);
        if (!rec || rec.kind !== 'checkpoint') throw new ImageGone(seq, `the record ${recordName(s)} of its chain is missing`);
        const delta = rec.prev !== undefined;
        const blobs = await Promise.all(rec.tables!.map((t, i) => (!delta || t.entries > 0 || t.reset ? store.read(blobName(s, rec.term, i)) : undefined)));
        const missing = rec.tables!.findIndex((t, i) => blobs[i] === undefined && (!delta || t.entries > 0 || t.reset));
        if (missing >= 0) throw new ImageGone(seq, `its image ${blobName(s, rec.term, missing)} is missing`);
        chain.push({ rec, blobs });
      }
    }
    const loading = new Map<string, number>(); // table name -> its tree being loaded
    const digests = new Map<string, string>();
    const core = this.core;
    const begin = (name: string, keyFormat: number, valueFormat: number, at: number) => {
      const old = loading.get(name);
      if (old !== undefined) x.lk_table_retire(old); // a table the delta resets
      const bytes = encoder.encode(name);
      core.u8.set(bytes, core.KEY);
      const tree = x.lk_table_load_begin(bytes.length, keyFormat, valueFormat);
      if (tree === Status.EBUSY) {
        throw new LatchkeyError('EBUSY', `loading table '${name}' of checkpoint ${at}: the catalog is full (${MAX_TABLES} trees, counting older images that open cursors still read); accepted: closing cursors and sessions on older images, then retrying`);
      }
      if (tree < 0) throw errorFromStatus(tree, `loading table '${name}' of checkpoint ${at}`);
      loading.set(name, tree);
      return tree;
    };
    try {
      for (const { rec, blobs } of chain) {
        const at = rec.seq;
        if (rec.prev === undefined) {
          for (let i = 0; i < rec.tables!.length; i++) {
            const t = rec.tables![i];
            const tree = begin(t.name, t.keyFormat, t.valueFormat, at);
            let crc = 0;
            const entries = readImage(blobName(at, rec.term, i), blobs[i]!, rec, i, (items, count) => {
              core.u8.set(items, core.OUT); // one image page's items at a time (<= a page < OUT_SIZE)
              const r = x.lk_load_items(tree, count, items.length);
              if (r < 0) throw errorFromStatus(r, `loading table '${t.name}' of checkpoint ${at}`);
              crc = crc32(items, 0, items.length, crc);
            });
            digests.set(t.name, tableDigest((t.keyFormat << 8) | t.valueFormat, entries, crc));
          }
          continue;
        }
        // A delta: its changes onto the trees loaded so far; tables it does not list were dropped.
        const listed = new Set(rec.tables!.map((t) => t.name));
        for (const [name, tree] of loading) {
          if (!listed.has(name)) { x.lk_table_retire(tree); loading.delete(name); digests.delete(name); }
        }
        for (let i = 0; i < rec.tables!.length; i++) {
          const t = rec.tables![i];
          const tree = t.reset || !loading.has(t.name) ? begin(t.name, t.keyFormat, t.valueFormat, at) : loading.get(t.name)!;
          if (!blobs[i]) continue;
          digests.set(t.name, `delta:${at}:${i}`);
          const where = `checkpoint ${at}, table '${t.name}' (${blobName(at, rec.term, i)})`;
          let run = 0;
          const apply = () => {
            const r = x.lk_log_apply(run);
            if (r !== run) throw r < 0 ? errorFromStatus(r, `loading ${where}`) : new LatchkeyError('ECORRUPT', `${where}: a change could not be applied`);
            run = 0;
          };
          for (const change of decodeDelta(where, blobs[i]!, t.entries)) {
            if (run + change.length > core.OUT_SIZE) apply();
            core.u8.set(change, core.OUT + run);
            core.dv.setUint16(core.OUT + run + LOG_R_TREE, tree, true);
            run += change.length;
          }
          apply();
        }
      }
    } catch (e) {
      for (const tree of loading.values()) x.lk_table_retire(tree);
      x.lk_sweep(SWEEP_IDLE_TICKS);
      throw e;
    }
    const rec = chain.length ? chain[chain.length - 1].rec : undefined;
    for (const tree of loading.values()) x.lk_table_load_publish(tree);
    // The image's place in the log: replay goes on from its lsn, naming its tables' trees so.
    this.logPos = rec?.lsn ?? 0;
    this.logTrees = new Map();
    for (const t of rec?.tables ?? []) if (t.tree !== undefined) this.logTrees.set(t.tree, loading.get(t.name)!);
    this.termStarts = [...(rec?.termStarts ?? [])];
    if (rec?.lsn !== undefined) this.noteCheckpoint(rec.lsn);
    this.deltaBase = undefined; // a leader's next checkpoint after a load is a full image
    for (const { tree, name } of liveTables(core)) if (!loading.has(name)) x.lk_table_retire(tree);
    x.lk_conn_set(IMAGE_SEQ, seq);
    this.published = digests;
    x.lk_sweep(SWEEP_IDLE_TICKS);
  }

  /**
   * Closes this thread's view: its sessions and cursors, and its thread slot. The connection open()
   * returned also stops its timers and, leading with a home configured, takes a last checkpoint
   * that lets go of the leader lock (with no change since the newest image: no image, and the
   * term record its open published removed where it can be; release). A fenced node (found now,
   * or by an earlier checkpoint) rejects with ESTALE saying how many tables had changes that were
   * not published; that and any other failure is reported after the connection is closed all
   * the same.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.unwatch?.();
    let failure: unknown;
    this.removeExitHook?.();
    if (this.checkpointOnClose && this.role === 'leader') {
      await this.checkpointAs(true).catch((e) => { failure = e; });
      // Writes of other threads after the image are in the log: durable before close resolves.
      await this.stopLog().catch((e) => { failure ??= e; });
    } else if (this.checkpointOnClose && this.fenced) {
      failure = new LatchkeyError('ESTALE', `close: ${this.fenced}`);
    } else if (this.liveLog()) {
      // An attached thread that stepped up writes the log: everything durable, then the log
      // stops (the leader's writes are then durable at its checkpoints; flush() takes one).
      await this.stopLog().catch((e) => { failure = e; });
    }
    // Resign once the final checkpoint is out: the next leader is elected at once and finds it.
    // A resign etcd does not answer leaves the lease to lapse by itself.
    await this.election?.close().catch(() => {});
    for (const s of [...this.sessions]) s.close();
    this.core.unregister();
    this.closed = true;
    if (this.ownHolder) dropHolder(this.holder);
    await this.remote?.close();
    if (failure) throw failure;
  }
}

/** Opens a connection (a fresh shared memory, and the latest checkpoint of its home). */
export function open(config?: ConnectionConfig | string): Promise<Connection> {
  return Connection.open(config);
}

/** Is `h` a conn.share() handle (as structured clone delivers one)? A revoked Proxy or a throwing getter is not. */
function isShareHandle(h: unknown): h is ShareHandle {
  try {
    const s = h as ShareHandle;
    return s !== null && typeof s === 'object' && s.kind === 'latchkey/connection'
      && s.module instanceof WebAssembly.Module && s.memory instanceof WebAssembly.Memory;
  } catch {
    return false;
  }
}

/** Attaches to a connection shared by another thread. */
export function attach(handle: ShareHandle): Promise<Connection> {
  return Connection.attach(handle);
}
