// What the epoch bookkeeping costs a plain lookup: the same core built twice, with and without
// the epoch announcements, timed against each other in one process. With --variant gate, the same
// for the write gate (assembly/conn/role.ts: writeEnter, an atomic store and an atomic load of the
// role word; writeExit, an atomic store) and an overwrite (put of an existing key).
//
//   node bench/epoch.js [--variant epoch|gate] [--n 1000000] [--rounds 6] [--gets 500000] [--slice 20000] [--keep]
//
// Every operation announces its epoch in its thread slot (assembly/epoch.ts: epochEnter, an
// atomic load of the global epoch and an atomic store; epochExit, an atomic store), so that page
// deletion recycles a page only after every operation that could hold a pointer to it has ended.
// To measure what that costs, the repository's assembly/ is compiled twice with its asc and the
// release target's settings, into a temporary directory:
//
//  1. as is, into default.wasm;
//  2. with the variant's compile-time flag (assembly/benchflags.ts: asc --use LK_BENCH_NO_EPOCH=1,
//     or LK_BENCH_NO_GATE=1 for the gate), which empties epochEnter and epochExit (writeEnter
//     and writeExit), into flagged.wasm. Nothing else differs between the two builds.
//
// Both are real builds of the same source from the repository root, so the as-is build is
// byte-identical to build/latchkey.wasm when that is up to date with assembly/ (the flags compile
// away); the script says whether it is. As a check that the flag took, it prints the atomic
// stores in each build's text format.
//
// Each build gets its own shared memory and core instance, created the way a connection does it
// (CoreThread.create from dist/core.js, then a Session and a Cursor from dist/ over it), and a
// table of the same N random 8-byte keys with 8-byte values, loaded in the same random order.
// Two ways of calling get, each timed on both builds:
//   cursor.get   Cursor.get, what an application calls (key copied into the scratch area, the
//                core's lk_get, a fresh copy of the value);
//   lk_get       the raw export: the key's two 32-bit halves written into the scratch area with a
//                DataView, then lk_get (the binding's own costs left out, so the core's share,
//                and with it the epochs' share, is larger).
// Lookups are all hits, from a seeded random order, the same keys for both builds. The builds
// take turns in slices of --slice lookups (about 20 ms each at 1M keys), A B, then B A, and so
// on, so a change in the machine's speed (this machine is shared; other processes come and go)
// hits both builds alike instead of landing on one build's whole measurement. A round is
// --gets lookups per build (so --gets / --slice pairs of slices); ops/s is lookups over the summed
// time of a build's slices. Overhead = (ops/s without epochs) / (ops/s with) - 1, i.e. the extra
// time per lookup, printed three ways: over all slices (summed times), as the median over the
// pairs of adjacent slices (robust to a slice that lost its core for a while), and per round
// (summed times; the lowest and highest round).
// The temporary directory is removed at the end unless --keep.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreThread } from '../dist/core.js';
import { Session } from '../dist/session.js';
import { makeKeys, shuffled, range, byteKeys } from './keys.js';
import { fmtOps, printTable } from './format.js';
import { benchArgs } from './args.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const PAGE_SIZE = 8192;
const CACHE_SIZE = 1024 ** 3;
const WASM_PAGE = 65536;
/** asconfig.json's initialMemory (bindings/connection.ts: MODULE_INITIAL_PAGES). */
const MODULE_INITIAL_PAGES = 16;
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const WARMUP_GETS = 200_000;

function parseOptions() {
  const o = benchArgs('epoch.js', {
    variant: { type: 'string', default: 'epoch' },
    n: { type: 'number', default: 1_000_000 },
    rounds: { type: 'number', default: 6 },
    gets: { type: 'number', default: 500_000 },
    slice: { type: 'number', default: 20_000 },
    keep: { type: 'boolean' },
  });
  if (!(o.variant in VARIANTS)) throw new Error(`--variant: one of ${Object.keys(VARIANTS).join(', ')}`);
  if (!Number.isInteger(o.n) || o.n < 1000) throw new Error('--n: an integer >= 1000');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds: a positive integer');
  if (!Number.isInteger(o.slice) || o.slice < 100) throw new Error('--slice: an integer >= 100');
  if (!Number.isInteger(o.gets) || o.gets < o.slice) throw new Error('--gets: an integer >= --slice');
  return o;
}

// ---- the two builds ----

/** What each variant compiles out (its flag in assembly/benchflags.ts), and the operation it times. */
const VARIANTS = {
  epoch: { what: 'epochs', file: 'assembly/epoch.ts', flag: 'LK_BENCH_NO_EPOCH', op: 'get' },
  gate: { what: 'the write gate', file: 'assembly/conn/role.ts', flag: 'LK_BENCH_NO_GATE', op: 'put' },
};

/** Compiles assembly/ (release settings) into dir/<name>.wasm, with `flag` set to 1 if given. */
function compile(dir, name, flag) {
  const asc = join(REPO, 'node_modules', '.bin', 'asc');
  const r = spawnSync(asc, ['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release',
    '--outFile', join(dir, `${name}.wasm`), '--textFile', join(dir, `${name}.wat`), ...(flag ? ['--use', `${flag}=1`] : [])],
  { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`epoch.js: asc failed for ${name}:\n${r.stdout}${r.stderr}${r.error ?? ''}`);
  const wasm = readFileSync(join(dir, `${name}.wasm`));
  const atomicStores = (readFileSync(join(dir, `${name}.wat`), 'utf8').match(/\.atomic\.store/g) ?? []).length;
  return { name, wasm, atomicStores };
}

function buildBoth(variant) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-epoch-'));
  const t0 = performance.now();
  const asIs = compile(dir, 'default');
  const flagged = compile(dir, 'flagged', variant.flag);
  const secs = (performance.now() - t0) / 1000;
  const built = join(REPO, 'build', 'latchkey.wasm');
  const same = existsSync(built) && readFileSync(built).equals(asIs.wasm);
  console.log(`built both in ${secs.toFixed(1)} s (${dir}): as is ${asIs.wasm.length} B, ` +
    `${asIs.atomicStores} atomic stores; with ${variant.flag}=1 ${flagged.wasm.length} B, ${flagged.atomicStores} atomic stores. ` +
    `The as-is build ${same ? 'is byte-identical to' : 'DIFFERS from'} build/latchkey.wasm` +
    `${same ? '' : ' (assembly/ changed since the last npm run build?)'}`);
  if (flagged.atomicStores >= asIs.atomicStores) throw new Error(`epoch.js: ${variant.flag}=1 removed no atomic store`);
  return { dir, builds: [asIs, flagged] };
}

// ---- one core per build ----

/** A core over a fresh shared memory, as Connection.open lays it out, with the table loaded. */
async function loadCore(build, keys, n) {
  const module = await WebAssembly.compile(build.wasm);
  const memory = new WebAssembly.Memory({ initial: MODULE_INITIAL_PAGES, maximum: CACHE_SIZE / WASM_PAGE, shared: true });
  const core = await CoreThread.create(module, memory, PAGE_SIZE, CACHE_SIZE, false);
  core.x.lk_role_init(1); // a leader, as Connection.open makes one after its step-up
  const s = new Session({ core, checkOpen() {}, forgetSession() {}, async checkpoint() {} });
  s.create('table:bench');
  const c = s.openCursor('table:bench');
  for (const k of byteKeys(keys, range(0, n))) c.put(k, VALUE);
  const st = s.stats('table:bench');
  if (st.entries !== n) throw new Error(`${build.name}: ${st.entries} entries after loading ${n}`);
  // A dhandle of the table, for the raw calls: its name in the scratch area, then get and use it.
  const name = new TextEncoder().encode('bench');
  core.u8.set(name, core.KEY);
  const dh = core.x.lk_dhandle_get(name.length);
  if (dh < 0 || core.x.lk_dhandle_use(dh) !== 0) throw new Error(`${build.name}: no dhandle for the table`);
  return { name: build.name, core, s, c, dh, stats: st };
}

/** Cursor.get (or .put, overwriting) over keys ks[at..at+count) (wrapping); returns the milliseconds taken. */
function timeCursor(e, ks, at, count, put) {
  const c = e.c;
  const n = ks.length;
  let miss = 0;
  const t0 = performance.now();
  if (put) {
    for (let j = 0, i = at; j < count; j++) {
      c.put(ks[i], VALUE);
      if (++i === n) i = 0;
    }
  } else {
    for (let j = 0, i = at; j < count; j++) {
      if (c.get(ks[i]) === undefined) miss++;
      if (++i === n) i = 0;
    }
  }
  const ms = performance.now() - t0;
  if (miss) throw new Error(`${e.name}: ${miss} cursor gets missed`);
  return ms;
}

/** Raw lk_get (or lk_put) with the key's halves written into the scratch area; returns the milliseconds taken. */
function timeRaw(e, hi, lo, at, count, put) {
  const { x, dv, u8, KEY, VALUE: V } = e.core;
  const dh = e.dh;
  const n = hi.length;
  let miss = 0;
  u8.set(VALUE, V);
  const t0 = performance.now();
  for (let j = 0, i = at; j < count; j++) {
    dv.setUint32(KEY, hi[i]);
    dv.setUint32(KEY + 4, lo[i]);
    if ((put ? x.lk_put(dh, 8, 8, 0) : x.lk_get(dh, 8)) < 0) miss++;
    if (++i === n) i = 0;
  }
  const ms = performance.now() - t0;
  if (miss) throw new Error(`${e.name}: ${miss} raw gets missed`);
  return ms;
}

const o = parseOptions();
const V = VARIANTS[o.variant];
const put = V.op === 'put';
console.log(`\n## ${V.what}: ${V.op} with and without it (${V.file}), N = ${o.n.toLocaleString('en-US')} ` +
  `keys, pageSize ${PAGE_SIZE}, ${o.rounds} round(s) of ${o.gets.toLocaleString('en-US')} ${V.op}s per build, ` +
  `the builds alternating every ${o.slice.toLocaleString('en-US')} ${V.op}s`);

const { dir, builds } = buildBoth(V);
const keys = makeKeys(o.n);
const engines = [];
for (const b of builds) engines.push(await loadCore(b, keys, o.n));
const st = engines[0].stats;
console.log(`each table: ${st.entries} entries, depth ${st.depth}, ${st.leafPages} leaves, ${st.arenaPages} arena pages`);

const order = shuffled(o.n, 1);
const ks = byteKeys(keys, order);
const hi = new Uint32Array(o.n);
const lo = new Uint32Array(o.n);
for (let j = 0; j < o.n; j++) { hi[j] = keys.hi[order[j]]; lo[j] = keys.lo[order[j]]; }

const MODES = [
  { name: `cursor.${V.op}`, time: (e, at, count) => timeCursor(e, ks, at, count, put) },
  { name: `lk_${V.op} (raw export)`, time: (e, at, count) => timeRaw(e, hi, lo, at, count, put) },
];
for (const m of MODES) for (const e of engines) m.time(e, 0, WARMUP_GETS); // untimed warm-up

// ms[mode][build][round][pair]: the time of each slice.
const ms = MODES.map(() => engines.map(() => []));
const pairs = Math.floor(o.gets / o.slice);
let at = 0;
for (let round = 0; round < o.rounds; round++) {
  MODES.forEach((m, mi) => {
    const t = engines.map(() => []);
    for (let p = 0; p < pairs; p++) {
      for (const ei of p % 2 ? [1, 0] : [0, 1]) t[ei].push(m.time(engines[ei], at, o.slice));
      at = (at + o.slice) % o.n;
    }
    engines.forEach((_, ei) => ms[mi][ei].push(t[ei]));
  });
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const spread = (xs) => (xs.length > 1 ? ` ±${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / (sum(xs) / xs.length)).toFixed(0)}%` : '');
const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const perSlice = o.slice * pairs;
printTable([`${V.op} (ops/s)`, `with ${V.what}`, `without ${V.what}`, 'overhead: all slices', 'median of pairs',
  'lowest round', 'highest round'], MODES.map((m, mi) => {
  const [a, b] = ms[mi];
  const rate = (rounds) => rounds.map((r) => perSlice / (sum(r) / 1000));
  const ra = rate(a);
  const rb = rate(b);
  const pairRatios = a.flatMap((r, ri) => r.map((t, p) => t / b[ri][p] - 1));
  const roundOver = ra.map((x, ri) => rb[ri] / x - 1);
  const total = (rounds) => (perSlice * rounds.length) / (sum(rounds.map(sum)) / 1000);
  return [m.name, `${fmtOps(total(a))}${spread(ra)}`, `${fmtOps(total(b))}${spread(rb)}`,
    pct(total(b) / total(a) - 1), pct(median(pairRatios)), pct(Math.min(...roundOver)), pct(Math.max(...roundOver))];
}));
console.log(`overhead = ops/s without ${V.what} / ops/s with ${V.what} - 1 (the extra time per ${V.op}); ${o.rounds * pairs} ` +
  `pairs of adjacent slices in ${o.rounds} rounds; ± is half the spread of the rounds' rates`);

for (const e of engines) e.core.unregister();
if (o.keep) console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
