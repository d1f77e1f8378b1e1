// smoke.mjs's worker: attaches to the connection it is handed, reads a key the main thread
// wrote, and writes its own keys into the same shared memory.
import { workerData, parentPort } from 'node:worker_threads';
import { attach } from '../../dist/index.js';

const conn = await attach(workerData.handle);
const c = conn.openSession().openCursor('table:smoke');
const sawMain = c.get('k:000000');
for (let i = 0; i < workerData.n; i++) c.put(`w:${String(i).padStart(6, '0')}`, `worker ${i}`);
c.close();
parentPort.postMessage({ wrote: workerData.n, sawMain });
