import { Worker } from 'node:worker_threads';
import { afterEach, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, LatchkeyError, type Connection, type ShareHandle } from '../dist/index.js';

const WORKER = new URL('./workers/worker.js', import.meta.url);

/** A worker attached to a connection, running commands of test/workers/worker.js. */
export class TestWorker {
  private readonly w: Worker;
  private readonly ready: Promise<void>;
  private seq = 0;
  private isReady = false;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: any) => void }>();

  constructor(handle: ShareHandle) {
    this.w = new Worker(WORKER, { workerData: { handle } });
    this.ready = new Promise((resolve, reject) => {
      this.w.once('error', reject);
      this.w.on('message', (m) => {
        if (m.ready) { this.isReady = true; return resolve(); }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        else p.resolve(m.result);
      });
    });
  }

  /**
   * Posts the command at once (synchronously, once the worker is ready): a test may block its own
   * thread right after, waiting for the worker to park at an injection point.
   */
  call<T = any>(cmd: string, args?: object): Promise<T> {
    if (!this.isReady) return this.ready.then(() => this.call<T>(cmd, args));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, cmd, args });
    });
  }

  /** Resolves once the worker has attached (its instance is registered). */
  started(): Promise<void> {
    return this.ready;
  }

  async stop(): Promise<void> {
    try { await this.call('close'); } finally { await this.w.terminate(); }
  }
}

export async function withWorkers<T>(conn: Connection, n: number, fn: (ws: TestWorker[]) => Promise<T>): Promise<T> {
  const ws = Array.from({ length: n }, () => new TestWorker(conn.share()));
  try {
    await Promise.all(ws.map((w) => w.started()));
    return await fn(ws);
  } finally {
    await Promise.all(ws.map((w) => w.stop()));
  }
}

export const enc = (s: string) => new TextEncoder().encode(s);

/** Tests run on the debug build (core assertions on) unless LATCHKEY_TEST_RELEASE=1. */
export const TEST_DEBUG = process.env.LATCHKEY_TEST_RELEASE !== '1';

export async function openTest(opts: Record<string, unknown> = {}): Promise<Connection> {
  return open({ pageSize: 4096, cacheSize: '128MB', debug: TEST_DEBUG, ...opts });
}

export interface PageInfo { page: number; flags: number; items: number; high: Uint8Array }
export const F = { LEAF: 1, ROOT: 2, HALF_DEAD: 4, DELETED: 8, INCOMPLETE_SPLIT: 16 } as const;

/** The pages of one level of table 0..n (quiesced): page number, flags, item count, high key. */
export function levelInfo(conn: Connection, tree: number, level: number): PageInfo[] {
  const { x, dv, u8, OUT } = conn.core;
  const n = x.lk_test_level(tree, level);
  const out: PageInfo[] = [];
  let pos = OUT + 4;
  for (let i = 0; i < n; i++) {
    const hl = dv.getUint32(pos + 12, true);
    out.push({ page: dv.getUint32(pos, true), flags: dv.getUint32(pos + 4, true), items: dv.getUint32(pos + 8, true), high: u8.slice(pos + 16, pos + 16 + hl) });
    pos += 16 + hl;
  }
  return out;
}

/** The latch word of a page, for tests that must see a thread waiting on it. */
export function latchWord(conn: Connection, page: number): () => number {
  const words = new Int32Array(conn.core.memory.buffer);
  const at = (conn.core.x.lk_arena_base() + page * conn.pageSize) >> 2;
  return () => Atomics.load(words, at) >>> 0;
}
export const LATCH_WAITERS = 0x40000000;

/**
 * Waits until `cond` holds, letting the event loop run between checks (so worker replies land).
 * For conditions on shared state that no notification announces, like "a thread is now waiting
 * on this latch"; the outcome does not depend on timing, only how soon it is seen.
 */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** What `p` rejects with, checked to be a LatchkeyError (a resolve fails the test). */
export async function rejection(p: Promise<unknown>): Promise<LatchkeyError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(LatchkeyError);
  return e as LatchkeyError;
}

/** Deterministic PRNG (mulberry32): a float in [0, 1), so failures are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Directory homes and connections for one test file: call once at its top level. After each test,
 * the connections still open are closed and the homes removed.
 */
export function testHomes(tag: string) {
  const opened: Connection[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close().catch(() => {});
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    /** A fresh, empty directory, removed after the test. */
    tempHome(): string {
      const d = mkdtempSync(join(tmpdir(), `latchkey-${tag}-`));
      dirs.push(d);
      return d;
    },
    /** openTest(opts), closed after the test unless closed with close() before. */
    async connect(opts: Record<string, unknown>): Promise<Connection> {
      const c = await openTest(opts);
      opened.push(c);
      return c;
    },
    /** Closes c now (a leader with a home checkpoints on close); the test sees its outcome. */
    async close(c: Connection): Promise<void> {
      opened.splice(opened.indexOf(c), 1);
      await c.close();
    },
  };
}
