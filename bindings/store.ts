/**
 * Page stores: where checkpoints live. A PageStore holds named immutable blobs and renames them
 * atomically; the checkpoint writer builds an image under a temporary name and publishes it by
 * renaming. MemoryPageStore keeps them in this process and can be shared by several connections.
 */

export interface PageStore {
  read(name: string): Promise<Uint8Array | undefined>;
  write(name: string, data: Uint8Array): Promise<void>;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void>;
  remove(name: string): Promise<void>;
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

  async rename(from: string, to: string): Promise<void> {
    const b = this.blobs.get(from);
    if (!b) throw new Error(`MemoryPageStore: no blob named ${from}`);
    this.blobs.set(to, b);
    this.blobs.delete(from);
  }

  async remove(name: string): Promise<void> {
    this.blobs.delete(name);
  }

  async list(prefix = ''): Promise<string[]> {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
