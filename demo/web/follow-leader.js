// The follower demo's leader: a Node connection on a NATS home (`nats://...`), written by worker
// threads (demo/web/leader-worker.js, attached to it) at a steady pace. Its background flusher
// makes their writes durable (the log, every 10 ms); the followers, a browser tab among them,
// are fed by the home's watch.
//
//   const leader = await startFollowLeader({ home: 'nats://127.0.0.1:4222/demo', workers: 4 });
//   leader.counts()            // operations each worker has done so far
//   await leader.pause()       // workers stopped after an operation, conn.flush() resolved:
//                              // { counts }, the flushed state being followModel(counts)
//   leader.resume()
//   await leader.close()       // workers stopped and closed, the connection closed
//
// The control words (an Int32Array over a SharedArrayBuffer): CMD (RUN, PAUSE or STOP, set
// here), DONE + w (worker w's operations done), PAUSED + w (worker w acknowledged a PAUSE).

import { Worker } from 'node:worker_threads';
import { open } from '../../dist/index.js';
import { FOLLOW_URI } from './follow-workload.js';

export const CMD = 0, DONE = 1, PAUSED = 65;
export const RUN = 0, PAUSE = 1, STOP = 2;
const MAX_WORKERS = 64;
const PAUSE_TIMEOUT_MS = 10_000;

export async function startFollowLeader({ home, workers = 4, batch = 10, pauseMs = 10, uri = FOLLOW_URI }) {
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new Error(`follow-leader: workers ${workers}: accepted: 1 to ${MAX_WORKERS}`);
  const conn = await open({ home, pageSize: 4096, cacheSize: '256MB' });
  const session = conn.openSession();
  session.create(uri, { keyFormat: 'S', valueFormat: 'S' });
  await conn.flush();
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (PAUSED + MAX_WORKERS)));
  const threads = Array.from({ length: workers }, (_, id) => new Worker(new URL('./leader-worker.js', import.meta.url), {
    workerData: { handle: conn.share(), id, ctrl: ctrl.buffer, uri, batch, pauseMs },
  }));
  const failed = [];
  const ended = threads.map((t, id) => new Promise((resolve) => {
    t.once('error', (e) => { failed.push(`worker ${id}: ${e.message}`); resolve(); });
    t.once('exit', resolve);
  }));
  const command = (c) => { Atomics.store(ctrl, CMD, c); Atomics.notify(ctrl, CMD); };
  const counts = () => threads.map((_, w) => Atomics.load(ctrl, DONE + w));
  const check = () => { if (failed.length) throw new Error(`follow-leader: ${failed.join('; ')}`); };
  return {
    conn, session, uri, counts,
    async pause() {
      check();
      for (let w = 0; w < workers; w++) Atomics.store(ctrl, PAUSED + w, 0);
      command(PAUSE);
      const deadline = Date.now() + PAUSE_TIMEOUT_MS;
      while (threads.some((_, w) => Atomics.load(ctrl, PAUSED + w) === 0)) {
        check();
        if (Date.now() > deadline) throw new Error(`follow-leader: the workers did not pause within ${PAUSE_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 1));
      }
      await conn.flush();
      return { counts: counts() };
    },
    resume() { check(); command(RUN); },
    async close() {
      command(STOP);
      await Promise.all(ended);
      await conn.close();
      check();
    },
  };
}
