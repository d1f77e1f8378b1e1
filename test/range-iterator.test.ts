// range()'s iterator (bindings/range.ts): it keeps the contract of the generator it replaced
// (nothing runs before the first next(); an error, return() or a break ends it; it is its own
// iterable and an iterator as generators are), what it returns are the caller's copies (over many
// leaves, with other calls on the same thread in between, and mutated by the caller), and strings
// decode alike through the per-batch text (codec.ts batchText) and per entry: ASCII, 2-, 3- and
// 4-byte characters, U+FEFF, and lengths of 128 bytes and more (length bytes of 0x80 and up).
import { describe, it, expect } from 'vitest';
import { openTest } from './helpers.js';
import { hex } from './property-model.js';
import { LatchkeyError } from '../dist/index.js';

const utf8 = new TextEncoder();
const byUtf8 = (a: string, b: string) => (hex(utf8.encode(a)) < hex(utf8.encode(b)) ? -1 : 1);
/** %IteratorPrototype%, which generators inherit (and with it the iterator helpers, where present). */
const ITERATOR_PROTOTYPE = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

/** Key i: 4 bytes big-endian (so key order is i's order). */
const key = (i: number) => Uint8Array.of(i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255);
const val = (i: number) => Uint8Array.of(i & 255, (i >>> 8) & 255, 7, 7, 7, 7, 7, i & 255);

async function bytesTable(n: number) {
  const conn = await openTest();
  const s = conn.openSession();
  s.create('table:u');
  const c = s.openCursor('table:u');
  for (let i = 0; i < n; i++) c.put(key(i), val(i));
  return { conn, s, c };
}

describe('range() keeps the generator contract', () => {
  it('runs nothing before the first next(): a bad option or a closed cursor is thrown there, and ends it', async () => {
    const { conn, s, c } = await bytesTable(10);
    const bad = c.range({ limit: -1 });
    let e: unknown;
    try { bad.next(); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(LatchkeyError);
    expect((e as LatchkeyError).code).toBe('EINVAL');
    expect(bad.next()).toEqual({ value: undefined, done: true });
    // The bound is copied at the first next(), as a generator's body would: a change before it counts.
    const bound = key(3);
    const it = c.range({ gte: bound });
    bound.set(key(8));
    expect(hex(it.next().value![0])).toBe(hex(key(8)));
    const c2 = s.openCursor('table:u');
    const late = c2.range();
    c2.close();
    expect(() => late.next()).toThrow(expect.objectContaining({ code: 'ECLOSED' }));
    expect(late.next().done).toBe(true);
    conn.close();
  });

  it('return() and a break end it; it is its own iterable and inherits %IteratorPrototype%', async () => {
    const { conn, c } = await bytesTable(3000);
    const it = c.range();
    expect(it[Symbol.iterator]()).toBe(it);
    expect(ITERATOR_PROTOTYPE.isPrototypeOf(it)).toBe(true);
    for (const _ of it) break;
    expect(it.next()).toEqual({ value: undefined, done: true });
    const it2 = c.range();
    it2.next();
    expect(it2.return!()).toEqual({ value: undefined, done: true });
    expect(it2.next().done).toBe(true);
    const it3 = c.range();
    expect(() => it3.throw!(new Error('stop'))).toThrow('stop');
    expect(it3.next().done).toBe(true);
    // limit, bounds and reverse over several leaves.
    expect([...c.range({ gte: key(100), lt: key(2900), limit: 2500 })].map(([k]) => hex(k)))
      .toEqual(Array.from({ length: 2500 }, (_, i) => hex(key(100 + i))));
    expect([...c.range({ lte: key(2500), gt: key(10), reverse: true })].map(([k]) => hex(k)))
      .toEqual(Array.from({ length: 2490 }, (_, i) => hex(key(2500 - i))));
    expect([...c.range({ limit: 0 })]).toEqual([]);
    conn.close();
  });
});

describe("range() returns the caller's copies", () => {
  it('entries kept from early leaves stay as given through later leaves, other calls and mutation of the others', async () => {
    const n = 5000;
    const { conn, s, c } = await bytesTable(n);
    const other = s.openCursor('table:u');
    const kept: [Uint8Array, Uint8Array][] = [];
    let i = 0;
    for (const [k, v] of c.range()) {
      kept.push([k, v]);
      // Calls that reuse this thread's scratch area (where batches and values are read) in between.
      if (i % 97 === 0) {
        expect(hex(other.get(key((i * 31) % n))!)).toBe(hex(val((i * 31) % n)));
        other.put(key((i * 7) % n), val((i * 7) % n));
        [...other.range({ gte: key((i * 13) % n), limit: 3 })];
      }
      i++;
    }
    expect(kept.length).toBe(n);
    // Each is the whole of its own bytes, then every other one is overwritten by the caller.
    for (let j = 0; j < n; j++) {
      expect(hex(kept[j]![0])).toBe(hex(key(j)));
      expect(hex(kept[j]![1])).toBe(hex(val(j)));
    }
    for (let j = 0; j < n; j += 2) { kept[j]![0].fill(0xee); kept[j]![1].fill(0xdd); }
    for (let j = 1; j < n; j += 2) {
      expect(hex(kept[j]![0])).toBe(hex(key(j)));
      expect(hex(kept[j]![1])).toBe(hex(val(j)));
    }
    // And the table is as it was.
    let j = 0;
    for (const [k, v] of c.range()) {
      expect(hex(k)).toBe(hex(key(j)));
      expect(hex(v)).toBe(hex(val(j)));
      j++;
    }
    expect(j).toBe(n);
    conn.close();
  });
});

describe('range() decodes strings alike through one text per batch and per entry', () => {
  const cases: [string, (i: number) => string][] = [
    ['ASCII', (i) => `k${i.toString(36).padStart(5, '0')}`],
    ['2-, 3- and 4-byte characters', (i) => `${['é', 'ж', '中', '😀', 'a'][i % 5]}${i.toString(36).padStart(4, '0')}${['ß', '€', '𝄞', 'z'][i % 4]}`],
    ['U+FEFF first', (i) => `\uFEFF${i.toString(36).padStart(4, '0')}`],
    ['ASCII of 128 bytes and more (length bytes of 0x80 and up)', (i) => `${i.toString(36).padStart(5, '0')}${'x'.repeat(128 + (i % 200))}`],
    ['one non-ASCII string among ASCII ones', (i) => (i === 777 ? `m${'ü'}${i}` : `m${i.toString(36).padStart(5, '0')}`)],
  ];
  for (const [what, make] of cases) {
    it(what, async () => {
      const conn = await openTest();
      const s = conn.openSession();
      s.create('table:s', { keyFormat: 'S', valueFormat: 'S' });
      s.create('table:us', { keyFormat: 'u', valueFormat: 'S' });
      s.create('table:su', { keyFormat: 'S', valueFormat: 'u' });
      const c = s.openCursor<string, string>('table:s');
      const cus = s.openCursor<Uint8Array, string>('table:us');
      const csu = s.openCursor<string, Uint8Array>('table:su');
      const n = 2000;
      const keys = Array.from({ length: n }, (_, i) => make(i));
      const value = (k: string) => `${k.length % 2 ? k : k.slice(0, 40)}=${k.length}`;
      for (const k of keys) {
        c.put(k, value(k));
        cus.put(utf8.encode(k), value(k));
        csu.put(k, utf8.encode(value(k)));
      }
      const sorted = [...keys].sort(byUtf8);
      expect([...c.range()]).toEqual(sorted.map((k) => [k, value(k)]));
      expect([...c.range({ reverse: true, limit: 500 })]).toEqual([...sorted].reverse().slice(0, 500).map((k) => [k, value(k)]));
      expect([...cus.range()].map(([k, v]) => [hex(k), v])).toEqual(sorted.map((k) => [hex(utf8.encode(k)), value(k)]));
      expect([...csu.range()].map(([k, v]) => [k, hex(v)])).toEqual(sorted.map((k) => [k, hex(utf8.encode(value(k)))]));
      conn.close();
    });
  }
});
