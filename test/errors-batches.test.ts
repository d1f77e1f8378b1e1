// Bad input to the batch calls (getMany, putMany, removeMany, batches()): arguments that are not
// lists, entries of the wrong shape, keys and values of the wrong type or size anywhere in a
// batch, Proxies and iterators that throw, detached buffers. Every refusal is a LatchkeyError
// with a stable code naming the index of the refused key or entry, and the tables are exactly as
// they were (putMany and removeMany check the whole batch before applying any of it).
// ENOTLEADER on a follower, and the step-down path, are as for single writes.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { open } from '../dist/index.js';
import { MIN_CACHE_SIZE } from '../dist/config.js';
import { any, expectError, hex, PAGE_SIZE, bytes, refused, conn, s, cu, cs, setup, TU, MAX_KEY, MAX_VALUE, ITEM_MAX } from './bad-input-fixture.js';

const good = () => bytes(3, 0x7a);
/** A Uint8Array over a buffer transferred away. */
function detached(n: number): Uint8Array {
  const u8 = bytes(n, 0x33);
  structuredClone(u8.buffer, { transfer: [u8.buffer] });
  expect(u8.byteLength).toBe(0);
  return u8;
}
/** An iterable that yields `n` good entries and then throws. */
function* throwsAfter(n: number): Generator<[Uint8Array, Uint8Array]> {
  for (let i = 0; i < n; i++) yield [bytes(2, 0x40 + i), good()];
  throw new RangeError('the source broke');
}

describe('batch calls: bad input is refused naming the index, and nothing is applied', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it('arguments that are not lists of keys or entries are EINVAL', () => {
    const notLists: [unknown, string][] = [
      [undefined, 'undefined'], [null, 'null'], [42, 'number'], ['abc', 'string'], [{ a: 1 }, 'Object'],
      [bytes(4), 'Uint8Array'], [() => 1, 'function'],
    ];
    for (const [bad, shown] of notLists) {
      refused(() => cu.getMany(any(bad)), 'EINVAL', 'getMany: keys must be an array of keys', `got ${shown}`, 'accepted: an array');
      refused(() => cu.removeMany(any(bad)), 'EINVAL', 'removeMany: keys must be an array of keys', `got ${shown}`);
      refused(() => cu.putMany(any(bad)), 'EINVAL', 'putMany: entries must be an iterable of [key, value] pairs', `got ${shown}`);
    }
    const revoked = Proxy.revocable([good()], {});
    revoked.revoke();
    refused(() => cu.getMany(any(revoked.proxy)), 'EINVAL', 'getMany: keys must be');
    refused(() => cu.putMany(any(revoked.proxy)), 'EINVAL', 'putMany: entries must be');
  });

  it('entries of the wrong shape are EINVAL naming the entry', () => {
    const shapes: [unknown, string][] = [
      [good(), 'got Uint8Array'], [[good()], 'an array of 1'], [[good(), good(), good()], 'an array of 3'],
      [{ 0: good(), 1: good(), length: 2 }, 'got Object'], [null, 'got null'], ['kv', 'got string'],
    ];
    for (const [bad, shown] of shapes) {
      refused(() => cu.putMany(any([[good(), good()], [bytes(2), good()], bad])), 'EINVAL', 'putMany: entry 2:', 'must be a [key, value] array', shown);
    }
  });

  it("keys and values of the wrong type, empty, too large or detached, anywhere in a batch, name their index; 'S' tables too", () => {
    const keys = () => [good(), bytes(5), bytes(6)];
    for (const [bad, code, what] of [[42, 'EINVAL', 'key must be a Uint8Array'], [new Uint8Array(0), 'EKEYSIZE', 'empty key'],
      [bytes(MAX_KEY + 1), 'EKEYSIZE', `exceeds the limit of ${MAX_KEY}`], [detached(4), 'EINVAL', 'detached'], ['s', 'EINVAL', 'got string']] as const) {
      for (const at of [0, 2]) {
        const ks: unknown[] = keys();
        ks[at] = bad;
        refused(() => cu.getMany(any(ks)), code, `getMany: key ${at}:`, what);
        refused(() => cu.removeMany(any(ks)), code, `removeMany: key ${at}:`, what);
        refused(() => cu.putMany(any(ks.map((k) => [k, good()]))), code, `putMany: entry ${at}:`, what);
      }
    }
    refused(() => cu.putMany([[good(), good()], [good(), any(7)]]), 'EINVAL', 'putMany: entry 1:', 'value must be a Uint8Array');
    refused(() => cu.putMany([[good(), good()], [good(), detached(3)]]), 'EINVAL', 'putMany: entry 1:', 'value', 'detached');
    refused(() => cu.putMany([[good(), good()], [good(), bytes(MAX_VALUE + 1)]]), 'EVALUESIZE', 'putMany: entry 1:', `limit of ${MAX_VALUE}`);
    // Where key + value binds (4 KiB pages): the core's limit for that key.
    refused(() => cu.putMany([[bytes(1000), bytes(ITEM_MAX - 1000 + 1)]]), 'EVALUESIZE', 'putMany: entry 0:', `limit of ${ITEM_MAX - 1000} bytes`);
    refused(() => cs.getMany(any(['a', good()])), 'EINVAL', 'getMany: key 1:', "key must be a string for format 'S'");
    refused(() => cs.putMany(any([['a', 'b'], ['c', '\ud800']])), 'EINVAL', 'putMany: entry 1:', 'not well-formed');
    refused(() => cs.removeMany(any(['a', 'x'.repeat(MAX_KEY + 1)])), 'EKEYSIZE', 'removeMany: key 1:');
  });

  it('a batch larger than one chunk with a bad entry at its end applies nothing', () => {
    const many: unknown[] = Array.from({ length: 20_000 }, (_, i) => [bytes(2 + (i % 50), 0x20 + (i % 90)), bytes(i % 100)]);
    many.push([good(), any(undefined)]);
    refused(() => cu.putMany(any(many)), 'EINVAL', 'putMany: entry 20000:', 'value must be');
    const keys: unknown[] = (many.slice(0, 20_000) as [Uint8Array][]).map(([k]) => k);
    keys.push(any(1));
    refused(() => cu.removeMany(any(keys)), 'EINVAL', 'removeMany: key 20000:');
  });

  it('Proxies and iterators that throw are EINVAL naming the entry, with the thrown error as the cause', () => {
    const trap = new Proxy([good(), good()], { get: (t, p) => { if (p === '1') throw new TypeError('trap'); return Reflect.get(t, p); } });
    let err = refused(() => cu.putMany(any([[good(), good()], trap])), 'EINVAL', 'putMany: entry 1 threw TypeError: trap');
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(TypeError);
    err = refused(() => cu.putMany(throwsAfter(3)), 'EINVAL', 'putMany: entry 3 threw RangeError: the source broke');
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(RangeError);
    refused(() => cu.getMany(any({ *[Symbol.iterator]() { yield good(); throw new Error('no'); } })), 'EINVAL', 'getMany: iterating the keys threw Error: no');
    // A Proxy of an array of keys is read as the array it stands for.
    const keys = new Proxy([good(), bytes(9)], {});
    expect(cu.getMany(keys)).toEqual([undefined, undefined]);
    // A key that is a Proxy of a Uint8Array is not one.
    refused(() => cu.removeMany(any([good(), new Proxy(bytes(3), {})])), 'EINVAL', 'removeMany: key 1:', 'posing as a Uint8Array');
  });

  // The batch calls read their keys (and entries) a group at a time ahead of packing them
  // (bindings/batch.ts, AHEAD), across several chunks of the scratch area: every element is still
  // read exactly once, whether the room of a chunk ends inside a group or not (keys of mixed
  // lengths, 'u' and 'S'), and the values come back in order. Would fail with a group that reads
  // keys the chunk then has no room for (read again by the next chunk).
  it('a Proxy of a key list or entry list has each element read exactly once, across chunks', () => {
    const counted = <T,>(list: T[]) => {
      const reads = new Map<string, number>();
      const proxy = new Proxy(list, { get: (t, p, r) => { if (typeof p === 'string' && /^\d+$/.test(p)) reads.set(p, (reads.get(p) ?? 0) + 1); return Reflect.get(t, p, r); } });
      const once = () => list.every((_, i) => reads.get(String(i)) === 1) && reads.size === list.length;
      return { proxy, once, reads };
    };
    const N = 15_000;
    const keyOf = (i: number) => bytes(1 + (i % 37), i & 0xff).map((b, j) => (j === 0 ? b : (i >> (j % 3) * 5) & 0xff));
    const entries = counted(Array.from({ length: N }, (_, i) => [keyOf(i), bytes(1 + (i % 5), i & 0x7f)] as [Uint8Array, Uint8Array]));
    cu.putMany(entries.proxy);
    expect(entries.once()).toBe(true);
    const expected = new Map(entries.proxy.map(([k, v]) => [hex(k), hex(v)]));
    const keys = counted(Array.from({ length: N }, (_, i) => keyOf(i)));
    const got = cu.getMany(keys.proxy);
    expect(keys.once()).toBe(true);
    expect(got.map((v, i) => [hex(keyOf(i)), v && hex(v)])).toEqual(Array.from({ length: N }, (_, i) => [hex(keyOf(i)), expected.get(hex(keyOf(i)))]));
    const strings = counted(Array.from({ length: 3000 }, (_, i) => 'k'.repeat(1 + (i % 60)) + String.fromCodePoint(0x41 + (i % 26), 0x3b1 + (i % 20))));
    cs.putMany(strings.proxy.map((k) => [k, k]));
    const plain = strings.proxy.slice();
    const sget = counted(plain.slice());
    expect(cs.getMany(sget.proxy)).toEqual(plain);
    expect(sget.once()).toBe(true);
    const removed = counted(keys.proxy.slice());
    expect(cu.removeMany(removed.proxy)).toBe(expected.size);
    expect(removed.once()).toBe(true);
  });

  it('batches() options are checked as range() options are, named batches', () => {
    refused(() => cu.batches(any({ gt: good(), gte: good() })).next(), 'EINVAL', 'batches: both gt and gte given');
    refused(() => cu.batches(any({ limit: -1 })).next(), 'EINVAL', 'batches: limit -1', 'accepted: a non-negative integer');
    refused(() => cu.batches(any({ reverse: 1 })).next(), 'EINVAL', 'batches: reverse must be a boolean');
    refused(() => cu.batches(any({ from: good() })).next(), 'EINVAL', "batches: unknown option 'from'");
    refused(() => cu.batches(any(null)).next(), 'EINVAL', 'batches options must be an object');
    refused(() => cu.batches({ lt: bytes(MAX_KEY + 1) }).next(), 'EKEYSIZE', 'batches: range bound of 1025 bytes');
    refused(() => cs.batches(any({ gte: 5 })).next(), 'EINVAL', "key must be a string for format 'S'");
  });

  it('on a closed cursor every batch call is ECLOSED', () => {
    const c = s.openCursor(TU);
    c.close();
    refused(() => c.getMany([good()]), 'ECLOSED', 'closed');
    refused(() => c.putMany([[good(), good()]]), 'ECLOSED', 'closed');
    refused(() => c.removeMany([good()]), 'ECLOSED', 'closed');
    refused(() => c.batches().next(), 'ECLOSED', 'closed');
  });
});

describe('batch writes and roles', () => {
  afterEach(() => conn.close());

  it('on a follower putMany and removeMany are ENOTLEADER and change nothing; getMany and batches() read; after a step-up the same cursor writes', async () => {
    await setup();
    // Cursors opened before the step-down: each one's first call after it meets its old table
    // handle (EAGAIN from the core) and takes a current one.
    const [c, c2, c3, c4] = [0, 1, 2, 3].map(() => s.openCursor<Uint8Array, Uint8Array>(TU));
    c.putMany([[good(), bytes(4, 1)]]);
    await conn.reconfigure({ role: 'follower' });
    expect(c.getMany([good(), bytes(1)])).toEqual([bytes(4, 1), undefined]);
    expect([...c2!.batches({ gte: good(), lte: good() })].map((b) => b.count)).toEqual([1]);
    refused(() => c3!.putMany([[good(), good()], [bytes(2), good()]]), 'ENOTLEADER', 'putMany on table:bytes', 'follower');
    refused(() => c4!.removeMany([good()]), 'ENOTLEADER', 'removeMany on table:bytes');
    await conn.reconfigure({ role: 'leader' });
    c.putMany([[good(), bytes(4, 2)]]);
    expect(c.removeMany([good(), good()])).toBe(1);
    expect(c.get(good())).toBeUndefined();
  });
});

describe('putMany and a full cache', () => {
  for (const debug of [true, false]) {
    it(`${debug ? 'debug' : 'release'} build: ENOMEM names the entry it stopped at; the ones before it are in, none after; the tree is whole`, async () => {
      const c0 = await open({ pageSize: PAGE_SIZE, cacheSize: MIN_CACHE_SIZE, debug });
      try {
        const ss = c0.openSession();
        ss.create(TU);
        const c = ss.openCursor<Uint8Array, Uint8Array>(TU);
        const keyOf = (i: number) => {
          const k = new Uint8Array(24).fill(0x6b);
          new DataView(k.buffer).setUint32(0, Math.imul(i, 0x9e3779b1) >>> 0);
          new DataView(k.buffer).setUint32(20, i);
          return k;
        };
        const entries = Array.from({ length: 100_000 }, (_, i): [Uint8Array, Uint8Array] => [keyOf(i), bytes(200 + ((i * 53) % 800), i & 0xff)]);
        const err = expectError(() => c.putMany(entries), 'ENOMEM', 'putMany (stopped at entry', 'the cache is full');
        const stopped = Number(/stopped at entry (\d+): the \1 before it were applied/.exec(err.message)![1]);
        expect(stopped).toBeGreaterThan(0);
        expect(ss.verify(TU).ok).toBe(true);
        expect(ss.stats(TU).entries).toBe(stopped);
        const got = c.getMany(entries.slice(0, stopped + 100).map(([k]) => k));
        for (let i = 0; i < stopped + 100; i++) {
          if (i < stopped) expect(hex(got[i]!), `entry ${i}`).toBe(hex(entries[i]![1]));
          else expect(got[i], `entry ${i}`).toBeUndefined();
        }
        // Room freed by removeMany is used again.
        expect(c.removeMany(entries.slice(0, stopped >> 1).map(([k]) => k))).toBe(stopped >> 1);
        c.putMany(entries.slice(stopped, stopped + 10));
        expect(ss.stats(TU).entries).toBe(stopped - (stopped >> 1) + 10);
        expect(ss.verify(TU).ok).toBe(true);
      } finally {
        await c0.close();
      }
    });
  }
});
