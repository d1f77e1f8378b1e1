// The batch calls against the per-op loops they replace, in one process, alternating rounds:
// median ops/s of CPU time (entries/s for scans) over N random 8-byte keys and 8-byte values in a random
// order. insert (put loop vs putMany into an empty table), lookup (get loop vs getMany, keys in a
// fresh random order), scan (range() vs batches()), delete of half (remove loop vs removeMany).
// Only prints.
//
//   node bench/batch.js [--n 1000000] [--rounds 3] [--chunk 0]
//
// --chunk k > 0 passes the batch calls k keys at a time (0: all of them in one call).

import { benchArgs } from './args.js';
import { open } from '../dist/index.js';

const opts = benchArgs('batch.js', {
  n: { type: 'number', default: 1_000_000 }, rounds: { type: 'number', default: 3 }, chunk: { type: 'number', default: 0 },
});
const N = opts.n, ROUNDS = opts.rounds, CHUNK = opts.chunk || N;
const keys = []; let x = 12345;
for (let i = 0; i < N; i++) { x = (x * 1103515245 + 12345) >>> 0; const b = new Uint8Array(8); new DataView(b.buffer).setUint32(0, x); new DataView(b.buffer).setUint32(4, i); keys.push(b); }
const shuffled = (seed) => { const o = keys.map((_, i) => i); let y = seed; for (let i = N - 1; i > 0; i--) { y = (y * 1103515245 + 12345) >>> 0; const j = y % (i + 1); [o[i], o[j]] = [o[j], o[i]]; } return o.map((i) => keys[i]); };
const val = new Uint8Array(8).fill(7);
const chunks = (a) => { const out = []; for (let i = 0; i < a.length; i += CHUNK) out.push(a.slice(i, i + CHUNK)); return out; };
const med = (a) => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]; };
// CPU time of this process (user + system), not wall time: on a shared machine the wall clock
// mostly measures the other processes.
const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const rate = (n, t0) => n / (now() - t0) * 1000;
const t = { insert: [[], []], lookup: [[], []], scan: [[], []], delete: [[], []] };

for (let r = 0; r < ROUNDS; r++) {
  for (const batch of r & 1 ? [1, 0] : [0, 1]) {
    const conn = await open({ cacheSize: '512MB', log: false });
    const s = conn.openSession(); s.create('table:t'); const c = s.openCursor('table:t');
    const entries = chunks(keys.map((k) => [k, val]));
    let t0 = now();
    if (batch) for (const e of entries) c.putMany(e); else for (const k of keys) c.put(k, val);
    t.insert[batch].push(rate(N, t0));
    const look = shuffled(r + 1);
    const lookChunks = chunks(look);
    t0 = now();
    let found = 0;
    if (batch) { for (const ks of lookChunks) for (const v of c.getMany(ks)) if (v) found++; } else for (const k of look) if (c.get(k)) found++;
    t.lookup[batch].push(rate(N, t0));
    if (found !== N) throw new Error(`found ${found} of ${N}`);
    t0 = now();
    let n = 0;
    if (batch) for (const b of c.batches()) n += b.count; else for (const _ of c.range()) n++;
    t.scan[batch].push(rate(n, t0));
    const half = chunks(shuffled(r + 7).slice(0, N >> 1));
    t0 = now();
    let removed = 0;
    if (batch) for (const ks of half) removed += c.removeMany(ks); else for (const ks of half) for (const k of ks) if (c.remove(k)) removed++;
    t.delete[batch].push(rate(N >> 1, t0));
    if (removed !== N >> 1) throw new Error(`removed ${removed}`);
    await conn.close();
  }
}
console.log(`N=${N} rounds=${ROUNDS} chunk=${CHUNK} node ${process.version}`);
for (const [op, [perOp, batch]] of Object.entries(t)) {
  console.log(`${op.padEnd(7)} per-op ${(med(perOp) / 1e6).toFixed(2)} M/s   batch ${(med(batch) / 1e6).toFixed(2)} M/s   batch/per-op ${(med(batch) / med(perOp)).toFixed(2)}x`);
}
