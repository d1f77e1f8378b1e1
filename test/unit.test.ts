/**
 * Unit tests of the latch, the page allocator and the page format, through the core's test
 * hooks (assembly/selftest.ts) and the public API, with real workers where it matters.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { openTest, withWorkers, TEST_DEBUG } from './helpers.js';
import type { Connection } from '../dist/index.js';
import { PAGE_HEADER, PAGE_SLOT } from '../dist/abi.generated.js';

let conn: Connection;
afterEach(async () => { await conn?.close(); });

describe('latch', () => {
  it('excludes writers from each other and from readers across 6 workers', async () => {
    conn = await openTest();
    const x = conn.core.x;
    const w = x.lk_test_area();
    const N = 20_000;
    const results = await withWorkers(conn, 6, (ws) => Promise.all([
      ...ws.slice(0, 4).map((wk) => wk.call('latchWriter', { n: N })),
      ...ws.slice(4).map((wk) => wk.call<number>('latchReader', { n: N })),
    ]));
    // The writers' read-modify-write is not atomic: only exclusion makes the count exact.
    expect(conn.core.dv.getUint32(w + 4, true)).toBe(4 * N);
    // Readers never saw a writer half way (the two words always agree under a shared latch).
    expect(results.slice(4)).toEqual([0, 0]);
    expect(conn.core.dv.getUint32(w, true)).toBe(0); // the latch word ends free, no waiter bit
  });

  it('a shared holder blocks an exclusive try; release lets it in; exclusive blocks the next try', async () => {
    conn = await openTest();
    const x = conn.core.x;
    const w = x.lk_test_area() + 64;
    x.lk_test_latch_shared(w);
    x.lk_test_latch_shared(w);
    expect(x.lk_test_try_exclusive(w)).toBe(0);
    x.lk_test_unlatch_shared(w);
    expect(x.lk_test_try_exclusive(w)).toBe(0);
    x.lk_test_unlatch_shared(w);
    expect(x.lk_test_try_exclusive(w)).toBe(1);
    expect(x.lk_test_try_exclusive(w)).toBe(0);
    x.lk_test_unlatch_exclusive(w);
    expect(conn.core.dv.getUint32(w, true)).toBe(0);
  });

  it.runIf(TEST_DEBUG)('debug builds refuse to release a latch that is not held', async () => {
    conn = await openTest();
    const x = conn.core.x;
    expect(() => x.lk_test_unlatch_exclusive(x.lk_test_area() + 128)).toThrow(/released a latch not held|exclusive release without holder/);
  });
});

// The lock table's checks (assembly/locks.ts): each deliberate misuse (assembly/selftest.ts,
// selftestLockMisuse) traps in debug builds, naming the locks. Each leaves latches held, so each
// runs on a connection of its own.
describe.runIf(TEST_DEBUG)('lock order and page versions (debug builds)', () => {
  const misuse = async (which: number) => {
    conn = await openTest();
    return () => conn.core.x.lk_test_lock_misuse(which);
  };
  it('a lock taken while holding one later in the table traps, naming both', async () => {
    expect(await misuse(0)).toThrow(/lock order: took the catalog latch while holding a meta latch, which comes after it/);
    // The trap let go of what the thread held (no hang after the report): the word is free.
    expect(conn.core.dv.getUint32(conn.core.x.lk_test_area() + 192, true)).toBe(0);
  });
  it('a page latch taken top-down traps, naming both pages and levels', async () => {
    expect(await misuse(1)).toThrow(/page latch order: took the page latch of page \d+ \(level 0\) while holding the page latch of page \d+ \(level 1\), a page above it/);
  });
  it('a page latch taken right to left within a level traps', async () => {
    expect(await misuse(2)).toThrow(/page latch order: took the page latch of page \d+ \(level 0\) while holding the page latch of page \d+ \(level 0\), its right neighbour/);
  });
  it('a page changed under its exclusive latch and released without moving its version traps', async () => {
    expect(await misuse(3)).toThrow(/page latch: the page latch of page \d+ \(level 0\) is released after its page changed, and the page's version did not move/);
  });
});

describe('page allocator', () => {
  it('never hands one page to two workers, and reuses freed pages', async () => {
    conn = await openTest();
    const x = conn.core.x;
    const before = x.lk_arena_high_water();
    const clashes = await withWorkers(conn, 4, (ws) => Promise.all(ws.map((w) => w.call<number>('alloc', { n: 3000, k: 16 }))));
    expect(clashes).toEqual([0, 0, 0, 0]);
    // 4 x 16 pages live at once at most: the high-water mark grew by no more than that.
    const grown = x.lk_arena_high_water() - before;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThanOrEqual(64);
    expect(x.lk_arena_free_count()).toBe(grown);
  });

  it('stops at cacheSize: the tree reports ENOMEM, not a crash', async () => {
    conn = await openTest({ cacheSize: '16MB' });
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    const v = new Uint8Array(1000);
    let n = 0;
    let err: unknown;
    try {
      for (; n < 1_000_000; n++) c.put(new TextEncoder().encode(`key-${n}`), v);
    } catch (e) { err = e; }
    expect((err as { code?: string })?.code).toBe('ENOMEM');
    expect(s.verify('table:t').ok).toBe(true);
    expect(s.stats('table:t').entries).toBe(n);
  });
});

describe('page format', () => {
  // 4096-byte pages, 64-byte header; a 16-byte key with a 100-byte value is a 120-byte cell plus
  // a 6-byte slot (offset and head): (4096 - 64) / 126 = 32 items fit exactly, the 33rd splits
  // the page.
  const key = (i: number) => new TextEncoder().encode(`key-${String(i).padStart(12, '0')}`);
  const val = new Uint8Array(100);
  const FIT = Math.floor((4096 - PAGE_HEADER) / (4 + 16 + 100 + PAGE_SLOT));
  it('the layout fits 32 items of 120 + 6 bytes in a 4096-byte page', () => expect(FIT).toBe(32));

  it('holds exactly as many items as the layout says, then splits', async () => {
    conn = await openTest();
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    for (let i = 0; i < FIT; i++) c.put(key(i), val);
    expect(s.stats('table:t')).toMatchObject({ splits: 0, pages: 1, entries: FIT });
    c.put(key(FIT), val);
    expect(s.stats('table:t')).toMatchObject({ splits: 1, rootSplits: 1, depth: 2, leafPages: 2, entries: FIT + 1 });
    expect(s.verify('table:t').ok).toBe(true);
  });

  // Short copies are inline word copies (assembly/bytes.ts, copyBytes: whole words, then an
  // overlapping last word, or 4/2/1-byte steps below 8 bytes); longer ones memory.copy. Every
  // length on both sides of those limits comes back byte for byte, from a get and after an
  // overwrite in place (same length), and the bytes next to a value are not touched.
  it('values of every length from 0 to 200 bytes come back exactly, after overwrites too', async () => {
    conn = await openTest();
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    const bytes = (len: number, seed: number) => Uint8Array.from({ length: len }, (_, j) => (j * 31 + seed * 7 + 1) & 255);
    for (let len = 0; len <= 200; len++) c.put(key(len), bytes(len, len));
    for (let len = 0; len <= 200; len++) expect(c.get(key(len)), `length ${len}`).toEqual(bytes(len, len));
    for (let len = 0; len <= 200; len++) c.put(key(len), bytes(len, len + 1000));
    for (let len = 0; len <= 200; len++) expect(c.get(key(len)), `length ${len}, overwritten`).toEqual(bytes(len, len + 1000));
    expect(s.verify('table:t').ok).toBe(true);
  });

  it('reclaims removed cells by compaction instead of splitting', async () => {
    conn = await openTest();
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    for (let i = 0; i < FIT; i++) c.put(key(i), val);
    for (let i = 0; i < FIT; i += 3) expect(c.remove(key(i))).toBe(true);
    for (let i = 100; i < 111; i++) c.put(key(i), val); // 11 new items into 11 freed cells
    expect(s.stats('table:t')).toMatchObject({ splits: 0, entries: FIT });
    // Overwrites with a longer value replace the cell: garbage again, then compaction.
    for (let i = 1; i < FIT; i += 3) c.put(key(i), new Uint8Array(100));
    expect(s.stats('table:t').splits).toBe(0);
    c.put(key(1), new Uint8Array(200)); // no room for the longer cell: this one splits
    expect(s.stats('table:t').splits).toBe(1);
    expect(c.get(key(1))).toEqual(new Uint8Array(200));
    expect(s.verify('table:t').ok).toBe(true);
  });

  it('sequential loads leave the left page 90% full (rightmost-split fill factor)', async () => {
    conn = await openTest();
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    for (let i = 0; i < 34 * 20; i++) c.put(key(i), val);
    const st = s.stats('table:t');
    // 680 items at up to 32 a page: a 50/50 split would need ~43 leaves, 90% fill ~24.
    expect(st.leafPages).toBeLessThanOrEqual(25);
    expect(s.verify('table:t').ok).toBe(true);
  });
});

describe('string format', () => {
  // Found by the property test (seed 2098638590): a value of U+FEFF came back empty, because a
  // TextDecoder strips a leading byte order mark unless told to keep it.
  it('keys and values that start with U+FEFF come back as they went in, through a checkpoint too', async () => {
    const conn = await openTest();
    try {
      const s = conn.openSession();
      s.create('table:bom', { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>('table:bom');
      c.put('\ufeffk', '\ufeff');
      c.put('k', '\ufeffv');
      expect(c.get('\ufeffk')).toBe('\ufeff');
      expect(c.get('k')).toBe('\ufeffv');
      expect([...c.range()]).toEqual([['k', '\ufeffv'], ['\ufeffk', '\ufeff']]);
      await conn.reconfigure({ role: 'follower' });
      await conn.reconfigure({ role: 'leader' });
      expect(s.openCursor<string, string>('table:bom').get('\ufeffk')).toBe('\ufeff');
    } finally {
      await conn.close();
    }
  });
});
