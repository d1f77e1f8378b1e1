// Finding a child's downlink in its parent again (nbtinsert.c's _bt_getstackbuf): the one walk a
// split (split.ts: splitInsertParent, to insert the new right page's downlink next to it) and a
// page deletion (pagedel.ts: pagedelLeaf, to find the subtree parent and check the chain is not its
// rightmost child) use to get from a latched child to the page one level up that points at it.
//
// The descent that reached the child recorded the page it passed at each level (the descent
// stack, scratch.ts). That page held the downlink then; since, it may have split (the downlink is
// now on a page to its right), or been deleted or retired as the root (its key space passed
// right, or it has none): key space only moves right, so the walk starts there and moves right.
// Without a recorded page (the tree grew taller since the descent), a fresh descent to the level
// finds where to start.
//
// LATCHING. The walk latches exclusively one page of the parent level at a time, left to right,
// releasing each before latching its right sibling, and returns the page holding the downlink
// still latched: the caller changes it (inserts a downlink, or removes one) under that latch. The
// caller holds the child (or the empty leaf being deleted) below it throughout, so the walk only
// ever latches upward and rightward of what is held, as the lock table orders page latches.

import { pageAddr } from "../arena";
import { pageLatchExclusive, pageUnlatchExclusive } from "../latch";
import {
  F_IGNORE, F_INCOMPLETE_SPLIT, pFlags, pRight, pHasHigh, pHighKey, pHighLen,
  pageSearchInternal, pageSearchInternalBelow, pageFindChild, keyCompare,
} from "../page";
import { stackGet } from "../scratch";
import { descend, stackTop, D_EXCLUSIVE, D_BELOW } from "./search";

/** Per thread: index of the downlink findDownlink found; -1 when it returned a page to finish first. */
export let downlinkIndex: i32 = -1;

// findDownlink flags.

/**
 * `key` is the child's high key, the end of its key space (page deletion): descend and search for
 * the downlink strictly below it, and stop at the first live page whose key space reaches `key`:
 * the downlink can be on no page further right (if it is not there, there is none: the child is
 * the right half of an incomplete split). Without it, `key` lies inside the child's key space
 * (a split: the child's new high key, the separator) and the walk goes on to the level's end.
 */
export const DL_BELOW: i32 = 1;
/**
 * Return the first live page on the walk whose own split is incomplete, with downlinkIndex = -1,
 * before looking for the downlink in it: the caller finishes that split first and tries again
 * (a split climbing to the parent; nbtree's _bt_getstackbuf finishes it itself).
 */
export const DL_STOP_AT_INCOMPLETE: i32 = 2;
/**
 * If the walk from the descent stack ends at the level's right end without the downlink (the
 * recorded page was the old root, retired by a root shrink: dead, right link 0), walk once more
 * from a fresh descent.
 */
export const DL_REDESCEND: i32 = 4;

/**
 * Finds and latches (exclusively) the page at `level` holding the downlink to page `child`, whose
 * key space holds (or, with DL_BELOW, ends at) `key`. Returns that page with downlinkIndex set;
 * with DL_STOP_AT_INCOMPLETE, possibly a latched page whose own split is incomplete, with
 * downlinkIndex = -1; or 0, with nothing latched, if the downlink was not found. Dead pages
 * (half-dead, deleted, retired roots) hold no downlink we may use: the walk moves right past them.
 */
export function findDownlink(tree: u32, child: u32, level: i32, key: usize, klen: i32, flags: i32): usize {
  const below = (flags & DL_BELOW) != 0;
  const hint = level <= stackTop ? stackGet(level) : 0;
  // First from the descent stack; then, with DL_REDESCEND, once more from a fresh descent.
  for (let attempt = hint != 0 ? 0 : 1; attempt < 2; attempt++) {
    let q: usize;
    if (attempt == 0) {
      q = pageAddr(hint);
      pageLatchExclusive(q);
    } else {
      q = descend(tree, key, klen, level, below ? D_EXCLUSIVE | D_BELOW : D_EXCLUSIVE);
      if (q == 0) return 0;
    }
    while (true) {
      const qf = pFlags(q);
      const right = pRight(q);
      if ((qf & F_IGNORE) == 0) {
        if ((flags & DL_STOP_AT_INCOMPLETE) != 0 && (qf & F_INCOMPLETE_SPLIT) != 0) { downlinkIndex = -1; return q; }
        const from = below ? pageSearchInternalBelow(q, key, klen) : pageSearchInternal(q, key, klen);
        const i = pageFindChild(q, child, from);
        if (i >= 0) { downlinkIndex = i; return q; }
        // The downlink would be on the page whose key space reaches `key`.
        if (below && (!pHasHigh(q) || keyCompare(pHighKey(q), pHighLen(q), key, klen) >= 0)) {
          pageUnlatchExclusive(q);
          return 0;
        }
      }
      pageUnlatchExclusive(q);
      if (right == 0) break;
      q = pageAddr(right);
      pageLatchExclusive(q);
    }
    if ((flags & DL_REDESCEND) == 0) return 0;
  }
  return 0;
}
