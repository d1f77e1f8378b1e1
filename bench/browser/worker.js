// One Web Worker of bench/browser-throughput.js: the same loop as bench/throughput-worker.js
// (attach, a pool of random keys, warm-up, common start flag, random operations until the stop
// flag), in a browser. Only the runtime differs: a Web Worker instead of node:worker_threads.
import { attach } from '../../dist/browser.js';
import { runWorkload } from '../workload.js';

self.onmessage = async ({ data: { handle, keyBytes, n, mix, seed, ctrl: ctrlBuf } }) => {
  const conn = await attach(handle);
  const c = conn.openSession().openCursor('table:bench');
  const result = runWorkload(c, { keyBytes, n, mix, seed }, new Int32Array(ctrlBuf));
  await conn.close();
  self.postMessage(result);
};
