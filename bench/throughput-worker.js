// One worker of bench/throughput.js: attaches to the shared connection (or, for the control
// runs, opens a private one and loads its own copy of the N keys), builds its own pool of random
// keys, warms up, waits for the common start flag, then runs random operations until the stop
// flag is set, and reports how many it completed and in how long.

import { parentPort } from 'node:worker_threads';
import { attach, open } from '../dist/index.js';
import { byteKeys, range } from './keys.js';
import { runWorkload, VALUE } from './workload.js';

/** A private connection holding its own table of the n keys, built like the shared one. */
async function openPrivate(keyBytes, n, pageSize) {
  const conn = await open({ cacheSize: '1GB', pageSize, log: false });
  const s = conn.openSession();
  s.create('table:bench');
  const c = s.openCursor('table:bench');
  for (const k of byteKeys({ bytes: new Uint8Array(keyBytes) }, range(0, n))) c.put(k, VALUE);
  return conn;
}

parentPort.once('message', async ({ handle, keyBytes, n, mix, privateTree, seed, ctrl }) => {
  const conn = privateTree ? await openPrivate(keyBytes, n, handle.config.pageSize) : await attach(handle);
  const c = conn.openSession().openCursor('table:bench');
  const result = runWorkload(c, { keyBytes, n, mix, seed }, ctrl);
  await conn.close();
  parentPort.postMessage(result);
});
