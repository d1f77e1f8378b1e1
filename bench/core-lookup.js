// The core's own point lookup, without the bindings: N random 8-byte keys with 8-byte values,
// then M lookups of present keys in a random order through the raw `lk_get` export (the key
// written straight into the thread's scratch KEY area). For in-page search work (issue 11).
//
//   node bench/core-lookup.js [--dist ../other/dist/index.js] [--base <dist>] [--n 1000000] [--m 1000000] [--rounds 5]
//                             [--many K] [--page-size 4096|8192|16384|...]
//
// With --many K, the same lookups go through the raw `lk_get_many` export instead, K keys per
// call (packed as getMany packs them, once, before the rounds: a round copies each chunk in with
// one set()), so that the batch path's core cost is measured alone. K is at most what the batch
// input holds (BATCH_IN_SIZE / 10 for these 8-byte keys).
//
// Prints, per build, the median ns per lookup over the rounds and arena bytes per entry (pages x
// pageSize / entries). With --base, that build runs too, in the same process, rounds alternating
// (ABAB..), for a before/after figure on a noisy machine. Under cachegrind, compare a run with
// --m 0 (the load alone) with one with --m M: the difference divided by M is the cost per lookup:
//   valgrind --tool=cachegrind --cache-sim=yes node bench/core-lookup.js --m 0 --rounds 1
//   valgrind --tool=cachegrind --cache-sim=yes node bench/core-lookup.js --m 200000 --rounds 1

import { benchArgs } from './args.js';

const opts = benchArgs('core-lookup.js', {
  dist: { type: 'string' }, base: { type: 'string' }, n: { type: 'number', default: 1_000_000 },
  m: { type: 'number', default: 1_000_000 }, rounds: { type: 'number', default: 5 },
  many: { type: 'number', default: 0 }, 'page-size': { type: 'number' },
});
const MANY = opts.many;
if (!Number.isInteger(MANY) || MANY < 0) throw new Error('core-lookup.js: --many must be a non-negative integer');
const N = opts.n, M = opts.m;
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(M) || M < 0) throw new Error('core-lookup.js: --n must be a positive integer and --m a non-negative one');
const here = (p) => new URL(p, `file://${process.cwd()}/`).href;
const builds = { this: opts.dist ? here(opts.dist) : new URL('../dist/index.js', import.meta.url).href };
if (opts.base) builds.base = here(opts.base);

// Keys: a fixed xorshift stream, 8 bytes each, distinct (the low 4 bytes are a bijection of i).
const keys = new Uint8Array(N * 8);
const dv = new DataView(keys.buffer);
let x = 0x9e3779b9;
for (let i = 0; i < N; i++) {
  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
  dv.setUint32(i * 8, x);
  dv.setUint32(i * 8 + 4, Math.imul(i, 0x9e3779b1) >>> 0);
}
const order = new Uint32Array(M);
let y = 12345;
for (let i = 0; i < M; i++) { y = (Math.imul(y, 1103515245) + 12345) >>> 0; order[i] = y % N; }

const runs = {};
for (const [name, url] of Object.entries(builds)) {
  const lk = await import(url);
  const conn = await lk.open({ cacheSize: '512MB', ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) });
  const s = conn.openSession();
  s.create('table:t');
  const c = s.openCursor('table:t');
  const val = new Uint8Array(8);
  for (let i = 0; i < N; i++) c.put(keys.subarray(i * 8, i * 8 + 8), val);
  const st = s.stats('table:t');
  // The cursor's dhandle: private in TypeScript, a plain field at run time.
  const abi = await import(new URL('abi.generated.js', url).href);
  runs[name] = { conn, core: conn.core, dh: c.dh, st, abi, ns: [] };
}

/**
 * The lookups packed as lk_get_many takes them, MANY keys per chunk ([u16 klen][key] each), built
 * once before any round: a round copies each chunk into the batch input with one set(), so that
 * what it times is the core's batch path, not the packing of keys (a byte loop over a key array
 * in a random order cost more than the lookups in cache).
 */
let packedChunks;
function chunksMany() {
  if (packedChunks) return packedChunks;
  packedChunks = [];
  for (let i = 0; i < M; i += MANY) {
    const n = Math.min(MANY, M - i);
    const chunk = new Uint8Array(n * 10);
    for (let q = 0; q < n; q++) {
      const k = order[i + q] * 8;
      chunk[q * 10] = 8;
      chunk.set(keys.subarray(k, k + 8), q * 10 + 2);
    }
    packedChunks.push(chunk);
  }
  return packedChunks;
}

/** One round of M lookups through lk_get_many, MANY keys per call: ns per lookup. */
function roundMany({ core, dh, abi }) {
  const u8 = core.u8, many = core.x.lk_get_many;
  const input = core.OUT + abi.BATCH_IN, output = core.OUT + abi.BATCH_OUT;
  if (MANY * 10 > abi.BATCH_IN_SIZE) throw new Error(`core-lookup.js: --many ${MANY} keys do not fit the batch input (${abi.BATCH_IN_SIZE} bytes: at most ${Math.floor(abi.BATCH_IN_SIZE / 10)})`);
  const chunks = chunksMany();
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (const chunk of chunks) {
    const n = chunk.length / 10;
    u8.set(chunk, input);
    for (let done = 0; done < n;) {
      // The output holds far more than MANY 8-byte values: one call does the chunk.
      const r = many(dh, n - done, chunk.length - done * 10);
      if (r <= 0) throw new Error(`core-lookup.js: lk_get_many answered ${r}`);
      for (let q = 0, o = output; q < r; q++) {
        const len = u8[o] | (u8[o + 1] << 8);
        if (len === 8) { hits++; o += 10; } else o += 2;
      }
      done += r;
      if (done < n) u8.copyWithin(input, input + done * 10, input + chunk.length);
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / M;
  if (hits !== M) throw new Error(`core-lookup.js: ${M - hits} lookups missed`);
  return ns;
}

/** One round of M lookups on one build: ns per lookup. */
function round({ core, dh }) {
  const KEY = core.KEY, u8 = core.u8, get = core.x.lk_get;
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < M; i++) {
    const k = order[i] * 8;
    for (let j = 0; j < 8; j++) u8[KEY + j] = keys[k + j];
    if (get(dh, 8) === 8) hits++;
  }
  const ns = Number(process.hrtime.bigint() - t0) / M;
  if (hits !== M) throw new Error(`core-lookup.js: ${M - hits} lookups missed`);
  return ns;
}

const names = Object.keys(runs);
for (let r = 0; r < opts.rounds && M > 0; r++) {
  for (const name of r & 1 ? [...names].reverse() : names) runs[name].ns.push((MANY ? roundMany : round)(runs[name]));
}
const median = (a) => { const b = [...a].sort((p, q) => p - q); return b.length ? b[b.length >> 1] : null; };
for (const [name, r] of Object.entries(runs)) {
  console.log(JSON.stringify({
    build: name, n: N, m: M, many: MANY || undefined, pageSize: r.conn.pageSize, pages: r.st.pages, depth: r.st.depth,
    arenaBytesPerEntry: +(r.st.pages * r.conn.pageSize / N).toFixed(2),
    nsPerLookup: r.ns.length ? +median(r.ns).toFixed(1) : null, rounds: r.ns.map((v) => +v.toFixed(1)),
  }));
  await r.conn.close();
}
if (runs.base && M > 0) console.log(`this/base time per lookup: ${(median(runs.this.ns) / median(runs.base.ns)).toFixed(3)}`);
process.exit(0);
