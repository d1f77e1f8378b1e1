// Property tests: random operation sequences against a sorted in-memory model, in both formats,
// with long keys and large values so that pages split often and trees grow several levels: on
// 4096-byte pages (where key + value is capped at the item limit, 1497 bytes) and on 8192-byte
// pages (1024-byte keys with quarter-page values); plus deterministic tests that drive splits at
// every level, splits of items at the size limits, and a positioned cursor's read-ahead.
//
// The test named "cursor-next-hint" at the end reproduces a library bug and fails until it is
// fixed (bindings/cursor.ts: the right-sibling hint of an exhausted read-ahead).
//
// Environment: LATCHKEY_SEED=<n> replays a seed, LATCHKEY_PROP_SCALE=<x> multiplies the number of
// runs, LATCHKEY_PROP_LOG=1 prints each run.
//
// Ordering is unsigned bytewise over the key bytes (UTF-8 for strings). The model keys its Map by
// the lowercase hex of those bytes: comparing two such hex strings with < gives the same order as
// comparing the bytes (two hex digits per byte, and a proper prefix sorts first in both).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { open, type Connection, type Cursor, type Session, type TableStats } from '../dist/index.js';
import { rng } from './helpers.js';

const PAGE_SIZE = 4096;
const MAX_KEY = 1024;
/** A quarter page: the largest value for short keys. */
const MAX_VALUE = PAGE_SIZE / 4;
const T = 'table:t';

const utf8 = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

// ---------------------------------------------------------------------------------------------
// Formats: how the model sees keys and values of each table format
// ---------------------------------------------------------------------------------------------

interface Format<K, V> {
  readonly name: 'u' | 'S';
  bytes(k: K): Uint8Array;
  /** Length of a value in bytes (UTF-8 for strings). */
  valueLength(v: V): number;
  /** A comparable, printable form of a value (hex for bytes, the string itself for strings). */
  showValue(v: V): string;
  /** The longest prefix of v (whole characters for strings) of at most `max` bytes. */
  truncate(v: V, max: number): V;
}

const U: Format<Uint8Array, Uint8Array> = {
  name: 'u',
  bytes: (k) => k,
  valueLength: (v) => v.length,
  showValue: (v) => `u:${hex(v)}`,
  truncate: (v, max) => (v.length <= max ? v : v.slice(0, max)),
};

const S: Format<string, string> = {
  name: 'S',
  bytes: (k) => utf8.encode(k),
  valueLength: (v) => utf8Length(v),
  showValue: (v) => `S:${v}`,
  truncate: (v, max) => {
    if (utf8.encode(v).length <= max) return v;
    let out = '';
    let n = 0;
    for (const ch of v) {
      const b = utf8.encode(ch).length;
      if (n + b > max) break;
      out += ch;
      n += b;
    }
    return out;
  },
};

/**
 * The item limits, as assembly/limits.ts defines them (leafItemMax, valueMax). A split must always
 * find a two-way split that fits: two maximal items (cell header 4 + key + value, plus a 2-byte
 * slot each) and a maximal high key (2 + 1024) must fit in the page's room (page - 64-byte header).
 * On 4096-byte pages that caps key + value at 1497 bytes; from 8192-byte pages up a 1024-byte key
 * takes a quarter-page value. The generators below keep every written item within valueLimit, and
 * a test checks this copy against the core's own numbers (conn.core.itemMax, valueLimit).
 */
function itemMax(pageSize: number): number {
  const room = pageSize - 64;
  return Math.floor((room - (2 + MAX_KEY)) / 2) - 2 - 4;
}
function valueLimit(pageSize: number, klen: number): number {
  return Math.min(pageSize / 4, itemMax(pageSize) - klen);
}
/** The largest value with a 1024-byte key on 4096-byte pages: 1497 - 1024 = 473. */
const LIMIT_1024 = valueLimit(PAGE_SIZE, MAX_KEY);

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

class Model<K, V> {
  private readonly map = new Map<string, { key: K; value: V }>();
  private sortedCache: string[] | undefined;
  constructor(readonly fmt: Format<K, V>) {}

  get size(): number {
    return this.map.size;
  }
  has(k: K): boolean {
    return this.map.has(hex(this.fmt.bytes(k)));
  }
  get(k: K): V | undefined {
    return this.map.get(hex(this.fmt.bytes(k)))?.value;
  }
  set(k: K, v: V): void {
    const h = hex(this.fmt.bytes(k));
    if (!this.map.has(h)) this.sortedCache = undefined;
    this.map.set(h, { key: k, value: v });
  }
  delete(k: K): boolean {
    const r = this.map.delete(hex(this.fmt.bytes(k)));
    if (r) this.sortedCache = undefined;
    return r;
  }
  /** Hex keys in ascending byte order. */
  sorted(): string[] {
    if (this.sortedCache === undefined) this.sortedCache = [...this.map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sortedCache;
  }
  /** Every entry, in ascending key order. */
  entries(): { key: K; value: V }[] {
    return this.sorted().map((h) => this.map.get(h)!);
  }
  /** [hexKey, shownValue] at sorted index i. */
  entryAt(i: number): [string, string] {
    const h = this.sorted()[i]!;
    return [h, this.fmt.showValue(this.map.get(h)!.value)];
  }
  /** Expected result of range(opts) as [hexKey, shownValue] pairs. */
  range(opts: RangeSpec<K>): [string, string][] {
    const lo = opts.lower === undefined ? undefined : hex(this.fmt.bytes(opts.lower.key));
    const hi = opts.upper === undefined ? undefined : hex(this.fmt.bytes(opts.upper.key));
    let keys = this.sorted().filter((h) => {
      if (lo !== undefined && (opts.lower!.inclusive ? h < lo : h <= lo)) return false;
      if (hi !== undefined && (opts.upper!.inclusive ? h > hi : h >= hi)) return false;
      return true;
    });
    if (opts.reverse === true) keys = [...keys].reverse();
    if (opts.limit !== undefined) keys = keys.slice(0, opts.limit);
    return keys.map((h) => [h, this.fmt.showValue(this.map.get(h)!.value)]);
  }
  /** Index of the first key >= k, or of the last key <= k; -1 if none. */
  seek(k: K, how: 'ge' | 'le'): number {
    const target = hex(this.fmt.bytes(k));
    const keys = this.sorted();
    if (how === 'ge') return keys.findIndex((h) => h >= target);
    for (let i = keys.length - 1; i >= 0; i--) if (keys[i]! <= target) return i;
    return -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

interface Bound<K> {
  key: K;
  inclusive: boolean;
}
interface RangeSpec<K> {
  lower?: Bound<K>;
  upper?: Bound<K>;
  reverse?: boolean;
  limit?: number;
}
type Op<K, V> =
  | { t: 'put'; k: K; v: V }
  | { t: 'insert'; k: K; v: V }
  | { t: 'remove'; k: K }
  | { t: 'get'; k: K }
  | ({ t: 'range' } & RangeSpec<K>)
  | { t: 'seek'; k: K; how: 'ge' | 'le'; steps: ('next' | 'prev')[] };

function rangeOptions<K>(r: RangeSpec<K>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r.lower) o[r.lower.inclusive ? 'gte' : 'gt'] = r.lower.key;
  if (r.upper) o[r.upper.inclusive ? 'lte' : 'lt'] = r.upper.key;
  if (r.reverse !== undefined) o.reverse = r.reverse;
  if (r.limit !== undefined) o.limit = r.limit;
  return o;
}

interface OpWeights {
  put: number;
  insert: number;
  remove: number;
  get: number;
  range: number;
  seek: number;
}

const MIXED: OpWeights = { put: 30, insert: 10, remove: 14, get: 14, range: 8, seek: 8 };
/** Mostly writes: grows the tree. */
const GROWING: OpWeights = { put: 60, insert: 15, remove: 5, get: 8, range: 4, seek: 4 };

/**
 * Operations on keys from `key` and values from `value` on pages of `pageSize`. A written value is
 * cut to the value limit for its key, so every put and insert is legal (runSequence checks it);
 * long values with long keys land exactly on the limit.
 */
function opArb<K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, w: OpWeights,
  pageSize: number): fc.Arbitrary<Op<K, V>> {
  const bound = fc.option(fc.record({ key, inclusive: fc.boolean() }), { nil: undefined, freq: 3 });
  const kv = fc.tuple(key, value).map(([k, v]) => ({ k, v: fmt.truncate(v, valueLimit(pageSize, fmt.bytes(k).length)) }));
  const op: fc.Arbitrary<Op<K, V>> = fc.oneof(
    { weight: w.put, arbitrary: kv.map(({ k, v }) => ({ t: 'put' as const, k, v })) },
    { weight: w.insert, arbitrary: kv.map(({ k, v }) => ({ t: 'insert' as const, k, v })) },
    { weight: w.remove, arbitrary: fc.record({ t: fc.constant('remove' as const), k: key }) },
    { weight: w.get, arbitrary: fc.record({ t: fc.constant('get' as const), k: key }) },
    {
      weight: w.range,
      arbitrary: fc.record(
        {
          t: fc.constant('range' as const),
          lower: bound,
          upper: bound,
          reverse: fc.constantFrom(undefined, true, false),
          limit: fc.option(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100 })), { nil: undefined }),
        },
        { requiredKeys: ['t'] },
      ),
    },
    {
      weight: w.seek,
      arbitrary: fc.record({
        t: fc.constant('seek' as const),
        k: key,
        how: fc.constantFrom('ge' as const, 'le' as const),
        steps: fc.array(fc.constantFrom('next' as const, 'prev' as const), { maxLength: 6 }),
      }),
    },
  );
  return op.map(compact);
}

/** Makes fast-check print an operation compactly in counterexamples (long keys abbreviated). */
function compact<X extends object>(op: X): X {
  Object.defineProperty(op, fc.toStringMethod, { value: () => JSON.stringify(op, replacer), enumerable: false, configurable: true });
  return op;
}

// ---------------------------------------------------------------------------------------------
// Key and value arbitraries
// ---------------------------------------------------------------------------------------------

/** Bytes that sit on interesting boundaries (signedness, ASCII, 0x00 and 0xff). */
const BYTE_ALPHABET = [0x00, 0x01, 0x61, 0x7f, 0x80, 0xfe, 0xff];

/** Short keys from a small alphabet: collide often. */
const uShortKey = fc.array(fc.constantFrom(...BYTE_ALPHABET), { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a));

/**
 * Long keys: a run of one byte and a tail byte. Keys share long prefixes, so separators are long
 * (internal fan-out is small and trees get deep). Lengths near the limit collide often.
 */
const uLongKey = fc
  .record({
    fill: fc.constantFrom(0x00, 0x61, 0xff),
    len: fc.oneof(fc.constantFrom(2, 255, 256, 700, 1000, 1023, 1024), fc.integer({ min: 2, max: MAX_KEY })),
    tail: fc.constantFrom(0x00, 0x01, 0x80, 0xff),
  })
  .map(({ fill, len, tail }) => {
    const k = new Uint8Array(len).fill(fill);
    k[len - 1] = tail;
    return k;
  });

const uKey = fc.oneof({ weight: 3, arbitrary: uShortKey }, { weight: 2, arbitrary: uLongKey });

/** A value of `len` bytes with a pattern that depends on `seed` (so overwrites are visible). */
function pattern(len: number, seed: number): Uint8Array {
  const v = new Uint8Array(len);
  for (let i = 0; i < len; i++) v[i] = (seed + i * 7) & 0xff;
  return v;
}

/**
 * Values of up to `maxValue` bytes (a quarter page), often at or next to it. opArb cuts them to the
 * limit for their key, so with long keys the length at the limit is the most frequent one.
 */
function uValueOf(maxValue: number): fc.Arbitrary<Uint8Array> {
  const len = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 16 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: maxValue }) },
    { weight: 1, arbitrary: fc.constantFrom(0, maxValue - 1, maxValue) },
  );
  return fc.record({ len, seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => pattern(len, seed));
}
const uValue = uValueOf(MAX_VALUE);

/**
 * String keys: characters whose UTF-16 order and UTF-8 order disagree (U+E000..U+FFFF sort below
 * astral characters in UTF-8, above their surrogates in UTF-16), 1- to 4-byte encodings, and NUL.
 */
const CHARS = ['\u0000', 'a', 'b', '\u007f', '\u0080', '\u00e9', '\u00ff', '\u0100', '\u07ff', '\u0800', '\ue000', '\uffff', '\u{1f600}', '\u{10ffff}'];

function utf8Length(s: string): number {
  return utf8.encode(s).length;
}

const sShortKey = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 3 }).map((a) => a.join(''));

/** Long string keys: one character repeated up to the 1024-byte limit, and a tail character. */
const sLongKey = fc
  .record({
    fill: fc.constantFrom('a', '\u00e9', '\u0800', '\u{1f600}'),
    n: fc.oneof(fc.constantFrom(1, 200, 255, 340, 511, 1023, 1024), fc.integer({ min: 1, max: MAX_KEY })),
    tail: fc.constantFrom(...CHARS),
  })
  .map(({ fill, n, tail }) => {
    const room = MAX_KEY - utf8Length(tail);
    const count = Math.min(n, Math.floor(room / utf8Length(fill)));
    return fill.repeat(count) + tail;
  });

const sKey = fc.oneof({ weight: 3, arbitrary: sShortKey }, { weight: 2, arbitrary: sLongKey });

function sValueOf(maxValue: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    // unit 'binary' draws code points (at most 4 UTF-8 bytes each): maxValue / 4 of them always fit.
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: maxValue / 4 }) },
    {
      weight: 2,
      arbitrary: fc
        .record({ c: fc.constantFrom('x', '\u00e9', '\u20ac', '\u{1f600}'), n: fc.integer({ min: 0, max: maxValue }) })
        .map(({ c, n }) => c.repeat(Math.min(n, Math.floor(maxValue / utf8Length(c))))),
    },
  );
}
const sValue = sValueOf(MAX_VALUE);

// ---------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------

interface RunResult {
  depth: number;
  entries: number;
  /** Puts and inserts whose value was exactly the limit for its key, where the item limit binds. */
  atItemLimit: number;
  /** The largest key + value written. */
  maxItem: number;
}

/**
 * The page-count identities: every page but the first root came from a split or a root split, and
 * a deleted page (page deletion: emptied leaves, a shrinking root) has left the tree. Without
 * deletions a tree only grows taller by root splits; with them the root may also shrink.
 */
function expectPageIdentities(st: TableStats, where: string): void {
  expect(st.pages + st.deletions, `${where}: pages + deletions = 1 + splits + rootSplits`).toBe(1 + st.splits + st.rootSplits);
  if (st.deletions === 0) expect(st.rootSplits, `${where}: rootSplits = depth - 1`).toBe(st.depth - 1);
  else expect(st.rootSplits, `${where}: rootSplits >= depth - 1`).toBeGreaterThanOrEqual(st.depth - 1);
}

/** Full forward and reverse scans, entry count, verify and the page-count identity. */
function checkAgainstModel<K, V>(s: Session, c: Cursor, m: Model<K, V>, where: string): { depth: number; entries: number } {
  const fwd = [...c.range()].map(([k, v]) => [hex(m.fmt.bytes(k as K)), m.fmt.showValue(v as V)]);
  const expected = m.sorted().map((_, i) => m.entryAt(i));
  expect(fwd, `${where}: forward scan`).toEqual(expected);
  const rev = [...c.range({ reverse: true })].map(([k, v]) => [hex(m.fmt.bytes(k as K)), m.fmt.showValue(v as V)]);
  expect(rev, `${where}: reverse scan`).toEqual([...expected].reverse());
  const report = s.verify(T);
  expect(report.ok).toBe(true);
  const st = s.stats(T);
  expect(st.entries, `${where}: stats.entries`).toBe(m.size);
  expect(report.levels, `${where}: verify levels vs stats depth`).toBe(st.depth);
  expectPageIdentities(st, where);
  return { depth: st.depth, entries: st.entries };
}

function applyOp<K, V>(c: Cursor, m: Model<K, V>, op: Op<K, V>, where: string): void {
  const fmt = m.fmt;
  const kv = (pairs: [unknown, unknown][]) => pairs.map(([k, v]) => [hex(fmt.bytes(k as K)), fmt.showValue(v as V)]);
  switch (op.t) {
    case 'put':
      c.put(op.k as never, op.v as never);
      m.set(op.k, op.v);
      break;
    case 'insert': {
      const had = m.has(op.k);
      expect(c.insert(op.k as never, op.v as never), `${where}: insert result`).toBe(!had);
      if (!had) m.set(op.k, op.v);
      break;
    }
    case 'remove':
      expect(c.remove(op.k as never), `${where}: remove result`).toBe(m.delete(op.k));
      break;
    case 'get': {
      const got = c.get(op.k as never);
      const want = m.get(op.k);
      expect(got === undefined ? undefined : fmt.showValue(got as V), `${where}: get`).toBe(
        want === undefined ? undefined : fmt.showValue(want),
      );
      break;
    }
    case 'range':
      expect(kv([...c.range(rangeOptions(op) as never)]), `${where}: range ${JSON.stringify(rangeOptions(op), replacer)}`).toEqual(m.range(op));
      break;
    case 'seek': {
      let pos = m.seek(op.k, op.how);
      const n = m.size;
      const here = () => (c.key === undefined ? undefined : [hex(fmt.bytes(c.key as K)), fmt.showValue(c.value as V)]);
      const want = () => (pos < 0 ? undefined : m.entryAt(pos));
      expect(c.seek(op.k as never, op.how), `${where}: seek ${op.how} result`).toBe(pos >= 0);
      expect(here(), `${where}: position after seek ${op.how}`).toEqual(want());
      for (const [j, step] of op.steps.entries()) {
        if (step === 'next') pos = pos < 0 ? (n > 0 ? 0 : -1) : pos + 1 < n ? pos + 1 : -1;
        else pos = pos < 0 ? n - 1 : pos - 1;
        expect(step === 'next' ? c.next() : c.prev(), `${where}: step ${j} ${step} result`).toBe(pos >= 0);
        expect(here(), `${where}: position after step ${j} ${step}`).toEqual(want());
      }
      break;
    }
  }
}

/** JSON.stringify replacer that abbreviates long keys and values: length, head and tail. */
function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) {
    return v.length <= 8 ? `u8[${v.length}]:${hex(v)}` : `u8[${v.length}]:${hex(v.subarray(0, 4))}…${hex(v.subarray(v.length - 2))}`;
  }
  if (typeof v === 'string' && v.length > 24) {
    const cps = [...v];
    return `str[${utf8Length(v)} bytes]:${JSON.stringify(cps.slice(0, 6).join(''))}…${JSON.stringify(cps.slice(-2).join(''))}`;
  }
  return v;
}

async function runSequence<K, V>(fmt: Format<K, V>, ops: Op<K, V>[], debug: boolean, verifyEvery = 50,
  pageSize = PAGE_SIZE): Promise<RunResult> {
  const conn: Connection = await open({ pageSize, cacheSize: '32MB', debug });
  try {
    const s = conn.openSession();
    s.create(T, { keyFormat: fmt.name, valueFormat: fmt.name });
    const c = s.openCursor(T);
    const m = new Model(fmt);
    let maxDepth = 1;
    let atItemLimit = 0;
    let maxItem = 0;
    for (const [i, op] of ops.entries()) {
      if (op.t === 'put' || op.t === 'insert') {
        // Every generated write is legal: a refusal or a failure is the library's, not the input's.
        const klen = fmt.bytes(op.k).length;
        const vlen = fmt.valueLength(op.v);
        const limit = conn.core.valueLimit(klen);
        expect(vlen, `op ${i}: generated value of ${vlen} bytes for a ${klen}-byte key is within the limit`).toBeLessThanOrEqual(limit);
        if (vlen === limit && limit < conn.core.maxValue) atItemLimit++;
        maxItem = Math.max(maxItem, klen + vlen);
      }
      applyOp(c, m, op, `op ${i} (${op.t})`);
      if ((i + 1) % verifyEvery === 0) {
        s.verify(T);
        maxDepth = Math.max(maxDepth, s.stats(T).depth);
      }
    }
    const r = checkAgainstModel(s, c, m, 'end of run');
    // Every key of the model is found by a point lookup too.
    for (const e of m.entries()) {
      const got = c.get(e.key as never);
      expect(got === undefined ? undefined : fmt.showValue(got as V), `get ${hex(fmt.bytes(e.key)).slice(0, 16)}`).toBe(fmt.showValue(e.value));
    }
    if (process.env.LATCHKEY_PROP_LOG) {
      console.log(`run: ${fmt.name} pageSize=${pageSize} debug=${debug} ops=${ops.length} entries=${r.entries} depth=${Math.max(maxDepth, r.depth)} splits=${s.stats(T).splits} atItemLimit=${atItemLimit} maxItem=${maxItem}`);
    }
    return { depth: Math.max(maxDepth, r.depth), entries: r.entries, atItemLimit, maxItem };
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

// LATCHKEY_SEED replays a run; LATCHKEY_PROP_SCALE multiplies the number of runs (for a soak).
const SEED = Number(process.env.LATCHKEY_SEED ?? Date.now() % 2 ** 31);
const SCALE = Number(process.env.LATCHKEY_PROP_SCALE ?? 1);
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(numRuns * SCALE)), seed: SEED });

const mixed = <K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, pageSize = PAGE_SIZE) =>
  fc.array(opArb(fmt, key, value, MIXED, pageSize), { maxLength: 250, size: 'max' });
const growing = <K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, pageSize = PAGE_SIZE) =>
  fc.array(opArb(fmt, key, value, GROWING, pageSize), { minLength: 250, maxLength: 400 });

describe('the item limit used by the generators is the core\'s', () => {
  it('valueLimit(klen) = min(pageSize/4, itemMax - klen), itemMax 1497 on 4 KiB pages; from 8 KiB a 1024-byte key takes a quarter page', async () => {
    expect(itemMax(4096)).toBe(1497);
    expect(LIMIT_1024).toBe(473);
    for (const pageSize of [4096, 8192, 16384, 32768]) {
      const conn = await open({ pageSize, cacheSize: '32MB', debug: false });
      try {
        expect(conn.core.itemMax, `itemMax on ${pageSize}-byte pages`).toBe(itemMax(pageSize));
        expect(conn.core.maxValue).toBe(pageSize / 4);
        for (let klen = 1; klen <= MAX_KEY; klen++) expect(conn.core.valueLimit(klen), `valueLimit(${klen}) on ${pageSize}-byte pages`).toBe(valueLimit(pageSize, klen));
        if (pageSize >= 8192) expect(valueLimit(pageSize, MAX_KEY)).toBe(pageSize / 4);
      } finally {
        await conn.close();
      }
    }
  });
});

describe(`random operation sequences against a model, 4096-byte pages: values up to valueLimit(klen) (seed ${SEED})`, () => {
  it("format 'u': mixed operations, short and long keys, values up to the limit for their key (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(U, uKey, uValue), async (ops) => { await runSequence(U, ops, true); }), params(250));
  });

  it("format 'S': mixed operations, non-ASCII and multi-byte UTF-8 keys and values (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(S, sKey, sValue), async (ops) => { await runSequence(S, ops, true); }), params(250));
  });

  it("format 'u': runs that grow the tree to depth >= 3 (root and internal-page splits, debug build)", async () => {
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, uValue), async (ops) => {
        const r = await runSequence(U, ops, true, 25);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(3);
      }),
      params(60),
    );
  });

  it("format 'S': runs that grow the tree to depth >= 3 (debug build)", async () => {
    await fc.assert(
      fc.asyncProperty(growing(S, sLongKey, sValue), async (ops) => {
        const r = await runSequence(S, ops, true, 25);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(3);
      }),
      params(40),
    );
  });

  it('release build: mixed and growing runs in both formats', async () => {
    await fc.assert(fc.asyncProperty(mixed(U, uKey, uValue), async (ops) => { await runSequence(U, ops, false); }), params(120));
    await fc.assert(fc.asyncProperty(mixed(S, sKey, sValue), async (ops) => { await runSequence(S, ops, false); }), params(100));
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, uValue), async (ops) => {
        const r = await runSequence(U, ops, false, 25);
        expect(r.depth).toBeGreaterThanOrEqual(3);
      }),
      params(30),
    );
  });

  it('items at the item limit (key + value = 1497 bytes, keys up to 1024): splits always fit, in both builds', async () => {
    // Values are drawn at a quarter page and cut to the limit for their key: with long keys most
    // writes are maximal items, the case in which a split has the least room to choose from.
    const atLimit = fc.record({ len: fc.constant(MAX_VALUE), seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => pattern(len, seed));
    let maximal = 0;
    let largest = 0;
    for (const debug of [true, false]) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(mixed(U, uKey, fc.oneof(uValue, atLimit)), growing(U, uLongKey, atLimit)), async (ops) => {
          const r = await runSequence(U, ops, debug, 25);
          maximal += r.atItemLimit;
          largest = Math.max(largest, r.maxItem);
        }),
        params(debug ? 20 : 10),
      );
    }
    expect(maximal, 'writes of maximal items').toBeGreaterThan(0);
    expect(largest, 'largest item written').toBe(itemMax(PAGE_SIZE));
  });
});

describe(`random operation sequences against a model, 8192-byte pages: 1024-byte keys with 2048-byte values (seed ${SEED})`, () => {
  const P8 = 8192;
  const uValue8 = uValueOf(P8 / 4);
  const sValue8 = sValueOf(P8 / 4);
  const full = fc.record({ len: fc.constant(P8 / 4), seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => pattern(len, seed));

  it("format 'u': mixed and growing runs over the full size range (debug build)", async () => {
    let largest = 0;
    await fc.assert(
      fc.asyncProperty(mixed(U, uKey, uValue8, P8), async (ops) => {
        largest = Math.max(largest, (await runSequence(U, ops, true, 50, P8)).maxItem);
      }),
      params(80),
    );
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, fc.oneof(uValue8, full), P8), async (ops) => {
        const r = await runSequence(U, ops, true, 25, P8);
        largest = Math.max(largest, r.maxItem);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(3);
      }),
      params(25),
    );
    // A 1024-byte key with a 2048-byte value in one item was written.
    expect(largest).toBe(MAX_KEY + P8 / 4);
  });

  it("format 'S': mixed operations over the full size range (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(S, sKey, sValue8, P8), async (ops) => { await runSequence(S, ops, true, 50, P8); }), params(60));
  });

  it("release build: growing runs in both formats", async () => {
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, fc.oneof(uValue8, full), P8), async (ops) => {
        expect((await runSequence(U, ops, false, 25, P8)).depth).toBeGreaterThanOrEqual(3);
      }),
      params(15),
    );
    await fc.assert(
      fc.asyncProperty(growing(S, sLongKey, sValue8, P8), async (ops) => { await runSequence(S, ops, false, 25, P8); }),
      params(10),
    );
  });
});

describe("string keys order by UTF-8 bytes, not UTF-16 code units", () => {
  it('sorts NUL, ASCII, 2-, 3- and 4-byte characters and prefixes bytewise, both directions', async () => {
    const conn = await open({ pageSize: PAGE_SIZE, cacheSize: '32MB', debug: true });
    const s = conn.openSession();
    s.create(T, { keyFormat: 'S', valueFormat: 'S' });
    const c = s.openCursor<string, string>(T);
    // In byte order. U+E000 and U+FFFF come before U+1F600 in UTF-8 (EE, EF < F0) though their
    // UTF-16 code units (E000, FFFF > D83D) sort after it: a UTF-16 comparison would fail here.
    const ordered = ['\u0000', 'a', 'a\u0000', 'a\u0001', 'ab', 'z', '\u007f', '\u0080', '\u00ff', '\u0100', '\u07ff', '\u0800',
      '\ud7ff', '\ue000', '\uffff', '\u{1f600}', '\u{1f600}a', '\u{10ffff}'];
    const shuffled = [...ordered].sort((a, b) => (hex(utf8.encode(b)) < hex(utf8.encode(a)) ? -1 : 1)); // reverse-ish
    for (const [i, k] of shuffled.entries()) c.put(k, `v${i}:${k}`);
    // Sanity: UTF-16 order really differs from the expected order.
    expect([...ordered].sort()).not.toEqual(ordered);
    expect([...c.range()].map(([k]) => k)).toEqual(ordered);
    expect([...c.range({ reverse: true })].map(([k]) => k)).toEqual([...ordered].reverse());
    expect([...c.range({ gt: '\u00ff', lt: '\u{1f600}' })].map(([k]) => k)).toEqual(['\u0100', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff']);
    expect([...c.range({ gte: '\ue000', reverse: true, limit: 3 })].map(([k]) => k)).toEqual(['\u{10ffff}', '\u{1f600}a', '\u{1f600}']);
    expect(c.seek('\ue001', 'ge')).toBe(true);
    expect(c.key).toBe('\uffff');
    expect(c.next()).toBe(true);
    expect(c.key).toBe('\u{1f600}');
    expect(c.seek('\u{1f5ff}', 'le')).toBe(true);
    expect(c.key).toBe('\uffff');
    expect(c.prev()).toBe(true);
    expect(c.key).toBe('\ue000');
    for (const k of ordered) expect(c.get(k)).toBe(`v${shuffled.indexOf(k)}:${k}`);
    s.verify(T);
    await conn.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Deterministic: splits at every level
// ---------------------------------------------------------------------------------------------


function shuffle<X>(xs: X[], seed: number): X[] {
  const r = rng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * A 1024-byte key: 1020 bytes of 'k' then i as a big-endian u32. Neighbours differ only in the
 * last bytes, so leaf separators are ~1021 bytes and internal pages hold about three downlinks:
 * the tree gets deep after a few dozen keys.
 */
function bigKey(i: number, len = MAX_KEY): Uint8Array {
  const k = new Uint8Array(len).fill(0x6b);
  new DataView(k.buffer).setUint32(len - 4, i);
  return k;
}
function smallValue(i: number): Uint8Array {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setUint32(0, i);
  new DataView(v.buffer).setUint32(4, ~i);
  return v;
}

interface Phase {
  name: string;
  keys: number[];
  value: (i: number) => Uint8Array;
  /** Whether the phase must split pages (default) or may take its writes without splits. */
  splits?: 'some' | 'maybe';
}

describe('splits at every level (4096-byte pages, 1024-byte keys)', () => {
  async function grow(phases: Phase[], minDepth: number, debug = true) {
    const conn = await open({ pageSize: PAGE_SIZE, cacheSize: '64MB', debug });
    const s = conn.openSession();
    s.create(T);
    const c = s.openCursor<Uint8Array, Uint8Array>(T);
    const present = new Map<number, Uint8Array>();
    let prev = s.stats(T);
    expect(prev.depth).toBe(1);
    for (const phase of phases) {
      let depthReachedAt = -1;
      for (const [n, i] of phase.keys.entries()) {
        const v = phase.value(i);
        c.put(bigKey(i), v);
        present.set(i, v);
        if (depthReachedAt < 0 && (n & 7) === 7 && s.stats(T).depth >= minDepth) depthReachedAt = n;
      }
      const where = `after phase ${phase.name}`;
      const report = s.verify(T);
      const st = s.stats(T);
      expect(report.levels, where).toBe(st.depth);
      expect(st.depth, `${where}: depth`).toBeGreaterThanOrEqual(minDepth);
      expect(st.entries, where).toBe(present.size);
      if (phase.splits !== 'maybe') expect(st.splits, `${where}: splits grew`).toBeGreaterThan(prev.splits);
      expectPageIdentities(st, where);
      expect(st.leafPages, where).toBeLessThan(st.pages);
      // Every key is found, with its latest value.
      for (const [i, v] of present) expect(c.get(bigKey(i)), `${where}: key ${i}`).toEqual(v);
      // Full scans in both directions see exactly the keys, in order.
      const sorted = [...present.keys()].sort((a, b) => a - b);
      const fwd = [...c.range()];
      expect(fwd.map(([k]) => new DataView(k.buffer, k.byteOffset).getUint32(MAX_KEY - 4)), where).toEqual(sorted);
      for (const [k, v] of fwd) expect(v).toEqual(present.get(new DataView(k.buffer, k.byteOffset).getUint32(MAX_KEY - 4)));
      const rev = [...c.range({ reverse: true })].map(([k]) => new DataView(k.buffer, k.byteOffset).getUint32(MAX_KEY - 4));
      expect(rev, where).toEqual([...sorted].reverse());
      // A bounded window in the middle, both ways.
      const a = sorted[Math.floor(sorted.length / 3)]!;
      const b = sorted[Math.floor((2 * sorted.length) / 3)]!;
      const window = sorted.filter((x) => x > a && x <= b);
      expect([...c.range({ gt: bigKey(a), lte: bigKey(b) })].length, where).toBe(window.length);
      expect([...c.range({ gt: bigKey(a), lte: bigKey(b), reverse: true, limit: 5 })].map(([k]) => new DataView(k.buffer, k.byteOffset).getUint32(MAX_KEY - 4)), where)
        .toEqual([...window].reverse().slice(0, 5));
      expect(st.rootSplits, `${where}: root splits grew or depth already reached`).toBeGreaterThanOrEqual(prev.rootSplits);
      prev = st;
    }
    await conn.close();
    return prev;
  }

  const N = 160;
  const even = (n: number) => Array.from({ length: n }, (_, i) => 2 * i);

  it('ascending order reaches depth >= 4', async () => {
    const st = await grow([{ name: 'ascending', keys: even(N), value: smallValue }], 4);
    expect(st.rootSplits).toBeGreaterThanOrEqual(3);
  });

  it('descending order reaches depth >= 4', async () => {
    const st = await grow([{ name: 'descending', keys: even(N).reverse(), value: smallValue }], 4);
    expect(st.rootSplits).toBeGreaterThanOrEqual(3);
  });

  it('random order reaches depth >= 4', async () => {
    const st = await grow([{ name: 'random', keys: shuffle(even(N), 1), value: smallValue }], 4);
    expect(st.rootSplits).toBeGreaterThanOrEqual(3);
  });

  it('ascending, then descending into the gaps, then random overwrites and inserts of maximal items', async () => {
    const third = (r: number) => Array.from({ length: N }, (_, i) => 3 * i + r);
    const maximal = (i: number) => pattern(LIMIT_1024, i); // 1024 + 473 = 1497 bytes: the item limit
    const before = await grow(
      [
        { name: 'ascending 3i', keys: third(0), value: smallValue },
        { name: 'descending 3i+1', keys: third(1).reverse(), value: smallValue },
        // A leaf under a 1024-byte high key holds at most two of these keys; grown to maximal
        // items they fill it to the byte (2 * 1503 + 1026 = 4032), so overwrites need few splits.
        { name: 'random maximal overwrites', keys: shuffle([...third(0), ...third(1)], 7), value: maximal, splits: 'maybe' },
        // Maximal items into the gaps between full leaves' keys: the leaves they land in split.
        { name: 'random maximal inserts 3i+2', keys: shuffle(third(2), 9), value: maximal },
      ],
      4,
    );
    expect(before.depth).toBeGreaterThanOrEqual(5);
  });

  it('release build: ascending then random', async () => {
    await grow(
      [
        { name: 'ascending', keys: even(N), value: smallValue },
        { name: 'random', keys: shuffle(even(N).map((x) => x + 1), 3), value: (i) => pattern((i * 37) % (LIMIT_1024 + 1), i) },
      ],
      4,
      false,
    );
  });

  it('removes half of a deep tree, then refills: garbage is compacted, splits resume, all levels verify', async () => {
    const conn = await open({ pageSize: PAGE_SIZE, cacheSize: '64MB', debug: true });
    const s = conn.openSession();
    s.create(T);
    const c = s.openCursor<Uint8Array, Uint8Array>(T);
    const keys = shuffle(Array.from({ length: 300 }, (_, i) => i), 11);
    for (const i of keys) c.put(bigKey(i), smallValue(i));
    const st1 = s.stats(T);
    expect(st1.depth).toBeGreaterThanOrEqual(4);
    for (const i of keys) if (i % 2 === 0) expect(c.remove(bigKey(i))).toBe(true);
    s.verify(T);
    expect(s.stats(T).entries).toBe(150);
    // Reinsert with larger values: pages with garbage must compact or split.
    for (const i of keys) if (i % 2 === 0) expect(c.insert(bigKey(i), pattern(LIMIT_1024 - (i % 50), i))).toBe(true);
    s.verify(T);
    const st2 = s.stats(T);
    expect(st2.entries).toBe(300);
    expect(st2.splits).toBeGreaterThan(st1.splits);
    expectPageIdentities(st2, 'after the refill');
    for (const i of keys) expect(c.get(bigKey(i))).toEqual(i % 2 === 0 ? pattern(LIMIT_1024 - (i % 50), i) : smallValue(i));
    await conn.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Leaf splits at the size limits
// ---------------------------------------------------------------------------------------------

/** Bytes an item takes in a leaf: 4-byte cell header, key, value, and its 2-byte slot. */
const itemBytes = (klen: number, vlen: number) => 6 + klen + vlen;
/** Bytes a page has for items and its high key (page size minus the 64-byte header). */
const roomOf = (pageSize: number) => pageSize - 64;
/** Bytes a 1024-byte high key takes (2-byte length + key; no slot). */
const HIGH_1024 = 2 + MAX_KEY;
/** The integer target of a split of `total` bytes (split.ts: half, or 90% when appending at the right end). */
const splitTarget = (total: number, rightmostAppend: boolean) => (rightmostAppend ? Math.floor((total * 90) / 100) : total >> 1);

const filled = (n: number, b: number) => new Uint8Array(n).fill(b);
/** A 1024-byte key: 1023 bytes of 0x61 then `last`. Neighbours share 1023 bytes: separators stay 1024 bytes. */
function longKey(last: number): Uint8Array {
  const k = filled(MAX_KEY, 0x61);
  k[MAX_KEY - 1] = last;
  return k;
}

async function openTable(pageSize: number, debug: boolean) {
  const conn = await open({ pageSize, cacheSize: '32MB', debug });
  const s = conn.openSession();
  s.create(T);
  const c = s.openCursor<Uint8Array, Uint8Array>(T);
  return { conn, s, c };
}

/** The table's full contents (as hex pairs) and page counts. */
function contents(s: Session, c: Cursor<Uint8Array, Uint8Array>) {
  const st = s.stats(T);
  return { scan: [...c.range()].map(([k, v]) => `${hex(k)}=${hex(v)}`), pages: st.pages, splits: st.splits, entries: st.entries };
}

/** verify, full scans both ways and point lookups against `expected` (any order). */
function expectExactly(s: Session, c: Cursor<Uint8Array, Uint8Array>, expected: [Uint8Array, Uint8Array][], where: string) {
  expect(s.verify(T).ok, `${where}: verify`).toBe(true);
  const want = expected.map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
  expect([...c.range()].map(([k, v]) => `${hex(k)}=${hex(v)}`), `${where}: forward scan`).toEqual(want);
  expect([...c.range({ reverse: true })].map(([k, v]) => `${hex(k)}=${hex(v)}`), `${where}: reverse scan`).toEqual([...want].reverse());
  for (const [k, v] of expected) expect(c.get(k), `${where}: get ${hex(k).slice(0, 8)}…`).toEqual(v);
  const st = s.stats(T);
  expect(st.entries, `${where}: entries`).toBe(expected.length);
  expectPageIdentities(st, where);
}

describe('leaf splits at the size limits: a two-way split always fits (4096- and 8192-byte pages)', () => {
  const cases = [4096, 8192].flatMap((pageSize) => [true, false].map((debug) => ({ pageSize, debug, build: debug ? 'debug' : 'release' })));

  for (const { pageSize, debug, build } of cases) {
    it(`${pageSize}-byte pages, ${build}: a leaf under a 1024-byte high key, full to the byte with maximal items, takes another maximal item before, between or after them`, async () => {
      // Formerly (split-overflow): with 2054-byte items on 4096-byte pages there was no two-way
      // split, and the release build corrupted the page. Now such items are refused up front, and
      // with items at the limit the tightest split still fits: two maximal items and a 1024-byte
      // high key fill a page to the byte on 4096-byte pages.
      const room = roomOf(pageSize);
      const vmax = valueLimit(pageSize, MAX_KEY); // 473 on 4096-byte pages, 2048 on 8192
      const maximal = itemBytes(MAX_KEY, vmax); // 1503 or 3078 bytes
      // Filler that makes a leaf holding two maximal items under a 1024-byte high key exactly full.
      const filler = room - HIGH_1024 - 2 * maximal;
      expect(filler, 'room left beside two maximal items and a 1024-byte high key').toBe(pageSize === 4096 ? 0 : 946);
      for (const [where, nb] of [['before', 0x08], ['between', 0x20], ['after', 0x40]] as const) {
        const { conn, s, c } = await openTable(pageSize, debug);
        const what = `${pageSize}/${build}/N ${where}`;
        // P1, P2, P3 (maximal, appended at the right end) split the root leaf 2 | 1: the left leaf
        // keeps {P1, P2} under the high key P3 (1024 bytes: P2 and P3 differ in their last byte).
        for (const i of [1, 2, 3]) c.put(longKey(i), filled(vmax, i));
        expect(s.stats(T).splits, `${what}: root split`).toBe(1);
        expect(3 * maximal).toBeGreaterThan(room);
        expect(2 * maximal + 2 + MAX_KEY).toBeLessThanOrEqual(room);
        // Replace P1 and P2 by a and b (never emptying the leaf) and add the filler: the leaf is
        // exactly full, and none of these puts splits.
        const a = filled(MAX_KEY, 0x10);
        const b = filled(MAX_KEY, 0x30);
        expect(c.remove(longKey(1))).toBe(true);
        c.put(a, filled(vmax, 0xa));
        expect(c.remove(longKey(2))).toBe(true);
        c.put(b, filled(vmax, 0xb));
        const items: [Uint8Array, Uint8Array][] = [[longKey(3), filled(vmax, 3)], [a, filled(vmax, 0xa)], [b, filled(vmax, 0xb)]];
        if (filler > 0) {
          items.push([filled(16, 0x28), filled(filler - itemBytes(16, 0), 0xf)]);
          c.put(...items[3]!);
        }
        expect(s.stats(T).splits, `${what}: the left leaf took a, b (and the filler) without a split`).toBe(1);
        expectExactly(s, c, items, `${what}: before`);

        // One byte over the limit is refused and changes nothing.
        const n = filled(MAX_KEY, nb);
        const before = contents(s, c);
        let err: unknown;
        try {
          c.put(n, filled(vmax + 1, 5));
        } catch (e) {
          err = e;
        }
        expect((err as LatchkeyErrorLike | undefined)?.code, `${what}: value of limit + 1`).toBe('EVALUESIZE');
        expect(String(err)).toContain(`exceeds the limit of ${vmax} bytes`);
        expect(contents(s, c), `${what}: after the refused put`).toEqual(before);

        // A maximal item goes in: the leaf splits once and both halves fit.
        c.put(n, filled(vmax, 5));
        items.push([n, filled(vmax, 5)]);
        expectExactly(s, c, items, `${what}: after put N`);
        expect(s.stats(T).splits, `${what}: exactly one more split`).toBe(2);
        expect(s.stats(T).depth).toBe(2);
        await conn.close();
      }
    });

    it(`${pageSize}-byte pages, ${build}: when the central split point leaves the right half too big, the search takes the only point that fits`, async () => {
      // Root leaf [A, B, D] and then N between B and D: [A, B, N, D]. The target (half the bytes)
      // falls inside B, so the central point is s = 1; but {B, N, D} does not fit a page. Only
      // s = 2 fits ({A, B} | {N, D}); s = 3 leaves the left half too big.
      const room = roomOf(pageSize);
      const vmax = valueLimit(pageSize, MAX_KEY);
      const M = itemBytes(MAX_KEY, vmax);
      const D = room - 2 * M + 74;
      const A = D + 100;
      const total = A + 2 * M + D;
      const target = splitTarget(total, false);
      expect(A + M + D, 'A, B, D fit in one leaf').toBeLessThanOrEqual(room);
      expect(A <= target && target < A + M, 'the central split point is s = 1').toBe(true);
      expect(total - A, 's = 1: the right half {B, N, D}').toBeGreaterThan(room);
      expect(A + M + 2 + MAX_KEY, 's = 2: the left half with a 1024-byte high key').toBeLessThanOrEqual(room);
      expect(total - A - M, 's = 2: the right half').toBeLessThanOrEqual(room);
      expect(A + 2 * M, 's = 3: the left half').toBeGreaterThan(room);

      const { conn, s, c } = await openTable(pageSize, debug);
      const items: [Uint8Array, Uint8Array][] = [
        [longKey(1), filled(A - itemBytes(MAX_KEY, 0), 1)],
        [longKey(2), filled(vmax, 2)],
        [longKey(4), filled(D - itemBytes(MAX_KEY, 0), 4)],
      ];
      for (const [k, v] of items) c.put(k, v);
      expect(s.stats(T).splits).toBe(0);
      items.push([longKey(3), filled(vmax, 3)]);
      c.put(longKey(3), filled(vmax, 3));
      expectExactly(s, c, items, `${pageSize}/${build}`);
      const st = s.stats(T);
      expect([st.splits, st.rootSplits, st.leafPages, st.depth]).toEqual([1, 1, 2, 2]);
      await conn.close();
    });

    it(`${pageSize}-byte pages, ${build}: the split point is checked with the suffix-truncated separator (1 byte), not the full 1024-byte key`, async () => {
      // Formerly (split-assert) the left half was checked with the full key of the first right
      // item as its high key, not the suffix-truncated separator the page really gets: with the
      // oversized items then accepted the debug build asserted ("split: left half does not fit"),
      // and here it moved the split point off the target. Four items of `c4` bytes with short
      // keys, then a 1024-byte key appended at the right end: the target (90%) keeps all four on
      // the left, whose high key is the 1-byte separator [5]; the full key would not fit there.
      const room = roomOf(pageSize);
      const c4 = Math.floor((room - HIGH_1024) / 4) + 50; // 801 or 1825 bytes
      const bigV = pageSize === 4096 ? 100 : valueLimit(pageSize, MAX_KEY);
      const big = itemBytes(MAX_KEY, bigV);
      const total = 4 * c4 + big;
      expect(total, 'the fifth item splits the root leaf').toBeGreaterThan(room);
      expect(4 * c4, 's = 4 is the target').toBeLessThanOrEqual(splitTarget(total, true));
      expect(4 * c4 + 2 + MAX_KEY, 's = 4 with the full key as high key').toBeGreaterThan(room);
      expect(4 * c4 + 2 + 1, 's = 4 with the truncated separator').toBeLessThanOrEqual(room);

      const { conn, s, c } = await openTable(pageSize, debug);
      const shortKey = (i: number) => Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 0);
      const items: [Uint8Array, Uint8Array][] = [1, 2, 3, 4].map((i) => [shortKey(i), filled(c4 - itemBytes(8, 0), i)]);
      for (const [k, v] of items) c.put(k, v);
      const k5 = filled(MAX_KEY, 0xee);
      k5[0] = 5;
      items.push([k5, filled(bigV, 5)]);
      c.put(k5, filled(bigV, 5));
      expectExactly(s, c, items, `${pageSize}/${build}: after the split`);
      expect([s.stats(T).splits, s.stats(T).leafPages]).toEqual([1, 2]);

      // Where the split fell: the right leaf holds only the big item, so two more items of q
      // bytes fit beside it without a split. Had item 4 moved right (a full-key check), they would not.
      const q = Math.floor((room - big) / 2) - 25;
      expect(big + 2 * q).toBeLessThanOrEqual(room);
      expect(c4 + big + 2 * q).toBeGreaterThan(room);
      for (const i of [6, 7]) {
        const k = filled(MAX_KEY, 0xee);
        k[0] = i;
        items.push([k, filled(q - itemBytes(MAX_KEY, 0), i)]);
        c.put(k, filled(q - itemBytes(MAX_KEY, 0), i));
      }
      expectExactly(s, c, items, `${pageSize}/${build}: after filling the right leaf`);
      expect(s.stats(T).splits, 'the right leaf took both without a split').toBe(1);
      await conn.close();
    });
  }
});

interface LatchkeyErrorLike {
  code?: string;
}

// ---------------------------------------------------------------------------------------------
// A positioned cursor's read-ahead and its key
// ---------------------------------------------------------------------------------------------

const b1 = (...xs: number[]) => Uint8Array.from(xs);

describe("a positioned cursor: its read-ahead never outlives a change to its leaf, and c.key is the caller's copy", () => {
  async function fiveKeys() {
    const { conn, s, c } = await openTable(PAGE_SIZE, true);
    for (const b of [1, 2, 3, 4, 5]) c.put(b1(b), b1(b * 10));
    return { conn, s, c };
  }

  it("next() and prev() after the same cursor's remove/put see those writes (formerly: the removed key and the old value)", async () => {
    const { conn, c } = await fiveKeys();
    expect(c.seek(b1(1))).toBe(true);
    expect(c.remove(b1(2))).toBe(true);
    c.put(b1(3), b1(99));
    // Single-key operations are linearizable: once put(3, 99) has returned, a read of 3 sees 99.
    expect(c.next()).toBe(true);
    expect([c.key, c.value]).toEqual([b1(3), b1(99)]);
    // The same going backwards, and a key inserted next to the position.
    expect(c.seek(b1(5), 'le')).toBe(true);
    expect(c.remove(b1(4))).toBe(true);
    c.put(b1(3), b1(77));
    expect(c.prev()).toBe(true);
    expect([c.key, c.value]).toEqual([b1(3), b1(77)]);
    expect(c.insert(b1(3, 0), b1(1))).toBe(true);
    expect(c.next()).toBe(true);
    expect([c.key, c.value]).toEqual([b1(3, 0), b1(1)]);
    expect(c.next()).toBe(true);
    expect(c.key).toEqual(b1(5));
    expect(c.next()).toBe(false);
    await conn.close();
  });

  it('next() and prev() see writes made through another cursor or session on the same leaf', async () => {
    const { conn, s, c } = await fiveKeys();
    const other = s.openCursor<Uint8Array, Uint8Array>(T);
    const s2 = conn.openSession();
    const third = s2.openCursor<Uint8Array, Uint8Array>(T);
    expect(c.seek(b1(1))).toBe(true);
    expect(other.remove(b1(2))).toBe(true);
    other.put(b1(3), b1(99));
    expect(c.next()).toBe(true);
    expect([c.key, c.value]).toEqual([b1(3), b1(99)]);
    expect(third.insert(b1(3, 5), b1(35))).toBe(true);
    expect(c.next()).toBe(true);
    expect([c.key, c.value]).toEqual([b1(3, 5), b1(35)]);
    expect(c.seek(b1(5), 'le')).toBe(true);
    expect(third.remove(b1(4))).toBe(true);
    expect(c.prev()).toBe(true);
    expect(c.key).toEqual(b1(3, 5));
    other.put(b1(3), b1(98));
    expect(c.prev()).toBe(true);
    expect([c.key, c.value]).toEqual([b1(3), b1(98)]);
    await conn.close();
  });

  it('next() sees keys inserted after the position by another cursor, also when they split the leaf', async () => {
    const { conn, s, c } = await openTable(PAGE_SIZE, true);
    const other = s.openCursor<Uint8Array, Uint8Array>(T);
    const k = (i: number, j = 0) => b1(i, j);
    for (let i = 1; i <= 20; i++) c.put(k(i), filled(100, i));
    expect(s.stats(T).leafPages).toBe(1);
    expect(c.seek(k(5))).toBe(true);
    // 30 items of 200 bytes between 5 and 6: the leaf splits several times under the cursor.
    for (let j = 1; j <= 30; j++) other.put(k(5, j), filled(200, j));
    expect(s.stats(T).leafPages).toBeGreaterThan(1);
    for (let j = 1; j <= 30; j++) {
      expect(c.next()).toBe(true);
      expect(c.key).toEqual(k(5, j));
    }
    expect(c.next()).toBe(true);
    expect(c.key).toEqual(k(6));
    await conn.close();
  });

  it("mutating the Uint8Array returned by c.key does not move the cursor (formerly: it was the cursor's own position)", async () => {
    const { conn, c } = await fiveKeys();
    expect(c.seek(b1(3))).toBe(true);
    c.key![0] = 9; // the caller reuses "its copy" of the key
    expect(c.prev()).toBe(true);
    expect(c.key).toEqual(b1(2));
    c.key![0] = 0;
    expect(c.next()).toBe(true);
    expect(c.key).toEqual(b1(3));
    // Inside a batch (seek reads ahead to the end of the leaf), and at its last entry.
    expect(c.seek(b1(1))).toBe(true);
    expect(c.next()).toBe(true);
    c.key![0] = 0;
    expect(c.next()).toBe(true);
    expect(c.key).toEqual(b1(3));
    expect(c.seek(b1(5), 'le')).toBe(true);
    c.key![0] = 1;
    expect(c.prev()).toBe(true);
    expect(c.key).toEqual(b1(4));
    expect(c.seek(b1(5))).toBe(true);
    c.key![0] = 0;
    expect(c.next()).toBe(false);
    await conn.close();
  });
});

// ---------------------------------------------------------------------------------------------
// KNOWN BUG (new; fails until fixed)
// ---------------------------------------------------------------------------------------------

describe('cursor-next-hint: next() from the last key of a leaf skips a key inserted after it by another cursor', () => {
  it('cursor-next-hint: after another cursor inserts a key just above the position, next() returns it (it goes to the right sibling instead)', async () => {
    // Cursor.step() uses the batch's right-sibling hint once the batch is exhausted, without
    // checking that the leaf is unchanged: a key inserted into the leaf after the cursor's key
    // (put has returned before next() is called) is skipped. Every key is tried as the position,
    // so one of them is the last key of the first leaf.
    const { conn, s, c } = await openTable(PAGE_SIZE, true);
    const other = s.openCursor<Uint8Array, Uint8Array>(T);
    const key = (i: number) => {
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, i * 10);
      return k;
    };
    for (let i = 0; i < 200; i++) c.put(key(i), filled(100, i));
    expect(s.stats(T).leafPages).toBeGreaterThan(2);
    const skipped: string[] = [];
    for (let i = 0; i < 199; i++) {
      const above = key(i);
      above[3]! += 1;
      expect(c.seek(key(i))).toBe(true);
      other.put(above, b1(7));
      expect(c.next()).toBe(true);
      if (hex(c.key!) !== hex(above)) skipped.push(`after ${hex(key(i))}: got ${hex(c.key!)}, not ${hex(above)}`);
      expect(other.remove(above)).toBe(true);
    }
    expect(skipped).toEqual([]);
    await conn.close();
  });
});
