/**
 * The split's fit check (assembly/btree/split.ts, splitFits) at its exact boundary. A split keeps
 * items [0, s) on the left page, which also gains the separator as its high key: a cell of
 * 2 + separator bytes with no slot. The check must count those 2 bytes: one that forgets them
 * (found by the mutation check, scripts/mutations.js) writes the high key over the end of the
 * left page's slot array, which only random property seeds used to reach.
 *
 * The leaf is built so that the split-point search's first candidate sits on that boundary: a
 * root leaf (rightmost, so the 90% fill target applies) whose items take exactly `room - sep -
 * slack` bytes, and a new item after all of them, large enough that the target keeps every old
 * item on the left. The separator between the last old key and the new key is `sep` bytes (they
 * share sep - 1 bytes). With slack 2 the left half with its high key fills the page exactly and
 * must be taken; with slack 1 or 0 it is 1 or 2 bytes too big and the next candidate (one item
 * fewer on the left) must be taken.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { openTest, levelInfo } from './helpers.js';
import type { Connection } from '../dist/index.js';

let conn: Connection;
afterEach(async () => { await conn?.close(); });

/** Page header bytes (assembly/limits.ts PAGE_HEADER); checked below against the core's itemMax. */
const PAGE_HEADER = 64;
const LEAF_CELL_HDR = 4;
/** Bytes of a slot (assembly/limits.ts PAGE_SLOT: a u16 cell offset and a u32 key head). */
const SLOT = 6;
/** Separator length: keys share SEP - 1 bytes, so suffix truncation keeps SEP bytes. */
const SEP = 100;
const OLD_ITEMS = 20;

describe('the split fit check', () => {
  it('the page layout the sizes below assume is the core\'s (leafItemMax)', async () => {
    conn = await openTest();
    const { pageSize } = conn;
    const { maxKey, itemMax } = conn.core;
    // limits.ts leafItemMax: two items and a maximal high key fill the room after the header.
    const room = pageSize - PAGE_HEADER;
    expect(itemMax).toBe(Math.trunc((room - (2 + maxKey)) / 2) - SLOT - LEAF_CELL_HDR);
  });

  it.each([
    [2, 'fills the left page exactly: every old item stays left'],
    [1, 'is 1 byte too big: one item fewer stays left'],
    [0, 'is 2 bytes too big (the high key\'s length field): one item fewer stays left'],
  ])('slack %i: the left half with its high key %s', async (slack) => {
    conn = await openTest();
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    const room = conn.pageSize - PAGE_HEADER;
    const key = (last: number) => { const k = new Uint8Array(SEP).fill(97); k[SEP - 1] = last; return k; };
    // Old items: 20 keys of SEP bytes ('a' x 99 + one byte), values sized so that the items (cell
    // + slot each) take exactly room - SEP - slack bytes.
    const used = room - SEP - slack;
    const perItem = LEAF_CELL_HDR + SEP + SLOT;
    const base = Math.floor((used - OLD_ITEMS * perItem) / OLD_ITEMS);
    const values = Array.from({ length: OLD_ITEMS }, () => base);
    values[0] += used - OLD_ITEMS * (perItem + base);
    expect(values.reduce((a, v) => a + v + perItem, 0)).toBe(used);
    const items = values.map((v, i) => [key(66 + i), new Uint8Array(v).fill(i + 1)] as const);
    for (const [k, v] of items) c.put(k, v);
    expect(s.stats('table:t')).toMatchObject({ splits: 0, pages: 1, entries: OLD_ITEMS });

    // The new item: after every old key, sharing SEP - 1 bytes with the last one (separator SEP
    // bytes); its cell is bigger than the free space, and big enough that the 90% fill target of
    // a rightmost split keeps all old items left: used <= (used + cell + slot) * 90 / 100.
    const newKey = key(66 + OLD_ITEMS);
    const newValue = new Uint8Array(420).fill(255);
    const total = used + LEAF_CELL_HDR + SEP + newValue.length + SLOT;
    expect(room - used).toBeLessThan(LEAF_CELL_HDR + SEP + newValue.length + SLOT);
    expect(used).toBeLessThanOrEqual(Math.trunc(total * 90 / 100));
    c.put(newKey, newValue); // the split (the debug build traps here if the high key does not fit)

    expect(s.stats('table:t')).toMatchObject({ splits: 1, rootSplits: 1, depth: 2, entries: OLD_ITEMS + 1 });
    const fits = slack === 2;
    expect(levelInfo(conn, 0, 0).map((p) => p.items)).toEqual(fits ? [OLD_ITEMS, 1] : [OLD_ITEMS - 1, 2]);
    expect(s.verify('table:t').ok).toBe(true);
    for (const [k, v] of [...items, [newKey, newValue] as const]) expect(c.get(k)).toEqual(v);
    expect([...c.range()].map(([k]) => k[SEP - 1])).toEqual([...items.map(([k]) => k[SEP - 1]), newKey[SEP - 1]]);
  });
});
