// A worker of bench/log.js: attaches to the connection and either puts keys from..to of the
// bench's key set when told to go (puts), or runs `flushes` put-then-flush pairs and reports each
// flush's latency (flush).
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../dist/index.js';
import { makeKeys, byteKeys, range } from './keys.js';

const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const conn = await attach(workerData.handle);
const s = conn.openSession();
const c = s.openCursor('table:b');
if (workerData.flushes !== undefined) {
  parentPort.postMessage('ready');
  const lat = [];
  for (let i = 0; i < workerData.flushes; i++) {
    c.put(Uint8Array.of(workerData.id, i & 255, i >> 8), VALUE);
    const t = performance.now();
    await s.flush();
    lat.push(performance.now() - t);
  }
  parentPort.postMessage(lat);
} else {
  const keys = byteKeys(makeKeys(workerData.n), range(workerData.from, workerData.to - workerData.from));
  parentPort.postMessage('ready');
  parentPort.once('message', () => {
    for (const k of keys) c.put(k, VALUE);
    parentPort.postMessage('done');
  });
}
