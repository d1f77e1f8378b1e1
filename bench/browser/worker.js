// One Web Worker of bench/browser-throughput.js: the same loop as bench/throughput-worker.js
// (attach, a pool of random keys, warm-up, common start flag, random operations until the stop
// flag), in a browser. Only the runtime differs: a Web Worker instead of node:worker_threads.
import { attach } from '../../dist/browser.js';
import { prng, byteKeys } from '../keys.js';

const READY = 0;
const GO = 1;
const STOP = 2;
const POOL = 1 << 18;
const CHUNK = 256;
const WARMUP_OPS = 50_000;
const VALUE = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);

self.onmessage = async ({ data: { handle, keyBytes, n, mix, seed, ctrl: ctrlBuf } }) => {
  const ctrl = new Int32Array(ctrlBuf);
  const conn = await attach(handle);
  const c = conn.openSession().openCursor('table:bench');
  const r = prng(seed);
  const idx = new Uint32Array(POOL);
  for (let i = 0; i < POOL; i++) idx[i] = r.below(n);
  const pool = byteKeys({ bytes: new Uint8Array(keyBytes) }, idx);
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
  Atomics.wait(ctrl, GO, 0);
  let ops = 0;
  const t0 = performance.now();
  while (Atomics.load(ctrl, STOP) === 0) {
    run(CHUNK);
    ops += CHUNK;
  }
  const ms = performance.now() - t0;
  await conn.close();
  self.postMessage({ ops, ms, misses });
};
