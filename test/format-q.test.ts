// Integer keys and values (format 'q', bindings/codec.ts): the stored bytes order as the numbers
// do; every entry point refuses what is not a safe integer with EINVAL naming the format and the
// accepted range, leaving the table as it was; a 'q' table keeps its formats and entries through
// a checkpoint and a reopen, and through the log's replay. The model runs (test/property-*.test.ts)
// cover the operations themselves.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, MemoryPageStore, LatchkeyError } from '../dist/index.js';
import { intBytes, readInt, compareBytes } from '../dist/codec.js';
import { int64Bytes, hex, SEED, params } from './property-model.js';

const ACCEPTED = 'accepted: an integer number from -(2^53 - 1) to 2^53 - 1';
const safe = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -3, max: 3 }), fc.constantFrom(2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 32) - 1));

describe(`'q': the bytes (seed ${SEED})`, () => {
  it('are the int64, big-endian, sign bit flipped (computed here with BigInt), and read back as the number', () => {
    fc.assert(fc.property(safe, (n) => {
      expect(hex(intBytes(n))).toBe(hex(int64Bytes(n)));
      expect(readInt(intBytes(n), 0, 8)).toBe(n === 0 ? 0 : n); // -0 is stored as 0
    }), params(2000));
    expect(Object.is(readInt(intBytes(-0), 0, 8), 0)).toBe(true);
  });

  it('order bytewise as the numbers do', () => {
    fc.assert(fc.property(safe, safe, (a, b) => {
      expect(Math.sign(compareBytes(intBytes(a), intBytes(b)))).toBe(Math.sign(a - b));
    }), params(2000));
  });

  it('a stored entry that is not 8 bytes, or not a safe integer, is ECORRUPT, not a guess', () => {
    const code = (b: Uint8Array) => { try { readInt(b, 0, b.length); } catch (e) { return (e as LatchkeyError).code; } return 'read'; };
    expect(code(new Uint8Array(7))).toBe('ECORRUPT');
    expect(code(new Uint8Array(9))).toBe('ECORRUPT');
    // 2^53 and -2^53, and the int64's own extremes: never written by a 'q' table.
    for (const h of ['8020000000000000', '7fe0000000000000', 'ffffffffffffffff', '0000000000000000']) {
      expect(code(Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16))), h).toBe('ECORRUPT');
    }
    expect(code(intBytes(Number.MAX_SAFE_INTEGER))).toBe('read');
    expect(code(intBytes(Number.MIN_SAFE_INTEGER))).toBe('read');
  });
});

describe("'q': what is not a safe integer is refused, and changes nothing", () => {
  const NOT = [1.5, -0.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300, '1', 1n, null, undefined, true, {}, [1],
    new Number(1), Uint8Array.of(1), new Proxy({}, { get() { throw new Error('trap ran'); } })];

  it('get, put, insert, remove, seek, range bounds, getMany, putMany, removeMany, session.batch', async () => {
    const conn = await open({ debug: true, log: false });
    try {
      const s = conn.openSession();
      const t = s.create('table:q', { keyFormat: 'q', valueFormat: 'q' });
      const c = s.openCursor(t);
      for (let i = -50; i < 50; i++) c.put(i * 1000, i);
      const before = [...c.range()];
      const refused = (fn: () => unknown, ...parts: string[]) => {
        let err: unknown;
        try { fn(); } catch (e) { err = e; }
        expect(err, `${parts[0]}: refused`).toBeInstanceOf(LatchkeyError);
        expect((err as LatchkeyError).code).toBe('EINVAL');
        for (const p of parts) expect((err as LatchkeyError).message).toContain(p);
        expect([...c.range()]).toEqual(before);
      };
      for (const bad of NOT as never[]) {
        const k = "key must be a safe integer for format 'q'";
        const v = "value must be a safe integer for format 'q'";
        refused(() => c.get(bad), k, ACCEPTED);
        refused(() => c.put(bad, 1), k, ACCEPTED);
        refused(() => c.put(1, bad), v, ACCEPTED);
        refused(() => c.insert(7, bad), v);
        refused(() => c.insert(bad, 7), k);
        refused(() => c.remove(bad), k);
        refused(() => c.seek(bad, 'ge'), k);
        if (bad !== undefined) { // an undefined bound is no bound
          refused(() => c.range({ gte: bad }).next(), k);
          refused(() => c.range({ lt: bad, reverse: true }).next(), k);
        }
        refused(() => c.getMany([1, bad]), 'key 1', k);
        refused(() => c.putMany([[5, 5], [6, 6], [bad, 1]]), 'entry 2', k);
        refused(() => c.putMany([[5, 5], [6, bad]]), 'entry 1', v);
        refused(() => c.removeMany([0, 1000, bad]), 'key 2', k);
        refused(() => s.batch([{ type: 'put', uri: t, key: 5, value: 5 }, { type: 'put', uri: t, key: bad, value: 1 }]), k);
      }
      // -0 is a safe integer: the key 0.
      expect(c.get(-0)).toBe(0);
      c.put(-0, -0);
      expect(c.getMany([0, -0])).toEqual([0, 0]);
      expect(Object.is(c.get(0), 0)).toBe(true);
      c.put(0, 0);
      // A number is not a key of a bytes or strings table either.
      const u = s.openCursor(s.create('table:u'));
      expect(() => u.put(1 as never, Uint8Array.of(1))).toThrow("key must be a Uint8Array for format 'u', got number");
      expect(s.verify(t).ok).toBe(true);
    } finally {
      await conn.close();
    }
  });
});

describe("'q' tables kept", () => {
  it('through a checkpoint and a reopen of the same store (formats and entries)', async () => {
    const home = new MemoryPageStore();
    const keys = [Number.MIN_SAFE_INTEGER, -(2 ** 32) - 1, -1, 0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
    let conn = await open({ home });
    let s = conn.openSession();
    const c = s.openCursor(s.create('table:q', { keyFormat: 'q', valueFormat: 'q' }));
    for (const k of keys) c.put(k, -k || 0);
    await conn.close();
    conn = await open({ home });
    try {
      s = conn.openSession();
      expect(s.tableFormats('table:q')).toEqual({ keyFormat: 'q', valueFormat: 'q' });
      const again = s.openCursor<number, number>('table:q');
      expect([...again.range()]).toEqual(keys.map((k) => [k, -k || 0]));
      expect([...again.range({ gt: -1, lte: 2 ** 32 })].map(([k]) => k)).toEqual([0, 1, 2 ** 32]);
      // create() with other formats is refused; with the same ones it is a no-op.
      expect(() => s.create('table:q', { keyFormat: 'u' })).toThrow('exists with other formats');
      s.create('table:q', { keyFormat: 'q', valueFormat: 'q' });
    } finally {
      await conn.close();
    }
  });

  it('through the log: a directory home opened again after writes that no checkpoint holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-q-'));
    try {
      const first = await open({ home: dir, log: { flushInterval: 5 } });
      const s = first.openSession();
      const c = s.openCursor(s.create('table:q', { keyFormat: 'q', valueFormat: 'u' }));
      for (let i = -500; i < 500; i++) c.put(i * 7919, Uint8Array.of(i & 0xff));
      await s.flush();
      // The process keeps the home as a leader: a takeover opens it as a crash would leave it
      // (no final checkpoint: the entries come from the log's replay).
      const conn = await open({ home: dir, takeover: true });
      try {
        const got = [...conn.openSession().openCursor<number, Uint8Array>('table:q').range()];
        expect(got.length).toBe(1000);
        expect(got.map(([k]) => k)).toEqual(Array.from({ length: 1000 }, (_, j) => (j - 500) * 7919));
        expect(got.every(([k, v]) => v[0] === ((k / 7919) & 0xff))).toBe(true);
      } finally {
        await conn.close();
        await first.close().catch(() => undefined); // fenced: its close may be refused
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
