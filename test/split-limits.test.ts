// Leaf splits at the size limits: a leaf full to the byte with maximal items (key + value at the
// item limit, under a 1024-byte high key) always finds a two-way split that fits, on 4096- and
// 8192-byte pages, in both builds; the split point search when the central point does not fit;
// and the fit check made with the suffix-truncated separator the page really gets.
import { describe, it, expect } from 'vitest';
import { type Cursor, type Session } from '../dist/index.js';
import { MAX_KEY, T, hex, valueLimit, expectPageIdentities, filled, openTable } from './property-model.js';

/** Bytes an item takes in a leaf: 4-byte cell header, key, value, and its 6-byte slot (offset and head). */
const itemBytes = (klen: number, vlen: number) => 10 + klen + vlen;
/** Bytes a page has for items and its high key (page size minus the 64-byte header). */
const roomOf = (pageSize: number) => pageSize - 64;
/** Bytes a 1024-byte high key takes (2-byte length + key; no slot). */
const HIGH_1024 = 2 + MAX_KEY;
/** The integer target of a split of `total` bytes (split.ts: half, or 90% when appending at the right end). */
const splitTarget = (total: number, rightmostAppend: boolean) => (rightmostAppend ? Math.floor((total * 90) / 100) : total >> 1);

/** A 1024-byte key: 1023 bytes of 0x61 then `last`. Neighbours share 1023 bytes: separators stay 1024 bytes. */
function longKey(last: number): Uint8Array {
  const k = filled(MAX_KEY, 0x61);
  k[MAX_KEY - 1] = last;
  return k;
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
      const vmax = valueLimit(pageSize, MAX_KEY); // 469 on 4096-byte pages, 2048 on 8192
      const maximal = itemBytes(MAX_KEY, vmax); // 1503 or 3082 bytes
      // Filler that makes a leaf holding two maximal items under a 1024-byte high key exactly full.
      const filler = room - HIGH_1024 - 2 * maximal;
      expect(filler, 'room left beside two maximal items and a 1024-byte high key').toBe(pageSize === 4096 ? 0 : 938);
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
