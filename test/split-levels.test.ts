// Deterministic splits at every level: 1024-byte keys on 4096-byte pages (about three downlinks
// an internal page) inserted in ascending, descending and random order and as maximal items, so
// that leaf, internal and root splits all happen within a few hundred keys; and a deep tree half
// emptied and refilled. Each phase checks verify, the page-count identities, lookups and scans.
import { describe, it, expect } from 'vitest';
import { open } from '../dist/index.js';
import { rng } from './helpers.js';
import { PAGE_SIZE, MAX_KEY, T, LIMIT_1024, pattern, expectPageIdentities } from './property-model.js';



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
    const maximal = (i: number) => pattern(LIMIT_1024, i); // 1024 + 469 = 1493 bytes: the item limit
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
