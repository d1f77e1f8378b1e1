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
 *
 * Errors: every failure of the file system (EACCES, EISDIR, ENOTDIR, ELOOP, a NUL in a path, ...)
 * is a LatchkeyError EIO naming the operation and the file, never a raw Node error. A blob is
 * opened with O_NONBLOCK and checked to be a regular file before it is read, so a FIFO (or a
 * directory, a device) where a blob should be is EIO at once instead of a read that never returns.
 */

import { mkdir, open, readdir, rename, link, unlink, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { LatchkeyError } from './errors.js';
import type { PageStore, PageStoreRef } from './store.js';
import { compareBytes } from './codec.js';

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
function ioError(what: string, e: unknown): LatchkeyError {
  if (e instanceof LatchkeyError) return e;
  const err = e as NodeJS.ErrnoException;
  return new LatchkeyError('EIO', `page store: ${what}: ${err.code ? `${err.code} ` : ''}${err.message}`);
}

/**
 * Runs a file system call, turning its failure (a rejection, or a throw before it starts: a NUL in
 * a path) into EIO; `keep` lets the caller handle some codes itself (ENOENT, EEXIST).
 */
async function io<T>(what: string, call: () => Promise<T>, keep: readonly string[] = []): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (keep.includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    throw ioError(what, e);
  }
}

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** What a non-regular file is, for messages. */
function kind(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  return 'device or other special file';
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
    const home = JSON.stringify(path);
    try {
      const st = await io(`stat home ${home}`, () => stat(path), ['ENOENT']);
      if (!st.isDirectory()) throw new LatchkeyError('EINVAL', `home ${home} is not a directory; accepted: a directory path`);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
      if (!create || readOnly) throw new LatchkeyError('ENOENT', `home ${home} does not exist; accepted: an existing directory${readOnly ? '' : ', or create: true'}`);
      await io(`create home ${home}`, () => mkdir(path, { recursive: true }));
    }
    const s = new DirectoryPageStore(path, readOnly);
    if (!readOnly) {
      for (const f of await io(`list home ${home}`, () => readdir(path))) {
        if (f.startsWith(TMP) && leftBehind(f)) await unlink(join(path, f)).catch(() => {});
      }
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
    const file = this.file(name);
    let fh;
    try {
      // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
      fh = await io(`open ${file}`, () => open(file, constants.O_RDONLY | constants.O_NONBLOCK), ['ENOENT']);
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const st = await io(`stat ${file}`, () => fh.stat());
      if (!st.isFile()) throw new LatchkeyError('EIO', `page store: read ${file}: not a regular file (a ${kind(st)}); accepted: the blob files latchkey writes`);
      return new Uint8Array(await io(`read ${file}`, () => fh.readFile()));
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** Writes `data` to a fresh temporary file and fsyncs it; returns its path. */
  private async writeTemp(data: Uint8Array): Promise<string> {
    const tmp = join(this.path, `${TMP}${process.pid}-${threadId}-${randomUUID()}`);
    const fh = await io(`create ${tmp}`, () => open(tmp, 'wx'));
    try {
      // One write call for the whole blob (a regular file takes it whole; the loop is for a short
      // write): FileHandle.writeFile writes 512 KiB per call, each a turn of the event loop, and
      // a log segment's publish on the thread that also puts took as many turns as its MiBs times
      // two, so that the next segment, drained meanwhile, grew with it (bench/RESULTS.md).
      await io(`write ${tmp}`, async () => {
        for (let at = 0; at < data.length;) {
          const { bytesWritten } = await fh.write(data, at, data.length - at, at);
          if (bytesWritten === 0) throw new Error(`wrote 0 of ${data.length - at} bytes`);
          at += bytesWritten;
        }
      });
      await io(`fsync ${tmp}`, () => fh.sync());
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    } finally {
      await fh.close().catch(() => {});
    }
    return tmp;
  }

  private async syncDir(): Promise<void> {
    const fh = await io(`open home ${JSON.stringify(this.path)}`, () => open(this.path, 'r'));
    try {
      await io(`fsync home ${JSON.stringify(this.path)}`, () => fh.sync());
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    this.writable(`write ${name}`);
    const to = this.file(name);
    const tmp = await this.writeTemp(data);
    await io(`rename to ${to}`, () => rename(tmp, to)).catch(async (e) => { await unlink(tmp).catch(() => {}); throw e; });
    await this.syncDir();
  }

  async publish(name: string, data: Uint8Array): Promise<boolean> {
    this.writable(`publish ${name}`);
    const to = this.file(name);
    const tmp = await this.writeTemp(data);
    try {
      await io(`link ${to}`, () => link(tmp, to), ['EEXIST']);
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') throw e;
      // Taken: by this writer's own earlier publish whose directory fsync failed after the
      // link, if it holds exactly these bytes (SAME_BYTES, bindings/store.ts); then the fsync
      // this publish owes it is done below.
      const now = await this.read(name);
      if (now === undefined || compareBytes(now, data) !== 0) return false;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    await this.syncDir();
    return true;
  }

  async remove(name: string): Promise<void> {
    this.writable(`remove ${name}`);
    const file = this.file(name);
    await io(`remove ${file}`, () => unlink(file), ['ENOENT']).catch((e) => { if (codeOf(e) !== 'ENOENT') throw e; });
  }

  async list(prefix = ''): Promise<string[]> {
    const all = await io(`list home ${JSON.stringify(this.path)}`, () => readdir(this.path));
    return all.filter((f) => f.startsWith(prefix) && !f.startsWith(TMP)).sort();
  }
}
