// Splits: the page split, the parent insertion that completes it, the root split, and finishing
// a split left incomplete (nbtinsert.c's _bt_split, _bt_insert_parent, _bt_newroot,
// _bt_finish_split; the protocol is in assembly/btree/README.md).
//
// A split is two latched steps.
//  1. Holding the page P exclusively: build the new right page R (unreachable, so unlatched),
//     rewrite P with the lower half, its high key = the separator, P.right = R, and the flag
//     INCOMPLETE_SPLIT; then latch the old right sibling S (left to right) and set S.left = R.
//     From here every search finds every key: keys moved to R are reached by moving right.
//  2. Still holding P, latch the parent (bottom-up), insert the downlink (separator -> R) and
//     clear P's INCOMPLETE_SPLIT in the same latched step. If the parent is full it splits too
//     (step 1 on the parent, which then holds the flag), and P is released: the climb goes on
//     with the parent as the child. The separator is always the child's own high key and R its
//     right link, so nothing has to be carried up the tree but the latched child.
// Latches held at once: child, parent, (parent's old right sibling during a parent split) = at
// most MAX_LATCHES_HELD, at any height.
//
// If step 2 cannot run (an injected error, ENOMEM for a parent split) the tree is still correct:
// an incomplete split is a legal state. The next insert whose descent lands on P finishes it
// before doing anything else (see descend's `finish`).

import { pageAddr, pageNo, stashTake, pageSize, pageFree } from "../arena";
import { latchExclusive, unlatchExclusive, pageLatchExclusive, pageUnlatchExclusive, pageUnlatchShared } from "../latch";
import { Lock } from "../locks";
import {
  P_FLAGS, P_LEFT, P_RIGHT, P_NSLOTS, P_UPPER, P_GARBAGE, P_HIGH, P_PREFIX, HDR, SLOT_SIZE,
  F_LEAF, F_ROOT, F_INCOMPLETE_SPLIT,
  pFlags, pLevel, pCount, pRight, pHasHigh, pHighKey, pHighLen, cellAddr, cellSize, keyLen, keyAddr,
  valLen, valAddr, childAt, pageInit, pageInsertLeaf, pageInsertInternal, pageSetHigh, pageMakeRoom,
  internalCellSize, leafCellSize, LEAF_CELL_HDR, pageResetPrefix,
  INTERNAL_CELL_HDR,
} from "../page";
import { tableMeta, C_META_LATCH, C_ROOT, C_ROOT_LEVEL, C_SPLITS, C_ROOT_SPLITS } from "../catalog";
import { sTemp } from "../scratch";
import { OK, ENOMEM, ECORRUPT } from "../status";
import { inject, INJECT_SPLIT_FINISH } from "../inject";
import { findDownlink, downlinkIndex, DL_STOP_AT_INCOMPLETE, DL_REDESCEND } from "./parent";

// ---- the item being added by a split (per thread) ----
let newKey: usize = 0;
let newKlen: i32 = 0;
let newVal: usize = 0;
let newVlen: i32 = 0;
let newChild: u32 = 0;

/** Fill factor for splits of the rightmost page when the new item goes last (sequential loads). */
const RIGHTMOST_FILL_PERCENT: i32 = 90;

/** Bytes of a slot, as the fit arithmetic counts it. */
const SLOT: i32 = <i32>SLOT_SIZE;

// The split sees the page's items with the new one inserted at index `at`: virtual item j.
// @ts-ignore: decorator
@inline function vSize(p: usize, at: i32, j: i32): i32 {
  if (j == at) return pIsLeafFlag(p) ? leafCellSize(newKlen, newVlen) : internalCellSize(newKlen);
  return cellSize(p, j < at ? j : j - 1);
}
// @ts-ignore: decorator
@inline function vKey(p: usize, at: i32, j: i32): usize {
  return j == at ? newKey : keyAddr(p, j < at ? j : j - 1);
}
// @ts-ignore: decorator
@inline function vKlen(p: usize, at: i32, j: i32): i32 {
  return j == at ? newKlen : keyLen(p, j < at ? j : j - 1);
}
// @ts-ignore: decorator
@inline function pIsLeafFlag(p: usize): bool { return (pFlags(p) & F_LEAF) != 0; }

/** Copies virtual item j to the end of page `dst`; `dropKey` stores it with an empty key. */
function vCopy(dst: usize, p: usize, at: i32, j: i32, dropKey: bool): void {
  const k = pCount(dst);
  if (pIsLeafFlag(p)) {
    if (j == at) pageInsertLeaf(dst, k, newKey, newKlen, newVal, newVlen);
    else {
      const i = j < at ? j : j - 1;
      pageInsertLeaf(dst, k, keyAddr(p, i), keyLen(p, i), valAddr(p, i), valLen(p, i));
    }
  } else {
    const child = j == at ? newChild : childAt(p, j < at ? j : j - 1);
    pageInsertInternal(dst, k, vKey(p, at, j), dropKey ? 0 : vKlen(p, at, j), child);
  }
}

/** Length of the shortest prefix of key b that is still > key a (suffix truncation; a < b). */
function truncatedLength(a: usize, alen: i32, b: usize, blen: i32): i32 {
  let i = 0;
  const n = min(alen, blen);
  while (i < n && load<u8>(a + <usize>i) == load<u8>(b + <usize>i)) i++;
  return min(i + 1, blen);
}

/** Length of the separator between virtual items s-1 and s (leaves: suffix-truncated). */
function separatorLength(p: usize, at: i32, s: i32, leaf: bool): i32 {
  return leaf ? truncatedLength(vKey(p, at, s - 1), vKlen(p, at, s - 1), vKey(p, at, s), vKlen(p, at, s)) : vKlen(p, at, s);
}

/** Do both halves fit when items [0, s) stay and [s, n) move right? */
function splitFits(p: usize, at: i32, n: i32, s: i32, total: i32, oldHighLen: i32, leaf: bool): bool {
  let left = 0;
  for (let j = 0; j < s; j++) left += vSize(p, at, j) + SLOT;
  const room = <i32>pageSize - <i32>HDR;
  if (left + 2 + separatorLength(p, at, s, leaf) > room) return false;
  const right = total - left - (leaf ? 0 : vKlen(p, at, s)) + (oldHighLen >= 0 ? 2 + oldHighLen : 0);
  return right <= room;
}

/**
 * Step 1 of a split. P is latched exclusively and not INCOMPLETE_SPLIT; the item to add is in
 * newKey/newVal/newChild and goes at index `at`. Takes the right page from this thread's stash.
 * On return P is still latched, holds INCOMPLETE_SPLIT, and its right link is the new page.
 * Returns ENOMEM (P untouched) if no page could be had.
 */
function splitPage(tree: u32, p: usize, at: i32): i32 {
  if (!ASC_NO_ASSERT) assert((pFlags(p) & F_INCOMPLETE_SPLIT) == 0, "split: page already has an incomplete split");
  const rpg = stashTake();
  if (rpg == 0) return ENOMEM;
  const r = pageAddr(rpg);
  const leaf = pIsLeafFlag(p);
  const n = pCount(p) + 1;
  const oldHighLen = pHasHigh(p) ? pHighLen(p) : -1;

  // Choose the split point s: items [0, s) stay, [s, n) move right. Both halves must fit: the
  // left gains the separator as its high key, the right keeps P's high key (and, on internal
  // pages, item s's key becomes its minus infinity). leafItemMax() guarantees that some s fits
  // (2 items + a high key fit in a page); the search takes the fitting s closest to the target.
  let total = 0;
  for (let j = 0; j < n; j++) total += vSize(p, at, j) + SLOT;
  let target = total >> 1;
  if (at == n - 1 && pRight(p) == 0) target = total * RIGHTMOST_FILL_PERCENT / 100;
  let s0 = 1;
  let prefix = vSize(p, at, 0) + SLOT;
  while (s0 < n - 1 && prefix + vSize(p, at, s0) + SLOT <= target) { prefix += vSize(p, at, s0) + SLOT; s0++; }
  let s = -1;
  for (let d = 0; d < n && s < 0; d++) {
    if (s0 - d >= 1 && splitFits(p, at, n, s0 - d, total, oldHighLen, leaf)) s = s0 - d;
    else if (d > 0 && s0 + d <= n - 1 && splitFits(p, at, n, s0 + d, total, oldHighLen, leaf)) s = s0 + d;
  }
  if (s < 0) {
    // Unreachable while leafItemMax() holds; refuse rather than corrupt.
    if (!ASC_NO_ASSERT) assert(false, "split: no split point fits");
    pageFree(rpg);
    return ENOMEM;
  }

  // The separator: for leaves the shortest prefix of item s's key above item s-1's key; for
  // internal pages item s's key itself (it becomes the right page's minus infinity).
  const sepKey = vKey(p, at, s);
  const sepLen = separatorLength(p, at, s, leaf);

  // Right page: items [s, n), P's old high key, between P and P's old right sibling.
  pageInit(r, rpg, pLevel(p), leaf ? F_LEAF : 0, tree);
  for (let j = s; j < n; j++) vCopy(r, p, at, j, !leaf && j == s);
  if (oldHighLen >= 0) pageSetHigh(r, pHighKey(p), oldHighLen);
  // Each half's prefix: what its keys and high key share (page.ts, pageResetPrefix).
  pageResetPrefix(r);
  const oldRight = pRight(p);
  store<u32>(r, pageNo(p), P_LEFT);
  store<u32>(r, oldRight, P_RIGHT);

  // Left half staged in this thread's temp page, then copied over P (all but the latch word; the
  // version is copied as it was, and P's release moves it).
  const t = sTemp();
  memory.copy(t, p, HDR);
  store<u16>(t, 0, P_NSLOTS);
  store<u32>(t, pageSize, P_UPPER);
  store<u32>(t, 0, P_GARBAGE);
  store<u16>(t, 0, P_HIGH);
  store<u16>(t, 0, P_PREFIX);
  for (let j = 0; j < s; j++) vCopy(t, p, at, j, false);
  pageSetHigh(t, sepKey, sepLen);
  pageResetPrefix(t);
  store<u32>(t, rpg, P_RIGHT);
  store<u32>(t, pFlags(p) | F_INCOMPLETE_SPLIT, P_FLAGS);
  memory.copy(p + P_FLAGS, t + P_FLAGS, <usize>pageSize - P_FLAGS);

  // The old right sibling's left link: latched left to right while P is held.
  if (oldRight != 0) {
    const o = pageAddr(oldRight);
    pageLatchExclusive(o);
    store<u32>(o, rpg, P_LEFT);
    pageUnlatchExclusive(o);
  }
  atomic.add<u64>(tableMeta(tree) + C_SPLITS, 1);
  return OK;
}

/** Step 1 for a leaf: adds (key, value) at index `at` of full leaf P by splitting it. */
export function splitLeaf(tree: u32, p: usize, at: i32, key: usize, klen: i32, val: usize, vlen: i32): i32 {
  newKey = key; newKlen = klen; newVal = val; newVlen = vlen; newChild = 0;
  return splitPage(tree, p, at);
}

/** Root split: a new root over P (latched, ROOT, INCOMPLETE_SPLIT) and its right sibling. */
function newRoot(tree: u32, p: usize): i32 {
  const pg = stashTake();
  if (pg == 0) { pageUnlatchExclusive(p); return ENOMEM; }
  const nr = pageAddr(pg);
  const level = pLevel(p) + 1;
  pageInit(nr, pg, level, F_ROOT, tree);
  pageInsertInternal(nr, 0, 0, 0, pageNo(p));
  pageInsertInternal(nr, 1, pHighKey(p), pHighLen(p), pRight(p));
  // The meta latch comes after page latches (assembly/locks.ts); P (the old root) is held.
  const m = tableMeta(tree);
  latchExclusive(m + C_META_LATCH, Lock.META);
  atomic.store<u32>(m + C_ROOT_LEVEL, <u32>level);
  atomic.store<u32>(m + C_ROOT, pg);
  unlatchExclusive(m + C_META_LATCH);
  store<u32>(p, pFlags(p) & ~(F_ROOT | F_INCOMPLETE_SPLIT), P_FLAGS);
  pageUnlatchExclusive(p);
  atomic.add<u64>(m + C_ROOT_SPLITS, 1);
  return OK;
}

/**
 * Step 2: inserts the downlink for child c's split into its parent, climbing while parents split.
 * c is latched exclusively and INCOMPLETE_SPLIT; it is released on return. Returns OK, or
 * ENOMEM / ECORRUPT with the split left incomplete (a legal state, finished later).
 */
export function splitInsertParent(tree: u32, c: usize): i32 {
  while (true) {
    if ((pFlags(c) & F_ROOT) != 0) return newRoot(tree, c);
    const level = pLevel(c) + 1;
    // The parent: the page one level up holding c's downlink (parent.ts), found by c's high key
    // (the separator, inside c's old key space), latched; c stays latched.
    const q = findDownlink(tree, pageNo(c), level, pHighKey(c), pHighLen(c), DL_STOP_AT_INCOMPLETE | DL_REDESCEND);
    if (q == 0) {
      pageUnlatchExclusive(c);
      if (!ASC_NO_ASSERT) assert(false, "split: downlink to child not found");
      return ECORRUPT;
    }
    if (downlinkIndex < 0) {
      // The parent's own split is incomplete: let go of c (it stays incomplete, which is legal),
      // finish the parent's split as an operation of its own, then take c back and retry.
      pageUnlatchExclusive(c);
      const r = splitInsertParent(tree, q);
      if (r < 0) return r;
      pageLatchExclusive(c);
      if ((pFlags(c) & F_INCOMPLETE_SPLIT) == 0) { pageUnlatchExclusive(c); return OK; }
      continue;
    }
    const sep = pHighKey(c);
    const sepLen = pHighLen(c);
    const at = downlinkIndex + 1;
    if (pageMakeRoom(q, internalCellSize(sepLen) + SLOT, sTemp())) {
      pageInsertInternal(q, at, sep, sepLen, pRight(c));
      store<u32>(c, pFlags(c) & ~F_INCOMPLETE_SPLIT, P_FLAGS);
      pageUnlatchExclusive(c);
      pageUnlatchExclusive(q);
      return OK;
    }
    newKey = sep; newKlen = sepLen; newVal = 0; newVlen = 0; newChild = pRight(c);
    const r = splitPage(tree, q, at);
    if (r < 0) {
      pageUnlatchExclusive(q);
      pageUnlatchExclusive(c);
      return r;
    }
    store<u32>(c, pFlags(c) & ~F_INCOMPLETE_SPLIT, P_FLAGS);
    pageUnlatchExclusive(c);
    c = q;
  }
  return OK;
}

/**
 * Finishes the incomplete split of page p, which the caller latched (shared or exclusive) during
 * a descent. Releases p. Returns OK (finished, or someone else did) or the failure.
 */
export function splitFinishAt(tree: u32, p: usize, exclusive: bool): i32 {
  inject(INJECT_SPLIT_FINISH);
  if (!exclusive) {
    pageUnlatchShared(p);
    pageLatchExclusive(p);
    if ((pFlags(p) & F_INCOMPLETE_SPLIT) == 0) { pageUnlatchExclusive(p); return OK; }
  }
  return splitInsertParent(tree, p);
}
