// Bad input, by kind of argument: values of the wrong type, views that lie about their length or
// are no Uint8Array at all, detached buffers, option arguments of the wrong type, table names that
// are not well-formed UTF-16. Every refusal is a LatchkeyError with a stable code, and the tables
// are exactly as they were (test/bad-input-fixture.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { attach, renderTreeSvg } from '../dist/index.js';
import { any, bytes, hex, expectError, expectRejection, snapshot, expectUnchanged, conn, s, cu, cs, setup, refused, TU } from './bad-input-fixture.js';
import { TestWorker } from './helpers.js';

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

const hexOf = (b: Uint8Array | undefined) => (b === undefined ? 'undefined' : hex(b));

/** A Uint8Array of `n` real bytes whose `length` property says `claims`. */
function lyingLength(n: number, claims: number, fill = 0x7a): Uint8Array {
  const u8 = bytes(n, fill);
  Object.defineProperty(u8, 'length', { value: claims });
  return u8;
}

/** A subclass whose `length` getter says `claims`, whatever it holds. */
class Liar extends Uint8Array {
  claims = 1;
  override get length(): number { return this.claims; }
}
function liar(n: number, claims: number, fill = 0x7a): Liar {
  const u8 = new Liar(n).fill(fill);
  u8.claims = claims;
  return u8;
}

describe('views whose length lies', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it("a key or value whose length says less than it holds is sized by its real bytes: EKEYSIZE / EVALUESIZE (formerly the copy wrote the real bytes past the checked room)", () => {
    for (const make of [lyingLength, liar]) {
      const key = make(2000, 3);
      refused(() => cu.put(key, bytes(3)), 'EKEYSIZE', 'key of 2000 bytes exceeds the limit of 1024 bytes');
      refused(() => cu.insert(key, bytes(3)), 'EKEYSIZE', 'key of 2000 bytes');
      refused(() => cu.get(key), 'EKEYSIZE', 'key of 2000 bytes');
      refused(() => cu.remove(key), 'EKEYSIZE', 'key of 2000 bytes');
      refused(() => cu.seek(key), 'EKEYSIZE', 'seek key of 2000 bytes');
      refused(() => cu.range({ gte: key }).next(), 'EKEYSIZE', 'range bound of 2000 bytes');
      refused(() => cu.range({ lt: key }).next(), 'EKEYSIZE', 'range bound of 2000 bytes');
      // Past the end of the scratch area: 200000 bytes claiming 10.
      refused(() => cu.put(bytes(4, 0x31), make(200_000, 10)), 'EVALUESIZE', 'value of 200000 bytes exceeds the limit of 1024 bytes');
      refused(() => cu.put(bytes(4, 0x31), make(2000, 1)), 'EVALUESIZE', 'value of 2000 bytes');
    }
  });

  it('a key or value whose length says more than it holds stores exactly the bytes it holds (formerly stale scratch bytes up to the claimed length)', () => {
    for (const make of [lyingLength, liar]) {
      const k = make(5, 300, 0x6b);
      cu.put(k, make(7, 500, 0x76));
      expect(hexOf(cu.get(bytes(5, 0x6b)))).toBe(hex(bytes(7, 0x76)));
      expect(hexOf(cu.get(k))).toBe(hex(bytes(7, 0x76)));
      expect([...cu.range({ gte: k, lte: k })].map(([kk, v]) => `${hex(kk)}=${hex(v)}`)).toEqual([`${hex(bytes(5, 0x6b))}=${hex(bytes(7, 0x76))}`]);
      expect(cu.seek(k)).toBe(true);
      expect(hex(cu.key!)).toBe(hex(bytes(5, 0x6b)));
      expect(cu.remove(k)).toBe(true);
      expect(cu.get(bytes(5, 0x6b))).toBeUndefined();
      expect(s.verify(TU).ok).toBe(true);
    }
  });

  it("a lying value is refused before it reaches another thread's scratch area: a worker parked mid-get gets the right value", async () => {
    const [k0, v0] = [...cu.range()].find(([, v]) => v.length > 0)!;
    const w = new TestWorker(conn.share());
    try {
      await w.started();
      expect(await w.call('slot')).toBe(conn.core.x.lk_thread_slot() + 1); // the next scratch area
      const point = conn.inject('btree-search-before-child').arm('wait', { count: 1 });
      const got = w.call('get', { uri: TU, key: k0 });
      point.awaitArrived(1);
      const before = snapshot(s, TU);
      let refusal: unknown;
      try {
        // 140000 bytes from this thread's value area run across the worker's key area.
        cu.put(bytes(4, 0x31), lyingLength(140_000, 10));
      } catch (e) {
        refusal = e;
      } finally {
        point.disarm();
        point.wake();
      }
      expect(hexOf(await got), 'the parked get').toBe(hex(v0));
      expectError(() => { if (refusal) throw refusal; }, 'EVALUESIZE', 'value of 140000 bytes');
      expectUnchanged(s, TU, before, 'after the lying put');
    } finally {
      await w.stop();
    }
  });
});

describe('things that are not Uint8Arrays though instanceof says so, and detached buffers', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  const fakes: [string, () => unknown][] = [
    ['a Proxy of a Uint8Array', () => new Proxy(bytes(3, 0x31), {})],
    ['a Proxy whose length grows between reads', () => {
      let reads = 0;
      return new Proxy(bytes(3, 0x31), { get: (t, p) => (p === 'length' ? (reads++ === 0 ? 3 : 200_000) : Reflect.get(t, p)) });
    }],
    ['Object.create(Uint8Array.prototype)', () => Object.create(Uint8Array.prototype)],
    ['a revoked Proxy', () => { const r = Proxy.revocable(bytes(3), {}); r.revoke(); return r.proxy; }],
  ];

  it("is EINVAL for keys, values, bounds and seeks on a 'u' table, naming what is accepted", () => {
    const good = bytes(3, 0x32);
    for (const [name, make] of fakes) {
      const m = ['accepted: a Uint8Array'];
      refused(() => cu.put(any(make()), good), 'EINVAL', "key must be a Uint8Array for format 'u'", ...m);
      refused(() => cu.put(good, any(make())), 'EINVAL', "value must be a Uint8Array for format 'u'", ...m);
      refused(() => cu.insert(any(make()), good), 'EINVAL', 'key must be', ...m);
      refused(() => cu.get(any(make())), 'EINVAL', 'key must be', ...m);
      refused(() => cu.remove(any(make())), 'EINVAL', 'key must be', ...m);
      refused(() => cu.seek(any(make())), 'EINVAL', 'key must be', ...m);
      refused(() => cu.range({ gt: any(make()) }).next(), 'EINVAL', 'key must be', ...m);
      refused(() => cu.range({ lte: any(make()) }).next(), 'EINVAL', 'key must be', ...m);
      expect(name).toBeTruthy();
    }
  });

  /**
   * A Uint8Array over a buffer that was transferred away (its view now holds nothing): by
   * ArrayBuffer.prototype.transfer where the runtime has it (node >= 21), else structuredClone.
   */
  let transfers = 0;
  function detached(n: number): Uint8Array {
    const u8 = bytes(n, 0x33);
    const buf = u8.buffer as ArrayBuffer & { transfer?: () => ArrayBuffer };
    if (typeof buf.transfer === 'function' && transfers++ % 2 === 0) buf.transfer();
    else structuredClone(buf, { transfer: [buf] });
    expect(u8.byteLength).toBe(0);
    return u8;
  }

  it('a detached key or value is EINVAL naming the detached buffer (formerly an empty value was stored, an empty key EKEYSIZE)', () => {
    const m = ['detached', 'accepted: a Uint8Array'];
    refused(() => cu.put(bytes(3, 0x34), detached(5)), 'EINVAL', 'value', ...m);
    refused(() => cu.insert(bytes(3, 0x34), detached(5)), 'EINVAL', 'value', ...m);
    refused(() => cu.put(detached(5), bytes(3)), 'EINVAL', 'key', ...m);
    refused(() => cu.get(detached(5)), 'EINVAL', 'key', ...m);
    refused(() => cu.remove(detached(5)), 'EINVAL', 'key', ...m);
    refused(() => cu.seek(detached(5)), 'EINVAL', 'key', ...m);
    refused(() => cu.range({ gte: detached(5) }).next(), 'EINVAL', 'key', ...m);
    expect(cu.get(bytes(3, 0x34))).toBeUndefined();
    // A view that is merely empty is still an empty value (and an empty key is EKEYSIZE).
    cu.put(bytes(3, 0x34), new Uint8Array(0));
    expect(cu.get(bytes(3, 0x34))!.length).toBe(0);
    refused(() => cu.get(new Uint8Array(new ArrayBuffer(8), 8)), 'EKEYSIZE', 'empty key');
  });

  it("strings for an 'S' table are primitive strings only: a String object is EINVAL", () => {
    refused(() => cs.put(any(new String('k')), 'v'), 'EINVAL', "key must be a string for format 'S', got String", 'accepted: a string');
    refused(() => cs.put('k', any(new String('v'))), 'EINVAL', "value must be a string for format 'S', got String");
    refused(() => cs.get(any(new String('k'))), 'EINVAL', 'got String');
  });
});

describe('option arguments of the wrong type', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  const throwing = { toString() { throw new Error('toString called'); } };

  it('verify options: null, non-objects, unknown keys and a non-boolean concurrent are EINVAL (formerly verify(uri, null) threw a TypeError)', () => {
    for (const bad of [null, 42, 'concurrent', true, [], () => 1]) {
      refused(() => s.verify(TU, any(bad)), 'EINVAL', 'verify options must be an object', 'accepted: { concurrent }');
    }
    refused(() => s.verify(TU, any({ concurent: true })), 'EINVAL', "verify: unknown option 'concurent'", 'accepted: concurrent');
    refused(() => s.verify(TU, any({ concurrent: 'yes' })), 'EINVAL', 'verify: concurrent must be a boolean', 'accepted: true or false');
    refused(() => s.verify(TU, any({ concurrent: null })), 'EINVAL', 'concurrent must be a boolean');
    expect(s.verify(TU, { concurrent: true }).full).toBe(false);
    expect(s.verify(TU, {}).full).toBe(true);
    expect(s.verify(TU, undefined).full).toBe(true);
  });

  it('range options: arrays and functions are not option objects; a null limit is EINVAL', () => {
    for (const bad of [[], () => 1, 'gt']) {
      refused(() => cu.range(any(bad)).next(), 'EINVAL', 'range options must be an object');
    }
    refused(() => cu.range(any({ limit: null })).next(), 'EINVAL', 'range: limit null', 'accepted: a non-negative integer');
    refused(() => cu.range(any({ limit: throwing })).next(), 'EINVAL', 'range: limit Object');
    refused(() => cu.range(any({ limit: Symbol('l') })).next(), 'EINVAL', 'range: limit symbol');
  });

  it('create options: arrays are not option objects; formats that are not strings are EINVAL without calling their toString', () => {
    refused(() => s.create('table:new', any([])), 'EINVAL', 'create options must be an object');
    refused(() => s.create('table:new', any({ keyFormat: throwing })), 'EINVAL', 'keyFormat Object', "'u' (bytes), 'S' (string) or 'q' (integer)");
    refused(() => s.create('table:new', any({ valueFormat: Symbol('u') })), 'EINVAL', 'valueFormat symbol');
    refused(() => s.create('table:new', any({ keyFormat: null })), 'EINVAL', 'keyFormat null');
    expectError(() => s.openCursor('table:new'), 'ENOENT');
  });

  it("seek mode: anything but 'ge' or 'le' is EINVAL without calling its toString", () => {
    for (const how of [throwing, Symbol('ge'), ['ge'], new String('ge')]) {
      refused(() => cu.seek(bytes(1, 0x30), any(how)), 'EINVAL', 'seek:', "accepted: 'ge' or 'le'");
    }
  });

  it('table uris that are not strings are EINVAL everywhere a uri is taken, naming the type', () => {
    for (const bad of [throwing, Symbol('t'), new String('table:bytes'), null]) {
      const m = ['table uri', "accepted: a string 'table:<name>'"];
      refused(() => s.openCursor(any(bad)), 'EINVAL', ...m);
      refused(() => s.create(any(bad)), 'EINVAL', ...m);
      refused(() => s.drop(any(bad)), 'EINVAL', ...m);
      refused(() => s.verify(any(bad)), 'EINVAL', ...m);
      refused(() => s.stats(any(bad)), 'EINVAL', ...m);
      refused(() => s.compact(any(bad)), 'EINVAL', ...m);
      refused(() => s.treeShape(any(bad)), 'EINVAL', ...m);
    }
  });
});

describe('table names that are not well-formed UTF-16', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it("a lone surrogate in a table name is EINVAL everywhere a name is taken (formerly 'table:a\\uD800' and 'table:a\\uDBFF' became one table)", () => {
    const before = s.tables();
    for (const bad of ['table:a\uD800', 'table:a\uDBFF', 'table:\uDC00b', `table:x${'\u{1f600}'.slice(1)}`]) {
      const m = ['lone surrogate', 'accepted: a well-formed string'];
      refused(() => s.create(bad), 'EINVAL', 'table name', ...m);
      refused(() => s.create(bad, { keyFormat: 'S' }), 'EINVAL', ...m);
      refused(() => s.openCursor(bad), 'EINVAL', ...m);
      refused(() => s.drop(bad), 'EINVAL', ...m);
      refused(() => s.verify(bad), 'EINVAL', ...m);
      refused(() => s.stats(bad), 'EINVAL', ...m);
    }
    expect(s.tables()).toEqual(before);
    // A well-formed pair is a name like any other.
    s.create('table:a\u{1f600}');
    expect(s.tables()).toContain('table:a\u{1f600}');
    s.drop('table:a\ud83d\ude00');
  });
});

describe('arguments of the other public calls', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  const revoked = () => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; };
  const throwingGetter = () => Object.defineProperty({}, 'kind', { get() { throw new Error('getter called'); } });

  it('attach: a revoked Proxy or an object whose getter throws is not a connection handle (EINVAL; formerly a TypeError)', async () => {
    await expectRejection(attach(any(revoked())), 'EINVAL', 'attach: not a connection handle', 'accepted: the object returned by conn.share()');
    await expectRejection(attach(any(throwingGetter())), 'EINVAL', 'not a connection handle');
    expect(conn.threadsAttached).toBe(1);
  });

  it('injection points: names, actions and arm options of the wrong type are EINVAL (formerly TypeErrors for null options and symbols)', () => {
    refused(() => conn.inject(any(Symbol('p'))), 'EINVAL', 'unknown injection point symbol', 'btree-search-before-child');
    refused(() => conn.inject(any({ toString() { throw new Error('toString called'); } })), 'EINVAL', 'unknown injection point Object');
    const p = conn.inject('btree-move-right');
    refused(() => p.arm(any('sleep')), 'EINVAL', "unknown injection action 'sleep'", 'accepted: wait, error, count');
    refused(() => p.arm(any('toString')), 'EINVAL', "unknown injection action 'toString'");
    refused(() => p.arm(any(Symbol('wait'))), 'EINVAL', 'unknown injection action symbol');
    refused(() => p.arm('count', any(null)), 'EINVAL', 'arm options must be an object', 'accepted: { skip, count }');
    refused(() => p.arm('count', any({ skips: 1 })), 'EINVAL', "arm: unknown option 'skips'");
    refused(() => p.arm('count', { skip: -1 }), 'EINVAL', 'arm: skip -1', 'an integer from 0 to 4294967295');
    refused(() => p.arm('count', any({ count: '2' })), 'EINVAL', 'arm: count 2');
    refused(() => p.awaitArrived(any(Symbol('n'))), 'EINVAL', 'awaitArrived: symbol threads');
    refused(() => p.awaitArrived(1, any('soon')), 'EINVAL', 'awaitArrived: timeout soon');
    expect(p.arm('count', { skip: 0, count: 0 }).hits).toBe(0);
    p.disarm();
  });

  it('renderTreeSvg: a shape that is not one, and options of the wrong type, are EINVAL (formerly TypeErrors)', () => {
    const shape = s.treeShape(TU);
    for (const bad of [null, undefined, 42, {}, { levels: 'x', deleted: [] }, revoked()]) {
      refused(() => renderTreeSvg(any(bad)), 'EINVAL', 'renderTreeSvg: shape is', 'accepted: the object session.treeShape(uri) returns');
    }
    refused(() => renderTreeSvg(shape, any(null)), 'EINVAL', 'renderTreeSvg options must be an object', 'accepted: { width, title }');
    refused(() => renderTreeSvg(shape, any({ width: 'wide' })), 'EINVAL', 'renderTreeSvg: width wide', 'a number of pixels');
    refused(() => renderTreeSvg(shape, any({ title: 7 })), 'EINVAL', 'renderTreeSvg: title 7', 'a string');
    refused(() => renderTreeSvg(shape, any({ colour: 'red' })), 'EINVAL', "renderTreeSvg: unknown option 'colour'");
    expect(renderTreeSvg(shape, { width: 800, title: 'ok' })).toContain('<svg');
  });
});
