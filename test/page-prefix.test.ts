/**
 * The page's prefix and key heads (assembly/page.ts): every key on a page and its high key share
 * the page's first `prefix` bytes, and each slot keeps the key's next 4 bytes (its head) so that
 * an in-page search reads the slot array only, comparing a cell's key only where heads are equal.
 *
 *  - the tie-break: keys whose heads are equal (they share 4 or more bytes after the prefix, are
 *    shorter than prefix + 4 and differ only by trailing zero bytes, are prefixes of each other,
 *    or are 1024 bytes long and differ in their last byte) are all found, absent neighbours are
 *    not, and scans return byte order;
 *  - the shrink path: a key that does not share a page's prefix (one from the key space a deleted
 *    leaf passed to its right sibling, one shorter than the prefix) shrinks it, and the heads are
 *    recomputed;
 *  - the verifier's PREFIX rule fires on a corrupted head, prefix length or header copy, or the
 *    high key's head in the header;
 *  - random sequences over keys built to collide in their heads, against the model.
 */
import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import { openTest, levelInfo, TEST_DEBUG } from './helpers.js';
import { U, uShortKey, uValue, mixed, runSequence, params, SEED } from './property-model.js';
import { type Connection, type Cursor, type Session } from '../dist/index.js';
import { PAGE_HEADER, PAGE_SLOT, P_PREFIX, P_PREFIX_HEAD, P_HIGH_HEAD, MAX_KEY } from '../dist/abi.generated.js';

let conn: Connection;
afterEach(async () => { await conn?.close(); });

const T = 'table:t';
const enc = new TextEncoder();
const bytes = (...parts: (string | number[] | Uint8Array)[]) => {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === 'string' ? enc.encode(p) : p));
  return Uint8Array.from(out);
};
const cmp = (a: Uint8Array, b: Uint8Array) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};
const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');

/** A page's header fields and slot heads, read from the shared memory (quiesced). */
function pageOf(c: Connection, page: number) {
  const base = c.core.x.lk_arena_base() + page * c.pageSize;
  const dv = c.core.dv;
  return {
    base,
    prefix: () => dv.getUint16(base + P_PREFIX, true),
    headAt: (i: number) => base + PAGE_HEADER + i * PAGE_SLOT + 2,
  };
}

/** The leaf pages, left to right, with their prefix lengths. */
function leaves(c: Connection) {
  return levelInfo(c, 0, 0).map((p) => ({ ...p, prefix: pageOf(c, p.page).prefix() }));
}

async function openTable(opts: Record<string, unknown> = {}): Promise<{ s: Session; c: Cursor<Uint8Array, Uint8Array> }> {
  conn = await openTest(opts);
  const s = conn.openSession();
  s.create(T);
  return { s, c: s.openCursor<Uint8Array, Uint8Array>(T) };
}

/** Every key has its value, every probe is absent, the scan is the keys in byte order, verify passes. */
function expectExactly(s: Session, c: Cursor<Uint8Array, Uint8Array>, model: Map<string, [Uint8Array, Uint8Array]>, probes: Uint8Array[], what: string) {
  for (const [k, v] of model.values()) expect(c.get(k), `${what}: get ${hex(k)}`).toEqual(v);
  for (const p of probes) if (!model.has(hex(p))) expect(c.get(p), `${what}: absent ${hex(p)}`).toBeUndefined();
  const sorted = [...model.values()].sort(([a], [b]) => cmp(a, b)).map(([k]) => hex(k));
  expect([...c.range()].map(([k]) => hex(k)), `${what}: scan order`).toEqual(sorted);
  expect(s.verify(T).ok, `${what}: verify`).toBe(true);
}

// A common prefix P, then keys whose heads (the 4 bytes after a page prefix of |P| or more) tie.
const P = 'q'.repeat(10);
const tieKeys = (): Uint8Array[] => [
  bytes(P), bytes(P, [0]), bytes(P, [0, 0, 0, 0]), bytes(P, [0, 0, 0, 0, 0]), // the prefix itself, and zero padding
  bytes(P, 'a'), bytes(P, 'a', [0]), bytes(P, 'a', [0, 0, 0]), bytes(P, 'a', [0, 0, 0, 0]), // short keys: one head
  bytes(P, 'ab'), bytes(P, 'abc'), bytes(P, 'abcd'), bytes(P, 'abcde'), bytes(P, 'abcdef'), // prefixes of each other
  bytes(P, 'abcd', [0]), bytes(P, 'abcd', [0xff]), bytes(P, 'abcdzz'), bytes(P, 'abcd', [0xff, 0]), // 4+ shared bytes after
  bytes(P, 'abcd', 'z'.repeat(MAX_KEY - P.length - 4)), // maximal keys that differ in their last byte only
  bytes(P, 'abcd', 'z'.repeat(MAX_KEY - P.length - 5), 'y'),
  bytes(P, 'abcd', 'z'.repeat(MAX_KEY - P.length - 5)),
];
/** Neighbours of the tie keys that are never stored. */
const tieProbes = (): Uint8Array[] => [
  bytes(P, [0, 0]), bytes(P, [0, 0, 0]), bytes(P, 'a', [0, 0]), bytes(P, 'a', [0, 0, 0, 0, 0]), bytes(P, 'abcd', [0, 0]),
  bytes(P, 'abcd', [1]), bytes(P, 'abcdz'), bytes(P, 'abcd', [0xfe]), bytes(P.slice(1)), bytes(P.slice(1), 'r'), bytes('r'),
  bytes(P, 'abcd', 'z'.repeat(MAX_KEY - P.length - 5), 'x'), bytes(P, 'abcd', 'z'.repeat(MAX_KEY - P.length - 6)),
  bytes(P, 'abd'), bytes(P, 'abb'), bytes(P, 'b'),
];

describe('page prefix and key heads', () => {
  it('keys with equal heads (zero padding, prefixes of each other, 4+ shared bytes after the prefix, maximal keys) are told apart by the full compare', async () => {
    const { s, c } = await openTable();
    const model = new Map<string, [Uint8Array, Uint8Array]>();
    const put = (k: Uint8Array, v: Uint8Array) => { c.put(k, v); model.set(hex(k), [k, v]); };
    // Filler sharing P + 'abcd' splits the table into leaves whose prefixes run past P.
    for (let i = 0; i < 400; i++) put(bytes(P, 'abcdf', String(i).padStart(4, '0')), new Uint8Array(60).fill(i & 0xff));
    const before = leaves(conn);
    expect(before.length).toBeGreaterThan(5);
    expect(Math.min(...before.map((l) => l.prefix)), 'every leaf has a prefix longer than P').toBeGreaterThan(P.length);
    // The tie keys land in the first leaves and the last one, below and above the filler.
    for (const [i, k] of tieKeys().entries()) put(k, new Uint8Array(8).fill(i + 1));
    const after = leaves(conn);
    expect(after[0]!.prefix, 'the first leaf holds P itself: its prefix shrank to P').toBe(P.length);
    expectExactly(s, c, model, [...tieProbes(), ...tieKeys()], 'after the tie keys');
    // Overwrites with other lengths replace cells: garbage, compaction, prefixes set anew.
    for (const [k] of [...model.values()]) put(k, new Uint8Array(k.length > 100 ? 3 : 40).fill(7));
    expectExactly(s, c, model, tieProbes(), 'after overwrites');
    // Removing the tie keys again: the rest stays findable.
    for (const k of tieKeys()) { expect(c.remove(k)).toBe(true); model.delete(hex(k)); }
    expectExactly(s, c, model, [...tieProbes(), ...tieKeys()], 'after removing the tie keys');
  });

  it('in one leaf, in every insertion order: the tie keys and their probes', async () => {
    const orders = [(a: Uint8Array[]) => a, (a: Uint8Array[]) => [...a].reverse(), (a: Uint8Array[]) => a.map((k, i) => [k, (i * 7919) % 23] as const).sort((x, y) => x[1] - y[1]).map(([k]) => k)];
    for (const [o, order] of orders.entries()) {
      const { s, c } = await openTable({ pageSize: 8192 });
      const model = new Map<string, [Uint8Array, Uint8Array]>();
      // A compaction (an overwrite that needs the garbage of the cell it replaces) sets the page's
      // prefix to what P + 'abcdq1..3' share, before the tie keys arrive and shrink it.
      const fill = [1, 2, 3].map((i) => bytes(P, 'abcdq', String(i)));
      for (const k of fill) c.put(k, new Uint8Array(2000));
      c.put(fill[0]!, new Uint8Array(2048));
      for (const k of fill.slice(1)) c.remove(k);
      model.set(hex(fill[0]!), [fill[0]!, new Uint8Array(2048)]);
      expect(pageOf(conn, leaves(conn)[0]!.page).prefix(), `order ${o}: the compaction set the prefix`).toBe(P.length + 5);
      expect(s.stats(T).pages).toBe(1);
      for (const [i, k] of order(tieKeys()).entries()) { const v = new Uint8Array(3).fill(i); c.put(k, v); model.set(hex(k), [k, v]); }
      expect(s.stats(T).pages, `order ${o}: one leaf`).toBe(1);
      expectExactly(s, c, model, tieProbes(), `order ${o}`);
      await conn.close();
    }
  });

  it('a key from the key space a deleted leaf passed to its right sibling shrinks the sibling\'s prefix; the heads follow', async () => {
    const { s, c } = await openTable();
    const key = (i: number) => bytes('user/', String(i).padStart(6, '0'));
    const model = new Map<string, [Uint8Array, Uint8Array]>();
    for (let i = 0; i < 600; i++) { const v = new Uint8Array(100).fill(i & 0xff); c.put(key(i * 10), v); model.set(hex(key(i * 10)), [key(i * 10), v]); }
    const ls = leaves(conn);
    // A target leaf whose low key (its left neighbour's high key) shares less with its right
    // sibling's keys than the sibling's prefix: keys from the target's range, once it is deleted,
    // go to the sibling and cannot share its prefix.
    const lcp = (a: Uint8Array, b: Uint8Array) => { let i = 0; while (i < a.length && i < b.length && a[i] === b[i]) i++; return i; };
    const j = ls.findIndex((l, i) => i > 0 && i + 1 < ls.length && lcp(ls[i - 1]!.high, ls[i + 1]!.high) < ls[i + 1]!.prefix);
    expect(j, 'a target leaf').toBeGreaterThan(0);
    const [target, right] = [ls[j]!, ls[j + 1]!];
    const gone = [...c.range({ gte: ls[j - 1]!.high, lt: target.high })].map(([k]) => k);
    for (const k of gone) { expect(c.remove(k)).toBe(true); model.delete(hex(k)); }
    s.compact(T);
    expect(leaves(conn).some((l) => l.page === target.page), 'the emptied leaf is deleted').toBe(false);
    const sib = pageOf(conn, right.page);
    const before = sib.prefix();
    expect(before).toBe(right.prefix);
    // Keys from the deleted leaf's old range (between its old keys) now go to the sibling.
    const arriving = gone.slice(0, 3).map((k) => bytes(k, '5'));
    for (const k of arriving) { const v = new Uint8Array(5).fill(9); c.put(k, v); model.set(hex(k), [k, v]); }
    expect(leaves(conn).find((l) => l.page === right.page)?.items, 'the sibling took them').toBe(right.items + arriving.length);
    const after = sib.prefix();
    expect(after, `prefix ${before} shrank`).toBeLessThan(before);
    expect(after, 'to what the arriving keys share with the sibling').toBe(lcp(arriving[0]!, ls[j + 1]!.high));
    expectExactly(s, c, model, [...gone, ...gone.map((k) => bytes(k, '4')), bytes('user/')], 'after the shrink');
  });

  it('a key shorter than a leaf\'s prefix, and one below it sharing none of it, shrink the prefix to what they share', async () => {
    const { s, c } = await openTable();
    const model = new Map<string, [Uint8Array, Uint8Array]>();
    const key = (i: number) => bytes('user/', String(i).padStart(6, '0'));
    for (let i = 0; i < 300; i++) { const v = new Uint8Array(100); c.put(key(i), v); model.set(hex(key(i)), [key(i), v]); }
    const first = pageOf(conn, leaves(conn)[0]!.page);
    expect(first.prefix()).toBeGreaterThanOrEqual('user/0000'.length);
    for (const [k, pre] of [[bytes('user/000'), 8], [bytes('user/'), 5], [bytes('use'), 3], [bytes('a'), 0]] as const) {
      const v = new Uint8Array(4).fill(pre);
      c.put(k, v);
      model.set(hex(k), [k, v]);
      expect(first.prefix(), `after ${hex(k)}`).toBe(pre);
      expectExactly(s, c, model, [bytes('user'), bytes('us'), bytes('user/00'), bytes('b'), bytes([0])], `after ${hex(k)}`);
    }
  });
});

// Pages of INTERPOLATE_MIN (48) slots and more narrow the binary search around a guess
// interpolated between the first head and the high key's (page.ts, narrow). 8-byte keys with
// 8-byte values fill a 4 KiB leaf with about 150 slots, and 20 000 of them an internal page with
// about 130: both searches interpolate. Distributions where a guess is far off (skewed, two
// clusters, runs of equal heads, keys shorter than their head) must cost probes, never results.
describe('interpolation on heads: every distribution finds exactly the keys present', () => {
  const be64 = (hi: number, lo: number) => { const k = new Uint8Array(8); const dv = new DataView(k.buffer); dv.setUint32(0, hi >>> 0); dv.setUint32(4, lo >>> 0); return k; };
  let x = 0x2545f491;
  const rand = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
  const N = 20000;
  const dists: [string, (i: number) => Uint8Array][] = [
    ['uniform random', () => be64(rand(), rand())],
    ['skewed (i^4: dense at the low end of each page)', (i) => be64(Math.floor((i ** 4) / 2 ** 32), (i ** 4) % 2 ** 32)],
    ['two clusters at the ends of the key space', (i) => be64(i % 2 ? 0xffffff00 + (i & 0xff) : i >> 8, rand())],
    ['runs of equal heads (4 shared bytes after a 1-byte prefix)', (i) => bytes([0x40 + (i % 16)], 'head', [i >> 12, (i >> 4) & 0xff])],
    ['keys shorter than a head, with zero padding ties', (i) => (i < 256 ? bytes([i]) : i < 512 ? bytes([i - 256, 0]) : bytes([(i >> 8) & 0xff, i & 0xff, (i >> 1) & 1 ? 0 : 1]))],
  ];
  for (const [name, make] of dists) {
    it(name, async () => {
      const { s, c } = await openTable();
      const model = new Map<string, [Uint8Array, Uint8Array]>();
      for (let i = 0; i < N; i++) { const k = make(i); const v = be64(i, ~i); c.put(k, v); model.set(hex(k), [k, v]); }
      const sizes = levelInfo(conn, 0, 0).map((l) => l.items);
      expect(Math.max(...sizes), 'leaves large enough to interpolate').toBeGreaterThanOrEqual(48);
      if (s.stats(T).depth > 1) expect(levelInfo(conn, 0, 1).some((l) => l.items >= 48), 'an internal page large enough to interpolate').toBe(true);
      const keys = [...model.values()].map(([k]) => k).sort(cmp);
      // Neighbours: each key with a 0 byte appended (just above it), and with its last byte less one.
      const probes: Uint8Array[] = [];
      for (const k of keys) {
        probes.push(bytes(k, [0]));
        if (k[k.length - 1]! > 0) { const b = k.slice(); b[b.length - 1]!--; probes.push(b); }
      }
      const wrong: string[] = [];
      for (const k of keys) if (cmp(c.get(k) ?? new Uint8Array(0), model.get(hex(k))![1]) !== 0) wrong.push(`get ${hex(k)}`);
      for (const p of probes) if (!model.has(hex(p)) && c.get(p) !== undefined) wrong.push(`absent ${hex(p)}`);
      // A lower bound from every 29th probe: the scan starts at the first key at or above it, a
      // reverse scan at the last key below it.
      const firstAtOrAbove = (p: Uint8Array) => { let lo = 0, hi = keys.length; while (lo < hi) { const m = (lo + hi) >> 1; if (cmp(keys[m]!, p) < 0) lo = m + 1; else hi = m; } return lo; };
      for (let j = 0; j < probes.length; j += 29) {
        const p = probes[j]!;
        const at = firstAtOrAbove(p);
        const up = [...c.range({ gte: p, limit: 1 })].map(([k]) => hex(k)).join();
        if (up !== (at < keys.length ? hex(keys[at]!) : '')) wrong.push(`first key >= ${hex(p)}: ${up}`);
        const down = [...c.range({ lt: p, reverse: true, limit: 1 })].map(([k]) => hex(k)).join();
        if (down !== (at > 0 ? hex(keys[at - 1]!) : '')) wrong.push(`last key < ${hex(p)}: ${down}`);
      }
      expect(wrong).toEqual([]);
      expect([...c.range()].map(([k]) => hex(k)), 'scan order').toEqual(keys.map(hex));
      expect(s.verify(T).ok).toBe(true);
    });
  }
});

describe('the verifier checks the prefix and the heads (rule PREFIX)', () => {
  for (const debug of [true, false]) {
    it(`${debug ? 'debug' : 'release'} build: a corrupted head, prefix length or header copy breaks rule PREFIX; restored, the tree verifies`, async () => {
      const { s, c } = await openTable({ debug });
      for (let i = 0; i < 300; i++) c.put(bytes('user/', String(i).padStart(6, '0')), new Uint8Array(100));
      const leaf = leaves(conn)[1]!;
      expect(leaf.prefix).toBeGreaterThan(4); // the header copy holds 4 bytes; the rest is read from the first key
      const pg = pageOf(conn, leaf.page);
      const u8 = conn.core.u8;
      const dv = conn.core.dv;
      const corrupt = (what: string, addr: number, change: () => void) => {
        const saved = u8.slice(addr, addr + 4);
        change();
        expect(() => s.verify(T), what).toThrow(new RegExp(`page ${leaf.page} \\(level 0\\) breaks rule PREFIX`));
        u8.set(saved, addr);
        expect(s.verify(T).ok, `${what}: restored`).toBe(true);
      };
      corrupt('a head', pg.headAt(3), () => { u8[pg.headAt(3) + 3]! ^= 1; });
      corrupt('the last item\'s head', pg.headAt(leaf.items - 1), () => { u8[pg.headAt(leaf.items - 1)]! ^= 0x80; });
      corrupt('a prefix one byte longer than the keys share', pg.base + P_PREFIX, () => { dv.setUint16(pg.base + P_PREFIX, leaf.prefix + 1, true); });
      corrupt('a prefix one byte shorter (heads no longer match)', pg.base + P_PREFIX, () => { dv.setUint16(pg.base + P_PREFIX, leaf.prefix - 1, true); });
      corrupt('the header copy of the prefix', pg.base + P_PREFIX_HEAD, () => { u8[pg.base + P_PREFIX_HEAD + 1]! ^= 4; });
      corrupt('the header\'s head of the high key', pg.base + P_HIGH_HEAD, () => { u8[pg.base + P_HIGH_HEAD]! ^= 2; });
    });
  }
});

/** Keys built to tie in their heads: a shared run, then 0 to 7 bytes from {0x00, 0x01, 0xff}, sometimes maximal. */
const tieKey = fc.oneof(
  { weight: 5, arbitrary: fc.record({ run: fc.integer({ min: 0, max: 12 }), tail: fc.array(fc.constantFrom(0x00, 0x01, 0xff), { maxLength: 7 }) })
    .filter(({ run, tail }) => run + tail.length > 0)
    .map(({ run, tail }) => Uint8Array.from([...new Array<number>(run).fill(0x61), ...tail])) },
  { weight: 1, arbitrary: fc.record({ len: fc.constantFrom(MAX_KEY - 1, MAX_KEY), tail: fc.constantFrom(0x00, 0x01, 0xff) })
    .map(({ len, tail }) => { const k = new Uint8Array(len).fill(0x61); k[len - 1] = tail; return k; }) },
  { weight: 1, arbitrary: uShortKey },
);

describe(`random sequences over keys whose heads tie, against the model (seed ${SEED})`, () => {
  it(`4096-byte pages, ${TEST_DEBUG ? 'debug' : 'release'} build`, async () => {
    await fc.assert(fc.asyncProperty(mixed(U, tieKey, uValue), async (ops) => { await runSequence(U, ops, TEST_DEBUG, 25); }), params(60));
  });
});
