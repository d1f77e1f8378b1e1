// One worker of bench/throughput.js: attaches to the shared connection (or, for the control
// runs, opens a private one and loads its own copy of the N keys), builds its own pool of random
// keys, warms up, waits for the common start flag, then runs random operations until the stop
// flag is set, and reports how many it completed and in how long.

import { parentPort } from 'node:worker_threads';
import { attach, open } from '../dist/index.js';
import { prng, byteKeys, range } from './keys.js';

// Control words in the shared Int32Array (same layout as throughput.js).
const READY = 0;
const GO = 1;
const STOP = 2;

/** Random keys per worker, reused cyclically: enough to touch every leaf of a 1M-key tree many
 * times over, without each worker holding a million key objects. */
const POOL = 1 << 18;
/** Operations between two looks at the stop flag. */
const CHUNK = 256;
const WARMUP_OPS = 50_000;
const VALUE = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);

/** A private connection holding its own table of the n keys, built like the shared one. */
async function openPrivate(keyBytes, n, pageSize) {
  const conn = await open({ cacheSize: '1GB', pageSize });
  const s = conn.openSession();
  s.create('table:bench');
  const c = s.openCursor('table:bench');
  for (const k of byteKeys({ bytes: new Uint8Array(keyBytes) }, range(0, n))) c.put(k, VALUE);
  return conn;
}

parentPort.once('message', async ({ handle, keyBytes, n, mix, privateTree, seed, ctrl }) => {
  const conn = privateTree ? await openPrivate(keyBytes, n, handle.config.pageSize) : await attach(handle);
  const c = conn.openSession().openCursor('table:bench');
  const r = prng(seed);
  const idx = new Uint32Array(POOL);
  for (let i = 0; i < POOL; i++) idx[i] = r.below(n);
  // Copied, in use order, into this worker's own buffer (see byteKeys).
  const pool = byteKeys({ bytes: new Uint8Array(keyBytes) }, idx);
  // Which pool slots are writes: about half for the 50/50 mix, none for read-only.
  const isPut = new Uint8Array(POOL);
  if (mix === 'mixed') for (let i = 0; i < POOL; i++) isPut[i] = r.next() & 1;

  let at = 0;
  let misses = 0;
  const run = (count) => {
    for (let j = 0; j < count; j++) {
      if (isPut[at] === 1) c.put(pool[at], VALUE);
      else if (c.get(pool[at]) === undefined) misses++;
      at = (at + 1) & (POOL - 1);
    }
  };

  run(WARMUP_OPS);
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  Atomics.wait(ctrl, GO, 0);

  let ops = 0;
  const t0 = performance.now();
  while (Atomics.load(ctrl, STOP) === 0) {
    run(CHUNK);
    ops += CHUNK;
  }
  const ms = performance.now() - t0;
  await conn.close();
  parentPort.postMessage({ ops, ms, misses });
});
