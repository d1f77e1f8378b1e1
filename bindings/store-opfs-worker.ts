/**
 * The worker behind OpfsPageStore (store-opfs.ts): runs its calls one at a time on the files of
 * `latchkey/<storeName>/` in the origin private file system, through synchronous access handles
 * (the only OPFS API with flush). Each call on a blob holds the Web Lock
 * `latchkey-opfs:<storeName>/<name>` (exclusive), which also keeps other workers' and tabs' access
 * handles off the file meanwhile (OPFS refuses a second one).
 */

import type { OpfsRequest, OpfsReply } from './store-opfs.js';
import { compareBytes } from './codec.js';

// The worker-only parts of OPFS (lib.dom lacks them).
interface SyncAccessHandle {
  read(buf: Uint8Array, opts?: { at: number }): number;
  write(buf: Uint8Array, opts?: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}
interface OpfsFile extends FileSystemFileHandle {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
  move(newName: string): Promise<void>;
}
interface OpfsDir extends FileSystemDirectoryHandle {
  keys(): AsyncIterableIterator<string>;
}

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: OpfsReply, transfer?: Transferable[]): void;
};

let storeName = '';
let dirP: Promise<OpfsDir> | undefined;
let queue: Promise<void> = Promise.resolve();
let tmpSeq = 0;

function dir(): Promise<OpfsDir> {
  dirP ??= (async () => {
    const root = await navigator.storage.getDirectory();
    const top = await root.getDirectoryHandle('latchkey', { create: true });
    const d = (await top.getDirectoryHandle(storeName, { create: true })) as OpfsDir;
    await removeLeftovers(d);
    return d;
  })();
  return dirP;
}

/**
 * Removes publish's temporary files (`~<name>~...`) that a closed or crashed page left behind: a
 * temporary file whose blob's lock is free belongs to no publish in progress (a publisher holds
 * the lock from before it creates the file until it has moved or removed it).
 */
async function removeLeftovers(d: OpfsDir): Promise<void> {
  const tmps: string[] = [];
  for await (const n of d.keys()) if (n.startsWith('~')) tmps.push(n);
  for (const t of tmps) {
    const name = t.slice(1, t.indexOf('~', 1));
    await navigator.locks.request(`latchkey-opfs:${storeName}/${name}`, { mode: 'exclusive', ifAvailable: true }, async (lock) => {
      if (lock) await d.removeEntry(t).catch(() => undefined);
    });
  }
}

async function fileIfExists(d: OpfsDir, name: string): Promise<OpfsFile | undefined> {
  try {
    return (await d.getFileHandle(name)) as OpfsFile;
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return undefined;
    throw e;
  }
}

async function writeFile(f: OpfsFile, data: Uint8Array): Promise<void> {
  const h = await f.createSyncAccessHandle();
  try {
    h.truncate(0);
    let at = 0;
    while (at < data.length) at += h.write(data.subarray(at), { at });
    h.flush();
  } finally {
    h.close();
  }
}

/** A file's whole content. */
async function readFile(f: OpfsFile): Promise<Uint8Array> {
  const h = await f.createSyncAccessHandle();
  try {
    const buf = new Uint8Array(h.getSize());
    let at = 0;
    while (at < buf.length) {
      const n = h.read(buf.subarray(at), { at });
      if (n <= 0) throw new Error(`short read at ${at} of ${buf.length} bytes`);
      at += n;
    }
    return buf;
  } finally {
    h.close();
  }
}

function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return navigator.locks.request(`latchkey-opfs:${storeName}/${name}`, { mode: 'exclusive' }, fn) as Promise<T>;
}

async function run(req: OpfsRequest): Promise<ArrayBuffer | boolean | string[] | null | undefined> {
  const d = await dir();
  switch (req.op) {
    case 'read':
      return withLock(req.name, async () => {
        const f = await fileIfExists(d, req.name);
        return f ? (await readFile(f)).buffer as ArrayBuffer : null;
      });
    case 'write':
      return withLock(req.name, async () => {
        await writeFile((await d.getFileHandle(req.name, { create: true })) as OpfsFile, new Uint8Array(req.data));
        return undefined;
      });
    case 'publish':
      return withLock(req.name, async () => {
        const taken = await fileIfExists(d, req.name);
        // Taken: true only if it holds exactly these bytes (SAME_BYTES, bindings/store.ts).
        if (taken) return compareBytes(await readFile(taken), new Uint8Array(req.data)) === 0;
        const tmp = `~${req.name}~${Date.now().toString(36)}~${++tmpSeq}`;
        const f = (await d.getFileHandle(tmp, { create: true })) as OpfsFile;
        try {
          await writeFile(f, new Uint8Array(req.data));
          await f.move(req.name);
        } catch (e) {
          await d.removeEntry(tmp).catch(() => undefined);
          throw e;
        }
        return true;
      });
    case 'remove':
      return withLock(req.name, async () => {
        try {
          await d.removeEntry(req.name);
        } catch (e) {
          if ((e as DOMException).name !== 'NotFoundError') throw e;
        }
        return undefined;
      });
    case 'list': {
      const names: string[] = [];
      for await (const n of d.keys()) if (!n.startsWith('~') && n.startsWith(req.prefix)) names.push(n);
      return names.sort();
    }
  }
}

scope.onmessage = (e: MessageEvent) => {
  const m = e.data as OpfsRequest | { init: string };
  if ('init' in m) { storeName = m.init; return; }
  queue = queue.then(async () => {
    try {
      const result = await run(m);
      scope.postMessage({ id: m.id, ok: true, result }, result instanceof ArrayBuffer ? [result] : []);
    } catch (err) {
      const x = err as { name?: string; message?: string };
      const what = `OpfsPageStore '${storeName}': ${m.op}${'name' in m ? ` '${m.name}'` : ''} failed`;
      scope.postMessage({ id: m.id, ok: false, code: x.name === 'QuotaExceededError' ? 'ENOMEM' : 'EIO', message: `${what}: ${x.name ?? 'Error'}: ${x.message ?? String(err)}` });
    }
  });
};
