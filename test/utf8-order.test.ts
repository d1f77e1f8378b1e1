// String keys ('S' format) order by their UTF-8 bytes, not by UTF-16 code units: scans, bounds,
// seeks and steps over characters on which the two orders disagree.
import { describe, it, expect } from 'vitest';
import { open } from '../dist/index.js';
import { PAGE_SIZE, T, utf8, hex } from './property-model.js';

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
