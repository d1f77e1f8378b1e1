/**
 * Page stores: where checkpoints live. A PageStore holds named blobs; the checkpoint writer
 * publishes an image under a new name atomically (publish). MemoryPageStore keeps them in this
 * process and can be shared by several connections; OpfsPageStore (store-opfs.ts, browsers)
 * keeps them in the origin private file system.
 */

export interface PageStore {
  /** The blob, or undefined if absent. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Writes a blob durably (flushed when the promise resolves); replaces an existing one. */
  write(name: string, data: Uint8Array): Promise<void>;
  /**
   * Atomically creates `name` with `data` if no blob has that name: written and flushed under a
   * temporary name, then moved into place. Resolves false (and changes nothing) if `name` exists.
   * Two concurrent publishers of one name: exactly one gets true.
   */
  publish(name: string, data: Uint8Array): Promise<boolean>;
  remove(name: string): Promise<void>;
  /** Names starting with prefix, sorted. */
  list(prefix?: string): Promise<string[]>;
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
    if (this.blobs.has(name)) return false;
    this.blobs.set(name, data.slice());
    return true;
  }

  async remove(name: string): Promise<void> {
    this.blobs.delete(name);
  }

  async list(prefix = ''): Promise<string[]> {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
