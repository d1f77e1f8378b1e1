// Property tests: random operation sequences against a sorted in-memory model (test/property-model.ts),
// in both formats, with long keys and large values so that pages split often and trees grow
// several levels: on 4096-byte pages (where key + value is capped at the item limit, 1493 bytes)
// and on 8192-byte pages (1024-byte keys with quarter-page values); and a check that the item
// limit the generators use is the core's.
//
// Environment: LATCHKEY_SEED=<n> replays a seed, LATCHKEY_PROP_SCALE=<x> multiplies the number of
// runs, LATCHKEY_PROP_LOG=1 prints each run.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { open } from '../dist/index.js';
import {
  PAGE_SIZE, MAX_KEY, MAX_VALUE, U, S, Q, itemMax, valueLimit, LIMIT_1024, uKey, uLongKey, uValue, sKey, sLongKey, sValue, qKey, qValue, qWideKey,
  pattern, uValueOf, sValueOf, runSequence, SEED, params, mixed, growing,
} from './property-model.js';

describe('the item limit used by the generators is the core\'s', () => {
  it('valueLimit(klen) = min(pageSize/4, itemMax - klen), itemMax 1493 on 4 KiB pages; from 8 KiB a 1024-byte key takes a quarter page', async () => {
    expect(itemMax(4096)).toBe(1493);
    expect(LIMIT_1024).toBe(469);
    for (const pageSize of [4096, 8192, 16384, 32768]) {
      const conn = await open({ pageSize, cacheSize: '32MB', debug: false });
      try {
        expect(conn.core.itemMax, `itemMax on ${pageSize}-byte pages`).toBe(itemMax(pageSize));
        expect(conn.core.maxValue).toBe(pageSize / 4);
        for (let klen = 1; klen <= MAX_KEY; klen++) expect(conn.core.valueLimit(klen), `valueLimit(${klen}) on ${pageSize}-byte pages`).toBe(valueLimit(pageSize, klen));
        if (pageSize >= 8192) expect(valueLimit(pageSize, MAX_KEY)).toBe(pageSize / 4);
      } finally {
        await conn.close();
      }
    }
  });
});

describe(`random operation sequences against a model, 4096-byte pages: values up to valueLimit(klen) (seed ${SEED})`, () => {
  it("format 'u': mixed operations, short and long keys, values up to the limit for their key (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(U, uKey, uValue), async (ops) => { await runSequence(U, ops, true); }), params(250));
  });

  it("format 'S': mixed operations, non-ASCII and multi-byte UTF-8 keys and values (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(S, sKey, sValue), async (ops) => { await runSequence(S, ops, true); }), params(250));
  });

  it("format 'q': mixed operations on integer keys and values, both signs and the safe range's edges (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(Q, qKey, qValue), async (ops) => { await runSequence(Q, ops, true); }), params(120));
  });

  it("format 'q': runs that split leaves (depth >= 2: scans, bounds and seeks across leaves; debug build)", async () => {
    await fc.assert(
      // Two growing runs back to back: a 4096-byte leaf holds about 150 integer entries.
      fc.asyncProperty(fc.tuple(growing(Q, qWideKey, qValue), growing(Q, qWideKey, qValue)).map(([a, b]) => a.concat(b)), async (ops) => {
        const r = await runSequence(Q, ops, true, 50);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(2);
      }),
      params(25),
    );
  });

  it("format 'u': runs that grow the tree to depth >= 3 (root and internal-page splits, debug build)", async () => {
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, uValue), async (ops) => {
        const r = await runSequence(U, ops, true, 25);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(3);
      }),
      params(60),
    );
  });

  it("format 'S': runs that grow the tree to depth >= 3 (debug build)", async () => {
    await fc.assert(
      fc.asyncProperty(growing(S, sLongKey, sValue), async (ops) => {
        const r = await runSequence(S, ops, true, 25);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(3);
      }),
      params(40),
    );
  });

  it('release build: mixed and growing runs in both formats', async () => {
    await fc.assert(fc.asyncProperty(mixed(U, uKey, uValue), async (ops) => { await runSequence(U, ops, false); }), params(120));
    await fc.assert(fc.asyncProperty(mixed(S, sKey, sValue), async (ops) => { await runSequence(S, ops, false); }), params(100));
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, uValue), async (ops) => {
        const r = await runSequence(U, ops, false, 25);
        expect(r.depth).toBeGreaterThanOrEqual(3);
      }),
      params(30),
    );
  });

  it('items at the item limit (key + value = 1493 bytes, keys up to 1024): splits always fit, in both builds', async () => {
    // Values are drawn at a quarter page and cut to the limit for their key: with long keys most
    // writes are maximal items, the case in which a split has the least room to choose from.
    const atLimit = fc.record({ len: fc.constant(MAX_VALUE), seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => pattern(len, seed));
    let maximal = 0;
    let largest = 0;
    for (const debug of [true, false]) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(mixed(U, uKey, fc.oneof(uValue, atLimit)), growing(U, uLongKey, atLimit)), async (ops) => {
          const r = await runSequence(U, ops, debug, 25);
          maximal += r.atItemLimit;
          largest = Math.max(largest, r.maxItem);
        }),
        params(debug ? 20 : 10),
      );
    }
    expect(maximal, 'writes of maximal items').toBeGreaterThan(0);
    expect(largest, 'largest item written').toBe(itemMax(PAGE_SIZE));
  });
});

describe(`random operation sequences against a model, 8192-byte pages: 1024-byte keys with 2048-byte values (seed ${SEED})`, () => {
  const P8 = 8192;
  const uValue8 = uValueOf(P8 / 4);
  const sValue8 = sValueOf(P8 / 4);
  const full = fc.record({ len: fc.constant(P8 / 4), seed: fc.integer({ min: 0, max: 255 }) }).map(({ len, seed }) => pattern(len, seed));

  it("format 'u': mixed and growing runs over the full size range (debug build)", async () => {
    let largest = 0;
    await fc.assert(
      fc.asyncProperty(mixed(U, uKey, uValue8, P8), async (ops) => {
        largest = Math.max(largest, (await runSequence(U, ops, true, 50, P8)).maxItem);
      }),
      params(80),
    );
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, fc.oneof(uValue8, full), P8), async (ops) => {
        const r = await runSequence(U, ops, true, 25, P8);
        largest = Math.max(largest, r.maxItem);
        expect(r.depth, 'depth reached by a growing run').toBeGreaterThanOrEqual(3);
      }),
      params(25),
    );
    // A 1024-byte key with a 2048-byte value in one item was written.
    expect(largest).toBe(MAX_KEY + P8 / 4);
  });

  it("format 'S': mixed operations over the full size range (debug build)", async () => {
    await fc.assert(fc.asyncProperty(mixed(S, sKey, sValue8, P8), async (ops) => { await runSequence(S, ops, true, 50, P8); }), params(60));
  });

  it("release build: growing runs in both formats", async () => {
    await fc.assert(
      fc.asyncProperty(growing(U, uLongKey, fc.oneof(uValue8, full), P8), async (ops) => {
        expect((await runSequence(U, ops, false, 25, P8)).depth).toBeGreaterThanOrEqual(3);
      }),
      params(15),
    );
    await fc.assert(
      fc.asyncProperty(growing(S, sLongKey, sValue8, P8), async (ops) => { await runSequence(S, ops, false, 25, P8); }),
      params(10),
    );
  });
});
