// The binding's per-operation path: cursor get, put, insert, remove, a full range() scan and a
// full batches() scan (--ops batches, not in the default set) over
// N random 8-byte keys with 8-byte values, for Uint8Array keys ('u' tables) and string keys ('S'
// tables, 16 hex digits of the key, 8-character values), with one or two builds in one process,
// alternating rounds (ABAB, then BABA), median ops/s of the rounds, by wall clock and by this
// process's CPU time (process.cpuUsage: on a machine shared with other work, time the process
// waited for a core does not count there). Only prints.
//
//   node bench/perop.js [--base <other build's dist/index.js>] [--n 1000000] [--rounds 5]
//                       [--ops get,put,insert,remove,range] [--formats u,S] [--only main|base]
//
// Keys are loaded in one seeded random order; every timed pass uses another (a fresh random
// order per pass), with lookup keys as fresh objects (views of one buffer, in that order, as
// bench/keys.js byteKeys builds them; strings built by concatenation, so none is a stored one).
//   get     N hits                  put     N overwrites
//   remove  N/2 present keys        insert  the same N/2 keys back (each one absent)
//   range   every entry in key order, counting entries/s
//   batches every entry in key order as columnar batches, reading a byte of each key and value
//           (the peer benchmark's scan of the batch engine, bench/engines.js), entries/s
// Each pass's result is checked (hits, removals, inserts, entries), so a pass that silently does
// nothing fails loudly. --only main runs this checkout's build alone (for node --cpu-prof).

import { benchArgs } from './args.js';
import { makeKeys, shuffled, byteKeys } from './keys.js';

const o = benchArgs('perop.js', {
  base: { type: 'string' }, n: { type: 'number', default: 1_000_000 }, rounds: { type: 'number', default: 5 },
  ops: { type: 'string', default: 'get,put,insert,remove,range' }, formats: { type: 'string', default: 'u,S' },
  only: { type: 'string' },
});
const OPS = o.ops.split(',');
const FORMATS = o.formats.split(',');
for (const op of OPS) if (!['get', 'put', 'insert', 'remove', 'range', 'batches'].includes(op)) throw new Error(`perop.js: unknown op ${op}`);
for (const f of FORMATS) if (f !== 'u' && f !== 'S') throw new Error(`perop.js: unknown format ${f}`);
if (!(Number.isInteger(o.n) && o.n >= 2)) throw new Error('perop.js: --n must be an integer >= 2');

const paths = {};
if (o.only !== 'base') paths.main = new URL('../dist/index.js', import.meta.url).href;
if (o.base && o.only !== 'main') paths.base = new URL(o.base, `file://${process.cwd()}/`).href;
const builds = {};
for (const [name, href] of Object.entries(paths)) builds[name] = await import(href);

const N = o.n;
const keys = makeKeys(N);
const hex = (i) => keys.hi[i].toString(16).padStart(8, '0') + keys.lo[i].toString(16).padStart(8, '0');
/** The keys idx[0..] in that order, in format f's representation, as fresh objects. */
const keysFor = (f, idx) => (f === 'u' ? byteKeys(keys, idx) : Array.from(idx, (i) => hex(i)));
const VALUE = { u: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), S: 'abcdefgh' };

const state = {};
for (const [name, lk] of Object.entries(builds)) {
  const conn = await lk.open({ cacheSize: '1GB', log: false });
  const s = conn.openSession();
  state[name] = {};
  for (const f of FORMATS) {
    const uri = `table:${f}`;
    s.create(uri, { keyFormat: f, valueFormat: f });
    const c = s.openCursor(uri);
    const load = keysFor(f, shuffled(N, 1));
    for (const k of load) c.put(k, VALUE[f]);
    state[name][f] = { c, runs: Object.fromEntries(OPS.map((op) => [op, []])) };
  }
}

function pass(c, f, op, seed) {
  const ks = op === 'range' || op === 'batches' ? [] : keysFor(f, shuffled(N, seed));
  const half = ks.slice(0, N >> 1);
  const v = VALUE[f];
  let n = 0;
  let want = N;
  let t0;
  let c0;
  if (op === 'get') {
    c0 = process.cpuUsage();
    t0 = performance.now();
    for (let j = 0; j < N; j++) if (c.get(ks[j]) !== undefined) n++;
  } else if (op === 'put') {
    c0 = process.cpuUsage();
    t0 = performance.now();
    for (let j = 0; j < N; j++) c.put(ks[j], v);
    n = N;
  } else if (op === 'remove' || op === 'insert') {
    // remove then insert back the same half, so every pass starts from the full table; only
    // the named op is timed.
    want = half.length;
    let c1 = process.cpuUsage();
    let t1 = performance.now();
    let removed = 0;
    for (const k of half) if (c.remove(k)) removed++;
    const tr = performance.now() - t1;
    const cr = cpuMs(c1);
    c1 = process.cpuUsage();
    t1 = performance.now();
    let inserted = 0;
    for (const k of half) if (c.insert(k, v)) inserted++;
    const ti = performance.now() - t1;
    const ci = cpuMs(c1);
    if (removed !== want || inserted !== want) throw new Error(`perop.js: removed ${removed}, inserted ${inserted} of ${want}`);
    return op === 'remove' ? [want / tr * 1000, want / cr * 1000] : [want / ti * 1000, want / ci * 1000];
  } else if (op === 'batches') {
    c0 = process.cpuUsage();
    t0 = performance.now();
    let acc = 0;
    for (const { count, keys: kb, keyEnds, values, valueEnds } of c.batches()) {
      for (let i = 0; i < count; i++) acc += kb[keyEnds[i] - 1] + values[i ? valueEnds[i - 1] : 0];
      n += count;
    }
    if (acc < 0) throw new Error('perop.js: unreachable');
  } else {
    c0 = process.cpuUsage();
    t0 = performance.now();
    for (const [k, val] of c.range()) if (k !== val) n++;
  }
  const ms = performance.now() - t0;
  const cpu = cpuMs(c0);
  if (n !== want) throw new Error(`perop.js: ${op} saw ${n} of ${want}`);
  return [want / ms * 1000, want / cpu * 1000];
}

/** Milliseconds of CPU time (user and system, all of this process's threads) since `c0`. */
function cpuMs(c0) {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000;
}

const names = Object.keys(builds);
let seed = 100;
for (let r = 0; r < o.rounds; r++) {
  const order = r & 1 ? [...names].reverse() : names;
  for (const f of FORMATS) {
    for (const op of OPS) {
      const s = seed++;
      for (const name of order) state[name][f].runs[op].push(pass(state[name][f].c, f, op, s));
    }
  }
}

const med = (a) => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]; };
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);
console.log(`perop.js: N=${N}, ${o.rounds} rounds, node ${process.version}; ops/s (range, batches: entries/s), median of the rounds by wall clock | by CPU time`);
for (const f of FORMATS) {
  for (const op of OPS) {
    const line = [0, 1].map((m) => {
      const rate = (name) => med(state[name][f].runs[op].map((r) => r[m]));
      const cells = names.map((name) => `${name} ${fmt(rate(name))}`);
      return cells.join(', ') + (state.base && state.main ? ` (${(rate('main') / rate('base')).toFixed(2)}x)` : '');
    });
    console.log(`${(f === 'u' ? 'Uint8Array' : 'string').padEnd(10)} ${op.padEnd(6)}: ${line.join(' | ')}`);
  }
}
process.exit(0);
