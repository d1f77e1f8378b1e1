// Bad input: every refusal is a LatchkeyError with a stable code and a message naming what was
// wrong and what is accepted, and a refused call leaves the tree exactly as it was (same full
// scan, same page counts, verify passes).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { open, attach, LatchkeyError, type Cursor } from '../dist/index.js';
import { MIN_CACHE_SIZE } from '../dist/config.js';
import {
  PAGE_SIZE, MAX_KEY, MAX_VALUE, ITEM_MAX, TU, TS, utf8, hex, bytes, any, expectError, expectRejection,
  snapshot, expectUnchanged, conn, s, cu, cs, setup, refused, type Snapshot,
} from './bad-input-fixture.js';

// ---------------------------------------------------------------------------------------------

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

  it('on 4096-byte pages key + value is capped at 1497 bytes: a 1024-byte key takes 473 bytes, 474 is EVALUESIZE naming 473 and 1497, and the tree is unchanged', () => {
    expect(conn.core.itemMax).toBe(ITEM_MAX);
    expect(conn.core.valueLimit(MAX_KEY)).toBe(473);
    const k = bytes(MAX_KEY, 0x51);
    const why = '(key + value at most 1497 bytes on 4096-byte pages)';
    // An absent key: put and insert of limit + 1 are refused; nothing is written.
    refused(() => cu.put(k, bytes(474)), 'EVALUESIZE', `value of 474 bytes exceeds the limit of 473 bytes ${why}`);
    refused(() => cu.insert(k, bytes(474)), 'EVALUESIZE', 'value of 474 bytes', 'limit of 473 bytes', why);
    // What a quarter page allowed before (the item that had no two-way split) is refused too.
    refused(() => cu.put(k, bytes(MAX_VALUE)), 'EVALUESIZE', `value of 1024 bytes exceeds the limit of 473 bytes ${why}`);
    expect(cu.get(k)).toBeUndefined();
    // Exactly the limit is accepted, by put and by insert.
    cu.put(k, bytes(473, 1));
    expect(cu.get(k)).toEqual(bytes(473, 1));
    const k2 = bytes(MAX_KEY, 0x52);
    expect(cu.insert(k2, bytes(473, 2))).toBe(true);
    expect(cu.get(k2)).toEqual(bytes(473, 2));
    expect(cu.seek(k2)).toBe(true);
    expect([cu.key, cu.value]).toEqual([k2, bytes(473, 2)]);
    // An overwrite over the limit is refused and keeps the old value (and the tree).
    refused(() => cu.put(k, bytes(474, 3)), 'EVALUESIZE', 'limit of 473 bytes', why);
    refused(() => cu.insert(k2, bytes(474, 3)), 'EVALUESIZE', 'limit of 473 bytes', why);
    expect(cu.get(k)).toEqual(bytes(473, 1));
    expect(cu.get(k2)).toEqual(bytes(473, 2));
    expect(s.verify(TU).ok).toBe(true);
  });

  it('the value limit is min(pageSize/4, 1497 - key length) at every boundary of key length', () => {
    for (const klen of [1, 100, 472, 473, 474, 475, 700, 1000, 1023, 1024]) {
      const limit = Math.min(MAX_VALUE, ITEM_MAX - klen);
      expect(conn.core.valueLimit(klen), `valueLimit(${klen})`).toBe(limit);
      const k = bytes(klen, 0x5a);
      k[0] = 0x01; // below every fixture key
      const why = limit < MAX_VALUE ? '(key + value at most 1497 bytes on 4096-byte pages)' : '(a quarter page)';
      refused(() => cu.put(k, bytes(limit + 1)), 'EVALUESIZE', `value of ${limit + 1} bytes exceeds the limit of ${limit} bytes ${why}`);
      cu.put(k, bytes(limit, klen & 0xff));
      expect(cu.get(k), `${klen}-byte key with a ${limit}-byte value`).toEqual(bytes(limit, klen & 0xff));
    }
    expect(s.verify(TU).ok).toBe(true);
  });

  it("strings: a 1024-byte key takes values of 473 UTF-8 bytes, in whatever characters; 474 is EVALUESIZE ('S')", () => {
    const k = '\u00e9'.repeat(512); // 1024 UTF-8 bytes
    expect(utf8.encode(k).length).toBe(MAX_KEY);
    const why = '(key + value at most 1497 bytes on 4096-byte pages)';
    for (const over of ['\u00e9'.repeat(237), '\u20ac'.repeat(158), 'x'.repeat(474), '\u{1f600}'.repeat(118) + 'ab']) {
      expect(utf8.encode(over).length).toBe(474);
      refused(() => cs.put(k, over), 'EVALUESIZE', 'value of 474 UTF-8 bytes exceeds the limit of 473 bytes', why);
    }
    expect(cs.get(k)).toBeUndefined();
    for (const [i, at] of ['\u00e9'.repeat(236) + 'x', '\u20ac'.repeat(157) + 'ab', '\u{1f600}'.repeat(118) + 'a'].entries()) {
      expect(utf8.encode(at).length).toBe(473);
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
    refused(() => cu.put(k, bytes(474)), 'EVALUESIZE', 'value of 474 bytes exceeds the limit of 473 bytes', '1497');
    cu.put(k, bytes(473, 7));
    expect(cu.get(k)).toEqual(bytes(473, 7));
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

describe('bad configuration to open()', () => {
  const cases: [string, unknown, (string | RegExp)[]][] = [
    ['pageSize 3000', { pageSize: 3000 }, ['pageSize 3000 is not a power of two', 'accepted: a power of two from 4096 to 32768']],
    ['pageSize 2048', { pageSize: 2048 }, ['pageSize 2048 is out of range', 'from 4096 to 32768']],
    ["cacheSize 'lots'", { cacheSize: 'lots' }, ['cacheSize "lots" is not a size', 'accepted:', 'e.g. "512MB"']],
    ['cacheSize below the minimum', { cacheSize: MIN_CACHE_SIZE - 1 }, [`cacheSize ${MIN_CACHE_SIZE - 1} is below the minimum of 16MiB`]],
    ['unknown key', { pages: 4 }, ['unknown key "pages"', 'accepted: the keys home, create, cacheSize, pageSize, role, refreshInterval, debug']],
    ['misspelled key', { page_size: 4096 }, ['unknown key "page_size"', 'did you mean pageSize?']],
    ["role 'boss'", { role: 'boss' }, ['role "boss" is not a role', 'accepted: leader or follower']],
    ['debug as a string', { debug: 'yes' }, ['debug "yes" is not a boolean', 'true or false']],
    ['not an object', 42, ['config 42 is not an object or a string']],
    ['string: page_size=3000', 'page_size=3000', ['page_size 3000 is not a power of two', 'from 4096 to 32768']],
    ['string: cache_size=lots', 'cache_size=lots', ['cache_size "lots" is not a size']],
    ['string: unknown key', 'page_size=4096,pages=4', ['unknown key "pages"', 'page_size']],
    ['string: role=boss', 'disaggregated=(role=boss)', ['disaggregated.role "boss" is not a role', 'leader or follower']],
    ['string: camelCase key', 'cacheSize=32MB', ['unknown key "cacheSize"', 'did you mean cache_size?']],
    ['string: syntax', 'page_size=(4096', ['config string: at position', "')'"]],
  ];
  for (const [name, config, fragments] of cases) {
    it(`${name} -> EINVAL`, async () => {
      await expectRejection(open(any(config)), 'EINVAL', ...fragments);
    });
  }

  it('a refresh interval that is not a whole number of milliseconds -> EINVAL', async () => {
    await expectRejection(open({ refreshInterval: -1 }), 'EINVAL', 'refreshInterval -1 is not a refresh interval', 'from 0 (off)');
    await expectRejection(open('disaggregated=(refresh_interval=1.5)'), 'EINVAL', 'disaggregated.refresh_interval');
  });

  it('the same settings are accepted when valid, in both forms', async () => {
    for (const config of [{ pageSize: 4096, cacheSize: MIN_CACHE_SIZE, role: 'leader' as const }, `page_size=4096,cache_size=${MIN_CACHE_SIZE},disaggregated=(role=leader)`]) {
      const c = await open(config);
      const ss = c.openSession();
      ss.create(TU);
      ss.openCursor(TU).put(bytes(1), bytes(1));
      expect(ss.stats(TU).pageSize).toBe(4096);
      await c.close();
    }
  });
});

describe('use after close', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  function allCursorCalls(c: Cursor<Uint8Array, Uint8Array>): [string, () => unknown][] {
    const k = bytes(3);
    return [
      ['get', () => c.get(k)],
      ['put', () => c.put(k, k)],
      ['insert', () => c.insert(k, k)],
      ['remove', () => c.remove(k)],
      ['seek', () => c.seek(k)],
      ['next', () => c.next()],
      ['prev', () => c.prev()],
      ['range', () => c.range().next()],
    ];
  }

  it('cursor.close() then any cursor call -> ECLOSED naming the cursor; other cursors are unaffected', () => {
    expect(cu.seek(bytes(1, 0x30))).toBe(true);
    cu.close();
    expect(cu.key).toBeUndefined();
    for (const [name, fn] of allCursorCalls(cu)) {
      const e = refused(fn, 'ECLOSED', `cursor on ${TU} is closed`);
      expect(e.message, name).toBeTruthy();
    }
    cu.close(); // a second close is a no-op
    const other = s.openCursor<Uint8Array, Uint8Array>(TU);
    other.put(bytes(3), bytes(1, 7));
    expect(other.get(bytes(3))).toEqual(bytes(1, 7));
  });

  it('session.close() closes its cursors and refuses its own calls; other sessions go on', () => {
    const s2 = conn.openSession();
    const c2 = s2.openCursor<Uint8Array, Uint8Array>(TU);
    const before = snapshot(s2, TU);
    s.close();
    for (const [, fn] of allCursorCalls(cu)) expectError(fn, 'ECLOSED', 'closed');
    expectError(() => cs.get('x'), 'ECLOSED', 'closed');
    expectError(() => s.openCursor(TU), 'ECLOSED', 'session is closed');
    expectError(() => s.create('table:new'), 'ECLOSED', 'session is closed');
    expectError(() => s.verify(TU), 'ECLOSED', 'session is closed');
    expectError(() => s.stats(TU), 'ECLOSED', 'session is closed');
    s.close(); // no-op
    expectUnchanged(s2, TU, before, 'after session close');
    expect(c2.get(bytes(3))).toBeUndefined();
    c2.put(bytes(3), bytes(2));
    expect(c2.get(bytes(3))).toEqual(bytes(2));
    // The refused create did not create the table.
    expectError(() => s2.openCursor('table:new'), 'ENOENT', 'table:new');
  });

  it('conn.close() refuses sessions, cursors and the connection itself', async () => {
    const s2 = conn.openSession();
    const c2 = s2.openCursor(TS);
    await conn.close();
    for (const ss of [s, s2]) {
      expectError(() => ss.openCursor(TU), 'ECLOSED');
      expectError(() => ss.create('table:x'), 'ECLOSED');
      expectError(() => ss.verify(TU), 'ECLOSED');
      expectError(() => ss.stats(TU), 'ECLOSED');
    }
    for (const [, fn] of allCursorCalls(cu)) expectError(fn, 'ECLOSED');
    expectError(() => c2.get('a'), 'ECLOSED');
    expectError(() => conn.openSession(), 'ECLOSED', 'connection is closed');
    expectError(() => conn.share(), 'ECLOSED', 'connection is closed');
    await conn.close(); // no-op
  });
});

describe('table names and formats', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it("an unknown table is ENOENT naming it; a name without 'table:' is EINVAL", () => {
    refused(() => s.openCursor('table:nope'), 'ENOENT', 'no table table:nope', "session.create('table:nope')");
    refused(() => s.verify('table:nope'), 'ENOENT', 'table:nope');
    refused(() => s.stats('table:nope'), 'ENOENT', 'table:nope');
    refused(() => s.openCursor('nope'), 'EINVAL', "table uri 'nope'", "accepted: a string 'table:<name>'");
    refused(() => s.openCursor('table:'), 'EINVAL', "table uri 'table:'", "'table:<name>'");
    refused(() => s.openCursor(any(42)), 'EINVAL', 'table uri number', "'table:<name>'");
    refused(() => s.create('nope'), 'EINVAL', "table uri 'nope'");
    refused(() => s.create(`table:${'n'.repeat(241)}`), 'EINVAL', 'table name of 241 bytes', 'names of 1 to 240 UTF-8 bytes');
    // The refused creates made nothing.
    expectError(() => s.openCursor('table:nope'), 'ENOENT');
  });

  it('create of an existing table with other formats is EINVAL; with the same formats a no-op', () => {
    refused(() => s.create(TU, { keyFormat: 'S', valueFormat: 'u' }), 'EINVAL', `table ${TU} exists with other formats`, 'accepted: the formats it was created with');
    refused(() => s.create(TU, { keyFormat: 'u', valueFormat: 'S' }), 'EINVAL', 'exists with other formats');
    refused(() => s.create(TS), 'EINVAL', 'exists with other formats'); // defaults are 'u'
    const before = snapshot(s, TU);
    s.create(TU, { keyFormat: 'u', valueFormat: 'u' });
    s.create(TU);
    expectUnchanged(s, TU, before, 'after an idempotent create');
  });

  it('bad create options are EINVAL', () => {
    refused(() => s.create('table:new', any({ keyFormat: 'x' })), 'EINVAL', "keyFormat 'x'", "'u' (bytes) or 'S' (string)");
    refused(() => s.create('table:new', any({ valueFormat: 's' })), 'EINVAL', "valueFormat 's'");
    refused(() => s.create('table:new', any({ keyformat: 'u' })), 'EINVAL', "unknown option 'keyformat'", 'keyFormat, valueFormat');
    refused(() => s.create('table:new', any(null)), 'EINVAL', 'create options must be an object');
    expectError(() => s.openCursor('table:new'), 'ENOENT');
  });
});

describe('range and seek options', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it('conflicting bounds, unknown options, bad limits and non-boolean reverse are EINVAL', () => {
    const a = bytes(1, 0x31);
    const b = bytes(1, 0x39);
    const cases: [Record<string, unknown> | null, (string | RegExp)[]][] = [
      [{ gt: a, gte: a }, ['range: both gt and gte given', 'accepted: at most one of gt, gte']],
      [{ lt: b, lte: b }, ['both lt and lte given', 'at most one of lt, lte']],
      [{ start: a }, ["range: unknown option 'start'", 'gt, gte, lt, lte, reverse, limit']],
      [{ gt: a, Reverse: true }, ["unknown option 'Reverse'"]],
      [{ limit: -1 }, ['range: limit -1', 'accepted: a non-negative integer']],
      [{ limit: 1.5 }, ['limit 1.5', 'non-negative integer']],
      [{ limit: Number.NaN }, ['limit NaN']],
      [{ limit: '3' }, ['limit 3', 'non-negative integer']],
      [{ reverse: 'yes' }, ['range: reverse must be a boolean', 'accepted: true or false']],
      [{ reverse: 1 }, ['reverse must be a boolean']],
      [null, ['range options must be an object']],
    ];
    for (const [opts, fragments] of cases) {
      refused(() => cu.range(any(opts)).next(), 'EINVAL', ...fragments);
      refused(() => cs.range(any(opts === null ? null : { ...opts, ...(opts.gt ? { gt: 'a' } : {}), ...(opts.gte ? { gte: 'a' } : {}), ...(opts.lt ? { lt: 'z' } : {}), ...(opts.lte ? { lte: 'z' } : {}) })).next(), 'EINVAL', ...fragments);
    }
    // Valid edge values are accepted.
    expect([...cu.range({ limit: 0 })]).toEqual([]);
    expect([...cu.range({ limit: 2, reverse: false })].length).toBe(2);
    expect([...cu.range({ gt: b, lt: a })]).toEqual([]);
  });

  it("seek with a mode other than 'ge' or 'le' is EINVAL and keeps the cursor's position", () => {
    expect(cu.seek(bytes(1, 0x35))).toBe(true);
    const at = cu.key!;
    for (const how of ['xx', 'GE', 'gt', '', null, 1]) {
      refused(() => cu.seek(bytes(1, 0x30), any(how)), 'EINVAL', 'seek:', "accepted: 'ge' or 'le'");
      expect(cu.key).toEqual(at);
    }
    refused(() => cu.seek(new Uint8Array(0)), 'EKEYSIZE');
    expect(cu.key).toEqual(at);
    // The position still works: next moves to the key after it.
    const after = [...cu.range({ gt: at, limit: 1 })][0]![0];
    expect(cu.next()).toBe(true);
    expect(cu.key).toEqual(after);
  });
});

describe('ENOMEM at the smallest cache size', () => {
  for (const debug of [true, false]) {
    it(`${debug ? 'debug' : 'release'} build: a full cache refuses puts with ENOMEM and leaves the tree whole`, async () => {
      await expectRejection(open({ pageSize: PAGE_SIZE, cacheSize: MIN_CACHE_SIZE - 65536, debug }), 'EINVAL', 'below the minimum');
      const c0 = await open({ pageSize: PAGE_SIZE, cacheSize: MIN_CACHE_SIZE, debug });
      const ss = c0.openSession();
      ss.create(TU);
      const c = ss.openCursor<Uint8Array, Uint8Array>(TU);
      const model = new Map<string, Uint8Array>();
      const keyOf = (i: number) => {
        // Scatter keys (multiplicative hash) so that leaves split in the middle and stay half full.
        const k = new Uint8Array(24).fill(0x6b);
        new DataView(k.buffer).setUint32(0, Math.imul(i, 0x9e3779b1) >>> 0);
        new DataView(k.buffer).setUint32(20, i);
        return k;
      };
      const valueOf = (i: number, len: number) => bytes(len, i & 0xff);

      // Fill until the cache runs out.
      let failure: LatchkeyError | undefined;
      let failedKey: Uint8Array | undefined;
      let failedValue: Uint8Array | undefined;
      for (let i = 0; i < 100_000; i++) {
        const k = keyOf(i);
        const v = valueOf(i, 200 + ((i * 53) % 800));
        try {
          c.put(k, v);
        } catch (e) {
          failure = e as LatchkeyError;
          failedKey = k;
          failedValue = v;
          break;
        }
        model.set(hex(k), v);
      }
      expect(failure, 'the fill must end in a refusal').toBeInstanceOf(LatchkeyError);
      expect(failure!.code, failure!.message).toBe('ENOMEM');
      expect(failure!.message).toContain(`put on ${TU}`);
      expect(model.size).toBeGreaterThan(1000);
      const stFull = ss.stats(TU);
      expect(stFull.arenaPages * PAGE_SIZE).toBeGreaterThan(MIN_CACHE_SIZE / 3);

      const check = (what: string) => {
        expect(ss.verify(TU).ok, `${what}: verify`).toBe(true);
        const expected = [...model.keys()].sort().map((h) => `${h}=${hex(model.get(h)!)}`);
        const scan = [...c.range()].map(([k, v]) => `${hex(k)}=${hex(v)}`);
        expect(scan.length, `${what}: scan length`).toBe(model.size);
        expect(scan, `${what}: forward scan`).toEqual(expected);
        const rev = [...c.range({ reverse: true })].map(([k, v]) => `${hex(k)}=${hex(v)}`);
        expect(rev, `${what}: reverse scan`).toEqual([...expected].reverse());
        expect(ss.stats(TU).entries).toBe(model.size);
      };

      // The failed key is absent; everything acknowledged is there.
      expect(c.get(failedKey!)).toBeUndefined();
      check('after the first ENOMEM');
      const gets: string[] = [];
      for (const [h, v] of model) {
        const got = c.get(Uint8Array.from(Buffer.from(h, 'hex')));
        if (got === undefined || hex(got) !== hex(v)) gets.push(h);
      }
      expect(gets, 'acknowledged keys missing or with a wrong value').toEqual([]);

      // insert of the same item is refused the same way (same leaf: needs the same split).
      expectError(() => c.insert(failedKey!, failedValue!), 'ENOMEM', `insert on ${TU}`);
      expect(c.get(failedKey!)).toBeUndefined();

      // Overwrites that grow their item: those whose leaf has room succeed; the first whose leaf
      // would have to split is refused and keeps its old value.
      let overwriteRefused = 0;
      for (const [h, old] of [...model]) {
        const k = Uint8Array.from(Buffer.from(h, 'hex'));
        const bigger = bytes(MAX_VALUE, 0xee);
        try {
          c.put(k, bigger);
          model.set(h, bigger);
        } catch (e) {
          expect((e as LatchkeyError).code).toBe('ENOMEM');
          expect(hex(c.get(k)!), 'a refused overwrite keeps the old value').toBe(hex(old));
          if (++overwriteRefused >= 5) break;
        }
      }
      expect(overwriteRefused).toBeGreaterThan(0);
      check('after refused overwrites');

      // Bounded scans and seeks still work.
      const keys = [...model.keys()].sort();
      const lo = keys[100]!;
      const hi = keys[200]!;
      const window = [...c.range({ gte: Buffer.from(lo, 'hex'), lt: Buffer.from(hi, 'hex') })].map(([k]) => hex(k));
      expect(window).toEqual(keys.slice(100, 200));
      expect(c.seek(Buffer.from(hi, 'hex'), 'le')).toBe(true);
      expect(hex(c.key!)).toBe(hi);
      expect(c.prev()).toBe(true);
      expect(hex(c.key!)).toBe(keys[199]);

      // Removes still work after ENOMEM, and free room in the leaves takes writes again.
      const removed: string[] = [];
      for (const [i, h] of keys.entries()) {
        if (i % 3 !== 0) continue;
        expect(c.remove(Uint8Array.from(Buffer.from(h, 'hex')))).toBe(true);
        model.delete(h);
        removed.push(h);
      }
      expect(c.remove(failedKey!)).toBe(false);
      check('after removes');
      for (const h of removed.slice(0, 200)) {
        const v = bytes(100, 0x11);
        c.put(Uint8Array.from(Buffer.from(h, 'hex')), v);
        model.set(h, v);
      }
      check('after re-puts into freed room');
      await c0.close();
    });
  }
});

describe('ENOMEM message', () => {
  it('ENOMEM says the cache is full, names the bytes cacheSize allows, that nothing was changed, and what is accepted (formerly only "put on <table>")', async () => {
    const c0 = await open({ pageSize: PAGE_SIZE, cacheSize: MIN_CACHE_SIZE, debug: true });
    const ss = c0.openSession();
    ss.create(TU);
    const c = ss.openCursor<Uint8Array, Uint8Array>(TU);
    let err: LatchkeyError | undefined;
    let failed: Uint8Array | undefined;
    let before: Snapshot | undefined;
    for (let i = 0; i < 100_000 && err === undefined; i++) {
      const k = new Uint8Array(16);
      new DataView(k.buffer).setUint32(0, Math.imul(i, 0x9e3779b1) >>> 0);
      try {
        c.put(k, bytes(900));
      } catch (e) {
        err = e as LatchkeyError;
        failed = k;
      }
    }
    expect(err).toBeInstanceOf(LatchkeyError);
    expect(err!.code, err!.message).toBe('ENOMEM');
    // The bytes of pages the cache holds: cacheSize less the memory's fixed regions, and all of
    // them in use now.
    const cacheBytes = c0.core.cacheBytes;
    expect(cacheBytes).toBeLessThanOrEqual(MIN_CACHE_SIZE);
    expect(cacheBytes % PAGE_SIZE).toBe(0);
    const used = ss.stats(TU).arenaPages * PAGE_SIZE;
    expect(used).toBeLessThanOrEqual(cacheBytes);
    expect(used).toBeGreaterThanOrEqual(cacheBytes - 8 * PAGE_SIZE);
    for (const f of [`put on ${TU}: `, 'the cache is full', `cacheSize allows ${cacheBytes} bytes of pages`, 'nothing was changed', 'accepted: a larger cacheSize at open()']) {
      expect(err!.message).toContain(f);
    }
    // "Nothing was changed": the same put again is refused the same way, with the tree as it was.
    before = snapshot(ss, TU);
    const again = expectError(() => c.insert(failed!, bytes(900)), 'ENOMEM', `insert on ${TU}`, 'the cache is full', 'nothing was changed');
    expect(again.message).toContain(`cacheSize allows ${cacheBytes} bytes`);
    expectUnchanged(ss, TU, before, 'after ENOMEM');
    expect(c.get(failed!)).toBeUndefined();
    await c0.close();
  });
});

describe('debug and release builds cannot share a memory', () => {
  it('attach refuses a module of the other build with EINVAL naming the builds, and the owner goes on', async () => {
    const dbg = await open({ pageSize: PAGE_SIZE, cacheSize: '32MB', debug: true });
    const rel = await open({ pageSize: PAGE_SIZE, cacheSize: '32MB', debug: false });
    const ds = dbg.openSession();
    ds.create(TU);
    const dc = ds.openCursor<Uint8Array, Uint8Array>(TU);
    for (let i = 0; i < 50; i++) dc.put(bytes(1 + i, 0x41), bytes(i, i));
    const before = snapshot(ds, TU);
    const dh = dbg.share();
    const rh = rel.share();
    expect(dh.module).not.toBe(rh.module);
    expect(dbg.threadsAttached).toBe(1);

    // A release module over the debug build's memory, and the other way round.
    await expectRejection(attach({ ...dh, module: rh.module }), 'EINVAL', /laid out by core build \d+, this module is build \d+/,
      'debug and release builds cannot share a memory');
    await expectRejection(attach({ ...rh, module: dh.module }), 'EINVAL', 'build', 'debug and release builds cannot share a memory');

    // The refused attach took no thread slot and changed nothing.
    expect(dbg.threadsAttached).toBe(1);
    expect(rel.threadsAttached).toBe(1);
    expectUnchanged(ds, TU, before, 'after a refused attach');
    dc.put(bytes(200, 0x42), bytes(3));
    expect(dc.get(bytes(200, 0x42))).toEqual(bytes(3));

    // The matching build attaches and sees the same data.
    const same = await attach(dh);
    expect(dbg.threadsAttached).toBe(2);
    const c2 = same.openSession().openCursor<Uint8Array, Uint8Array>(TU);
    expect(c2.get(bytes(200, 0x42))).toEqual(bytes(3));
    await same.close();
    expect(dbg.threadsAttached).toBe(1);
    await dbg.close();
    await rel.close();
  });

  it('attach refuses things that are not connection handles with EINVAL', async () => {
    const conn1 = await open({ debug: true });
    const h = conn1.share();
    await expectRejection(attach(any({})), 'EINVAL', 'attach: not a connection handle', 'accepted: the object returned by conn.share()');
    await expectRejection(attach(any(null)), 'EINVAL', 'not a connection handle');
    await expectRejection(attach(any({ ...h, kind: 'other' })), 'EINVAL', 'not a connection handle');
    await expectRejection(attach(any({ ...h, module: {} })), 'EINVAL', 'not a connection handle');
    const blank = new WebAssembly.Memory({ initial: 16, maximum: 512, shared: true });
    await expectRejection(attach({ ...h, memory: blank }), 'EINVAL', 'no latchkey superblock', 'accepted: a handle from conn.share()');
    expect(conn1.threadsAttached).toBe(1);
    await conn1.close();
  });
});
