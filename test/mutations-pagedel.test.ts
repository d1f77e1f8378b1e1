/**
 * Deterministic tests that `npm run mutate` (scripts/mutations.js) showed missing: each forces the
 * window of one mutation that today's other tests catch only by a timeout, or not at all.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { openTest, withWorkers, levelInfo, latchWord, waitFor, LATCH_WAITERS } from './helpers.js';
import { type Connection } from '../dist/index.js';

let conn: Connection;
afterEach(async () => { await conn?.close(); });
const URI = 'table:t';

describe('page deletion: the windows the mutation check found', () => {
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
    conn = await openTest();
    const s = conn.openSession();
    s.create(URI);
    const c = s.openCursor(URI);
    const K = (ch: string) => { const k = new Uint8Array(1024).fill(97); k[1023] = ch.charCodeAt(0); return k; };
    const V = new Uint8Array(470);
    for (const ch of 'bdfhjlnp') c.put(K(ch), V);
    const [root] = levelInfo(conn, 0, 1);
    expect(root.items).toBe(4);
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
});
