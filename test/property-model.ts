// The property tests' model and generators (test/property-sequences.test.ts): a sorted in-memory
// model of a table in both formats, random operation sequences with long keys and large values
// (so that pages split often and trees grow several levels), and runSequence, which applies a
// sequence to a real table and to the model and compares them. Also the few table helpers the
// deterministic split and cursor tests share (test/split-levels.test.ts,
// test/split-limits.test.ts, test/cursor-readahead.test.ts).
//
// Environment: LATCHKEY_SEED=<n> replays a seed, LATCHKEY_PROP_SCALE=<x> multiplies the number of
// runs, LATCHKEY_PROP_LOG=1 prints each run.
//
// Ordering is unsigned bytewise over the key bytes (UTF-8 for strings). The model keys its Map by
// the lowercase hex of those bytes: comparing two such hex strings with < gives the same order as
// comparing the bytes (two hex digits per byte, and a proper prefix sorts first in both).
import { expect } from 'vitest';
import fc from 'fast-check';
import { open, type Connection, type Cursor, type Session, type TableStats } from '../dist/index.js';

export const PAGE_SIZE = 4096;
export const MAX_KEY = 1024;
/** A quarter page: the largest value for short keys. */
export const MAX_VALUE = PAGE_SIZE / 4;
export const T = 'table:t';

export const utf8 = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

// ---------------------------------------------------------------------------------------------
// Formats: how the model sees keys and values of each table format
// ---------------------------------------------------------------------------------------------

interface Format<K, V> {
  readonly name: 'u' | 'S' | 'q';
  bytes(k: K): Uint8Array;
  /** Length of a value in bytes (UTF-8 for strings). */
  valueLength(v: V): number;
  /** A comparable, printable form of a value (hex for bytes, the string itself for strings). */
  showValue(v: V): string;
  /** The longest prefix of v (whole characters for strings) of at most `max` bytes. */
  truncate(v: V, max: number): V;
}

export const U: Format<Uint8Array, Uint8Array> = {
  name: 'u',
  bytes: (k) => k,
  valueLength: (v) => v.length,
  showValue: (v) => `u:${hex(v)}`,
  truncate: (v, max) => (v.length <= max ? v : v.slice(0, max)),
};

export const S: Format<string, string> = {
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
 * A 'q' integer as the table stores it, computed here independently of bindings/codec.ts (BigInt
 * arithmetic, not its float halves): the int64 in 8 big-endian bytes, sign bit flipped.
 */
export function int64Bytes(n: number): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(n)) ^ (1n << 63n);
  const b = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) { b[i] = Number(x & 0xffn); x >>= 8n; }
  return b;
}

/** The integer of 8 bytes that int64Bytes wrote. */
export function int64Of(b: Uint8Array): number {
  let x = 0n;
  for (const v of b) x = (x << 8n) | BigInt(v);
  return Number(BigInt.asIntN(64, x ^ (1n << 63n)));
}

export const Q: Format<number, number> = {
  name: 'q',
  bytes: (k) => int64Bytes(k),
  valueLength: () => 8,
  showValue: (v) => `q:${v}`,
  truncate: (v) => v,
};

/**
 * The item limits, as assembly/limits.ts defines them (leafItemMax, valueMax). A split must always
 * find a two-way split that fits: two maximal items (cell header 4 + key + value, plus a 6-byte
 * slot each: offset and head) and a maximal high key (2 + 1024) must fit in the page's room (page - 64-byte header).
 * On 4096-byte pages that caps key + value at 1493 bytes; from 8192-byte pages up a 1024-byte key
 * takes a quarter-page value. The generators below keep every written item within valueLimit, and
 * a test checks this copy against the core's own numbers (conn.core.itemMax, valueLimit).
 */
export function itemMax(pageSize: number): number {
  const room = pageSize - 64;
  return Math.floor((room - (2 + MAX_KEY)) / 2) - 6 - 4;
}
export function valueLimit(pageSize: number, klen: number): number {
  return Math.min(pageSize / 4, itemMax(pageSize) - klen);
}
/** The largest value with a 1024-byte key on 4096-byte pages: 1493 - 1024 = 469. */
export const LIMIT_1024 = valueLimit(PAGE_SIZE, MAX_KEY);

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
  | { t: 'seek'; k: K; how: 'ge' | 'le'; steps: ('next' | 'prev')[] }
  | { t: 'getMany'; ks: K[] }
  | { t: 'putMany'; kvs: [K, V][] }
  | { t: 'removeMany'; ks: K[] }
  | ({ t: 'batches' } & RangeSpec<K>);

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
  /** The batch calls (getMany, putMany, removeMany, batches), each; 0 if absent. */
  batch?: number;
}

const MIXED: OpWeights = { put: 30, insert: 10, remove: 14, get: 14, range: 8, seek: 8 };
/** Mostly writes: grows the tree. */
const GROWING: OpWeights = { put: 60, insert: 15, remove: 5, get: 8, range: 4, seek: 4 };
/** Batch calls mixed with single-key ones (test/property-batches.test.ts). */
const BATCHED: OpWeights = { put: 10, insert: 4, remove: 4, get: 4, range: 3, seek: 3, batch: 10 };

/**
 * Operations on keys from `key` and values from `value` on pages of `pageSize`. A written value is
 * cut to the value limit for its key, so every put and insert is legal (runSequence checks it);
 * long values with long keys land exactly on the limit.
 */
function opArb<K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, w: OpWeights,
  pageSize: number): fc.Arbitrary<Op<K, V>> {
  const bound = fc.option(fc.record({ key, inclusive: fc.boolean() }), { nil: undefined, freq: 3 });
  const kv = fc.tuple(key, value).map(([k, v]) => ({ k, v: fmt.truncate(v, valueLimit(pageSize, fmt.bytes(k).length)) }));
  const rangeSpec = {
    lower: bound,
    upper: bound,
    reverse: fc.constantFrom(undefined, true, false),
    limit: fc.option(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100 })), { nil: undefined }),
  };
  // Batches of 0 to 40 (short keys collide: duplicates within a batch are common); long keys with
  // large values make a batch larger than the scratch area's batch input or output.
  const keys = fc.array(key, { maxLength: 40 });
  const batch = w.batch ?? 0;
  const batches: fc.WeightedArbitrary<Op<K, V>>[] = batch === 0 ? [] : [
    { weight: batch, arbitrary: keys.map((ks) => ({ t: 'getMany' as const, ks })) },
    { weight: batch, arbitrary: fc.array(kv, { maxLength: 40 }).map((a) => ({ t: 'putMany' as const, kvs: a.map(({ k, v }): [K, V] => [k, v]) })) },
    { weight: batch, arbitrary: keys.map((ks) => ({ t: 'removeMany' as const, ks })) },
    { weight: batch, arbitrary: fc.record({ t: fc.constant('batches' as const), ...rangeSpec }, { requiredKeys: ['t'] }) },
  ];
  const op: fc.Arbitrary<Op<K, V>> = fc.oneof(
    ...batches,
    { weight: w.put, arbitrary: kv.map(({ k, v }) => ({ t: 'put' as const, k, v })) },
    { weight: w.insert, arbitrary: kv.map(({ k, v }) => ({ t: 'insert' as const, k, v })) },
    { weight: w.remove, arbitrary: fc.record({ t: fc.constant('remove' as const), k: key }) },
    { weight: w.get, arbitrary: fc.record({ t: fc.constant('get' as const), k: key }) },
    {
      weight: w.range,
      arbitrary: fc.record({ t: fc.constant('range' as const), ...rangeSpec }, { requiredKeys: ['t'] }),
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
export const uShortKey = fc.array(fc.constantFrom(...BYTE_ALPHABET), { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a));

/**
 * Long keys: a run of one byte and a tail byte. Keys share long prefixes, so separators are long
 * (internal fan-out is small and trees get deep). Lengths near the limit collide often.
 */
export const uLongKey = fc
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

export const uKey = fc.oneof({ weight: 3, arbitrary: uShortKey }, { weight: 2, arbitrary: uLongKey });

/** A value of `len` bytes with a pattern that depends on `seed` (so overwrites are visible). */
export function pattern(len: number, seed: number): Uint8Array {
  const v = new Uint8Array(len);
  for (let i = 0; i < len; i++) v[i] = (seed + i * 7) & 0xff;
  return v;
}

/**
 * Values of up to `maxValue` bytes (a quarter page), often at or next to it. opArb cuts them to the
 * limit for their key, so with long keys the length at the limit is the most frequent one.
 */
export function uValueOf(maxValue: number): fc.Arbitrary<Uint8Array> {
  const len = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 16 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: maxValue }) },
    { weight: 1, arbitrary: fc.constantFrom(0, maxValue - 1, maxValue) },
  );
  return fc.record({ len, seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => pattern(len, seed));
}
export const uValue = uValueOf(MAX_VALUE);

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
export const sLongKey = fc
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

export const sKey = fc.oneof({ weight: 3, arbitrary: sShortKey }, { weight: 2, arbitrary: sLongKey });

export function sValueOf(maxValue: number): fc.Arbitrary<string> {
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
export const sValue = sValueOf(MAX_VALUE);

/** 'q' integers: a few small ones (repeats, both signs, zero), the edges of the safe range and of 32-bit halves, any safe one. */
const INT_EDGES = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
export const qKey = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -40, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(...INT_EDGES) },
  { weight: 2, arbitrary: fc.maxSafeInteger() },
);
export const qValue = fc.oneof(fc.constantFrom(...INT_EDGES), fc.maxSafeInteger());
/** 'q' keys for growing runs: mostly distinct (any safe integer), so that the tree splits. */
export const qWideKey = fc.oneof({ weight: 5, arbitrary: fc.maxSafeInteger() }, { weight: 1, arbitrary: fc.constantFrom(...INT_EDGES) });

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
export function expectPageIdentities(st: TableStats, where: string): void {
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
    case 'getMany': {
      const got = c.getMany(op.ks as never[]);
      expect(got.length, `${where}: getMany length`).toBe(op.ks.length);
      expect(got.map((v) => (v === undefined ? undefined : fmt.showValue(v as V))), `${where}: getMany`).toEqual(
        op.ks.map((k) => { const v = m.get(k); return v === undefined ? undefined : fmt.showValue(v); }),
      );
      break;
    }
    case 'putMany':
      c.putMany(op.kvs as never);
      for (const [k, v] of op.kvs) m.set(k, v);
      break;
    case 'removeMany': {
      const want = op.ks.filter((k) => m.delete(k)).length;
      expect(c.removeMany(op.ks as never[]), `${where}: removeMany count`).toBe(want);
      break;
    }
    case 'batches':
      expect(batchEntries(c, rangeOptions(op), fmt, where), `${where}: batches ${JSON.stringify(rangeOptions(op), replacer)}`).toEqual(m.range(op));
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

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Every entry c.batches(opts) returns, as [hexKey, shownValue] pairs (values of 'S' tables are
 * UTF-8 bytes in a batch); checks each batch's shape: not empty, its four arrays views of one
 * private buffer of its own (no other batch's, not shared memory) that do not overlap, the ends
 * rising and ending at the columns' lengths.
 */
export function batchEntries<K, V>(c: Cursor, opts: Record<string, unknown>, fmt: Format<K, V>, where: string): [string, string][] {
  const out: [string, string][] = [];
  const buffers = new Set<ArrayBufferLike>();
  for (const b of c.batches(opts as never)) {
    expect(b.count, `${where}: a batch is not empty`).toBeGreaterThan(0);
    expect([b.keyEnds.length, b.valueEnds.length], `${where}: ends per entry`).toEqual([b.count, b.count]);
    expect(b.keyEnds[b.count - 1], `${where}: keys end`).toBe(b.keys.length);
    expect(b.valueEnds[b.count - 1], `${where}: values end`).toBe(b.values.length);
    const columns = [b.keyEnds, b.valueEnds, b.keys, b.values];
    expect(new Set(columns.map((a) => a.buffer)).size, `${where}: the columns share one buffer`).toBe(1);
    expect(buffers.has(b.keys.buffer), `${where}: a buffer no other batch has`).toBe(false);
    buffers.add(b.keys.buffer);
    const spans = columns.map((a) => [a.byteOffset, a.byteOffset + a.byteLength]).sort((x, y) => x[0]! - y[0]!);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0], `${where}: columns do not overlap`).toBeGreaterThanOrEqual(spans[i - 1]![1]!);
    expect(b.keys.buffer instanceof SharedArrayBuffer, `${where}: not shared memory`).toBe(false);
    for (let i = 0; i < b.count; i++) {
      const k = b.keys.subarray(i ? b.keyEnds[i - 1] : 0, b.keyEnds[i]);
      const v = b.values.subarray(i ? b.valueEnds[i - 1] : 0, b.valueEnds[i]);
      expect(k.length, `${where}: key ${i} of a batch`).toBeGreaterThan(0);
      out.push([hex(k), fmt.showValue((fmt.name === 'S' ? utf8Decoder.decode(v) : fmt.name === 'q' ? int64Of(v) : v.slice()) as V)]);
    }
  }
  return out;
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

export async function runSequence<K, V>(fmt: Format<K, V>, ops: Op<K, V>[], debug: boolean, verifyEvery = 50,
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

// LATCHKEY_SEED replays a run; LATCHKEY_PROP_SCALE multiplies the number of runs (for a soak).
export const SEED = Number(process.env.LATCHKEY_SEED ?? Date.now() % 2 ** 31);
const SCALE = Number(process.env.LATCHKEY_PROP_SCALE ?? 1);
export const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(numRuns * SCALE)), seed: SEED });

export const mixed = <K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, pageSize = PAGE_SIZE) =>
  fc.array(opArb(fmt, key, value, MIXED, pageSize), { maxLength: 250, size: 'max' });
export const batched = <K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, pageSize = PAGE_SIZE) =>
  fc.array(opArb(fmt, key, value, BATCHED, pageSize), { maxLength: 150, size: 'max' });
export const growing = <K, V>(fmt: Format<K, V>, key: fc.Arbitrary<K>, value: fc.Arbitrary<V>, pageSize = PAGE_SIZE) =>
  fc.array(opArb(fmt, key, value, GROWING, pageSize), { minLength: 250, maxLength: 400 });

// ---------------------------------------------------------------------------------------------
// Tables for the deterministic tests
// ---------------------------------------------------------------------------------------------

export const filled = (n: number, b: number) => new Uint8Array(n).fill(b);

export async function openTable(pageSize: number, debug: boolean) {
  const conn = await open({ pageSize, cacheSize: '32MB', debug });
  const s = conn.openSession();
  s.create(T);
  const c = s.openCursor<Uint8Array, Uint8Array>(T);
  return { conn, s, c };
}
