// A worker of test/level.test.ts: attaches to a LatchkeyLevel database shared by the main thread
// and uses it through the level API (puts, a batch with deletes, getMany, an iterator), on keys
// of its own prefix; replies with what it read.
import { parentPort, workerData } from 'node:worker_threads';
import { LatchkeyLevel } from 'latchkey/level';

const { handle, id, n } = workerData;
const db = LatchkeyLevel.attach(handle);
await db.open();
const key = (j) => `w${id}-${String(j).padStart(5, '0')}`;
for (let j = 0; j < n; j++) await db.put(key(j), `v${j}`);
// Every third key removed, every fifth rewritten, in batches of 50 (atomic each).
for (let j = 0; j < n; j += 50) {
  const ops = [];
  for (let k = j; k < Math.min(n, j + 50); k++) {
    if (k % 3 === 0) ops.push({ type: 'del', key: key(k) });
    else if (k % 5 === 0) ops.push({ type: 'put', key: key(k), value: `b${k}` });
  }
  await db.batch(ops);
}
const got = await db.getMany([key(1), key(3), key(5)]);
const scanned = await db.iterator({ gte: `w${id}-`, lt: `w${id}.` }).all();
await db.close();
parentPort.postMessage({ got, scanned });
