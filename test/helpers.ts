import { Worker } from 'node:worker_threads';
import { open, type Connection, type ShareHandle } from '../dist/index.js';

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
