/**
 * NatsPageStore: a PageStore on NATS JetStream (`latchkey/nats`, `home: 'nats://...'` in Node,
 * and `home: 'ws://...'` (or `wss://`) over WebSocket, in browsers and in Node 22+), so that a
 * leader and its followers on different machines share one home.
 *
 * LAYOUT. A home named `db` is two JetStream buckets: the KV bucket `latchkey-db` holds one entry
 * per latchkey name, and the Object Store `latchkey-db-blobs` holds the bytes of the large ones.
 * An entry's value is a tag byte and then either the blob itself (INLINE, for blobs up to
 * `inlineMax`: log segments, records) or the name of the object holding it (OBJECT: checkpoint
 * images, which may be MiBs; a KV value is bounded by the server's max_payload).
 *
 * PUBLISH is KV `create`, so the server itself refuses a second claimant of a name: of racing
 * publishers exactly one is told true. That is the one atomic step latchkey's protocol needs
 * (bindings/store.ts): log records `log-<seq>` and log segments `wal-<start>` are claimed through
 * it, so a deposed leader's next claim is refused by NATS, not by this process's belief. A large
 * blob is uploaded first under a name of its own (`<key>.<uuid>`), then the entry pointing at it
 * is created; a publish that loses removes its upload. WRITE (replace) uploads, puts the entry,
 * then removes the object the entry pointed at before; REMOVE deletes the entry, then its object.
 * A reader that followed a pointer whose object was removed meanwhile reads the entry again.
 *
 * NAMES. KV keys allow `[-/_=.A-Za-z0-9]`, and `.` separates tokens that may not be empty; prefix
 * listing goes by subject wildcards. A latchkey name (`[A-Za-z0-9][A-Za-z0-9._-]*`, as a directory
 * home accepts) maps one to one onto a key: the part before its first `-` is the first token, the
 * rest the second (`wal-0000000000000042` is `wal.0000000000000042`; an empty rest is `/`), and a
 * `.` in either part is written `=`. So `list('wal-')` asks for `wal.*` only.
 *
 * READS go to the stream's leader (the buckets are made with allow_direct off: a direct get may
 * answer from a replica that has not seen the newest write before server 2.12), and so does a
 * list (the subjects of the KV stream, from its stream info). A removed name is purged from the
 * stream (no delete marker), so the stream's subjects are exactly the names that exist.
 *
 * FAILURES. Every operation is bounded by `timeout` (default 10 s), retrying what the servers
 * refuse while a cluster elects a stream leader (about 5 s measured for R3); past it, a
 * LatchkeyError EIO naming the servers and the operation. Each request is bounded by half the
 * timeout, at most 2 s, and no attempt starts after the deadline, so the EIO comes at most one
 * attempt after it (a few requests; an upload, one a 128 KiB chunk); connecting is bounded by
 * the timeout itself. A publish that failed with EIO may still have landed (its answer was lost);
 * a create that finds its name taken reads the entry, and if it holds exactly the bytes being
 * published, the publish is reported won (publish, sameAs; why that is safe: SAME_BYTES in
 * bindings/store.ts). So this call's own
 * retry, and a later publish of the same bytes (the log tries an unsettled segment again as it
 * was: bindings/log.ts), both tell their own landed entry from another writer's.
 *
 * SWEEP (SweepablePageStore, bindings/store.ts). A writer that dies between an upload and its
 * entry, a publish that lost and could not remove its upload, a write whose old object outlived
 * it, or an upload cut off mid-way (chunks, no object) leaves bytes nothing points at. `sweep()`
 * (the leader's, at step-up and after each checkpoint: pruneStore) removes an object whose entry
 * (`<key>` of its name `<key>.<uuid>`) does not point at it, and chunks of no object, once older
 * than `orphanGrace` (default 10 min; by the object's mtime, by the newest chunk's timestamp).
 * Why that never removes an upload in flight: an entry follows its upload within one bounded
 * operation (`timeout`, plus one request of at most 2 s), and chunks of an upload come at most a
 * request apart. This store's own uploads are also marked from their start until 2 `timeout`s
 * after their end, so a shorter grace is safe where this store is the only writer; chunks of no
 * object are left at least 2 `timeout`s whatever the grace. The other writer that can exist is a deposed leader
 * (only a leader writes; the sweeper claimed the newest term): paused past the grace (SIGSTOP,
 * a frozen VM), its entry then lands pointing at nothing, and harms nothing: its publish is
 * refused (fencing: the names it claims are taken), and its `write` of a checkpoint blob is
 * named by no record it can publish, so no reader follows it; pruning removes that entry. The
 * grace must also exceed the clock skew between the writers' hosts and this one.
 *
 * DURABILITY is the servers': nats-server 2.9 acknowledges a write once a quorum of replicas has
 * it in memory and syncs its files about every two minutes. With `replicas: 3` an acknowledged
 * write survives the loss of one node, not all three losing power at once; with one replica, not
 * that node's power loss.
 *
 * WATCH (WatchablePageStore, bindings/store.ts): a KV watch of the prefix's keys, new entries
 * only, each reported with its bytes when they are inline. The watch is an ordered consumer the
 * client re-creates after a reconnect; the watch being in place, every reconnect, and a watch that
 * had to be made again are reported as `resync`, so a follower looks at the store again from
 * where it stands (names created before the watch's consumer existed are then not lost).
 *
 * The NATS client (`@nats-io/jetstream`, `@nats-io/kv`, `@nats-io/obj`, and the transport:
 * `@nats-io/transport-node` for `nats://`, `@nats-io/nats-core`'s WebSocket one for `ws://`;
 * optional peer dependencies) is imported when a store is opened, never before. Nothing here
 * imports a Node module: the TCP transport is registered by the Node platform
 * (bindings/platform-node.ts, setNatsTransport), so that this file also runs in a browser page.
 */

import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';
import { LatchkeyError, invalid, peerMissing } from './errors.js';
import type { NameChange, SweepablePageStore, WatchablePageStore } from './store.js';
import { compareBytes } from './codec.js';

/** The oldest nats-server this store is known to work with (JetStream KV and Object Store, as tested on 2.9.10). */
export const MIN_NATS_SERVER = '2.9.0';
/** Default bound on each operation (and on connecting), in milliseconds. */
export const DEFAULT_NATS_TIMEOUT = 10_000;
/** Blobs up to this size are stored in the KV entry itself; larger ones in the Object Store. */
export const DEFAULT_INLINE_MAX = 256 * 1024;
/** Default age past which sweep() removes objects and chunks nothing points at (SWEEP above). */
export const DEFAULT_ORPHAN_GRACE = 10 * 60_000;

const INLINE = 0;
const OBJECT = 1;
/** JetStream's "wrong last sequence": the create found the key taken. */
const WRONG_LAST_SEQUENCE = 10071;
const CLIENT_PACKAGES = '@nats-io/jetstream @nats-io/kv @nats-io/obj';
/** The transports: a `nats://` home's (TCP, Node) and a `ws://`/`wss://` home's (WebSocket). */
export type NatsTransport = 'tcp' | 'ws' | 'wss';
type Connect = (opts: ConnectionOptions) => Promise<NatsConnection>;

/** The TCP transport's loader, which the Node platform registers (absent in browsers). */
let tcpTransport: (() => Promise<Connect>) | undefined;
/** @internal Registers how `nats://` homes connect (bindings/platform-node.ts). */
export function setNatsTransport(load: () => Promise<Connect>): void {
  tcpTransport = load;
}

export interface NatsPageStoreOptions {
  /** `host:port` (or `nats://host:port`) of one or more servers of the cluster. */
  servers: string | readonly string[];
  /** How to reach them: 'tcp' (default; Node), or NATS over WebSocket, 'ws' or 'wss' (the servers' `websocket` ports). */
  transport?: NatsTransport;
  /** The home's name: `[A-Za-z0-9_-]`, 1 to 64 characters. Its buckets are `latchkey-<name>` and `latchkey-<name>-blobs`. */
  name: string;
  /** Replicas of each bucket when this store creates them: 1 (default) or 3 (needs a cluster of 3 or more). */
  replicas?: 1 | 3;
  /** Make the buckets if they do not exist; default true. False: ENOENT if they are missing. */
  create?: boolean;
  /** Bound on connecting and on each operation, in milliseconds (1000 to 600000); default 10000. */
  timeout?: number;
  /** Blobs up to this many bytes go in the KV entry itself (at most the server's max_payload less 8 KiB); default 256 KiB. */
  inlineMax?: number;
  /** Milliseconds an object or chunks nothing points at are left before sweep() removes them (0 to 86400000); default 600000 (SWEEP above). */
  orphanGrace?: number;
  /** More options for the client's connect(): credentials (`user`/`pass`, `token`, `authenticator`), `tls`, `name`. */
  connectOptions?: Omit<ConnectionOptions, 'servers' | 'timeout'>;
}

/**
 * A `nats://host:port[,host:port...]/name[?replicas=3&timeout=ms]` home string (or `ws://`,
 * `wss://`: NATS over WebSocket), parsed. EINVAL if it is not one.
 */
export function parseNatsHome(home: string): NatsPageStoreOptions {
  const accepted = "nats://host:port[,host:port...]/name (or ws:// or wss://, NATS over WebSocket), optionally followed by ?replicas=1|3 and &timeout=<ms>, e.g. 'nats://127.0.0.1:4222/db'";
  const m = /^(nats|wss?):\/\/([^/?#]+)\/([^/?#]+)(?:\?([^#]*))?$/.exec(home);
  if (!m) throw invalid(`home ${JSON.stringify(home)} is not a NATS home`, accepted);
  const servers = m[2].split(',');
  for (const s of servers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(s)) throw invalid(`home ${JSON.stringify(home)}: server ${JSON.stringify(s)} is not host:port`, accepted);
  }
  const opts: NatsPageStoreOptions = { servers, name: m[3] };
  if (m[1] !== 'nats') opts.transport = m[1] as NatsTransport;
  for (const [k, v] of new URLSearchParams(m[4] ?? '')) {
    if (k === 'replicas' && (v === '1' || v === '3')) opts.replicas = Number(v) as 1 | 3;
    else if (k === 'timeout' && /^\d+$/.test(v)) opts.timeout = Number(v);
    else throw invalid(`home ${JSON.stringify(home)}: ${k}=${JSON.stringify(v)}`, accepted);
  }
  checkName(opts.name, home);
  return opts;
}

function checkName(name: unknown, home: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw invalid(`home ${JSON.stringify(home)}: name ${JSON.stringify(name)}`, "a name of 1 to 64 letters, digits, '_' and '-'");
  }
}

/** A latchkey name as a KV key (see NAMES above); EINVAL for a name no page store accepts. */
export function natsKey(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.length > 255) {
    throw new LatchkeyError('EINVAL', `page store name ${JSON.stringify(name)}; accepted: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 255 characters`);
  }
  const esc = (s: string) => s.replace(/\./g, '=');
  const dash = name.indexOf('-');
  if (dash < 0) return esc(name);
  const rest = name.slice(dash + 1);
  return `${esc(name.slice(0, dash))}.${rest === '' ? '/' : esc(rest)}`;
}

/** The latchkey name of a KV key natsKey made; undefined for a key it cannot have made. */
export function natsName(key: string): string | undefined {
  const unesc = (s: string) => s.replace(/=/g, '.');
  const parts = key.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) return undefined;
  const name = parts.length === 1 ? unesc(parts[0]) : `${unesc(parts[0])}-${parts[1] === '/' ? '' : unesc(parts[1])}`;
  try {
    return natsKey(name) === key ? name : undefined;
  } catch {
    return undefined;
  }
}

/** a < b for dotted versions ('2.9.10' < '2.10.0'). */
function older(a: string, b: string): boolean {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}

/** Refuses a server older than MIN_NATS_SERVER (EINVAL naming the version needed). */
export function checkNatsServer(version: string, server: string): void {
  if (older(version, MIN_NATS_SERVER)) {
    throw new LatchkeyError('EINVAL', `nats server ${server} is version ${version}; accepted: nats-server ${MIN_NATS_SERVER} or newer (JetStream KV and Object Store as latchkey uses them)`);
  }
}

type Client = {
  jetstream: typeof import('@nats-io/jetstream').jetstream;
  jetstreamManager: typeof import('@nats-io/jetstream').jetstreamManager;
  Kvm: typeof import('@nats-io/kv').Kvm;
  Objm: typeof import('@nats-io/obj').Objm;
};

let client: Promise<Client> | undefined;
function loadClient(): Promise<Client> {
  return client ??= (async () => {
    try {
      const [js, kv, obj] = await Promise.all([import('@nats-io/jetstream'), import('@nats-io/kv'), import('@nats-io/obj')]);
      // Node's own SHA-256 for object digests: measured 4 to 6 times the default's rate.
      if (tcpTransport) obj.setSha256Backend('native');
      return { jetstream: js.jetstream, jetstreamManager: js.jetstreamManager, Kvm: kv.Kvm, Objm: obj.Objm };
    } catch (e) {
      client = undefined;
      throw peerMissing('a NATS home needs the NATS client', e, `${CLIENT_PACKAGES} (3.x)`);
    }
  })();
}

/** The transport's connect(): TCP as the platform registered it, or the client's WebSocket one. */
async function loadConnect(transport: NatsTransport, where: string): Promise<Connect> {
  if (transport === 'tcp') {
    if (!tcpTransport) throw new LatchkeyError('EINVAL', `home ${where}: a nats:// home needs Node (the NATS client's TCP transport); accepted here: a ws:// or wss:// home (NATS over WebSocket), or a PageStore object`);
    try {
      return await tcpTransport();
    } catch (e) {
      throw peerMissing('a nats:// home needs the NATS client\'s TCP transport', e, `@nats-io/transport-node ${CLIENT_PACKAGES} (3.x)`);
    }
  }
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
    throw new LatchkeyError('EINVAL', `home ${where}: a ${transport}:// home needs a WebSocket in this runtime (browsers; Node 22, or Node 20 with --experimental-websocket); accepted here: a nats:// home`);
  }
  try {
    return (await import('@nats-io/nats-core')).wsconnect;
  } catch (e) {
    throw peerMissing(`a ${transport}:// home needs the NATS client's WebSocket transport`, e, `@nats-io/nats-core ${CLIENT_PACKAGES} (3.x)`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errorCode = (e: unknown) => (e as { code?: unknown }).code;

/** An entry's value: its tag byte (INLINE or OBJECT), then `bytes`. */
function tagged(tag: number, bytes: Uint8Array): Uint8Array {
  const value = new Uint8Array(1 + bytes.length);
  value[0] = tag;
  value.set(bytes, 1);
  return value;
}

export class NatsPageStore implements WatchablePageStore, SweepablePageStore {
  /** The servers as given (`host:port`). */
  readonly servers: readonly string[];
  /** How they are reached: 'tcp' (`nats://`), 'ws' or 'wss' (NATS over WebSocket). */
  readonly transport: NatsTransport;
  readonly name: string;
  readonly replicas: 1 | 3;
  readonly timeout: number;
  private readonly nc: NatsConnection;
  private readonly kv: KV;
  private readonly jsm: JetStreamManager;
  private readonly objects: ObjectStore;
  private readonly inlineMax: number;
  /** The KV bucket's stream, and the subject of key `k` in it is `${subjects}${k}`. */
  private readonly stream: string;
  private readonly subjects: string;
  /** The home as messages name it (`nats://h:p,.../name`). */
  private readonly where: string;
  private closed = false;
  private readonly orphanGrace: number;
  /** The Object Store's stream, and the subject of chunks of object nuid `n` is `${chunks}${n}`. */
  private readonly objectStream: string;
  private readonly chunks: string;
  /** This store's uploads whose entry may not exist yet: object name -> when its upload ended, Infinity while it runs (SWEEP). */
  private readonly uploaded = new Map<string, number>();
  /** Each live watch's resync, called when the connection is back after a disconnect. */
  private readonly resyncs = new Set<() => void>();

  private constructor(o: { where: string; servers: readonly string[]; transport: NatsTransport; name: string; replicas: 1 | 3; timeout: number; nc: NatsConnection; kv: KV; jsm: JetStreamManager; objects: ObjectStore; inlineMax: number; orphanGrace: number }) {
    this.where = o.where;
    this.servers = o.servers;
    this.transport = o.transport;
    this.name = o.name;
    this.replicas = o.replicas;
    this.timeout = o.timeout;
    this.nc = o.nc;
    this.kv = o.kv;
    this.jsm = o.jsm;
    this.stream = `KV_latchkey-${o.name}`;
    this.subjects = `$KV.latchkey-${o.name}.`;
    this.objects = o.objects;
    this.inlineMax = o.inlineMax;
    this.orphanGrace = o.orphanGrace;
    this.objectStream = `OBJ_latchkey-${o.name}-blobs`;
    this.chunks = `$O.latchkey-${o.name}-blobs.C.`;
    void (async () => {
      for await (const st of o.nc.status()) if (st.type === 'reconnect') for (const r of this.resyncs) r();
    })().catch(() => {});
  }

  /** Opens a home from a `nats://` string (parseNatsHome) or options. */
  static async open(home: string | NatsPageStoreOptions, create?: boolean): Promise<NatsPageStore> {
    const o = typeof home === 'string' ? parseNatsHome(home) : { ...home };
    if (create !== undefined) o.create = create;
    const transport = o.transport ?? 'tcp';
    if (transport !== 'tcp' && transport !== 'ws' && transport !== 'wss') throw invalid(`nats home: transport ${JSON.stringify(transport)}`, "'tcp', 'ws' or 'wss'");
    const servers = (typeof o.servers === 'string' ? [o.servers] : [...o.servers]).map((s) => s.replace(/^(nats|wss?):\/\//, ''));
    const scheme = transport === 'tcp' ? 'nats' : transport;
    const where = `${scheme}://${servers.join(',')}/${o.name}`;
    checkName(o.name, where);
    if (servers.length === 0) throw invalid(`home ${where}: no servers`, 'one or more host:port');
    const replicas = o.replicas ?? 1;
    if (replicas !== 1 && replicas !== 3) throw invalid(`home ${where}: replicas ${JSON.stringify(replicas)}`, '1 or 3');
    const timeout = o.timeout ?? DEFAULT_NATS_TIMEOUT;
    if (!Number.isInteger(timeout) || timeout < 1000 || timeout > 600_000) throw invalid(`home ${where}: timeout ${JSON.stringify(timeout)}`, 'milliseconds, an integer from 1000 to 600000');
    const orphanGrace = o.orphanGrace ?? DEFAULT_ORPHAN_GRACE;
    if (!Number.isInteger(orphanGrace) || orphanGrace < 0 || orphanGrace > 86_400_000) throw invalid(`home ${where}: orphanGrace ${JSON.stringify(orphanGrace)}`, 'milliseconds, an integer from 0 to 86400000');
    const connect = await loadConnect(transport, where);
    const c = await loadClient();
    let nc: NatsConnection;
    try {
      nc = await connect({ ...o.connectOptions, servers: transport === 'tcp' ? servers : servers.map((s) => `${scheme}://${s}`), timeout, maxReconnectAttempts: -1 });
    } catch (e) {
      throw new LatchkeyError('EIO', `nats home ${where}: cannot connect to ${servers.join(', ')} within ${timeout} ms: ${(e as Error).message}`);
    }
    try {
      const server = `${nc.info?.host ?? '?'}:${nc.info?.port ?? '?'}`;
      checkNatsServer(nc.info?.version ?? '0', server);
      if (!nc.info?.jetstream) {
        throw new LatchkeyError('EINVAL', `nats server ${server} (of ${where}) has JetStream off; accepted: a server started with -js (or a jetstream { } block in its configuration)`);
      }
      const maxPayload = nc.info.max_payload;
      const inlineMax = Math.min(o.inlineMax ?? DEFAULT_INLINE_MAX, maxPayload - 8192);
      const apiTimeout = apiTimeoutOf(timeout);
      const js = c.jetstream(nc, { timeout: apiTimeout });
      const bucket = `latchkey-${o.name}`;
      const jsm = await retrying(where, 'reach JetStream', timeout, () => c.jetstreamManager(nc, { timeout: apiTimeout }));
      const opened = await retrying(where, 'open the buckets', timeout, async () => {
        if (o.create === false) {
          const missing: string[] = [];
          for (const stream of [`KV_${bucket}`, `OBJ_${bucket}-blobs`]) {
            await jsm.streams.info(stream).catch((e) => { if (errorCode(e) === 10059) missing.push(stream); else throw e; });
          }
          if (missing.length > 0) throw new LatchkeyError('ENOENT', `nats home ${where} does not exist (no stream ${missing.join(', ')}); accepted: an existing home, or create: true`);
          return { kv: await new c.Kvm(js).open(bucket, { bindOnly: true }), objects: await new c.Objm(js).open(`${bucket}-blobs`) };
        }
        const kv = await new c.Kvm(js).create(bucket, { replicas, history: 1, allow_direct: false, timeout: apiTimeout });
        const objects = await new c.Objm(js).create(`${bucket}-blobs`, { replicas });
        return { kv, objects };
      });
      return new NatsPageStore({ where, servers, transport, name: o.name, replicas, timeout, nc, jsm, ...opened, inlineMax, orphanGrace });
    } catch (e) {
      await nc.close().catch(() => {});
      throw e;
    }
  }


  private op<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new LatchkeyError('ECLOSED', `page store ${this.where}: ${what}: the store is closed`));
    return retrying(this.where, what, this.timeout, fn);
  }

  /** The entry's value for `data`: inline, or uploaded as an object (its name returned for cleanup). */
  private async encode(key: string, name: string, data: Uint8Array): Promise<{ value: Uint8Array; object?: string }> {
    if (!(data instanceof Uint8Array)) throw new LatchkeyError('EINVAL', `page store ${this.where}: ${name}: data is not a Uint8Array`);
    if (data.length <= this.inlineMax) return { value: tagged(INLINE, data) };
    const object = `${key}.${globalThis.crypto.randomUUID()}`;
    this.uploaded.set(object, Infinity); // marked until its entry can exist (SWEEP)
    try {
      await this.op(`upload ${name} (${data.length} bytes)`, () => this.objects.putBlob({ name: object }, data));
    } catch (e) {
      this.uploaded.delete(object);
      throw e;
    }
    this.uploaded.set(object, Date.now());
    return { value: tagged(OBJECT, new TextEncoder().encode(object)), object };
  }

  /** The object an entry's value points at, if it is an OBJECT entry. */
  private static objectOf(value: Uint8Array | undefined): string | undefined {
    return value && value[0] === OBJECT ? new TextDecoder().decode(value.subarray(1)) : undefined;
  }

  /** The current value of `key`'s entry, undefined when absent or deleted. */
  private async entry(key: string): Promise<Uint8Array | undefined> {
    const e = await this.kv.get(key);
    return e && e.operation === 'PUT' ? e.value : undefined;
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const key = natsKey(name);
    return this.op(`read ${name}`, async () => {
      for (let attempt = 0; attempt < 16; attempt++) {
        const value = await this.entry(key);
        if (value === undefined) return undefined;
        if (value[0] === INLINE) return value.slice(1);
        const bytes = await this.objects.getBlob(NatsPageStore.objectOf(value)!);
        if (bytes) return bytes;
        // The object was removed after the entry was read: replaced or removed meanwhile.
      }
      throw new LatchkeyError('EIO', `page store ${this.where}: read ${name}: its object kept vanishing (16 tries)`);
    });
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    const key = natsKey(name);
    const before = await this.op(`read ${name}`, () => this.entry(key));
    const { value } = await this.encode(key, name, data);
    await this.op(`write ${name}`, () => this.kv.put(key, value));
    const old = NatsPageStore.objectOf(before);
    if (old) await this.op(`remove the old object of ${name}`, () => this.objects.delete(old)).catch(() => {});
  }

  /**
   * KV create of `name`; true if this call's create landed, or if the name is taken by an entry
   * holding exactly `data` (sameAs). A create's answer can be lost after the server stored it
   * (the connection cut or reset, a timeout): this call's own retry, or a later publish of the
   * same bytes (the log publishes a segment whose outcome is unknown again, unchanged:
   * bindings/log.ts, LogWriter.unsettled), then finds the name taken by its own entry, which
   * must not read as a lost race (the leader would fence itself, ESTALE, over its own segment).
   */
  async publish(name: string, data: Uint8Array): Promise<boolean> {
    const key = natsKey(name);
    const { value, object } = await this.encode(key, name, data);
    let unsure = false;
    /** 'created': this call's entry (pointing at `object`); 'same': an entry holding `data` was there. */
    let won: 'created' | 'same' | false;
    try {
      won = await this.op(`publish ${name}`, async () => {
        try {
          await this.kv.create(key, value);
          return 'created' as const;
        } catch (e) {
          if (errorCode(e) !== WRONG_LAST_SEQUENCE) {
            unsure = true; // a lost answer: the create may have landed
            throw e;
          }
          return (await this.sameAs(key, data)) ? 'same' as const : false;
        }
      });
    } catch (e) {
      if (object && !unsure) await this.objects.delete(object).catch(() => {});
      throw e;
    }
    if (won !== 'created' && object) await this.op(`remove the upload of ${name}`, () => this.objects.delete(object)).catch(() => {});
    return won !== false;
  }

  /**
   * Does `key`'s entry hold exactly `data` (inline, or in the object it points at)? Asked only
   * when a create found the name taken: one read more on a path that is rare (a fence, a race
   * for a term, a lost answer).
   *
   * Why equal bytes mean "published": SAME_BYTES in bindings/store.ts.
   */
  private async sameAs(key: string, data: Uint8Array): Promise<boolean> {
    const now = await this.entry(key);
    if (now === undefined) return false; // removed since: not this publish's to claim
    if (now[0] === INLINE) return compareBytes(now.subarray(1), data) === 0;
    const bytes = await this.objects.getBlob(NatsPageStore.objectOf(now)!);
    return bytes !== null && compareBytes(bytes, data) === 0;
  }

  async remove(name: string): Promise<void> {
    const key = natsKey(name);
    const before = await this.op(`read ${name}`, () => this.entry(key));
    if (before === undefined) return;
    // Purged, not deleted: no marker stays behind, so list (the stream's subjects) never sees it.
    await this.op(`remove ${name}`, () => this.jsm.streams.purge(this.stream, { filter: `${this.subjects}${key}` }));
    const object = NatsPageStore.objectOf(before);
    if (object) await this.op(`remove the object of ${name}`, () => this.objects.delete(object)).catch(() => {});
  }

  async list(prefix = ''): Promise<string[]> {
    if (typeof prefix !== 'string') throw new LatchkeyError('EINVAL', `page store ${this.where}: list: prefix is not a string`);
    // A prefix with a '-' fixes the first token; any other asks for every key.
    const filter = keyFilter(prefix);
    return this.op(`list ${prefix || 'all names'}`, async () => {
      // The stream's subjects, from its leader (a consumer, as KV keys() runs, may be placed on a
      // node that died until the cluster notices: measured 2 s timeouts for 10 s after a kill).
      const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${this.subjects}${filter}` });
      const names: string[] = [];
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        const name = natsName(subject.slice(this.subjects.length));
        if (name !== undefined && name.startsWith(prefix)) names.push(name);
      }
      return names.sort();
    });
  }

  /**
   * Reports names starting with `prefix` as they are created or replaced (WatchablePageStore):
   * a KV watch of new entries, inline bytes passed along; `{ resync: true }` once the watch is in
   * place, after each reconnect, and each time it had to be made again. A prefix ending in '-' watches that token only
   * (`wal-`: `wal.*`); any other, every key. Returns the stop function.
   */
  watch(prefix: string, onChange: (change: NameChange) => void): () => void {
    if (typeof prefix !== 'string') throw new LatchkeyError('EINVAL', `page store ${this.where}: watch: prefix is not a string`);
    if (typeof onChange !== 'function') throw new LatchkeyError('EINVAL', `page store ${this.where}: watch: onChange is not a function`);
    if (this.closed) throw new LatchkeyError('ECLOSED', `page store ${this.where}: watch: the store is closed`);
    const filter = keyFilter(prefix);
    let stopped = false;
    let current: { stop(): void } | undefined;
    const resync = () => { if (!stopped) onChange({ resync: true }); };
    const deliver = (e: KvWatchEntry) => {
      if (e.operation !== 'PUT') return;
      const name = natsName(e.key);
      if (name === undefined || !name.startsWith(prefix)) return;
      const v = e.value;
      onChange(v.length > 0 && v[0] === INLINE ? { name, data: v.slice(1) } : { name });
    };
    this.resyncs.add(resync);
    void (async () => {
      for (let attempt = 0; !stopped && !this.closed; attempt++) {
        try {
          // New entries only: what exists now the watcher has read (or reads at the resync).
          const it = await this.kv.watch({ key: filter, include: 'updates' });
          if (stopped || this.closed) { it.stop(); break; }
          current = it;
          // In place (again): whatever came before it (since watch() was called, or meanwhile) was missed.
          resync();
          for await (const e of it) deliver(e);
        } catch {
          // The servers refused or went away: tried again (bounded pace), reported as a resync.
        }
        current = undefined;
        if (!stopped && !this.closed) await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), 1000));
      }
    })();
    return () => {
      stopped = true;
      this.resyncs.delete(resync);
      current?.stop();
    };
  }

  /**
   * Removes objects no entry points at and chunks of no object, older than orphanGrace, never one
   * of this store's uploads whose entry may still be on its way (SWEEP above); resolves how many
   * (objects and chunk sets) it removed. The leader calls it (pruneStore); EIO past the timeout.
   */
  async sweep(): Promise<number> {
    const now = Date.now();
    for (const [object, at] of this.uploaded) if (now - at > 2 * this.timeout) this.uploaded.delete(object);
    let removed = 0;
    const infos = await this.op('sweep: list the objects', () => this.objects.list());
    for (const info of infos) {
      const dot = info.name.lastIndexOf('.');
      if (dot <= 0 || this.uploaded.has(info.name) || now - Date.parse(info.mtime) < this.orphanGrace) continue;
      const value = await this.op(`sweep: read the entry of ${info.name}`, () => this.entry(info.name.slice(0, dot)));
      if (NatsPageStore.objectOf(value) === info.name) continue; // live
      await this.op(`sweep: remove ${info.name}`, () => this.objects.delete(info.name));
      removed++;
    }
    // Chunks of an upload under way (any writer's) have no object yet, and its newest chunk is at
    // most one request old: past 2 timeouts, chunks of no object are an upload that was cut off.
    const chunkGrace = Math.max(this.orphanGrace, 2 * this.timeout);
    const live = new Set(infos.map((i) => i.nuid));
    const stream = await this.op('sweep: list the chunks', () => this.jsm.streams.info(this.objectStream, { subjects_filter: `${this.chunks}>` }));
    for (const subject of Object.keys(stream.state.subjects ?? {})) {
      if (live.has(subject.slice(this.chunks.length))) continue;
      const last = await this.op(`sweep: read ${subject}`, () => this.jsm.streams.getMessage(this.objectStream, { last_by_subj: subject }));
      if (!last || now - last.time.getTime() < chunkGrace) continue;
      await this.op(`sweep: remove ${subject}`, () => this.jsm.streams.purge(this.objectStream, { filter: subject }));
      removed++;
    }
    return removed;
  }

  /** Closes the connection to the servers (open() closes a store it made from a home string). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.nc.close().catch(() => {});
  }
}

/** The KV key filter of a name prefix: one first token (`wal-` is `wal.*`), or every key. */
function keyFilter(prefix: string): string {
  const dash = prefix.indexOf('-');
  return dash > 0 && /^[A-Za-z0-9][A-Za-z0-9._]*$/.test(prefix.slice(0, dash)) ? `${prefix.slice(0, dash).replace(/\./g, '=')}.*` : '>';
}

/** Each request's own bound: half the operation's, at most 2 s (a stream leader's failover is retried at that pace). */
function apiTimeoutOf(timeout: number): number {
  return Math.min(2000, Math.floor(timeout / 2));
}

/**
 * Runs `fn` until it resolves, retrying failures of the servers (no JetStream leader yet, a
 * timeout, a reconnect) with a growing pause, for at most `timeout` ms; then EIO naming the
 * servers and `what`. A LatchkeyError from `fn` is passed on as it is.
 */
async function retrying<T>(where: string, what: string, timeout: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeout;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof LatchkeyError) throw e;
      const pause = Math.min(25 * 2 ** attempt, 500);
      if (Date.now() + pause >= deadline) {
        throw new LatchkeyError('EIO', `page store ${where}: ${what} failed within ${timeout} ms: ${(e as Error).message}`);
      }
      await sleep(pause);
    }
  }
}
