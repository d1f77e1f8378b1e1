/**
 * Page deletion (assembly/btree/pagedel.ts): deterministic interleavings forced with injection
 * points across real workers, recycling under stale pointers, and a churn stress whose histories
 * are checked for linearizability while the arena must stop growing.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { openTest, withWorkers, levelInfo, latchWord, waitFor, F, LATCH_WAITERS, type TestWorker } from './helpers.js';
import { checkColumnar } from './lin/checker.js';
import { type Connection, LatchkeyError } from '../dist/index.js';

const STRESS = process.env.LATCHKEY_STRESS === '1';
let conn: Connection;
afterEach(async () => { await conn?.close(); });

const URI = 'table:t';
// A long common prefix keeps separators long (suffix truncation cannot cut into it), so internal
// pages hold few downlinks and trees reach depth 3 with a few thousand keys. (Sized for 6-byte
// slots: a leaf item takes 4 + 151 + 56 + 6 bytes and a downlink 8 + 151 + 6, the shapes the tests
// below were written for with 150 and 60 bytes and 2-byte slots.)
const PREFIX = 'p'.repeat(146);
const key = (i: number, suffix = '') => `${PREFIX}k${String(i).padStart(4, '0')}${suffix}`;
const VALUE = 'v'.repeat(56);

/** A table of string keys PREFIX + k0000.. with 56-byte values on 4 KiB pages. */
async function table(n: number) {
  conn = await openTest();
  const s = conn.openSession();
  s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor<string, string>(URI);
  for (let i = 0; i < n; i++) c.put(key(i), VALUE);
  return { s, c };
}

const dec = new TextDecoder();
/** Empties the leaf at position `at` of the leaf level (by its keys); returns its page and key range. */
function emptyLeaf(c: ReturnType<typeof openCursorS>, at: number) {
  const leaves = levelInfo(conn, 0, 0);
  const lo = at === 0 ? '' : dec.decode(leaves[at - 1].high);
  const hi = dec.decode(leaves[at].high);
  const keys = [...c.range(lo ? { gte: lo, lt: hi } : { lt: hi })].map(([k]) => k);
  keepEmpty(() => { for (const k of keys) expect(c.remove(k)).toBe(true); });
  return { page: leaves[at].page, lo, hi, keys };
}

/**
 * Runs `fn` (removes) with the removers' own page deletion refused before it changes anything
 * (an error at pagedel-after-parent-check), so that the emptied leaves stay for the test.
 */
function keepEmpty(fn: () => void) {
  const refuse = conn.inject('pagedel-after-parent-check').arm('error');
  try { fn(); } finally { refuse.disarm(); }
}
function openCursorS() { return conn.openSession().openCursor<string, string>(URI); }

function allKeys(c: ReturnType<typeof openCursorS>) { return [...c.range()].map(([k]) => k); }

/**
 * Root [L=(b,d), T=(f,h), R=(j,l), X=(n,p)]: 1024-byte keys sharing a 1023-byte prefix, so
 * separators cannot be truncated and the root holds four children; L is full.
 */
async function fourLeafRoot() {
  conn = await openTest();
  const s = conn.openSession();
  s.create(URI);
  const c = s.openCursor(URI);
  const K = (ch: string) => { const k = new Uint8Array(1024).fill(97); k[1023] = ch.charCodeAt(0); return k; };
  const V = new Uint8Array(469);
  for (const ch of 'bdfhjlnp') c.put(K(ch), V);
  const [root] = levelInfo(conn, 0, 1);
  expect(root.items).toBe(4); // [L=(b,d), T=(f,h), R=(j,l), X=(n,p)]
  return { s, c, K, V, root };
}

describe('page deletion', () => {
  it('compact deletes an emptied leaf; searches, scans and verify agree; the page is recycled', async () => {
    const { s, c } = await table(400);
    const before = s.stats(URI);
    const { page, keys } = emptyLeaf(c, 3);
    const r = s.compact(URI);
    expect(r.pagesDeleted).toBe(1);
    expect(r.pagesRecycled).toBeGreaterThanOrEqual(1);
    expect(s.verify(URI).ok).toBe(true);
    const after = s.stats(URI);
    expect(after.leafPages).toBe(before.leafPages - 1);
    expect(after.deletions).toBe(1);
    expect(levelInfo(conn, 0, 0).some((p) => p.page === page)).toBe(false);
    const left = allKeys(c);
    expect(left.length).toBe(400 - keys.length);
    expect([...c.range({ reverse: true })].map(([k]) => k)).toEqual([...left].reverse());
    for (const k of keys) expect(c.get(k)).toBeUndefined();
    // The deleted key range is insertable again (it belongs to the right sibling now).
    for (const k of keys) c.put(k, VALUE);
    expect(allKeys(c).length).toBe(400);
    expect(s.verify(URI).ok).toBe(true);
  });

  it('emptying every leaf shrinks the tree back to a single root leaf', async () => {
    const { s, c } = await table(3000);
    expect(s.stats(URI).depth).toBe(3);
    for (let i = 0; i < 3000; i++) c.remove(key(i));
    s.compact(URI);
    const st = s.stats(URI);
    expect(st.deletions).toBeGreaterThan(30); // by the removes themselves, and by compact
    expect(st).toMatchObject({ depth: 1, pages: 1, entries: 0, halfDead: 0 });
    expect(s.verify(URI).ok).toBe(true);
    c.put(key(5), VALUE);
    expect(c.get(key(5))).toBe(VALUE);
  });

  it('removes that empty leaves delete them in batches without compact', async () => {
    const { s, c } = await table(4000);
    const before = s.stats(URI);
    for (let i = 0; i < 4000; i++) if (i % 500 !== 0) c.remove(key(i));
    const st = s.stats(URI);
    expect(st.deletions).toBeGreaterThan(0);
    expect(st.leafPages).toBeLessThan(before.leafPages);
    expect(s.verify(URI).ok).toBe(true);
  });

  // ---- the 2014 race ----------------------------------------------------------------------
  // Root [L=(b,d), T=(f,h), R=(j,l), X=(n,p)] with 1024-byte keys sharing a 1023-byte prefix:
  // separators cannot be truncated, so the root holds four children. T is emptied. The deleter
  // parks right after checking that T is not the root's rightmost child. An inserter splits L:
  // the root must take a fifth downlink and splits into [L, L2, T] | [R, X], which makes T the
  // rightmost child of its parent. Holding the parent from the check to the end of stage 1 makes
  // the inserter wait; releasing and re-latching it (the pre-2014 protocol) corrupts the tree.
  it('the 2014 race: a split of the subtree parent cannot slip between the rightmost-child check and stage 1', { timeout: 20_000 }, async () => {
    const { s, c, K, V, root } = await fourLeafRoot();
    expect(levelInfo(conn, 0, 0).map((p) => p.items)).toEqual([2, 2, 2, 2]); // L is full: 'c' splits it
    keepEmpty(() => { c.remove(K('f')); c.remove(K('h')); });
    const parked = conn.inject('pagedel-after-parent-check').arm('wait', { count: 1 });
    const rootLatch = latchWord(conn, root.page);
    await withWorkers(conn, 2, async ([deleter, inserter]: TestWorker[]) => {
      const compacted = deleter.call('compact', { uri: URI });
      parked.awaitArrived(1); // T checked as not the root's rightmost child; T and the root held
      let inserted = false;
      const insert = inserter.call('put', { uri: URI, key: K('c'), value: V }).then(() => { inserted = true; });
      // With the parent held, the inserter waits on the root. Without that protection it would
      // split L, overflow the root and split it ([L, L2, T] | [R, X]) right here, and finish.
      await waitFor(() => inserted || (rootLatch() & LATCH_WAITERS) !== 0, 'the inserter finishes or waits on the root');
      parked.wake();
      expect((await compacted).pagesDeleted).toBe(1);
      await insert;
    });
    parked.disarm();
    expect(s.verify(URI).ok).toBe(true);
    expect(levelInfo(conn, 0, 1)[0].items).toBe(4); // [L, L2, R, X]: T gone, L split
    const keys = [...c.range()].map(([k]) => String.fromCharCode(k[1023]));
    expect(keys.join('')).toBe('bcdjlnp');
    for (const ch of 'bcdjlnp') expect(c.get(K(ch))).toEqual(V);
  });

  it('the 2014 race, grandparent variant: the target is its parent\'s only child', async () => {
    // 1024-byte keys sharing a 1022-byte prefix: 2 items a leaf, 3 children per internal page
    // (4 for the rightmost, which has no high key). Twelve leaves build the root
    // G = [P0=(A,B,C), P1=(D,E,F), P2=(G,H,I), P3=(J,K,L)].
    conn = await openTest();
    const s = conn.openSession();
    s.create(URI);
    const c = s.openCursor(URI);
    const K = (a: number, b: number) => { const k = new Uint8Array(1024).fill(97); k[1022] = 65 + a; k[1023] = b; return k; };
    const V = new Uint8Array(469);
    for (let a = 0; a < 12; a++) { c.put(K(a, 98), V); c.put(K(a, 100), V); }
    expect(levelInfo(conn, 0, 2).map((p) => p.items)).toEqual([4]);
    expect(levelInfo(conn, 0, 1).map((p) => p.items)).toEqual([3, 3, 3, 3]);
    // Delete D and E outright: P1 keeps F as its only child.
    for (const a of [3, 4]) { c.remove(K(a, 98)); c.remove(K(a, 100)); }
    s.compact(URI);
    expect(levelInfo(conn, 0, 1).map((p) => p.items)).toEqual([3, 1, 3, 3]);
    // Empty F: the doomed chain is F and P1; the subtree parent is the root G.
    keepEmpty(() => { c.remove(K(5, 98)); c.remove(K(5, 100)); });
    const [root] = levelInfo(conn, 0, 2);
    const parked = conn.inject('pagedel-after-parent-check').arm('wait', { count: 1 });
    const rootLatch = latchWord(conn, root.page);
    await withWorkers(conn, 2, async ([deleter, inserter]) => {
      const compacted = deleter.call('compact', { uri: URI });
      parked.awaitArrived(1); // P1 checked as not G's rightmost child; G and F held
      // Splitting leaf A needs room in the full P0, whose split needs room in G. With G held the
      // inserter waits; without that protection it splits P0 and G right here.
      let inserted = false;
      const insert = inserter.call('put', { uri: URI, key: K(0, 99), value: V }).then(() => { inserted = true; });
      await waitFor(() => inserted || (rootLatch() & LATCH_WAITERS) !== 0, 'the inserter finishes or waits on the root');
      parked.wake();
      expect((await compacted).pagesDeleted).toBe(2); // F, and P1 above it
      await insert;
    });
    parked.disarm();
    expect(s.verify(URI).ok).toBe(true);
    const present = [...c.range()].map(([k]) => `${String.fromCharCode(k[1022])}${k[1023] - 97}`);
    expect(present).toEqual(['A1', 'A2', 'A3', 'B1', 'B3', 'C1', 'C3', 'G1', 'G3', 'H1', 'H3', 'I1', 'I3', 'J1', 'J3', 'K1', 'K3', 'L1', 'L3']);
  });

  // ---- between the stages -----------------------------------------------------------------
  it('an insert into the key range of a half-dead leaf lands in its right sibling and stays findable', async () => {
    const { s, c } = await table(400);
    const { page, lo, hi } = emptyLeaf(c, 3);
    const parked = conn.inject('pagedel-after-halfdead').arm('wait', { count: 1 });
    await withWorkers(conn, 2, async ([deleter, writer]) => {
      const compacted = deleter.call('compact', { uri: URI });
      parked.awaitArrived(1); // stage 1 done: the leaf is half-dead, its key space passed right
      const leaf = levelInfo(conn, 0, 0).find((p) => p.page === page)!;
      expect(leaf.flags & F.HALF_DEAD).toBe(F.HALF_DEAD);
      const k = `${lo}-new`;
      expect(k > lo && k < hi).toBe(true);
      await writer.call('put', { uri: URI, key: k, value: 'inserted between the stages' });
      expect(await writer.call('get', { uri: URI, key: k })).toBe('inserted between the stages');
      expect(s.verify(URI).ok).toBe(true); // an interrupted deletion is a legal state
      parked.wake();
      expect((await compacted).pagesDeleted).toBe(1);
      expect(c.get(k)).toBe('inserted between the stages');
    });
    parked.disarm();
    expect(s.verify(URI).ok).toBe(true);
  });

  it('a writer that read the downlink to a leaf before stage 1 steps over the half-dead leaf and inserts to its right', async () => {
    const { s, c } = await table(400);
    const { lo, hi } = emptyLeaf(c, 3);
    const k = `${lo}-stale`;
    expect(k > lo && k < hi).toBe(true);
    const descent = conn.inject('btree-search-before-child').arm('wait', { count: 1 });
    const halfDead = conn.inject('pagedel-after-halfdead').arm('wait', { count: 1 });
    await withWorkers(conn, 2, async ([writer, deleter]) => {
      const put = writer.call('put', { uri: URI, key: k, value: 'via a stale downlink' });
      descent.awaitArrived(1); // the writer holds the downlink to the emptied leaf
      const compacted = deleter.call('compact', { uri: URI });
      halfDead.awaitArrived(1); // stage 1 done: the leaf is half-dead, its key space passed right
      descent.wake();
      await put; // it must have stepped right: an insert into the half-dead leaf would be lost
      halfDead.wake();
      expect((await compacted).pagesDeleted).toBe(1);
    });
    descent.disarm();
    halfDead.disarm();
    expect(c.get(k)).toBe('via a stale downlink');
    expect(allKeys(c)).toContain(k);
    expect(s.verify(URI).ok).toBe(true);
  });

  it('a paused range iterator whose next leaf is deleted, recycled and reused elsewhere continues correctly', async () => {
    const { s, c } = await table(400);
    const target = emptyLeaf(c, 1); // the leaf after the first one
    const expected = allKeys(c);
    const it = c.range();
    const got: string[] = [];
    const first = it.next();
    got.push(first.value![0]); // the first leaf is now read; the next batch's hint is the target
    expect(s.compact(URI)).toMatchObject({ pagesDeleted: 1 });
    expect(s.stats(URI).freePages).toBeGreaterThanOrEqual(1); // the target was recycled (no reader holds it)
    // Reuse it: grow the table at its right end; the splits take pages from the free list.
    for (let i = 0; i < 300; i++) c.put(key(5000 + i), VALUE);
    expect(levelInfo(conn, 0, 0).some((p) => p.page === target.page)).toBe(true);
    for (let r = it.next(); !r.done; r = it.next()) got.push(r.value[0]);
    expect(got.filter((k) => k < key(5000))).toEqual(expected);
    expect(got.filter((k) => k >= key(5000)).length).toBe(300);
  });

  // A scan resumes from its last batch's leaf (assembly/btree/scan.ts, "Resuming"), across calls
  // outside any epoch: that leaf itself may be deleted, recycled and reused in between.
  /** table(400) and its leaf 1 (the leaf the scans below read first), with its keys. */
  async function secondLeaf() {
    const { s, c } = await table(400);
    const leaves = levelInfo(conn, 0, 0);
    const lo = dec.decode(leaves[0].high);
    const hi = dec.decode(leaves[1].high);
    const doomed = [...c.range({ gte: lo, lt: hi })].map(([k]) => k);
    return { s, c, page: leaves[1].page, lo, doomed, expected: allKeys(c).filter((k) => k >= lo) };
  }
  /** Empties and deletes the leaf, lets it be recycled, and has it reused at the table's right end. */
  function recycle(s: ReturnType<Connection['openSession']>, c: ReturnType<typeof openCursorS>, page: number, doomed: string[]) {
    keepEmpty(() => { for (const k of doomed) expect(c.remove(k)).toBe(true); });
    expect(s.compact(URI)).toMatchObject({ pagesDeleted: 1 });
    expect(s.stats(URI).freePages).toBeGreaterThanOrEqual(1); // recycled: no reader holds it
    for (let i = 0; i < 300; i++) c.put(key(5000 + i), VALUE); // the splits take pages from the free list
    expect(levelInfo(conn, 0, 0).some((p) => p.page === page)).toBe(true); // a leaf of this tree again
  }

  it('a paused range iterator whose last leaf is deleted, recycled and reused elsewhere continues correctly', async () => {
    const { s, c, page, lo, doomed, expected } = await secondLeaf();
    const it = c.range({ gte: lo });
    const got = doomed.map(() => it.next().value![0]); // exactly the first batch: the whole leaf
    expect(got).toEqual(doomed);
    recycle(s, c, page, doomed);
    for (let r = it.next(); !r.done; r = it.next()) got.push(r.value[0]);
    expect(got.filter((k) => k < key(5000))).toEqual(expected);
    expect(got.filter((k) => k >= key(5000)).length).toBe(300);
  });

  it('a positioned cursor whose leaf is deleted, recycled and reused elsewhere steps to the next key', async () => {
    const { s, c, page, doomed, expected } = await secondLeaf();
    const pc = openCursorS();
    expect(pc.seek(doomed[0])).toBe(true); // its batch: the whole leaf; one entry taken
    recycle(s, c, page, doomed);
    expect(pc.next()).toBe(true);
    expect(pc.key).toBe(expected[doomed.length]); // the first key of the next leaf
    expect(pc.prev()).toBe(true);
    expect(pc.key).toBe(allKeys(c).filter((k) => k < doomed[0]).pop()); // leaf 0's last key
  });

  it('the right sibling splits while the deletion is between the stages', async () => {
    const { s, c } = await table(400);
    const { hi } = emptyLeaf(c, 3);
    const parked = conn.inject('pagedel-after-halfdead').arm('wait', { count: 1 });
    const splitsBefore = s.stats(URI).splits;
    await withWorkers(conn, 2, async ([deleter, writer]) => {
      const compacted = deleter.call('compact', { uri: URI });
      parked.awaitArrived(1);
      // Fill the right sibling until it splits (its range starts at the half-dead leaf's high key).
      await writer.call('putMany', { uri: URI, keys: Array.from({ length: 80 }, (_, i) => `${hi}-${String(i).padStart(2, '0')}`), value: VALUE });
      expect(s.stats(URI).splits).toBeGreaterThan(splitsBefore);
      parked.wake();
      expect((await compacted).pagesDeleted).toBe(1);
    });
    parked.disarm();
    expect(s.verify(URI).ok).toBe(true);
    const all = allKeys(c);
    for (let i = 1; i < all.length; i++) expect(all[i] > all[i - 1]).toBe(true);
    for (let i = 0; i < 80; i++) expect(c.get(`${hi}-${String(i).padStart(2, '0')}`)).toBe(VALUE);
  });

  it('an error injected after stage 1 leaves a searchable, insertable tree; the next compact finishes it', async () => {
    const { s, c } = await table(400);
    const { page, lo } = emptyLeaf(c, 2);
    const fail = conn.inject('pagedel-after-halfdead').arm('error', { count: 1 });
    expect(() => s.compact(URI)).toThrow(LatchkeyError);
    fail.disarm();
    const st = s.stats(URI);
    expect(st.halfDead).toBe(1);
    expect(levelInfo(conn, 0, 0).find((p) => p.page === page)!.flags & F.HALF_DEAD).toBe(F.HALF_DEAD);
    expect(s.verify(URI).ok).toBe(true); // the interrupted deletion is confirmed by its half-dead leaf
    c.put(`${lo}-x`, VALUE);
    expect(c.get(`${lo}-x`)).toBe(VALUE);
    expect(allKeys(c)).toContain(`${lo}-x`);
    const r = s.compact(URI);
    expect(r.halfDeadFinished).toBe(1);
    expect(r.pagesDeleted).toBeGreaterThanOrEqual(1);
    expect(s.stats(URI).halfDead).toBe(0);
    expect(s.verify(URI).ok).toBe(true);
    expect(c.get(`${lo}-x`)).toBe(VALUE);
  });

  it('an error injected in stage 2 of a chain (leaf + single-child parent) is finished by the next compact', async () => {
    const { s, c } = await table(3000);
    expect(s.stats(URI).depth).toBe(3);
    // Empty every leaf under the second level-1 page: that page becomes a single-child chain top.
    const parents = levelInfo(conn, 0, 1);
    const lo = dec.decode(parents[0].high);
    const hi = dec.decode(parents[1].high);
    keepEmpty(() => { for (const [k] of [...c.range({ gte: lo, lt: hi })]) c.remove(k); });
    const fail = conn.inject('pagedel-before-unlink').arm('error', { skip: 1, count: 1 });
    expect(() => s.compact(URI)).toThrow(expect.objectContaining({ code: 'EINJECTED' }));
    fail.disarm();
    expect(s.verify(URI).ok).toBe(true);
    const r = s.compact(URI);
    expect(r.halfDeadFinished).toBeGreaterThanOrEqual(1);
    expect(s.stats(URI).halfDead).toBe(0);
    expect(s.verify(URI).ok).toBe(true);
    expect(levelInfo(conn, 0, 1).length).toBeLessThan(parents.length);
  });

  // ---- scans ------------------------------------------------------------------------------
  it('a forward scan parked before a leaf that then gets deleted continues correctly', async () => {
    const { s, c } = await table(400);
    const leaves = levelInfo(conn, 0, 0);
    const target = emptyLeaf(c, 1);
    const expected = allKeys(c);
    const parked = conn.inject('scan-before-next-page').arm('wait', { count: 1 });
    await withWorkers(conn, 1, async ([scanner]) => {
      const scan = scanner.call<string[]>('scan', { uri: URI, opts: {} });
      parked.awaitArrived(1); // first leaf returned; the next one (the emptied leaf) is the hint
      const r = s.compact(URI);
      expect(r.pagesDeleted).toBe(1);
      expect(levelInfo(conn, 0, 0).some((p) => p.page === target.page)).toBe(false);
      parked.wake();
      expect(await scan).toEqual(expected);
    });
    parked.disarm();
    void leaves;
  });

  // A spanning batch (one call taking several leaves: assembly/btree/scan.ts, SCAN_SPAN) goes on
  // into the next leaf from the last key it emitted, not from the batch's start bound. Here the
  // leaf it has just read is emptied and deleted while it is parked before the next one (the key
  // space passes to that one), and a key of that space, below the last key returned, is inserted
  // (into the next leaf); the scan must go on after its last key. Shown to fail with the bound
  // left at the batch's start (scanForward's three lines after "Spanning: on from the last key
  // emitted" removed; scripts/mutations.js has it): the late key came out after larger ones,
  // "expected [ …(401) ] to deeply equal [ …(400) ]".
  it('a spanning forward batch parked between two leaves, the first then deleted and a key put in its key space, keeps its order', async () => {
    const { s, c } = await table(400);
    const expected = allKeys(c);
    // The first batch is one leaf; the second resumes after it (arrival 1, let through), takes
    // the next leaf and parks leaving it (arrival 2).
    const parked = conn.inject('scan-before-next-page').arm('wait', { skip: 1, count: 1 });
    await withWorkers(conn, 1, async ([scanner]) => {
      const scan = scanner.call<string[]>('scan', { uri: URI, opts: {} });
      parked.awaitArrived(1);
      const leaf = emptyLeaf(c, 1);
      expect(s.compact(URI).pagesDeleted).toBe(1);
      c.put(`${leaf.keys[0]}-late`, VALUE); // below the deleted leaf's last key: in the next leaf now
      parked.wake();
      expect(await scan).toEqual(expected);
    });
    parked.disarm();
  });

  it('a backward scan parked before stepping left onto a leaf that then gets deleted continues correctly', async () => {
    const { s, c } = await table(400);
    const n = levelInfo(conn, 0, 0).length;
    emptyLeaf(c, n - 2); // the last leaf's left sibling
    const expected = allKeys(c).reverse();
    const parked = conn.inject('scan-step-left').arm('wait', { count: 1 });
    await withWorkers(conn, 1, async ([scanner]) => {
      const scan = scanner.call<string[]>('scan', { uri: URI, opts: { reverse: true } });
      parked.awaitArrived(1); // read the last leaf; about to latch its (emptied) left sibling
      expect(s.compact(URI).pagesDeleted).toBe(1);
      parked.wake();
      expect(await scan).toEqual(expected);
    });
    parked.disarm();
  });

  // ---- recycling --------------------------------------------------------------------------
  it('a reader holding a stale link to a deleted page is never given a recycled page', async () => {
    const { s, c } = await table(400);
    const target = emptyLeaf(c, 2);
    const k = `${target.lo}-late`; // a key in the deleted leaf's range
    const parked = conn.inject('btree-search-before-child').arm('wait', { count: 1 });
    await withWorkers(conn, 1, async ([reader]) => { try {
      const got = reader.call('get', { uri: URI, key: k });
      parked.awaitArrived(1); // the reader holds the downlink to the emptied leaf, in its epoch
      const r = s.compact(URI);
      expect(r.pagesDeleted).toBe(1);
      // The deleted page waits in limbo: the parked reader's epoch is older than its deletion.
      expect(s.stats(URI).deleted).toBe(1);
      expect(conn.core.x.lk_reclaim()).toBe(0);
      // Now the key exists (in the right sibling), and the table grows at its right end: any page
      // on the free list would be taken by these splits and become the rightmost leaf.
      c.put(k, 'found by moving right');
      for (let i = 0; i < 300; i++) c.put(key(1000 + i), VALUE);
      expect(s.stats(URI).deleted).toBe(1);
      parked.wake();
      expect(await got).toBe('found by moving right');
    } finally { parked.wake(); } }); // a failed check must not leave the reader parked
    parked.disarm();
    // The reader has finished: the page can be recycled now.
    expect(s.compact(URI).pagesRecycled).toBeGreaterThanOrEqual(1);
    expect(s.stats(URI).deleted).toBe(0);
    expect(s.verify(URI).ok).toBe(true);
  });

  // ---- found by review: stale pointers across a deletion ---------------------------------
  it('a forward-scan hint naming a leaf deleted since is not followed into pages recycled meanwhile', async () => {
    const { s, c } = await table(400);
    const leaves = levelInfo(conn, 0, 0);
    // Leaves 1 and 2 (the hint and its right sibling) will be deleted while the iterator waits.
    const hi2 = dec.decode(leaves[2].high);
    const lo1 = dec.decode(leaves[0].high);
    const doomed = [...c.range({ gte: lo1, lt: hi2 })].map(([k]) => k);
    keepEmpty(() => { for (const k of doomed) c.remove(k); });
    const expected = allKeys(c);
    const pin = conn.inject('btree-search-before-child');
    await withWorkers(conn, 2, async ([scanner, pinner]) => {
      expect(await scanner.call('iterStart', { uri: URI })).toBe(expected[0]); // hint: leaf 1
      pin.arm('wait', { count: 1 });
      const pinned = pinner.call('get', { uri: URI, key: key(0) });
      pin.awaitArrived(1); // an operation with an epoch older than the deletions below
      expect(s.compact(URI).pagesDeleted).toBe(2);
      expect(s.stats(URI).deleted).toBe(2); // in limbo: the pinned operation could still reach them
      // If the scan followed the deleted hint's right link it would park between the two pages.
      const step = conn.inject('btree-move-right').arm('wait', { count: 1 });
      let done = false;
      const rest = scanner.call<string[]>('iterRest').then((k) => { done = true; return k; });
      await waitFor(() => done || step.arrived > 0, 'the scan finishes or steps right from the deleted hint');
      // Let the deleted pages be recycled and reused before the scan (if parked) goes on.
      pin.wake();
      await pinned;
      expect(s.compact(URI).pagesRecycled).toBeGreaterThanOrEqual(2);
      for (let i = 0; i < 300; i++) c.put(key(5000 + i), VALUE); // splits take the recycled pages
      step.wake();
      step.disarm();
      const got = [...[expected[0]], ...(await rest)];
      expect(got.filter((k) => k < key(5000))).toEqual(expected);
    });
    pin.disarm();
  });

  it('a concurrent verify stepping left onto a leaf that is being unlinked reports no corruption', async () => {
    const { s, c } = await table(400);
    const leaves = levelInfo(conn, 0, 0);
    const hi = dec.decode(leaves[0].high);
    keepEmpty(() => { for (const [k] of [...c.range({ lt: hi })]) c.remove(k); }); // the leftmost leaf
    const unlink = conn.inject('pagedel-before-unlink').arm('wait', { count: 1 });
    const stepLeft = conn.inject('scan-step-left');
    await withWorkers(conn, 2, async ([deleter, verifier]) => {
      const compacted = deleter.call('compact', { uri: URI });
      unlink.awaitArrived(1); // the leftmost leaf is half-dead; its key space belongs to leaf 1
      // The verifier finds the level's first page from leaf 1, reads its left link (the
      // half-dead leaf), and parks before latching it; the deleter then unlinks that leaf.
      stepLeft.arm('wait', { count: 1 });
      const verified = verifier.call('verify', { uri: URI, concurrent: true });
      stepLeft.awaitArrived(1);
      unlink.wake();
      expect((await compacted).pagesDeleted).toBe(1);
      stepLeft.wake(); // it now latches a deleted page: no page of the level any more
      expect((await verified).ok).toBe(true);
    });
    unlink.disarm();
    stepLeft.disarm();
    expect(s.verify(URI).ok).toBe(true);
  });

  it('an insert whose descent stack names a root retired by a shrink finds its parent afresh', async () => {
    const { s, c } = await table(3000);
    expect(s.stats(URI).depth).toBe(3);
    // Keep only the keys under the last two level-1 pages, so compaction shrinks the root.
    const l1 = levelInfo(conn, 0, 1);
    const keepFrom = dec.decode(l1[l1.length - 2].high);
    keepEmpty(() => { for (let i = 0; i < 3000; i++) if (key(i) < keepFrom) c.remove(key(i)); });
    const AKEY = `${key(2990)}m`;
    const BIG = 'v'.repeat(1000);
    const parked = conn.inject('btree-search-before-child').arm('wait', { count: 1 });
    await withWorkers(conn, 1, async ([writer]) => { try {
      const put = writer.call('put', { uri: URI, key: AKEY, value: BIG });
      parked.awaitArrived(1); // the writer has recorded the old root in its descent stack
      parked.disarm();
      s.compact(URI);
      expect(s.stats(URI).depth).toBe(2); // the old root is retired
      // Grow the tree back to depth 3 so that the writer's leaf split climbs to level 2.
      for (let i = 0; i < 42; i++) c.put(`${key(2990)}a${String(i).padStart(4, '0')}`, BIG);
      expect(s.stats(URI).depth).toBe(3);
      parked.wake();
      await put;
    } finally { parked.wake(); } }); // a failed check must not leave the writer parked
    // The downlink went in: no split was left incomplete, and the key is there.
    expect(levelInfo(conn, 0, 1).every((p) => (p.flags & F.INCOMPLETE_SPLIT) === 0)).toBe(true);
    expect(c.get(AKEY)).toBe(BIG);
    expect(s.verify(URI).ok).toBe(true);
  });

  // ---- found by the mutation check (scripts/mutations.js) ----------------------------------
  // The 2014 race with the split's first step already done. Root [L=(b,d), T=(f,h), R=(j,l),
  // X=(n,p)] (1024-byte keys, separators cannot be truncated). The inserter splits L and parks
  // before the parent insertion (L | L2 done, T.left = L2), so it needs no latch the deleter
  // holds except the root. The deleter (a remove emptying T) parks right after checking that T
  // is not the root's rightmost child, holding T and the root. Woken, the inserter must wait on
  // the root. With the root released and re-latched in between (the pre-2014 protocol), the
  // inserter splits the root ([L, L2, T] | [R, X]: T becomes the rightmost child) and the
  // deleter's downlink removal lands on the wrong entries: the tree is corrupt (models/pagedel.pml
  // finds this interleaving; the test forces it).
  it('the 2014 race: a parent split whose leaf split is already done cannot slip between the rightmost check and stage 1', { timeout: 30_000 }, async () => {
    const { s, c, K, V, root } = await fourLeafRoot();
    const refuse = conn.inject('pagedel-after-parent-check').arm('error');
    c.remove(K('f')); // T keeps 'h'
    refuse.disarm();
    const split = conn.inject('btree-split-before-parent-insert').arm('wait', { count: 1 });
    const checked = conn.inject('pagedel-after-parent-check');
    const rootLatch = latchWord(conn, root.page);
    await withWorkers(conn, 2, async ([inserter, deleter]) => {
      let inserted = false;
      const insert = inserter.call('put', { uri: URI, key: K('c'), value: V }).then(() => { inserted = true; });
      split.awaitArrived(1); // L split into L | L2, T.left = L2; L held, the root not yet latched
      checked.arm('wait', { count: 1 });
      const removed = deleter.call('remove', { uri: URI, key: K('h') });
      checked.awaitArrived(1); // T emptied; T and the root held; T checked as not the rightmost child
      split.wake();
      await waitFor(() => inserted || (rootLatch() & LATCH_WAITERS) !== 0, 'the inserter finishes or waits on the root');
      const insertedFirst = inserted; // with the root held, the inserter waits on it
      checked.wake();
      expect(await removed).toBe(true);
      await insert;
      expect(insertedFirst, 'the inserter split the root while the deleter was between its check and stage 1').toBe(false);
    });
    split.disarm();
    checked.disarm();
    expect(s.verify(URI).ok).toBe(true);
    expect(s.stats(URI).deletions).toBe(1);
    const keys = [...c.range()].map(([k]) => String.fromCharCode(k[1023]));
    expect(keys.join('')).toBe('bcdjlnp');
    for (const ch of 'bcdjlnp') expect(c.get(K(ch))).toEqual(V);
  });

  // Stage 2 reads the target's left link, then latches that page; if the page split in between,
  // its right link no longer names the target and latchLeftOf must move right. Only a hang in
  // test/tiers.test.ts caught a latchLeftOf that does not: the deleter parks between reading the
  // link and latching it (pagedel-left-link-read), the left sibling splits, and the unlink must
  // relink the split's right half, not the stale left page.
  it('stage 2 moves right from a left sibling that split after its left link was read', async () => {
    const { s, c } = await table(400);
    const leaves = levelInfo(conn, 0, 0);
    const { page, lo } = emptyLeaf(c, 3);
    const leftLo = dec.decode(leaves[1].high); // the left sibling's key range is [leftLo, lo)
    const parked = conn.inject('pagedel-left-link-read').arm('wait', { count: 1 });
    const added = Array.from({ length: 80 }, (_, i) => `${leftLo}-${String(i).padStart(2, '0')}`);
    try {
      await withWorkers(conn, 1, async ([deleter]) => {
        const compacted = deleter.call('compact', { uri: URI });
        parked.awaitArrived(1); // stage 1 done; the target's left link read, that page not latched
        const before = levelInfo(conn, 0, 0).length;
        for (const k of added) c.put(k, VALUE); // the left sibling splits
        expect(levelInfo(conn, 0, 0).length).toBeGreaterThan(before);
        parked.wake();
        expect((await compacted).pagesDeleted).toBe(1);
      });
    } finally {
      parked.disarm().wake();
    }
    expect(levelInfo(conn, 0, 0).some((p) => p.page === page)).toBe(false);
    expect(s.verify(URI).ok).toBe(true);
    const all = allKeys(c);
    for (const k of added) expect(all).toContain(k);
    expect([...c.range({ reverse: true })].map(([k]) => k)).toEqual([...all].reverse());
  });

  // An unlink relinks both neighbours in one latched step: the left sibling's right link and the
  // right sibling's left link. With the right sibling's left link left naming the deleted page,
  // verify reports LINKS, and a backward scan stepping left from the right sibling lands on the
  // deleted page, moves right back to where it started, re-descends and does so again for ever
  // (only a hang caught that; the debug build now traps on a live page whose left link names a
  // deleted page, after letting go of its latch). Counted at scan-step-left: one step left, from
  // the right sibling straight onto the left one.
  it('an unlink relinks the right sibling\'s left link: verify, and a backward scan steps from it straight onto the left sibling', async () => {
    const { s, c } = await table(400);
    const leaves = levelInfo(conn, 0, 0);
    const { page, keys } = emptyLeaf(c, 3);
    expect(s.compact(URI).pagesDeleted).toBe(1);
    expect(levelInfo(conn, 0, 0).some((p) => p.page === page)).toBe(false);
    expect(s.verify(URI).ok).toBe(true); // LINKS: every right sibling's left link points back
    const rightLo = dec.decode(leaves[3].high); // the right sibling's keys start at the deleted leaf's high key
    const below = allKeys(c).filter((k) => k < keys[0]);
    const step = conn.inject('scan-step-left').arm('count');
    try {
      // The bound is the right sibling's first key: its batch is empty, so the scan steps left.
      const first = [...c.range({ gte: rightLo, limit: 1 })][0][0];
      const it = c.range({ lt: first, reverse: true });
      const r = it.next();
      expect(r.value?.[0]).toBe(below[below.length - 1]);
      expect(step.hits).toBe(1); // straight onto the left sibling: no re-descent
      const rest = [...it].map(([k]) => k);
      expect([r.value![0], ...rest]).toEqual([...below].reverse());
    } finally {
      step.disarm();
    }
  });

  // Stage 1 changes the subtree parent A under its exclusive latch (the target's downlink now
  // names its right sibling R, R's own downlink goes: the slots from there shift left by one) and
  // must move A's version, because an optimistic descent checks what it read from A by that
  // version alone. A reader looking for a key of R picks A's index for R's downlink and parks
  // before reading it (btree-optimistic-child); stage 1 runs; the reader reads that slot, which
  // now names the page after R. With A's version unchanged the validation passes and the reader
  // lands right of its key: a present key is not found. (Before this test the missing bump was
  // caught in 2 of 6 runs, by chance.)
  it('stage 1 moves the subtree parent\'s version: an optimistic reader that chose a downlink before it reads it again', async () => {
    const { s, c } = await table(400);
    expect(s.stats(URI).depth).toBe(2); // the root is the subtree parent
    const leaves = levelInfo(conn, 0, 0);
    emptyLeaf(c, 3);
    const [[k, v]] = [...c.range({ gte: dec.decode(leaves[3].high), limit: 1 })]; // R's first key
    expect(k < dec.decode(leaves[4].high)).toBe(true);
    const parked = conn.inject('btree-optimistic-child').arm('wait', { count: 1 });
    try {
      await withWorkers(conn, 1, async ([reader]) => {
        const got = reader.call('get', { uri: URI, key: k });
        try {
          parked.awaitArrived(1); // the reader chose the root's index for R's downlink
          expect(s.compact(URI).pagesDeleted).toBe(1); // stage 1 shifts the root's downlinks after T's
        } finally {
          parked.wake(); // also when compact fails (a debug build's trap): the worker must end
        }
        expect(await got).toBe(v);
      });
    } finally {
      parked.disarm().wake();
    }
    expect(c.get(k)).toBe(v);
    expect(s.verify(URI).ok).toBe(true);
  });

  // ---- stress -----------------------------------------------------------------------------
  it(`churn: 4 workers insert at the front of a sliding window and remove at its back, with scans; ${STRESS ? '10M' : '1M'} ops, linearizable; the arena stops growing`, async () => {
    conn = await openTest({ cacheSize: '256MB' });
    const s = conn.openSession();
    s.create(URI);
    const WINDOW = 20_000;
    const total = STRESS ? 2_500_000 : 250_000; // per worker
    const clock = new SharedArrayBuffer(4);
    const cursors = new SharedArrayBuffer(8);
    const ends = new Int32Array(cursors);
    Atomics.store(ends, 0, WINDOW);
    const c = s.openCursor(URI);
    const kb = (k: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(k)); return b; };
    // The first fill's values are unique and nonzero (0 means "absent" to the checker).
    const FILL = 1_500_000_000;
    const fill = (k: number) => { const b = new Uint8Array(12); new DataView(b.buffer).setUint32(0, FILL + k); return b; };
    for (let k = 0; k < WINDOW; k++) c.put(kb(k), fill(k));
    const chunks: unknown[] = [];
    await withWorkers(conn, 4, async (ws) => {
      const round = (ops: number, seed: number) => Promise.all(ws.map((w, i) => w.call('churn', {
        uri: URI, wid: seed + i, ops, window: WINDOW, clock, cursors, seed: seed * 31 + i, scanEvery: i === 3 ? 50 : 0,
      })));
      // Round 1: the window slides past its own size a few times; the tree and the recycling
      // reach their steady shape (fill factor, pages in limbo, stashes).
      chunks.push(...await round(total / 2, 1));
      expect(Atomics.load(ends, 1)).toBeGreaterThan(WINDOW);
      const fillStats = s.stats(URI);
      const afterFill = fillStats.arenaPages;
      // Round 2: as many operations again; every page of round 1 is emptied and deleted.
      const backBefore = Atomics.load(ends, 1);
      chunks.push(...await round(total - total / 2, 10));
      const st = s.stats(URI);
      expect(Atomics.load(ends, 1) - backBefore).toBeGreaterThan(2 * WINDOW);
      expect(st.deletions).toBeGreaterThan(100);
      // Without recycling the arena would grow by at least every page deleted in round 2. With it,
      // growth is only the transient peak of pages in flight (stashes, limbo, free pages a burst
      // left behind), which oversubscribed cores (other test files running) make larger: bound
      // it by a quarter of round 2's deletions, not by a fixed share of the arena.
      const deleted2 = st.deletions - fillStats.deletions;
      expect(deleted2).toBeGreaterThan(100);
      expect(st.arenaPages - afterFill, `arena ${afterFill} -> ${st.arenaPages} pages while ${deleted2} pages were deleted (free ${fillStats.freePages} -> ${st.freePages}, awaiting reclamation ${fillStats.deleted} -> ${st.deleted}, in trees ${fillStats.pages} -> ${st.pages}, entries ${fillStats.entries} -> ${st.entries})`)
        .toBeLessThanOrEqual(deleted2 / 4);
    });
    expect((chunks[3] as { scans: number }).scans + (chunks[7] as { scans: number }).scans).toBeGreaterThan(100);
    // The first fill is the initial state of those keys.
    const initial = new Map<number, number>();
    for (let k = 0; k < WINDOW; k++) initial.set(k, FILL + k);
    const verdict = checkColumnar(chunks as never, { initial });
    expect(verdict, JSON.stringify(verdict).slice(0, 1500)).toMatchObject({ ok: true });
    expect(s.verify(URI).ok).toBe(true);
  });
});
