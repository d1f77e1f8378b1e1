// The multi-worker throughput loop, shared by bench/throughput-worker.js (node:worker_threads)
// and bench/browser/worker.js (Web Workers): a pool of random keys per worker, a warm-up, the
// common start flag, then random operations until the stop flag. Runtime-neutral.
import { prng, byteKeys } from './keys.js';

// Control words in the shared Int32Array (the layout throughput.js and browser-throughput.js use).
export const READY = 0;
export const GO = 1;
export const STOP = 2;

/** Random keys per worker, reused cyclically: enough to touch every leaf of a 1M-key tree many
 * times over, without each worker holding a million key objects. */
const POOL = 1 << 18;
/** Operations between two looks at the stop flag. */
const CHUNK = 256;
const WARMUP_OPS = 50_000;
export const VALUE = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);

/**
 * Runs the workload on cursor `c` over `ctrl` (an Int32Array): builds the pool from `keyBytes`
 * (n keys), warms up, reports ready, waits for GO, runs until STOP. Returns { ops, ms, misses }.
 */
export function runWorkload(c, { keyBytes, n, mix, seed }, ctrl) {
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
  return { ops, ms: performance.now() - t0, misses };
}
