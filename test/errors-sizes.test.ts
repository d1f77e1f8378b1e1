// Bad input, key and value sizes: keys over 1024 bytes or empty are EKEYSIZE, values over the
// value limit (min(pageSize/4, item limit - key length)) are EVALUESIZE naming the limit, in both
// formats and both builds; keys and values exactly at the limits are accepted.
//
// Every refusal is a LatchkeyError with a stable code and a message naming what was wrong and
// what is accepted, and a refused call leaves the tree exactly as it was (same full scan, same
// page counts, verify passes; test/bad-input-fixture.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { open, type Cursor } from '../dist/index.js';
import {
  MAX_KEY, MAX_VALUE, ITEM_MAX, TU, TS, utf8, bytes, expectError, conn, s, cu, cs, setup, refused,
} from './bad-input-fixture.js';

describe('key and value sizes', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it('the fixture is deep enough that refusals could disturb splits', () => {
    expect(s.stats(TU).depth).toBeGreaterThanOrEqual(3);
    expect(s.stats(TS).depth).toBeGreaterThanOrEqual(2);
  });

  it("a 1025-byte key is EKEYSIZE everywhere a key is taken ('u')", () => {
    const k = bytes(MAX_KEY + 1);
    const v = bytes(1);
    for (const [name, fn] of [
      ['put', () => cu.put(k, v)],
      ['insert', () => cu.insert(k, v)],
      ['get', () => cu.get(k)],
      ['remove', () => cu.remove(k)],
    ] as const) {
      const e = refused(fn, 'EKEYSIZE', 'key of 1025 bytes', 'limit of 1024 bytes');
      expect(e.message, name).not.toContain('value');
    }
    refused(() => cu.seek(k), 'EKEYSIZE', '1025 bytes', '1 to 1024 bytes');
    refused(() => cu.seek(k, 'le'), 'EKEYSIZE', '1025 bytes', '1 to 1024 bytes');
    for (const bound of ['gt', 'gte', 'lt', 'lte']) {
      refused(() => cu.range({ [bound]: k }).next(), 'EKEYSIZE', 'range bound of 1025 bytes', '1 to 1024 bytes');
    }
  });

  it("a string key over 1024 UTF-8 bytes is EKEYSIZE though its .length is not ('S')", () => {
    const cases = [
      '\u00e9'.repeat(513), // length 513, 1026 bytes
      '\u{1f600}'.repeat(257), // length 514, 1028 bytes
      'a'.repeat(1023) + '\u00e9', // length 1024, 1025 bytes: exactly at the length limit
    ];
    for (const k of cases) {
      const n = utf8.encode(k).length;
      expect(k.length).toBeLessThanOrEqual(MAX_KEY);
      expect(n).toBeGreaterThan(MAX_KEY);
      refused(() => cs.put(k, 'v'), 'EKEYSIZE', `key of ${n} UTF-8 bytes`, 'limit of 1024 bytes');
      refused(() => cs.insert(k, 'v'), 'EKEYSIZE', `${n} UTF-8 bytes`);
      refused(() => cs.get(k), 'EKEYSIZE', `${n} UTF-8 bytes`);
      refused(() => cs.remove(k), 'EKEYSIZE', `${n} UTF-8 bytes`);
      refused(() => cs.seek(k, 'le'), 'EKEYSIZE', `${n} bytes`, '1 to 1024 bytes');
      refused(() => cs.range({ gte: k }).next(), 'EKEYSIZE', `${n} bytes`);
    }
  });

  it('an empty key is EKEYSIZE in both formats and for bounds and seeks', () => {
    for (const [c, k, v] of [[cu, new Uint8Array(0), bytes(1)], [cs, '', 'v']] as const) {
      const cc = c as Cursor;
      refused(() => cc.put(k, v), 'EKEYSIZE', 'empty key', '1 to 1024 bytes');
      refused(() => cc.insert(k, v), 'EKEYSIZE', 'empty key');
      refused(() => cc.get(k), 'EKEYSIZE', 'empty key');
      refused(() => cc.remove(k), 'EKEYSIZE', 'empty key');
      refused(() => cc.seek(k), 'EKEYSIZE', '0 bytes', '1 to 1024 bytes');
      refused(() => cc.range({ lt: k }).next(), 'EKEYSIZE', 'range bound of 0 bytes');
    }
  });

  it('a value over pageSize/4 is EVALUESIZE naming the limit; an overwrite keeps the old value', () => {
    const k = bytes(10, 0x7a);
    cu.put(k, bytes(5, 1));
    cs.put('clé', 'old');
    refused(() => cu.put(k, bytes(MAX_VALUE + 1)), 'EVALUESIZE', 'value of 1025 bytes', `limit of ${MAX_VALUE} bytes (a quarter page)`);
    refused(() => cu.insert(bytes(11, 0x7a), bytes(MAX_VALUE + 1)), 'EVALUESIZE', `limit of ${MAX_VALUE} bytes`);
    refused(() => cs.put('clé', '\u00e9'.repeat(513)), 'EVALUESIZE', 'value of 1026 UTF-8 bytes', `limit of ${MAX_VALUE} bytes`);
    refused(() => cs.put('clé', '\u{1f600}'.repeat(256) + 'x'), 'EVALUESIZE', '1025 UTF-8 bytes', `limit of ${MAX_VALUE} bytes`);
    expect(cu.get(k)).toEqual(bytes(5, 1));
    expect(cu.get(bytes(11, 0x7a))).toBeUndefined();
    expect(cs.get('clé')).toBe('old');
  });

  it('the value limit follows the page size (8192-byte pages: 2048 bytes, also with a 1024-byte key)', async () => {
    const c8 = await open({ pageSize: 8192, cacheSize: '32MB', debug: true });
    const s8 = c8.openSession();
    s8.create(TU);
    const c = s8.openCursor<Uint8Array, Uint8Array>(TU);
    c.put(bytes(1), bytes(2048));
    expect(c.get(bytes(1))).toEqual(bytes(2048));
    expectError(() => c.put(bytes(2), bytes(2049)), 'EVALUESIZE', 'value of 2049 bytes', 'limit of 2048 bytes (a quarter page)');
    expect(c.get(bytes(2))).toBeUndefined();
    // From 8 KiB pages up the item limit does not bind: a 1024-byte key takes a quarter page.
    expect(c8.core.valueLimit(MAX_KEY)).toBe(2048);
    expect(c8.core.itemMax).toBeGreaterThanOrEqual(MAX_KEY + 2048);
    const k = bytes(MAX_KEY, 0x4b);
    c.put(k, bytes(2048, 3));
    expect(c.get(k)).toEqual(bytes(2048, 3));
    const e = expectError(() => c.put(k, bytes(2049)), 'EVALUESIZE', 'value of 2049 bytes exceeds the limit of 2048 bytes (a quarter page)');
    expect(e.message).not.toContain('key + value');
    expect(c.get(k)).toEqual(bytes(2048, 3));
    expect(s8.verify(TU).ok).toBe(true);
    await c8.close();
  });

  it('on 4096-byte pages key + value is capped at 1493 bytes: a 1024-byte key takes 469 bytes, 470 is EVALUESIZE naming 469 and 1493, and the tree is unchanged', () => {
    expect(conn.core.itemMax).toBe(ITEM_MAX);
    expect(conn.core.valueLimit(MAX_KEY)).toBe(469);
    const k = bytes(MAX_KEY, 0x51);
    const why = '(key + value at most 1493 bytes on 4096-byte pages)';
    // An absent key: put and insert of limit + 1 are refused; nothing is written.
    refused(() => cu.put(k, bytes(470)), 'EVALUESIZE', `value of 470 bytes exceeds the limit of 469 bytes ${why}`);
    refused(() => cu.insert(k, bytes(470)), 'EVALUESIZE', 'value of 470 bytes', 'limit of 469 bytes', why);
    // What a quarter page allowed before (the item that had no two-way split) is refused too.
    refused(() => cu.put(k, bytes(MAX_VALUE)), 'EVALUESIZE', `value of 1024 bytes exceeds the limit of 469 bytes ${why}`);
    expect(cu.get(k)).toBeUndefined();
    // Exactly the limit is accepted, by put and by insert.
    cu.put(k, bytes(469, 1));
    expect(cu.get(k)).toEqual(bytes(469, 1));
    const k2 = bytes(MAX_KEY, 0x52);
    expect(cu.insert(k2, bytes(469, 2))).toBe(true);
    expect(cu.get(k2)).toEqual(bytes(469, 2));
    expect(cu.seek(k2)).toBe(true);
    expect([cu.key, cu.value]).toEqual([k2, bytes(469, 2)]);
    // An overwrite over the limit is refused and keeps the old value (and the tree).
    refused(() => cu.put(k, bytes(470, 3)), 'EVALUESIZE', 'limit of 469 bytes', why);
    refused(() => cu.insert(k2, bytes(470, 3)), 'EVALUESIZE', 'limit of 469 bytes', why);
    expect(cu.get(k)).toEqual(bytes(469, 1));
    expect(cu.get(k2)).toEqual(bytes(469, 2));
    expect(s.verify(TU).ok).toBe(true);
  });

  it('the value limit is min(pageSize/4, 1493 - key length) at every boundary of key length', () => {
    for (const klen of [1, 100, 468, 469, 470, 471, 700, 1000, 1023, 1024]) {
      const limit = Math.min(MAX_VALUE, ITEM_MAX - klen);
      expect(conn.core.valueLimit(klen), `valueLimit(${klen})`).toBe(limit);
      const k = bytes(klen, 0x5a);
      k[0] = 0x01; // below every fixture key
      const why = limit < MAX_VALUE ? '(key + value at most 1493 bytes on 4096-byte pages)' : '(a quarter page)';
      refused(() => cu.put(k, bytes(limit + 1)), 'EVALUESIZE', `value of ${limit + 1} bytes exceeds the limit of ${limit} bytes ${why}`);
      cu.put(k, bytes(limit, klen & 0xff));
      expect(cu.get(k), `${klen}-byte key with a ${limit}-byte value`).toEqual(bytes(limit, klen & 0xff));
    }
    expect(s.verify(TU).ok).toBe(true);
  });

  it("strings: a 1024-byte key takes values of 469 UTF-8 bytes, in whatever characters; 470 is EVALUESIZE ('S')", () => {
    const k = '\u00e9'.repeat(512); // 1024 UTF-8 bytes
    expect(utf8.encode(k).length).toBe(MAX_KEY);
    const why = '(key + value at most 1493 bytes on 4096-byte pages)';
    for (const over of ['\u00e9'.repeat(235), '\u20ac'.repeat(156) + 'ab', 'x'.repeat(470), '\u{1f600}'.repeat(117) + 'ab']) {
      expect(utf8.encode(over).length).toBe(470);
      refused(() => cs.put(k, over), 'EVALUESIZE', 'value of 470 UTF-8 bytes exceeds the limit of 469 bytes', why);
    }
    expect(cs.get(k)).toBeUndefined();
    for (const [i, at] of ['\u00e9'.repeat(234) + 'x', '\u20ac'.repeat(156) + 'a', '\u{1f600}'.repeat(117) + 'a'].entries()) {
      expect(utf8.encode(at).length).toBe(469);
      cs.put(k, at);
      expect(cs.get(k), `value ${i}`).toBe(at);
    }
    expect(s.verify(TS).ok).toBe(true);
  });

  it('release build: the same limit, the same refusal, the tree unchanged', async () => {
    await conn.close();
    await setup(false);
    expect(conn.core.debug).toBe(false);
    const k = bytes(MAX_KEY, 0x53);
    refused(() => cu.put(k, bytes(470)), 'EVALUESIZE', 'value of 470 bytes exceeds the limit of 469 bytes', '1493');
    cu.put(k, bytes(469, 7));
    expect(cu.get(k)).toEqual(bytes(469, 7));
    expect(s.verify(TU).ok).toBe(true);
  });

  it('a key of exactly 1024 bytes and a value of exactly pageSize/4 are accepted (and empty values)', () => {
    const k = bytes(MAX_KEY, 0x42);
    cu.put(k, bytes(300, 9));
    expect(cu.get(k)).toEqual(bytes(300, 9));
    expect(cu.seek(k)).toBe(true);
    expect(cu.key).toEqual(k);
    expect([...cu.range({ gte: k, lte: k })].map(([kk]) => kk)).toEqual([k]);
    expect(cu.remove(k)).toBe(true);
    const k2 = bytes(100, 0x43);
    cu.put(k2, bytes(MAX_VALUE, 8));
    expect(cu.get(k2)).toEqual(bytes(MAX_VALUE, 8));
    expect(cu.insert(bytes(101, 0x43), new Uint8Array(0))).toBe(true);
    expect(cu.get(bytes(101, 0x43))).toEqual(new Uint8Array(0));
    // Strings: 1024 UTF-8 bytes in fewer characters.
    for (const sk of ['\u00e9'.repeat(512), 'a'.repeat(1020) + '\u{1f600}', '\u0800'.repeat(341) + 'a']) {
      expect(utf8.encode(sk).length).toBe(MAX_KEY);
      cs.put(sk, 'x');
      expect(cs.get(sk)).toBe('x');
      expect(cs.seek(sk, 'le')).toBe(true);
      expect(cs.key).toBe(sk);
    }
    const sv = '\u{1f600}'.repeat(256);
    cs.put('v', sv);
    expect(cs.get('v')).toBe(sv);
    cs.put('empty', '');
    expect(cs.get('empty')).toBe('');
    expect(s.verify(TU).ok).toBe(true);
    expect(s.verify(TS).ok).toBe(true);
  });
});
