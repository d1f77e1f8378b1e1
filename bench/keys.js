// Deterministic benchmark data: 8-byte keys, a seeded PRNG, shuffled orders.
//
// Key i is the 8 bytes  fmix32(i + SEED_HI) ‖ fmix32(i ^ SEED_LO)  in big-endian order.
// fmix32 (the MurmurHash3 finalizer) is a bijection on 32-bit integers, so the high halves of
// keys 0..2^32-1 are all distinct: every key is unique (no dedup pass), the keys look uniformly
// random, and the order of keys (as unsigned bytes) is the order of their high halves.
// Every engine and every run sees exactly the same keys.

const SEED_HI = 0x2545f491;
const SEED_LO = 0x6a09e667;

function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seeded xorshift32 generator: next() returns a uint32. */
export function prng(seed) {
  let s = (seed | 0) || 0x9e3779b9;
  return {
    next() {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s >>> 0;
    },
    /** Integer in [0, n). */
    below(n) {
      return this.next() % n;
    },
  };
}

/** A seeded Fisher-Yates shuffle of 0..n-1. */
export function shuffled(n, seed) {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const r = prng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = r.below(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** 0..n-1 as a Uint32Array (index lists for batches). */
export function range(from, n) {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = from + i;
  return a;
}

/**
 * `count` keys: `bytes` holds key i at i*8 (in a SharedArrayBuffer when `shared`, so workers
 * can map the same keys), `hi`/`lo` are its big-endian halves.
 */
export function makeKeys(count, shared = false) {
  const buf = shared ? new SharedArrayBuffer(count * 8) : new ArrayBuffer(count * 8);
  const bytes = new Uint8Array(buf);
  const dv = new DataView(buf);
  const hi = new Uint32Array(count);
  const lo = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    hi[i] = fmix32((i + SEED_HI) >>> 0);
    lo[i] = fmix32((i ^ SEED_LO) >>> 0);
    dv.setUint32(i * 8, hi[i], false);
    dv.setUint32(i * 8 + 4, lo[i], false);
  }
  return { count, bytes, hi, lo };
}

/**
 * The keys idx[0..], in that order, as 8-byte Uint8Arrays: views of one fresh buffer into which
 * the keys are copied in that order (the form latchkey and lmdb take). Building every key list
 * in the order it will be used keeps the harness's own memory traffic (finding the next key)
 * sequential, so what a benchmark times is the engine's work.
 */
export function byteKeys(keys, idx) {
  const n = idx.length;
  const buf = new Uint8Array(n * 8);
  const out = new Array(n);
  for (let j = 0; j < n; j++) {
    const i = idx[j];
    buf.set(keys.bytes.subarray(i * 8, i * 8 + 8), j * 8);
    out[j] = buf.subarray(j * 8, j * 8 + 8);
  }
  return out;
}

/**
 * Indices 0..n-1 sorted by key. Keys order by their distinct high halves, so sorting
 * hi * 2^21 + i (exact in a double for i < 2^21) sorts the indices.
 */
export function sortedIndices(keys, n) {
  if (n > 1 << 21) throw new RangeError('sortedIndices: at most 2^21 keys');
  const enc = new Float64Array(n);
  for (let i = 0; i < n; i++) enc[i] = keys.hi[i] * 2 ** 21 + i;
  enc.sort();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = enc[i] % 2 ** 21;
  return out;
}

/**
 * The keys idx[0..], in that order, as fresh 8-byte Uint8Arrays scattered in the heap: each key
 * its own object (as keys parsed from requests are), allocated in a seeded order unrelated to
 * the order of use, then moved by the GC (when --expose-gc) into the old generation in that
 * allocation order. A walk through the list in use order then jumps around the heap, as it
 * would in an application; byteKeys, by contrast, lays the keys out in use order.
 */
export function scatteredByteKeys(keys, idx, seed = 0x5eed) {
  const n = idx.length;
  const alloc = shuffled(n, seed);
  const pool = new Array(n);
  const src = keys.bytes;
  for (let j = 0; j < n; j++) {
    const at = idx[alloc[j]] * 8;
    const k = new Uint8Array(8);
    for (let b = 0; b < 8; b++) k[b] = src[at + b];
    pool[j] = k;
  }
  // Young objects are copied in the order the GC reaches them: promote them while only `pool`
  // (allocation order) holds them, not `out` (use order). Two scavenges promote every survivor
  // (the older ones were promoted by the scavenges during the loop, also from `pool`); much
  // cheaper than a full GC with a large heap.
  globalThis.gc?.({ type: 'minor' });
  globalThis.gc?.({ type: 'minor' });
  const out = new Array(n);
  for (let j = 0; j < n; j++) out[alloc[j]] = pool[j];
  return out;
}

/**
 * The keys idx[0..] as numbers: the top 53 bits of the 64-bit big-endian key,
 * floor(key / 2^11) = hi * 2^21 + (lo >>> 11), exact in a double. Truncation keeps the order
 * (never reverses two keys), and it keeps keys distinct because the high halves of this key set
 * already are (makeKeys): so the numbers order exactly as the bytes do. The form an application
 * with 8-byte ids would give sorted-btree or a Map. Plain doubles, stored unboxed in the array:
 * no heap objects to scatter.
 */
export function numberKeys(keys, idx) {
  const n = idx.length;
  const out = new Array(n);
  for (let j = 0; j < n; j++) out[j] = keys.hi[idx[j]] * 2 ** 21 + (keys.lo[idx[j]] >>> 11);
  return out;
}
