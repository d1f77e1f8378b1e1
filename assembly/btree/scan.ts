// Range scans, one leaf per call (nbtsearch.c's _bt_readpage / _bt_steppage / _bt_walk_left).
//
// A scan batch latches one leaf (shared), copies the qualifying items into this thread's output
// area and releases it. The bindings keep the last key returned and ask for the next batch with
// it as an exclusive bound. Nothing is held between batches, so an idle cursor never blocks a
// writer.
//
// Forward: the batch also returns the right sibling R (and its recycle generation) as a hint.
// The next batch latches R directly, checks that it is still the same live leaf of this tree,
// and moves right from it as a search would. Keys present for the whole scan cannot be missed:
// every key above the previous page's high key was in R or to its right when we read the
// previous page, and key space only moves right. A stale hint falls back to a descent.
//
// Backward: the batch descends to the leaf covering the bound and collects items below it. When
// that leaf has none, it steps left: it latches the left sibling and accepts it only if its
// right link still points back at the page just read; otherwise the left page has split since,
// and it moves right from it until it finds the page whose right link is ours (see walkLeft for
// deleted and half-dead pages).
//
// Output layout (in the scratch output area):
//   u32 count | u32 nextPage | u32 nextGen | u32 flags(END) | u32 leaf | u32 leafVersion |
//   u32 entry bytes | entries: [u16 klen][u16 vlen][key][value]
// `leaf` and `leafVersion` name the leaf the entries came from, as it was when read: a cursor
// may serve its next steps from the batch while that version is unchanged.

import { pageAddr, pageNo } from "../arena";
import { pageLatchShared, pageUnlatchShared, latchesHeld } from "../latch";
import {
  P_GEN, P_TREE, P_VERSION, F_LEAF, F_FREE, F_IGNORE, F_DELETED, pFlags, pCount, pLeft, pRight, keyAddr, keyLen,
  valAddr, valLen, pageSearchLeaf, searchFound, keyCompare,
} from "../page";
import { sOut, S_OUT_SIZE } from "../scratch";
import { descend, movesRight } from "./search";
import { inject, INJECT_SCAN_BEFORE_NEXT_PAGE, INJECT_SCAN_STEP_LEFT, INJECT_MOVE_RIGHT } from "../inject";

export const BOUND_NONE: i32 = 0;
export const BOUND_INCLUSIVE: i32 = 1;
export const BOUND_EXCLUSIVE: i32 = 2;
export const SCAN_END: u32 = 1;
const OUT_HDR: usize = 28;

let outPos: usize = 0;
let outCount: u32 = 0;

/** Appends item i of leaf p; false when the output area is full. */
function emit(p: usize, i: i32): bool {
  const kl = keyLen(p, i);
  const vl = valLen(p, i);
  const need = <usize>(4 + kl + vl);
  if (outPos + need > S_OUT_SIZE) return false;
  const o = sOut() + outPos;
  store<u16>(o, <u16>kl);
  store<u16>(o, <u16>vl, 2);
  memory.copy(o + 4, keyAddr(p, i), <usize>kl);
  memory.copy(o + 4 + <usize>kl, valAddr(p, i), <usize>vl);
  outPos += need;
  outCount++;
  return true;
}

/** The leaf the current batch reads and its version, taken under the leaf's latch. */
let outLeaf: usize = 0;
let outLeafVersion: u32 = 0;

// @ts-ignore: decorator
@inline function readingLeaf(p: usize): void { outLeaf = p; outLeafVersion = load<u32>(p, P_VERSION); }

function finish(nextPage: u32, nextGen: u32, flags: u32): i32 {
  const o = sOut();
  store<u32>(o, outCount);
  store<u32>(o, nextPage, 4);
  store<u32>(o, nextGen, 8);
  store<u32>(o, flags, 12);
  store<u32>(o, outLeaf != 0 ? pageNo(outLeaf) : 0, 16);
  store<u32>(o, outLeaf != 0 ? outLeafVersion : 0, 20);
  store<u32>(o, <u32>(outPos - OUT_HDR), 24);
  return <i32>outCount;
}

/** Does item i of p lie beyond the end bound (in the scan's direction)? */
function pastEnd(p: usize, i: i32, end: usize, endLen: i32, endMode: i32, reverse: bool): bool {
  if (endMode == BOUND_NONE) return false;
  const c = keyCompare(keyAddr(p, i), keyLen(p, i), end, endLen);
  if (reverse) return endMode == BOUND_INCLUSIVE ? c < 0 : c <= 0;
  return endMode == BOUND_INCLUSIVE ? c > 0 : c >= 0;
}

/**
 * One forward batch. Start bound (key, mode) and end bound (end, endMode); `hint`/`hintGen` is
 * the page the previous batch said to continue at (0 for none). Returns the number of items.
 */
export function scanForward(
  tree: u32, key: usize, klen: i32, mode: i32, end: usize, endLen: i32, endMode: i32,
  hint: u32, hintGen: u32, limit: i32,
): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "scan: a reader starts holding a latch");
  outPos = OUT_HDR; outCount = 0; outLeaf = 0;
  const skLen = mode == BOUND_NONE ? 0 : klen; // the empty key sorts first: the leftmost leaf
  let p: usize = 0;
  if (hint != 0) {
    inject(INJECT_SCAN_BEFORE_NEXT_PAGE);
    p = pageAddr(hint);
    pageLatchShared(p);
    const f = pFlags(p);
    // A deleted page is stale too: its right link was written at its unlink, possibly before
    // this call's epoch began, so the page it names may be recycled before we get there.
    // (A half-dead page is fine: its right link is still maintained.)
    if (load<u32>(p, P_GEN) != hintGen || load<u32>(p, P_TREE) != tree || (f & F_LEAF) == 0 || (f & (F_FREE | F_DELETED)) != 0) {
      pageUnlatchShared(p);
      p = 0;
    }
  }
  if (p == 0) p = descend(tree, key, skLen, 0, 0);
  while (true) {
    // Move right as a search would (the hint may be a page whose key space has moved on).
    const right = pRight(p);
    if (movesRight(p, pFlags(p), key, skLen, false)) { // the empty key (no start bound) never moves right by key
      pageUnlatchShared(p);
      inject(INJECT_MOVE_RIGHT);
      p = pageAddr(right);
      pageLatchShared(p);
      continue;
    }
    const n = pCount(p);
    readingLeaf(p);
    let i = skLen == 0 ? 0 : pageSearchLeaf(p, key, skLen);
    if (skLen > 0 && searchFound && mode == BOUND_EXCLUSIVE) i++;
    for (; i < n; i++) {
      if (pastEnd(p, i, end, endLen, endMode, false)) {
        pageUnlatchShared(p);
        return finish(0, 0, SCAN_END);
      }
      if ((limit > 0 && <i32>outCount >= limit) || !emit(p, i)) {
        // Partial page: continue from this page after the last key returned.
        const pg = pageNo(p);
        const gen = load<u32>(p, P_GEN);
        pageUnlatchShared(p);
        return finish(pg, gen, 0);
      }
    }
    if (right == 0) { pageUnlatchShared(p); return finish(0, 0, SCAN_END); }
    if (outCount > 0) {
      // R cannot be recycled while p links to it, so its generation is stable under p's latch.
      const gen = load<u32>(pageAddr(right), P_GEN);
      pageUnlatchShared(p);
      return finish(right, gen, 0);
    }
    pageUnlatchShared(p);
    inject(INJECT_SCAN_BEFORE_NEXT_PAGE);
    p = pageAddr(right);
    pageLatchShared(p);
  }
  return 0;
}

/**
 * Steps left from latched leaf p (nbtree's _bt_walk_left): releases p and returns its left
 * sibling latched, 0 if p was the leftmost leaf, or 1 if the caller should re-descend.
 *
 * The left page is accepted only if it is not deleted and its right link points back at the page
 * we came from; a half-dead left page is accepted too (it is empty: the caller steps left over
 * it). Otherwise the left page split since we read the link, so we move right from it, a few
 * hops at most. Failing that, we go back to the original page: if it was deleted, the first live
 * page to its right took over its key space and we step left from there; if not, its left link
 * changed and we retry with the new one.
 */
function walkLeft(p: usize): usize {
  let orig = pageNo(p);
  let left = pLeft(p);
  pageUnlatchShared(p);
  for (let tries = 0; tries < 64; tries++) {
    if (left == 0) return 0;
    inject(INJECT_SCAN_STEP_LEFT);
    let q = pageAddr(left);
    pageLatchShared(q);
    for (let hops = 0; ; hops++) {
      if ((pFlags(q) & F_DELETED) == 0 && pRight(q) == orig) return q;
      const r = pRight(q);
      if (r == 0 || hops >= WALK_LEFT_HOPS) break;
      pageUnlatchShared(q);
      inject(INJECT_MOVE_RIGHT);
      q = pageAddr(r);
      pageLatchShared(q);
    }
    pageUnlatchShared(q);
    // Back to the page we came from, to see what changed.
    let o = pageAddr(orig);
    pageLatchShared(o);
    if ((pFlags(o) & F_DELETED) != 0) {
      while ((pFlags(o) & F_DELETED) != 0 && pRight(o) != 0) {
        const r = pRight(o);
        pageUnlatchShared(o);
        o = pageAddr(r);
        pageLatchShared(o);
      }
      orig = pageNo(o);
      left = pLeft(o);
      pageUnlatchShared(o);
      continue;
    }
    const now = pLeft(o);
    pageUnlatchShared(o);
    if (now == left) return 1; // nothing explains it: let the caller re-descend
    left = now;
  }
  return 1;
}

/** Hops to the right a left step takes before going back to the page it came from. */
const WALK_LEFT_HOPS: i32 = 4;

/** One backward batch: items below (or at, if inclusive) the start bound, in decreasing order. */
export function scanBackward(
  tree: u32, key: usize, klen: i32, mode: i32, end: usize, endLen: i32, endMode: i32, limit: i32,
): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "scan: a reader starts holding a latch");
  while (true) {
    outPos = OUT_HDR; outCount = 0; outLeaf = 0;
    let p: usize;
    let i: i32;
    if (mode == BOUND_NONE) {
      // The rightmost leaf: descend by the leftmost path, then follow right links to the end.
      p = descend(tree, key, 0, 0, 0);
      while (pRight(p) != 0) {
        const r = pRight(p);
        pageUnlatchShared(p);
        p = pageAddr(r);
        pageLatchShared(p);
      }
      i = pCount(p) - 1;
    } else {
      p = descend(tree, key, klen, 0, 0);
      i = pageSearchLeaf(p, key, klen);
      if (!(searchFound && mode == BOUND_INCLUSIVE)) i--;
    }
    while (true) {
      readingLeaf(p);
      for (; i >= 0; i--) {
        if (pastEnd(p, i, end, endLen, endMode, true)) {
          pageUnlatchShared(p);
          return finish(0, 0, SCAN_END);
        }
        if ((limit > 0 && <i32>outCount >= limit) || !emit(p, i)) {
          pageUnlatchShared(p);
          return finish(0, 0, 0);
        }
      }
      if (outCount > 0) {
        const atStart = pLeft(p) == 0;
        pageUnlatchShared(p);
        return finish(0, 0, atStart ? SCAN_END : 0);
      }
      const q = walkLeft(p);
      outLeaf = 0;
      if (q == 0) return finish(0, 0, SCAN_END);
      if (q == 1) break; // re-descend
      p = q;
      i = pCount(p) - 1;
    }
  }
  return 0;
}
