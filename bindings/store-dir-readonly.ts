/**
 * ReadOnlyDirectoryStore: a PageStore view of a directory home that only reads (Node only; the
 * CLI's read-only commands, bindings/cli.ts, open their follower over it).
 *
 * It reads and lists what DirectoryPageStore (store-dir.ts) writes, and never changes the
 * directory: no mkdir, and, unlike DirectoryPageStore.open, no removal of `.tmp-*` files, which
 * may be a running leader's blobs in the middle of being written. write, publish and remove
 * refuse with EINVAL (a follower never calls them).
 */

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LatchkeyError } from './errors.js';
import type { PageStore } from './store.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class ReadOnlyDirectoryStore implements PageStore {
  private constructor(readonly path: string) {}

  /** ENOENT if the directory does not exist, EINVAL if `path` is not a directory. */
  static async open(path: string): Promise<ReadOnlyDirectoryStore> {
    const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') throw new LatchkeyError('ENOENT', `home ${JSON.stringify(path)} does not exist; accepted: a directory holding a latchkey database`);
      throw e;
    });
    if (!st.isDirectory()) throw new LatchkeyError('EINVAL', `home ${JSON.stringify(path)} is not a directory; accepted: a directory path`);
    return new ReadOnlyDirectoryStore(path);
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    if (!NAME.test(name)) throw new LatchkeyError('EINVAL', `page store name ${JSON.stringify(name)}; accepted: letters, digits, '.', '_' and '-'`);
    try {
      return new Uint8Array(await readFile(join(this.path, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(prefix = ''): Promise<string[]> {
    return (await readdir(this.path)).filter((f) => f.startsWith(prefix) && NAME.test(f)).sort();
  }

  private refuse(op: string): Promise<never> {
    return Promise.reject(new LatchkeyError('EINVAL', `${op} on a read-only view of home ${JSON.stringify(this.path)}; accepted: reads (open the home as leader to write)`));
  }
  write(name: string): Promise<void> { return this.refuse(`write ${name}`); }
  publish(name: string): Promise<boolean> { return this.refuse(`publish ${name}`); }
  remove(name: string): Promise<void> { return this.refuse(`remove ${name}`); }
}
