/**
 * The browser entry's DirectoryPageStore: a directory needs Node's file system, so opening one
 * here is EINVAL naming what browsers use instead. It keeps the two entries' exports (and so the
 * types a bundler-resolved TypeScript project sees) the same; the real one is store-dir.ts.
 */

import { LatchkeyError } from './errors.js';
import type { PageStoreRef } from './store.js';

export class DirectoryPageStore {
  private constructor() {}

  static async open(path: string, _create?: boolean, _readOnly?: boolean): Promise<DirectoryPageStore & { ref(): PageStoreRef }> {
    throw new LatchkeyError('EINVAL', `DirectoryPageStore ${JSON.stringify(path)}: a directory needs Node's file system; accepted here: new OpfsPageStore(name) or new MemoryPageStore()`);
  }
}
