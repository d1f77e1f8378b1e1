// A writer worker of test/workers/elect-child.js: attached to the child's connection with
// attach(handle) (conn.share() in the child's main thread), it writes its own keys of table:t,
// "<pid>-<worker>-<n>", ten puts then session.flush(), a pause, again and again while the connection
// leads. A worker's flush goes through the main thread's log writer (flushRemote, bindings/log.ts).
//
// To the main thread (parentPort):
//   { w: [keys], term }       only after the flush of those keys resolved; term is conn.term read
//                             just before the puts (the term the leader accepted them in)
//   { werr: 'CODE message' }  a batch failed (ENOTLEADER, ESTALE, EIO: the role left leader);
//                             its keys are not reported, and the worker waits for the next 'go'
// From it: 'go' (the connection leads: write until it no longer does).
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../dist/index.js';

/** A pause between batches: a steady load (about 400 puts/s a worker), not a spin that starves the elections' keepalives on a shared machine. */
const PAUSE_MS = 20;
const { handle, worker } = workerData;
const conn = await attach(handle);
let pending = false;
let wake = () => {};
parentPort.on('message', (m) => {
  if (m === 'go') { pending = true; wake(); }
});
parentPort.postMessage({ ready: worker });

let n = 0;
for (;;) {
  if (!pending) await new Promise((r) => { wake = r; });
  pending = false;
  const s = conn.openSession();
  try {
    const c = s.openCursor('table:t');
    while (conn.role === 'leader') {
      const term = conn.term;
      const keys = Array.from({ length: 10 }, (_, i) => `${process.pid}-${worker}-${n + i}`);
      n += 10;
      for (const key of keys) c.put(key, 'v');
      await s.flush();
      parentPort.postMessage({ w: keys, term });
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  } catch (e) {
    parentPort.postMessage({ werr: `${e.code ?? 'ERROR'} ${e.message}` });
  } finally {
    s.close();
  }
}
