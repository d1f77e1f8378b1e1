// Bad input, by kind of argument: values of the wrong type, views that lie about their length or
// are no Uint8Array at all, detached buffers, option arguments of the wrong type, table names that
// are not well-formed UTF-16. Every refusal is a LatchkeyError with a stable code, and the tables
// are exactly as they were (test/bad-input-fixture.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { any, bytes, hex, expectError, snapshot, expectUnchanged, conn, s, cu, cs, setup, refused, TU, TS } from './bad-input-fixture.js';

describe('wrong types', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  const notBytes: [string, unknown, string][] = [
    ['number', 42, 'number'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['object', { a: 1 }, 'Object'],
    ['array', [1, 2, 3], 'an array'],
    ['string', 'abc', 'string'],
    ['Uint16Array', new Uint16Array(2), 'Uint16Array'],
    ['Int8Array', new Int8Array(2), 'Int8Array'],
    ['ArrayBuffer', new ArrayBuffer(4), 'ArrayBuffer'],
    ['DataView', new DataView(new ArrayBuffer(4)), 'DataView'],
    ['bigint', 1n, 'bigint'],
    ['boolean', true, 'boolean'],
  ];

  it("keys and values that are not Uint8Arrays are EINVAL on a 'u' table", () => {
    const good = bytes(3);
    for (const [name, bad, described] of notBytes) {
      const m = [`got ${described}`, 'accepted: a Uint8Array'];
      refused(() => cu.put(any(bad), good), 'EINVAL', "key must be a Uint8Array for format 'u'", ...m);
      refused(() => cu.put(good, any(bad)), 'EINVAL', "value must be a Uint8Array for format 'u'", ...m);
      refused(() => cu.insert(any(bad), good), 'EINVAL', 'key must be', ...m);
      refused(() => cu.insert(good, any(bad)), 'EINVAL', 'value must be', ...m);
      refused(() => cu.get(any(bad)), 'EINVAL', 'key must be', ...m);
      refused(() => cu.remove(any(bad)), 'EINVAL', 'key must be', ...m);
      refused(() => cu.seek(any(bad)), 'EINVAL', 'key must be', ...m);
      if (bad !== undefined) {
        refused(() => cu.range({ gte: any(bad) }).next(), 'EINVAL', 'key must be', ...m);
        refused(() => cu.range({ lte: any(bad), reverse: true }).next(), 'EINVAL', 'key must be', ...m);
        refused(() => cu.range({ gt: any(bad) }).next(), 'EINVAL', 'key must be', ...m);
      }
      expect(name).toBeTruthy();
    }
  });

  it("a null bound is refused naming null, strict or loose (formerly range({ gt: null }) said 'got undefined')", () => {
    // A null strict bound must not fall through to the absent loose one (`??` would).
    for (const bound of ['gt', 'gte', 'lt', 'lte']) {
      refused(() => cu.range({ [bound]: any(null) }).next(), 'EINVAL', "key must be a Uint8Array for format 'u', got null");
      refused(() => cs.range({ [bound]: any(null), reverse: true }).next(), 'EINVAL', "key must be a string for format 'S', got null");
      const e = refused(() => cu.range({ [bound]: any(null) }).next(), 'EINVAL');
      expect(e.message).not.toContain('undefined');
    }
  });

  it("a Buffer is a Uint8Array and is accepted on a 'u' table", () => {
    cu.put(Buffer.from('buf-key'), Buffer.from('buf-value'));
    expect(hex(cu.get(Buffer.from('buf-key'))!)).toBe(Buffer.from('buf-value').toString('hex'));
    expect(cu.get(new Uint8Array(Buffer.from('buf-key')))).toEqual(new Uint8Array(Buffer.from('buf-value')));
  });

  it("keys and values that are not strings are EINVAL on an 'S' table", () => {
    const notStrings: [unknown, string][] = [
      [bytes(3), 'Uint8Array'],
      [42, 'number'],
      [null, 'null'],
      [undefined, 'undefined'],
      [{ toString: () => 'x' }, 'Object'],
      [['a'], 'an array'],
      [Symbol('s'), 'symbol'],
    ];
    for (const [bad, described] of notStrings) {
      const m = [`got ${described}`, 'accepted: a string'];
      refused(() => cs.put(any(bad), 'v'), 'EINVAL', "key must be a string for format 'S'", ...m);
      refused(() => cs.put('k', any(bad)), 'EINVAL', "value must be a string for format 'S'", ...m);
      refused(() => cs.insert(any(bad), 'v'), 'EINVAL', 'key must be', ...m);
      refused(() => cs.get(any(bad)), 'EINVAL', 'key must be', ...m);
      refused(() => cs.remove(any(bad)), 'EINVAL', 'key must be', ...m);
      refused(() => cs.seek(any(bad), 'le'), 'EINVAL', 'key must be', ...m);
      if (bad !== undefined) refused(() => cs.range({ lte: any(bad) }).next(), 'EINVAL', 'key must be', ...m);
    }
  });

  it('lone surrogates are EINVAL for keys, values, bounds and seeks', () => {
    for (const bad of ['\ud800', 'a\udc00b', '\u{1f600}'.slice(0, 1), 'x' + '\u{1f600}'.slice(1)]) {
      const m = ['lone surrogate', 'accepted: a well-formed string'];
      refused(() => cs.put(bad, 'v'), 'EINVAL', 'key is not well-formed', ...m);
      refused(() => cs.put('k', bad), 'EINVAL', 'value is not well-formed', ...m);
      refused(() => cs.insert(bad, 'v'), 'EINVAL', ...m);
      refused(() => cs.get(bad), 'EINVAL', ...m);
      refused(() => cs.remove(bad), 'EINVAL', ...m);
      refused(() => cs.seek(bad), 'EINVAL', ...m);
      refused(() => cs.range({ gt: bad }).next(), 'EINVAL', ...m);
    }
    // The well-formed pair is fine.
    cs.put('\u{1f600}', 'ok');
    expect(cs.get('\ud83d\ude00')).toBe('ok');
  });
});

