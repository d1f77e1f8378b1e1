// ENOMEM: at the smallest cache size a full cache refuses puts with ENOMEM and leaves the tree
// whole (both builds), room freed by removes is used again, and the message says what was wrong
// and what is accepted.
//
// Every refusal is a LatchkeyError with a stable code and a message naming what was wrong and
// what is accepted, and a refused call leaves the tree exactly as it was (same full scan, same
// page counts, verify passes; test/bad-input-fixture.ts).
import { describe, it, expect } from 'vitest';
import { open, LatchkeyError } from '../dist/index.js';
import { MIN_CACHE_SIZE } from '../dist/config.js';
import {
  PAGE_SIZE, MAX_VALUE, TU, hex, bytes, expectError, expectRejection, snapshot, expectUnchanged,
  type Snapshot,
} from './bad-input-fixture.js';

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

describe('ENOMEM when the runtime refuses the shared memory', () => {
  // A browser page holds only about 125 shared memories at once (measured in Chromium); past
  // that, WebAssembly.Memory throws a RangeError. Node reserves what is asked, so the refusal is
  // reproduced here by a constructor that refuses shared memories, as the page's does.
  it('open() rejects with ENOMEM naming the cache size and what to do, not a bare RangeError', async () => {
    const Real = WebAssembly.Memory;
    const refusing = function (this: unknown, d: WebAssembly.MemoryDescriptor) {
      if (d.shared) throw new RangeError('WebAssembly.Memory(): could not allocate memory');
      return new Real(d);
    } as unknown as typeof WebAssembly.Memory;
    (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = refusing;
    try {
      const e = await expectRejection(open({ cacheSize: MIN_CACHE_SIZE }), 'ENOMEM', `cacheSize ${MIN_CACHE_SIZE} bytes`);
      expect(e.message).toMatch(/could not allocate memory/);
      expect(e.message).toMatch(/fewer connections open at once/);
    } finally {
      (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Real;
    }
    const c = await open({ cacheSize: MIN_CACHE_SIZE }); // and nothing stays broken
    await c.close();
  });
});
