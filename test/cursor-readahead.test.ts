// A positioned cursor: its read-ahead (the batch of entries a seek or step copies out of a leaf)
// never outlives a change to that leaf, by this cursor or another, also when the change splits
// the leaf; c.key is the caller's copy; and next() from the last key of a leaf sees a key
// inserted just after it (cursor-next-hint, a fixed bug: bindings/cursor.ts once followed the
// batch's right-sibling hint without checking the leaf).
import { describe, it, expect } from 'vitest';
import { PAGE_SIZE, T, hex, filled, openTable } from './property-model.js';

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

describe('cursor-next-hint: next() from the last key of a leaf skips a key inserted after it by another cursor', () => {
  it('cursor-next-hint: after another cursor inserts a key just above the position, next() returns it (it goes to the right sibling instead)', async () => {
    // Formerly Cursor.step() used the batch's right-sibling hint once the batch was exhausted,
    // without checking that the leaf was unchanged: a key inserted into the leaf after the
    // cursor's key (put has returned before next() is called) was skipped. Every key is tried as
    // the position, so one of them is the last key of the first leaf.
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
