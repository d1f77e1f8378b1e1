// The core's own point lookup, without the bindings: N random 8-byte keys with 8-byte values,
// then M lookups of present keys in a fresh random order through the raw `lk_get` export (the key
// written straight into the thread's scratch KEY area). For in-page search work (issue 11).
//
//   node bench/core-lookup.js [--dist ../other/dist/index.js] [--n 1000000] [--m 1000000] [--rounds 5]
//
// Prints the median ns per lookup over the rounds, and arena bytes per entry (pages x pageSize /
// entries). Under cachegrind, compare a run with --m 0 (the load alone) with one with --m M: the
// difference divided by M is the cost per lookup:
//   valgrind --tool=cachegrind --cache-sim=yes node bench/core-lookup.js --m 0 --rounds 1
//   valgrind --tool=cachegrind --cache-sim=yes node bench/core-lookup.js --m 200000 --rounds 1

import { benchArgs } from './args.js';

const opts = benchArgs('core-lookup.js', {
  dist: { type: 'string' }, n: { type: 'number', default: 1_000_000 }, m: { type: 'number', default: 1_000_000 },
  rounds: { type: 'number', default: 5 },
});
const lk = await import(opts.dist ? new URL(opts.dist, `file://${process.cwd()}/`).href : new URL('../dist/index.js', import.meta.url).href);
const N = opts.n, M = opts.m;
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

const conn = await lk.open({ cacheSize: '512MB' });
const s = conn.openSession();
s.create('table:t');
const c = s.openCursor('table:t');
const val = new Uint8Array(8);
for (let i = 0; i < N; i++) c.put(keys.subarray(i * 8, i * 8 + 8), val);
const core = conn.core;
const dh = c.dh; // the cursor's dhandle (private in TypeScript, a plain field at run time)
const KEY = core.KEY;
const u8 = core.u8;
const st = s.stats('table:t');
const results = [];
for (let r = 0; r < opts.rounds && M > 0; r++) {
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < M; i++) {
    const k = order[i] * 8;
    for (let j = 0; j < 8; j++) u8[KEY + j] = keys[k + j];
    if (core.x.lk_get(dh, 8) === 8) hits++;
  }
  const ns = Number(process.hrtime.bigint() - t0) / M;
  if (hits !== M) throw new Error(`core-lookup.js: ${M - hits} lookups missed`);
  results.push(ns);
}
results.sort((a, b) => a - b);
console.log(JSON.stringify({
  n: N, m: M, pageSize: conn.pageSize, pages: st.pages, depth: st.depth,
  arenaBytesPerEntry: +(st.pages * conn.pageSize / N).toFixed(2),
  nsPerLookup: results.length ? +results[results.length >> 1].toFixed(1) : null,
  rounds: results.map((v) => +v.toFixed(1)),
}));
await conn.close();
process.exit(0);
