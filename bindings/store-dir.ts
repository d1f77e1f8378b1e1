/**
 * DirectoryPageStore: a PageStore over a directory (Node only; loaded on demand by open() when
 * `home` is a path, so nothing here is on a browser's path).
 *
 * Durability: every blob is written to a temporary file in the same directory, fsynced, then
 * moved into place, and the directory is fsynced. `write` moves it with rename (replacing);
 * `publish` with link, which refuses an existing name atomically (EEXIST), then removes the
 * temporary name. A process killed at any point leaves every published name either absent or
 * complete; temporary files it leaves (`.tmp-*`) are never listed and are removed by the next
 * store opened on the directory (only those whose process is gone: other processes and threads
 * may share the home, each writing its own uniquely named temporary files).
 */

import { mkdir, open, readFile, readdir, rename, link, unlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { LatchkeyError } from './errors.js';
import type { PageStore, PageStoreRef } from './store.js';

/** Temporary files: `.tmp-<pid>-<thread>-<uuid>`, unique across the processes and threads sharing a home. */
const TMP = '.tmp-';

/** Is the process that named a temporary file gone (so the file is a crash's leftover)? */
function leftBehind(file: string): boolean {
  const pid = Number(file.slice(TMP.length).split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return false; // another thread of this process may be writing it
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Storage failures are LatchkeyError EIO naming the operation and the file. */
function io<T>(what: string, p: Promise<T>): Promise<T> {
  return p.catch((e: NodeJS.ErrnoException) => {
    throw new LatchkeyError('EIO', `page store: ${what}: ${e.code ?? ''} ${e.message}`);
  });
}

export class DirectoryPageStore implements PageStore {
  readonly path: string;
  /** A read-only view (the CLI's verify, stat, dump): it never changes the directory. */
  readonly readOnly: boolean;

  private constructor(path: string, readOnly: boolean) {
    this.path = path;
    this.readOnly = readOnly;
  }

  /**
   * Opens (with `create`, makes) the directory and clears temporary files a crashed process left.
   * With `readOnly`, it only checks the directory, and write, publish and remove refuse (EINVAL):
   * enough for a follower, which only reads.
   */
  static async open(path: string, create: boolean, readOnly = false): Promise<DirectoryPageStore> {
    try {
      const st = await stat(path);
      if (!st.isDirectory()) throw new LatchkeyError('EINVAL', `home ${JSON.stringify(path)} is not a directory; accepted: a directory path`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!create || readOnly) throw new LatchkeyError('ENOENT', `home ${JSON.stringify(path)} does not exist; accepted: an existing directory${readOnly ? '' : ', or create: true'}`);
      await mkdir(path, { recursive: true });
    }
    const s = new DirectoryPageStore(path, readOnly);
    if (!readOnly) {
      for (const f of await readdir(path)) if (f.startsWith(TMP) && leftBehind(f)) await unlink(join(path, f)).catch(() => {});
    }
    return s;
  }

  private writable(op: string): void {
    if (this.readOnly) {
      throw new LatchkeyError('EINVAL', `${op} on a read-only view of home ${JSON.stringify(this.path)}; accepted: reads (open the home as leader to write)`);
    }
  }

  ref(): PageStoreRef {
    return { kind: 'directory', path: this.path };
  }

  private file(name: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new LatchkeyError('EINVAL', `page store name ${JSON.stringify(name)}; accepted: letters, digits, '.', '_' and '-'`);
    }
    return join(this.path, name);
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.file(name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Writes `data` to a fresh temporary file and fsyncs it; returns its path. */
  private async writeTemp(data: Uint8Array): Promise<string> {
    const tmp = join(this.path, `${TMP}${process.pid}-${threadId}-${randomUUID()}`);
    const fh = await io(`create ${tmp}`, open(tmp, 'wx'));
    try {
      await io(`write ${tmp}`, fh.writeFile(data));
      await io(`fsync ${tmp}`, fh.sync());
    } finally {
      await fh.close();
    }
    return tmp;
  }

  private async syncDir(): Promise<void> {
    const fh = await open(this.path, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    this.writable(`write ${name}`);
    const to = this.file(name);
    const tmp = await this.writeTemp(data);
    await io(`rename to ${to}`, rename(tmp, to));
    await this.syncDir();
  }

  async publish(name: string, data: Uint8Array): Promise<boolean> {
    this.writable(`publish ${name}`);
    const to = this.file(name);
    const tmp = await this.writeTemp(data);
    try {
      await link(tmp, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new LatchkeyError('EIO', `page store: link ${to}: ${(e as Error).message}`);
    } finally {
      await unlink(tmp).catch(() => {});
    }
    await this.syncDir();
    return true;
  }

  async remove(name: string): Promise<void> {
    this.writable(`remove ${name}`);
    await unlink(this.file(name)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  }

  async list(prefix = ''): Promise<string[]> {
    return (await readdir(this.path)).filter((f) => f.startsWith(prefix) && !f.startsWith(TMP)).sort();
  }
}
