// Property tests of the batch calls (getMany, putMany, removeMany, batches()) against the sorted
// model of test/property-model.ts, mixed with single-key operations: both formats, bounds,
// reverse, limits, empty batches, duplicates within a batch, and batches (long keys with large
// values) larger than the scratch area's batch input and output; and deterministic runs of
// batches far larger than one chunk.
//
// Environment: LATCHKEY_SEED=<n> replays a seed, LATCHKEY_PROP_SCALE=<x> multiplies the number of
// runs, LATCHKEY_PROP_LOG=1 prints each run.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { open } from '../dist/index.js';
import { BATCH_IN_SIZE, BATCH_OUT_SIZE, COLUMNS_MAX } from '../dist/abi.generated.js';
import { U, S, Q, uKey, uValue, sKey, sValue, qKey, qValue, uValueOf, sValueOf, runSequence, SEED, params, batched, batchEntries, hex, pattern, T } from './property-model.js';

describe(`batch calls against a model (seed ${SEED})`, () => {
  it("format 'u', 4096-byte pages, debug build", async () => {
    await fc.assert(fc.asyncProperty(batched(U, uKey, uValue), async (ops) => { await runSequence(U, ops, true); }), params(50));
  });

  it("format 'S', 4096-byte pages, debug build", async () => {
    await fc.assert(fc.asyncProperty(batched(S, sKey, sValue), async (ops) => { await runSequence(S, ops, true); }), params(40));
  });

  it("format 'q' (integer keys and values), 4096-byte pages, debug build", async () => {
    await fc.assert(fc.asyncProperty(batched(Q, qKey, qValue), async (ops) => { await runSequence(Q, ops, true); }), params(40));
  });

  it("both formats, 8192-byte pages (1024-byte keys with 2048-byte values: a batch of 40 is several chunks), release build", async () => {
    const P8 = 8192;
    await fc.assert(fc.asyncProperty(batched(U, uKey, uValueOf(P8 / 4), P8), async (ops) => { await runSequence(U, ops, false, 50, P8); }), params(30));
    await fc.assert(fc.asyncProperty(batched(S, sKey, sValueOf(P8 / 4), P8), async (ops) => { await runSequence(S, ops, false, 50, P8); }), params(20));
  });
});

const key8 = (i: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(4, i);
  return b;
};

describe('batches far larger than one chunk', () => {
  it('putMany, getMany, removeMany and batches() over 30 000 keys in one call each, with values that fill the output area many times', async () => {
    const conn = await open({ pageSize: 8192, cacheSize: '256MB', debug: false });
    try {
      const s = conn.openSession();
      s.create(T);
      const c = s.openCursor<Uint8Array, Uint8Array>(T);
      const N = 30_000;
      // Even keys, values of 0 to 299 bytes: the entries are several times the batch input.
      const entries = function* () { for (let i = 0; i < N; i += 2) yield [key8(i), pattern(i % 300, i & 0xff)] as [Uint8Array, Uint8Array]; };
      let bytes = 0;
      for (const [k, v] of entries()) bytes += 4 + k.length + v.length;
      expect(bytes).toBeGreaterThan(5 * BATCH_IN_SIZE);
      c.putMany(entries());
      expect(s.stats(T).entries).toBe(N / 2);
      // Every key, odd ones absent, in a shuffled order; the values fill the output area many times.
      const order = Array.from({ length: N }, (_, i) => i);
      for (let i = N - 1; i > 0; i--) { const j = (i * 7919) % (i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
      const got = c.getMany(order.map(key8));
      expect(got.length).toBe(N);
      let outBytes = 0;
      for (const [n, i] of order.entries()) {
        if (i % 2) expect(got[n], `key ${i}`).toBeUndefined();
        else { expect(hex(got[n]!), `key ${i}`).toBe(hex(pattern(i % 300, i & 0xff))); outBytes += 2 + got[n]!.length; }
      }
      expect(outBytes).toBeGreaterThan(5 * BATCH_OUT_SIZE);
      // batches(): every entry once, in order, each batch within one chunk's columns.
      const seen = batchEntries(c, {}, U, 'batches');
      expect(seen.length).toBe(N / 2);
      expect(seen.map(([k]) => k)).toEqual(Array.from({ length: N / 2 }, (_, i) => hex(key8(2 * i))));
      let batches = 0;
      for (const b of c.batches({ reverse: true, lt: key8(20_000), limit: 7_001 })) { batches++; expect(b.count).toBeLessThanOrEqual(COLUMNS_MAX); }
      expect(batches).toBeGreaterThan(1);
      expect(batchEntries(c, { reverse: true, lt: key8(20_000), limit: 7_001 }, U, 'reverse').map(([k]) => k))
        .toEqual(Array.from({ length: 7_001 }, (_, i) => hex(key8(19_998 - 2 * i))));
      // removeMany counts the present ones (a duplicate once).
      expect(c.removeMany([...order.map(key8), key8(0)])).toBe(N / 2);
      expect(s.stats(T).entries).toBe(0);
      expect([...c.batches()]).toEqual([]);
      s.verify(T);
    } finally {
      await conn.close();
    }
  });

  it('empty batches: no entries, no keys, empty ranges', async () => {
    const conn = await open({ cacheSize: '32MB' });
    try {
      const s = conn.openSession();
      s.create(T, { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>(T);
      expect(c.getMany([])).toEqual([]);
      c.putMany([]);
      c.putMany(new Map());
      expect(c.removeMany([])).toBe(0);
      expect([...c.batches()]).toEqual([]);
      c.putMany(new Map([['b', '2'], ['a', '1'], ['b', '3']]));
      expect(c.getMany(new Set(['a', 'b', 'c']))).toEqual(['1', '3', undefined]);
      expect([...c.batches({ gt: 'b' })]).toEqual([]);
      expect([...c.batches({ limit: 0 })]).toEqual([]);
      const [b] = [...c.batches({ reverse: true })];
      expect(b!.count).toBe(2);
      expect(new TextDecoder().decode(b!.keys)).toBe('ba');
      expect([...b!.keyEnds]).toEqual([1, 2]);
      expect(new TextDecoder().decode(b!.values)).toBe('31');
    } finally {
      await conn.close();
    }
  });
});

describe('batches() resumes across changes made between its batches', () => {
  for (const reverse of [false, true]) {
    it(`${reverse ? 'reverse' : 'forward'}: splits, inserts and removes between batches; stable keys once each, in order, nothing never present`, async () => {
      const conn = await open({ pageSize: 4096, cacheSize: '64MB', debug: true });
      try {
        const s = conn.openSession();
        s.create(T);
        const c = s.openCursor<Uint8Array, Uint8Array>(T);
        const id = (k: Uint8Array) => new DataView(k.buffer, k.byteOffset, 8).getUint32(4);
        // Stable: multiples of 4, present throughout. Churned: 2 mod 4 (removed as the scan goes).
        // Inserted during the scan: 1 mod 4. Never present: 3 mod 4. Values of 200 bytes: about
        // 17 entries a leaf, and batches after the first span leaves (SCAN_SPAN), a few hundred
        // entries each, so that the changes between them come many times.
        const N = 8000;
        c.putMany(Array.from({ length: N / 2 }, (_, i): [Uint8Array, Uint8Array] => [key8(2 * i), pattern(200, i)]));
        const everPresent = new Set(Array.from({ length: N / 2 }, (_, i) => 2 * i));
        const seen: number[] = [];
        let round = 0;
        let most = 0;
        const splitsBefore = s.stats(T).splits;
        for (const b of c.batches({ reverse })) {
          most = Math.max(most, b.count);
          for (let i = 0; i < b.count; i++) seen.push(id(b.keys.subarray(i ? b.keyEnds[i - 1] : 0, b.keyEnds[i])));
          // Around where the scan is and ahead of it: enough inserts to split the next leaves,
          // and removes of churned keys (possibly emptying a leaf: page deletion).
          const at = seen[seen.length - 1]!;
          const ahead = (d: number) => (reverse ? at - d : at + d);
          const ins: [Uint8Array, Uint8Array][] = [];
          for (let d = 1; d < 400; d += 4) {
            const k = ahead(d) - (((ahead(d) % 4) + 4) % 4) + 1; // 1 mod 4
            if (k > 0 && k < N) { ins.push([key8(k), pattern(60, round)]); everPresent.add(k); }
          }
          c.putMany(ins);
          c.removeMany(Array.from({ length: 50 }, (_, j) => ahead(4 * j + 2)).filter((k) => k > 0 && k < N && k % 4 === 2).map(key8));
          round++;
        }
        expect(round).toBeGreaterThan(10);
        expect(most, 'a batch spans leaves').toBeGreaterThan(4096 / 200);
        expect(s.stats(T).splits, 'leaves split under the scan').toBeGreaterThan(splitsBefore);
        for (let i = 1; i < seen.length; i++) expect(reverse ? seen[i]! < seen[i - 1]! : seen[i]! > seen[i - 1]!, `order at ${i}`).toBe(true);
        const stable = seen.filter((k) => k % 4 === 0);
        expect(stable).toEqual(Array.from({ length: N / 4 }, (_, i) => (reverse ? N - 4 - 4 * i : 4 * i)));
        for (const k of seen) expect(everPresent.has(k), `key ${k} was never present`).toBe(true);
        s.verify(T);
      } finally {
        await conn.close();
      }
    });
  }
});
