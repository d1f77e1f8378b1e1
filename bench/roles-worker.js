// bench/roles.js's writer: overwrites keys in a loop, recording the longest single put, until told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../dist/index.js';

const conn = await attach(workerData.handle);
const stall = new Float64Array(workerData.stall);
const stop = new Int32Array(workerData.stall);
const c = conn.openSession().openCursor('table:b');
const k = new Uint8Array(8);
const v = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
let longest = 0;
parentPort.postMessage('writing');
for (let i = 0; Atomics.load(stop, 2) === 0; i++) {
  k[7] = i & 0xff; k[6] = (i >> 8) & 0xff;
  const t = performance.now();
  c.put(k, v);
  const d = performance.now() - t;
  if (d > longest) longest = d;
}
stall[0] = longest;
await conn.close();
parentPort.postMessage('done');
