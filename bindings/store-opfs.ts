/**
 * OpfsPageStore: a durable PageStore for browsers, in the origin private file system (OPFS).
 *
 * Blobs are files in the directory `latchkey/<storeName>/` of the origin's OPFS root. Durable
 * writes need synchronous access handles (flush), which exist only in dedicated workers, so the
 * store object starts its own worker (store-opfs-worker.ts) and proxies each call to it by
 * postMessage; the worker runs the calls one at a time. Every call on a blob holds the Web Lock
 * `latchkey-opfs:<storeName>/<name>`, so publishers in other workers and tabs of the origin
 * exclude each other: of two concurrent publishers of one name exactly one gets true.
 *
 * Names: letters, digits, '-' and '.', 1 to 200 characters (not '.' or '..'). Temporary files
 * of publish start with '~', which no blob name can, and are never listed.
 * Browser only: exported by the browser entry (browser.ts).
 */

import type { PageStore } from './store.js';
import { LatchkeyError, invalid, type LatchkeyErrorCode } from './errors.js';

const NAME = /^[A-Za-z0-9.-]{1,200}$/;

/** Checks a store or blob name; throws EINVAL naming it and what is accepted. */
export function checkOpfsName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name === '.' || name === '..') {
    throw invalid(`OpfsPageStore: ${what} ${typeof name === 'string' ? `'${name}'` : typeof name}`,
      "1 to 200 letters, digits, '-' and '.' (not '.' or '..')");
  }
  return name;
}

/** A request to the store worker, and its reply. */
export type OpfsOp =
  | { op: 'read' | 'remove'; name: string }
  | { op: 'write' | 'publish'; name: string; data: ArrayBuffer }
  | { op: 'list'; prefix: string };
export type OpfsRequest = OpfsOp & { id: number };
export type OpfsReply =
  | { id: number; ok: true; result: ArrayBuffer | boolean | string[] | undefined | null }
  | { id: number; ok: false; code: LatchkeyErrorCode; message: string };

export class OpfsPageStore implements PageStore {
  readonly storeName: string;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private seq = 0;
  private closed = false;
  /** Set once the worker has failed: every later call gets EIO at once (it would never settle). */
  private failure: string | undefined;

  /** A store in `latchkey/<storeName>/` of this origin's OPFS (created on first use). */
  constructor(storeName: string) {
    this.storeName = checkOpfsName('store name', storeName);
    if (typeof Worker !== 'function') {
      throw new LatchkeyError('EINVAL', 'OpfsPageStore: this runtime has no Web Workers; accepted: a browser page or worker');
    }
    // A literal `new Worker(new URL(...), { type: 'module' })`: bundlers (Vite) emit the worker.
    this.worker = new Worker(new URL('./store-opfs-worker.js', import.meta.url), { type: 'module', name: `latchkey-opfs-${storeName}` });
    this.worker.onmessage = (e: MessageEvent<OpfsReply>) => {
      const r = e.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new LatchkeyError(r.code, r.message));
    };
    this.worker.onerror = (e) => {
      // Not a second `new URL('./store-opfs-worker.js', import.meta.url)`: a bundler would emit the
      // script once more for it, as a plain asset.
      this.failure = `the store worker failed: ${e.message ?? 'its script (store-opfs-worker.js, next to store-opfs.js) did not load'}`;
      this.failAll(this.failure);
    };
    this.worker.postMessage({ init: storeName });
  }

  private failAll(why: string): void {
    for (const p of this.pending.values()) p.reject(new LatchkeyError('EIO', `OpfsPageStore '${this.storeName}': ${why}`));
    this.pending.clear();
  }

  private call<T>(req: OpfsOp, transfer: Transferable[] = [], draining = false): Promise<T> {
    if (this.closed && !draining) return Promise.reject(new LatchkeyError('ECLOSED', `OpfsPageStore '${this.storeName}' is closed`));
    if (this.failure) return Promise.reject(new LatchkeyError('EIO', `OpfsPageStore '${this.storeName}': ${this.failure}`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const r = await this.call<ArrayBuffer | null>({ op: 'read', name: checkOpfsName('blob name', name) });
    return r === null ? undefined : new Uint8Array(r);
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    checkOpfsName('blob name', name);
    const copy = bytes(data);
    return this.call<void>({ op: 'write', name, data: copy }, [copy]);
  }

  async publish(name: string, data: Uint8Array): Promise<boolean> {
    checkOpfsName('blob name', name);
    const copy = bytes(data);
    return this.call<boolean>({ op: 'publish', name, data: copy }, [copy]);
  }

  async remove(name: string): Promise<void> {
    return this.call<void>({ op: 'remove', name: checkOpfsName('blob name', name) });
  }

  async list(prefix = ''): Promise<string[]> {
    if (typeof prefix !== 'string') throw invalid(`OpfsPageStore: list prefix of type ${typeof prefix}`, 'a string');
    return this.call<string[]>({ op: 'list', prefix });
  }

  /**
   * Stops the store's worker once the calls made so far have finished (they get their real
   * replies); calls made from now on get ECLOSED.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The worker runs calls in order: when this one replies, every earlier one has replied.
    await this.call<string[]>({ op: 'list', prefix: '~none' }, [], true).catch(() => undefined);
    this.worker.terminate();
  }
}

/** A private copy of `data` (it may be a view of shared memory), to transfer to the worker. */
function bytes(data: Uint8Array): ArrayBuffer {
  if (!(data instanceof Uint8Array)) throw invalid(`OpfsPageStore: data of type ${typeof data}`, 'a Uint8Array');
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return copy.buffer;
}
