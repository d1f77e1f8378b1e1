/**
 * Page stores: where checkpoints live (the shared storage of a leader and its followers).
 *
 * A store holds named immutable blobs. Checkpoint images are written as blobs first; a small
 * record then makes one visible with `publish`, which creates a name only if it does not exist.
 * That one primitive gives the records a total order (`log-<seq>`, bindings/checkpoint.ts): two
 * writers of the same sequence number cannot both succeed, which is how a deposed leader learns
 * it was fenced.
 *
 * `MemoryPageStore` keeps blobs in this process; several connections in one thread may share it.
 * `DirectoryPageStore` (bindings/store-dir.ts, Node) keeps them as files; `OpfsPageStore` is the
 * browser's durable store.
 */

import { compareBytes } from './codec.js';

/*
 * SAME_BYTES: why equal bytes mean "published". A name is claimed once: its bytes are what the
 * store holds under it from then on, whoever sent them. If they are exactly the bytes this
 * publish would have stored, the store is in the state this publish winning would have left it
 * in, and reporting true acknowledges nothing that is not there. Fencing is not weakened: the
 * bytes a newer leader claims a name with always differ from a deposed leader's.
 *   - A log segment's header names its writer's term (and its positions); every record in it
 *     names its log position. Two nodes write the same name with the same term only if the
 *     term was claimed twice, and a term is claimed by publishing its term record at the seq
 *     after the newest record: won once. (A connection that changed nothing removes its term
 *     record at close, and the next leader may claim that term again: it removes the term's
 *     only segment too, so the next leader's segment under that name does not meet it; if that
 *     removal failed, the segment is in the history and the next leader starts after it.)
 *   - A term record names its holder (bindings/leader.ts: a random id per connection, and the
 *     process), so two claimants of one seq never send equal bytes.
 *   - A checkpoint record names its term and seq, its tables' digests and its log position;
 *     under one term only its leader publishes records (a final one without a holder included).
 */

export interface PageStore {
  /** The blob, or undefined if absent. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Writes a blob durably (flushed when the promise resolves); replaces an existing one. */
  write(name: string, data: Uint8Array): Promise<void>;
  /**
   * Atomically creates `name` with `data` if no blob has that name: written and flushed under a
   * temporary name, then moved into place. Resolves false (and changes nothing) if `name` exists.
   * Two concurrent publishers of one name: exactly one gets true. Once the promise resolves the
   * store holds no reference to `data` (the log's writer reuses the buffer for its next segment).
   * Also true when `name` holds exactly `data` already: a publish can fail after it landed (a
   * server's answer lost, a directory's fsync failing after the link), and the writer's retry
   * with the same bytes (the log's unsettled segment, a checkpoint record sent again by settle())
   * must not read its own landed blob as a lost race. Why that is safe: SAME_BYTES below.
   */
  publish(name: string, data: Uint8Array): Promise<boolean>;
  remove(name: string): Promise<void>;
  /** Names starting with prefix, sorted. */
  list(prefix?: string): Promise<string[]>;
}

/**
 * What a watching store reports (WatchablePageStore): a name that was created or replaced, with
 * its bytes when the store had them at hand (`data`, else read it); or `resync`: the store may
 * have missed changes (it reconnected to its servers, or its watch was re-established), so the
 * watcher should look at the store again as a whole.
 */
export type NameChange = { name: string; data?: Uint8Array; resync?: false } | { resync: true };

/**
 * An optional extension of PageStore: a store that can tell when names appear, so that a
 * follower applies new log segments as they arrive instead of polling (refreshInterval).
 * `watch(prefix, onChange)` calls onChange for every name starting with `prefix` created or
 * replaced after it was called (in the order the store took them; possibly also for names that
 * already existed, and spuriously), and with `{ resync: true }` whenever it may have missed some.
 * Removals are not reported. Returns the function that stops the watch. NatsPageStore has it (a
 * KV watch); MemoryPageStore and DirectoryPageStore do not: their followers poll.
 */
export interface WatchablePageStore extends PageStore {
  watch(prefix: string, onChange: (change: NameChange) => void): () => void;
}

/** Can `s` tell when names appear (WatchablePageStore)? */
export function canWatch(s: PageStore): s is WatchablePageStore {
  return typeof (s as Partial<WatchablePageStore>).watch === 'function';
}

/**
 * An optional extension of PageStore: a store that keeps a blob's bytes apart from its name
 * (NatsPageStore: large blobs in an Object Store, a KV entry pointing at each) can be left with
 * parts no name points at, by a writer that crashed between the two steps or lost a publish.
 * `sweep()` removes those older than the store's grace and resolves how many it removed. The
 * leader calls it where it prunes (pruneStore, bindings/checkpoint.ts: at its step-up and after
 * each of its checkpoints); best effort, as pruning.
 */
export interface SweepablePageStore extends PageStore {
  sweep(): Promise<number>;
}

/** Does `s` leave parts that need sweeping (SweepablePageStore)? */
export function canSweep(s: PageStore): s is SweepablePageStore {
  return typeof (s as Partial<SweepablePageStore>).sweep === 'function';
}

/** A store another thread can reopen: what conn.share() carries for attach(). */
export interface PageStoreRef {
  kind: 'directory';
  path: string;
}

export class MemoryPageStore implements PageStore {
  private readonly blobs = new Map<string, Uint8Array>();

  async read(name: string): Promise<Uint8Array | undefined> {
    const b = this.blobs.get(name);
    return b ? b.slice() : undefined;
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    this.blobs.set(name, data.slice());
  }

  async publish(name: string, data: Uint8Array): Promise<boolean> {
    if (this.blobs.has(name)) return compareBytes(this.blobs.get(name)!, data) === 0; // SAME_BYTES
    this.blobs.set(name, data.slice());
    return true;
  }

  async remove(name: string): Promise<void> {
    this.blobs.delete(name);
  }

  async list(prefix = ''): Promise<string[]> {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Test hook: the stored bytes themselves (to damage them on purpose). */
  raw(name: string): Uint8Array | undefined {
    return this.blobs.get(name);
  }
}

/** Is `x` usable as a PageStore? */
/** How many removes a prune keeps in flight at once (a NATS home answers each in about a round trip). */
export const REMOVES_IN_FLIGHT = 32;

/**
 * Removes `names` from `store`, REMOVES_IN_FLIGHT at a time, in no particular order: for garbage
 * (old segments, records and images no kept checkpoint needs), where the order cannot matter. The
 * first failure rejects once the removes in flight have settled.
 */
export async function removeAll(store: PageStore, names: string[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < names.length) await store.remove(names[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(REMOVES_IN_FLIGHT, names.length) }, lane));
}

export function isPageStore(x: unknown): x is PageStore {
  if (x === null || typeof x !== 'object') return false;
  const s = x as Record<string, unknown>;
  return ['read', 'write', 'publish', 'remove', 'list'].every((m) => typeof s[m] === 'function');
}
