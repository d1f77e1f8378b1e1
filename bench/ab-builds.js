// Two builds of latchkey in one process, alternating rounds (ABAB, then BABA), median ops/s of
// cursor get, put and a full range scan over N random 8-byte keys: a before/after check of a
// change on a noisy machine, where two separate runs of `npm run bench` differ by more than the
// change. Only prints.
//
//   node bench/ab-builds.js --base <other checkout's dist/index.js> [--n 100000] [--rounds 9]
//
// "base" is the other checkout (build it there first), "main" is this one's dist/.

import { benchArgs } from './args.js';

const opts = benchArgs('ab-builds.js', {
  base: { type: 'string' }, n: { type: 'number', default: 100000 }, rounds: { type: 'number', default: 9 },
});
if (!opts.base) throw new Error('ab-builds.js: --base <path to the other build\'s dist/index.js> is required');
const builds = {
  base: await import(new URL(opts.base, `file://${process.cwd()}/`).href),
  main: await import(new URL('../dist/index.js', import.meta.url).href),
};
const N = opts.n, ROUNDS = opts.rounds;
const keys = []; let x = 12345;
for (let i = 0; i < N; i++) { x = (x * 1103515245 + 12345) >>> 0; const b = new Uint8Array(8); new DataView(b.buffer).setUint32(0, x); new DataView(b.buffer).setUint32(4, i); keys.push(b); }
const order = keys.map((_, i) => i); for (let i = N - 1; i > 0; i--) { const j = (i * 2654435761 >>> 0) % (i + 1); [order[i], order[j]] = [order[j], order[i]]; }
const val = new Uint8Array(8);
const t = {};
for (const [name, lk] of Object.entries(builds)) {
  const conn = await lk.open({ cacheSize: '256MB' }); const s = conn.openSession(); s.create('table:t'); const c = s.openCursor('table:t');
  for (const k of keys) c.put(k, val);
  t[name] = { c, get: [], put: [], scan: [] };
}
const med = (a) => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]; };
for (let r = 0; r < ROUNDS; r++) {
  for (const name of (r & 1 ? ['main', 'base'] : ['base', 'main'])) {
    const { c } = t[name];
    let t0 = performance.now(); for (const i of order) c.get(keys[i]); t[name].get.push(N / (performance.now() - t0) * 1000);
    t0 = performance.now(); for (const i of order) c.put(keys[i], val); t[name].put.push(N / (performance.now() - t0) * 1000);
    t0 = performance.now(); let n = 0; for (const _ of c.range({})) n++; t[name].scan.push(n / (performance.now() - t0) * 1000);
  }
}
for (const op of ['get', 'put', 'scan']) console.log(`${op}: base ${(med(t.base[op]) / 1e3).toFixed(0)} k/s, main ${(med(t.main[op]) / 1e3).toFixed(0)} k/s, main/base ${(med(t.main[op]) / med(t.base[op])).toFixed(2)}x`);
process.exit(0);
