// A worker of bench/level.js: attaches to the shared LatchkeyLevel database, builds its share of
// the keys (every of-th key from id, untimed), says it is ready, and on 'go' puts them one at a
// time, then gets them in a shuffled order, through the level API; replies with the times.
import { parentPort, workerData } from 'node:worker_threads';
import { LatchkeyLevel } from '../dist/level-node.js';
import { byteKeys, shuffled } from './keys.js';

const { handle, keys, id, of, n } = workerData;
const VALUE = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
const db = LatchkeyLevel.attach(handle);
await db.open();
const mine = [];
for (let i = id; i < n; i += of) mine.push(i);
const perm = shuffled(mine.length, 0x77 + id);
const all = { bytes: keys };
const putKeys = byteKeys(all, mine);
const getKeys = byteKeys(all, Array.from(perm, (j) => mine[j]));
parentPort.postMessage('ready');
parentPort.once('message', async () => {
  let t = performance.now();
  for (let i = 0; i < putKeys.length; i++) await db.put(putKeys[i], VALUE);
  const putMs = performance.now() - t;
  t = performance.now();
  let hits = 0;
  for (let i = 0; i < getKeys.length; i++) if ((await db.get(getKeys[i])) !== undefined) hits++;
  const getMs = performance.now() - t;
  await db.close();
  parentPort.postMessage({ putMs, getMs, hits });
});
