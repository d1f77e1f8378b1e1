// The page's side of demo/web/worker.js: starts Web Workers, attaches each to the connection,
// and calls their commands. Shared control words (protocol.js) carry the stop flag and
// the per-worker operation and error counters.

import { CTRL, CODES } from './protocol.js';

export { CTRL, CODES };

export class WorkerPool {
  constructor(conn, count) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (CTRL.ERRORS + 64 * CODES.length)));
    this.workers = [];
    this.pending = new Map();
    this.seq = 0;
    for (let id = 0; id < count; id++) {
      const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `latchkey-${id}` });
      w.onmessage = (e) => {
        const p = this.pending.get(e.data.seq);
        if (!p) return;
        this.pending.delete(e.data.seq);
        if (e.data.error) p.reject(Object.assign(new Error(e.data.error.message), { code: e.data.error.code }));
        else p.resolve(e.data.result);
      };
      w.onerror = (e) => { for (const p of this.pending.values()) p.reject(new Error(`worker ${id}: ${e.message}`)); };
      this.workers.push(w);
    }
    this.ready = Promise.all(this.workers.map((w, id) => this.post(w, { cmd: 'attach', id, ctrl: this.ctrl.buffer, handle: conn.share() })));
  }

  post(w, msg) {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      w.postMessage({ ...msg, seq });
    });
  }

  /** Runs command `cmd` in every worker; args(id) gives each its arguments. */
  all(cmd, args) {
    return Promise.all(this.workers.map((w, id) => this.post(w, { cmd, args: args(id) })));
  }

  get size() { return this.workers.length; }
  stop() { Atomics.store(this.ctrl, CTRL.STOP, 1); }
  resume() { Atomics.store(this.ctrl, CTRL.STOP, 0); }
  ops(id) { return Atomics.load(this.ctrl, CTRL.OPS + id) >>> 0; }
  /** Operations of worker `id` refused with a LatchkeyError (counted apart from those done). */
  failed(id) { return Atomics.load(this.ctrl, CTRL.FAILED + id) >>> 0; }
  errors(id) {
    const out = {};
    CODES.forEach((code, i) => { const n = Atomics.load(this.ctrl, CTRL.ERRORS + id * CODES.length + i); if (n) out[code] = n; });
    return out;
  }

  async close() {
    this.stop();
    await Promise.allSettled(this.workers.map((w) => this.post(w, { cmd: 'close' })));
    for (const w of this.workers) w.terminate();
  }
}
