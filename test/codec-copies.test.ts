// The per-op path's copies (bindings/codec.ts): keys and values of every length across the short
// copy's bounds (a loop up to 16 bytes, TypedArray set and slice above; ASCII strings up to 12
// bytes read by a loop, TextDecoder above and for any other byte) come back exactly, as the
// caller's own copies; and a string value is sized by its encoded bytes against the limit that
// binds, also when that limit is below the value area's length (it is encoded into the whole area
// and refused after).
import { describe, it, expect } from 'vitest';
import { openTest } from './helpers.js';
import { hex } from './property-model.js';

const utf8 = new TextEncoder();
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed * 11 + 1) & 255);
const ascii = (n: number, seed: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7 + seed) % 94))).join('');

describe('keys and values of every length around the short copies come back exactly', () => {
  it("'u': 1 to 40 bytes, the value a private copy", async () => {
    const conn = await openTest();
    const s = conn.openSession();
    s.create('table:u');
    const c = s.openCursor<Uint8Array, Uint8Array>('table:u');
    for (let n = 1; n <= 40; n++) c.put(bytesOf(n, n), bytesOf(n, n + 100));
    for (let n = 1; n <= 40; n++) {
      const v = c.get(bytesOf(n, n))!;
      expect(hex(v)).toBe(hex(bytesOf(n, n + 100)));
      expect(v.byteOffset).toBe(0);
      expect(v.buffer).not.toBe(conn.core.memory.buffer);
      v.fill(0);
      expect(hex(c.get(bytesOf(n, n))!)).toBe(hex(bytesOf(n, n + 100)));
    }
    // A key given as a view into a larger buffer (offset, Buffer) is its own bytes only.
    const big = new Uint8Array(64).fill(0xaa);
    big.set(bytesOf(9, 9), 20);
    expect(hex(c.get(big.subarray(20, 29))!)).toBe(hex(bytesOf(9, 109)));
    expect(hex(c.get(Buffer.from(bytesOf(17, 17)))!)).toBe(hex(bytesOf(17, 117)));
    expect(c.remove(big.subarray(20, 29))).toBe(true);
    expect(c.get(bytesOf(9, 9))).toBeUndefined();
    conn.close();
  });

  it("'S': ASCII, 2-, 3- and 4-byte characters, U+FEFF and NUL, 1 to 40 bytes", async () => {
    const conn = await openTest();
    const s = conn.openSession();
    s.create('table:s', { keyFormat: 'S', valueFormat: 'S' });
    const c = s.openCursor<string, string>('table:s');
    const values: string[] = [];
    for (let n = 1; n <= 40; n++) {
      values.push(ascii(n, n));
      for (const ch of ['é', '中', '😀', '\uFEFF', '\0']) {
        const room = n - utf8.encode(ch).length;
        if (room >= 0) values.push(ascii(room >> 1, n) + ch + ascii(room - (room >> 1), n + 1));
      }
    }
    values.forEach((v, i) => c.put(`k${i}`, v));
    values.forEach((v, i) => expect(c.get(`k${i}`)).toBe(v));
    // Keys of the same kinds, read back by a scan.
    const s2 = conn.openSession();
    s2.create('table:keys', { keyFormat: 'S', valueFormat: 'S' });
    const ck = s2.openCursor<string, string>('table:keys');
    values.forEach((v, i) => ck.put(v, `${i}`));
    values.forEach((v, i) => expect(ck.get(v)).toBe(`${i}`));
    conn.close();
  });
});

describe('a string value is sized by its UTF-8 bytes against the limit that binds', () => {
  it('on 4096-byte pages with a 1024-byte key: 469 bytes taken, 470 and 1000 refused (inside the value area), the old value kept', async () => {
    const conn = await openTest();
    const s = conn.openSession();
    s.create('table:s', { keyFormat: 'S', valueFormat: 'S' });
    const c = s.openCursor<string, string>('table:s');
    const k = 'k'.repeat(1024);
    expect(conn.core.valueLimit(1024)).toBe(469);
    c.put(k, 'v'.repeat(469));
    for (const bad of ['w'.repeat(470), 'é'.repeat(235), 'x'.repeat(1000), 'y'.repeat(1024), 'z'.repeat(1025)]) {
      let err: { code?: string; message?: string } = {};
      try { c.put(k, bad); } catch (e) { err = e as typeof err; }
      expect(err.code).toBe('EVALUESIZE');
      expect(err.message).toContain(`value of ${utf8.encode(bad).length} UTF-8 bytes exceeds the limit of 469 bytes (key + value at most 1493 bytes on 4096-byte pages)`);
    }
    expect(c.get(k)).toBe('v'.repeat(469));
    expect(s.verify('table:s').ok).toBe(true);
    conn.close();
  });
});
