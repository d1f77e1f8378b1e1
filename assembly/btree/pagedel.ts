// Page deletion, PostgreSQL-style (nbtpage.c's _bt_pagedel, _bt_mark_page_halfdead,
// _bt_unlink_halfdead_page; the 2014 rework, commit efada2b8e920). The protocol and why it is
// correct are in assembly/btree/README.md; in short:
//
// Deleting an empty leaf takes two stages, each a few latched steps, holding a constant number of
// latches at any height. Deleters of one tree are serialised by the tree's vacuum latch (one
// VACUUM per index); searches, inserts, splits and scans run concurrently with them.
//
// Stage 1 (one latched step). Holding the empty leaf exclusively, climb while the child is its
// parent's only child (those single-child parents join the doomed chain; they may be released,
// since an internal page gains entries only when a child splits, which the held empty leaf
// cannot). The first ancestor with other children is the subtree parent A. Holding A from the
// "not the rightmost child" check to the end of the step (releasing and re-latching it in between
// was the 2014 race: a split of A can make the chain's top A's rightmost child): point the
// downlink to the top of the chain at the top's right sibling, drop the right sibling's own
// downlink (so the top's key space passes to it), mark the leaf HALF_DEAD and store the top of
// the chain in it.
//
// Stage 2 (one page per step, top down). Latch the leaf (unless it is the target), the target's
// left sibling (moving right until its right link is the target), the target, and its right
// sibling; relink left <-> right, advance the leaf's chain pointer to the target's only child,
// mark the target DELETED with the current epoch, and hand it to the limbo list
// (assembly/epoch.ts), which recycles it once no operation can still hold a pointer to it. The
// last step unlinks the leaf itself.
//
// Every state between steps is legal: a half-dead leaf is skipped by searches (its key space now
// belongs to its right sibling), and the top of its chain is a page without a downlink that the
// verifier accepts because the half-dead leaf names it. An interrupted deletion is finished by the
// next compaction.

import { pageAddr, pageNo } from "../arena";
import {
  latchExclusive, unlatchExclusive, latchTryExclusive,
  pageLatchShared, pageUnlatchShared, pageLatchExclusive, pageUnlatchExclusive, pageUnlatchExclusiveUnchanged,
} from "../latch";
import { Lock } from "../locks";
import {
  P_FLAGS, P_LEFT, P_RIGHT, P_TREE, P_CHAIN, F_LEAF, F_ROOT, F_HALF_DEAD, F_DELETED, F_FREE,
  F_INCOMPLETE_SPLIT, F_IGNORE, pFlags, pLevel, pCount, pLeft, pRight, pHasHigh, pHighKey, pHighLen,
  childAt, cellAddr, pageDelete,
} from "../page";
import {
  tableMeta, tableRoot, C_META_LATCH, C_ROOT, C_ROOT_LEVEL, C_VACUUM_LATCH, C_DELETIONS, C_CAND, CANDIDATES,
} from "../catalog";
import { descend, levelLeftmost, levelNext, D_EXCLUSIVE, D_BELOW } from "./search";
import { epochStamp, epochRefresh, limboPush, limboReclaim } from "../epoch";
import { sKey2, sTemp, sOut } from "../scratch";
import { MAX_KEY, MAX_PAGE_SIZE } from "../limits";
import {
  inject, INJECT_PAGEDEL_PARENT_CHECKED, INJECT_PAGEDEL_HALFDEAD, INJECT_PAGEDEL_BEFORE_UNLINK, INJECT_PAGEDEL_LEFT_READ,
} from "../inject";
import { OK } from "../status";
import { findDownlink, downlinkIndex, DL_BELOW } from "./parent";

/** Result of a stage-2 step: the leaf itself is gone (the deletion is complete). */
const UNLINKED_LEAF: i32 = 1;
/** Result of a stage-2 step: one internal page of the chain is gone; more steps follow. */
const UNLINKED_INTERNAL: i32 = 0;

// ---- helpers ----

/**
 * Latches (exclusively) the live left sibling of page t: reads t's left link, then moves right
 * until the page whose right link is t (the left page may have split since). 0 if t is leftmost.
 * Left to right within t's level; the caller holds nothing on that level yet.
 */
function latchLeftOf(t: usize): usize {
  const tpg = pageNo(t);
  const left = atomic.load<u32>(t + P_LEFT);
  if (left == 0) return 0;
  inject(INJECT_PAGEDEL_LEFT_READ);
  let q = pageAddr(left);
  pageLatchExclusive(q);
  while (pRight(q) != tpg) {
    const r = pRight(q);
    if (!ASC_NO_ASSERT) assert(r != 0, "pagedel: left sibling chain does not reach the target");
    pageUnlatchExclusive(q);
    q = pageAddr(r);
    pageLatchExclusive(q);
  }
  return q;
}

/** Unlinks latched t from latched left (or 0) and right, and retires it. */
function unlinkLatched(tree: u32, left: usize, t: usize, right: usize): void {
  if (left != 0) store<u32>(left, pageNo(right), P_RIGHT);
  store<u32>(right, left != 0 ? pageNo(left) : 0, P_LEFT);
  // Links and items stay as they were: an operation still holding a pointer to t moves right
  // from it, or (the old root) descends through it, until the page is recycled.
  store<u32>(t, (pFlags(t) & ~(F_HALF_DEAD | F_ROOT)) | F_DELETED, P_FLAGS);
  epochStamp(t);
  atomic.add<u32>(tableMeta(tree) + C_DELETIONS, 1);
}

// ---- stage 2 ----

/**
 * One stage-2 step for the half-dead leaf `leafPg`: unlinks the top of its chain. Returns
 * UNLINKED_LEAF when the deletion is complete, UNLINKED_INTERNAL when more steps follow, or
 * EINJECTED (the deletion stays interrupted, a legal state).
 */
function unlinkStep(tree: u32, leafPg: u32): i32 {
  const p = pageAddr(leafPg);
  pageLatchExclusive(p);
  if ((pFlags(p) & F_HALF_DEAD) == 0) { pageUnlatchExclusive(p); return UNLINKED_LEAF; }
  const tpg = load<u32>(p, P_CHAIN);
  const r = inject(INJECT_PAGEDEL_BEFORE_UNLINK);
  if (r != OK) { pageUnlatchExclusive(p); return r; }
  if (tpg == leafPg) {
    // The last step: the leaf itself, between its left and right siblings (left first).
    pageUnlatchExclusive(p);
    const left = latchLeftOf(p);
    pageLatchExclusive(p);
    const right = pageAddr(pRight(p));
    pageLatchExclusive(right);
    unlinkLatched(tree, left, p, right);
    pageUnlatchExclusive(right);
    pageUnlatchExclusive(p);
    if (left != 0) pageUnlatchExclusive(left);
    limboPush(leafPg);
    return UNLINKED_LEAF;
  }
  // An internal page of the chain: leaf (held), then left, target, right on the target's level.
  const t = pageAddr(tpg);
  const left = latchLeftOf(t);
  pageLatchExclusive(t);
  const right = pageAddr(pRight(t));
  pageLatchExclusive(right);
  if (!ASC_NO_ASSERT) assert(pCount(t) == 1 && (pFlags(t) & F_LEAF) == 0, "pagedel: chain page is not a single-child internal page");
  store<u32>(p, childAt(t, 0), P_CHAIN);
  unlinkLatched(tree, left, t, right);
  pageUnlatchExclusive(right);
  pageUnlatchExclusive(t);
  if (left != 0) pageUnlatchExclusive(left);
  pageUnlatchExclusive(p);
  limboPush(tpg);
  return UNLINKED_INTERNAL;
}

/** Runs stage 2 to the end. Returns the pages unlinked, or EINJECTED. */
function unlinkChain(tree: u32, leafPg: u32): i32 {
  let pages = 0;
  while (true) {
    const r = unlinkStep(tree, leafPg);
    if (r < 0) return r;
    pages++;
    if (r == UNLINKED_LEAF) return pages;
  }
  return pages;
}

// ---- stage 1 ----

/**
 * Deletes leaf `pg` if it is (still) an empty, deletable leaf of `tree`. Returns the number of
 * pages deleted (0: skipped, a precondition failed) or EINJECTED. The caller holds the tree's
 * vacuum latch and no page latch.
 */
export function pagedelLeaf(tree: u32, pg: u32): i32 {
  // Read the leaf's high key; that is how the descent finds it and its parents.
  const p = pageAddr(pg);
  pageLatchShared(p);
  const f = pFlags(p);
  let hlen = pHasHigh(p) ? pHighLen(p) : 0;
  const candidate = load<u32>(p, P_TREE) == tree && (f & F_LEAF) != 0
    && (f & (F_FREE | F_IGNORE | F_ROOT | F_INCOMPLETE_SPLIT)) == 0
    && pCount(p) == 0 && pRight(p) != 0 && hlen > 0 && hlen <= MAX_KEY;
  const key = sKey2();
  if (candidate) memory.copy(key, pHighKey(p), <usize>hlen);
  pageUnlatchShared(p);
  if (!candidate) return 0;

  const q = descend(tree, key, hlen, 0, D_EXCLUSIVE | D_BELOW);
  if (q != p) { pageUnlatchExclusive(q); return 0; }
  // Preconditions, under the leaf's exclusive latch: empty, not the root, not the rightmost
  // page of its level, no incomplete split of its own, right sibling not half-dead.
  const rpg = pRight(p);
  if (pCount(p) != 0 || (pFlags(p) & (F_ROOT | F_INCOMPLETE_SPLIT | F_IGNORE)) != 0 || rpg == 0) {
    pageUnlatchExclusive(p);
    return 0;
  }
  const rs = pageAddr(rpg);
  pageLatchShared(rs); // left to right
  const rightHalfDead = (pFlags(rs) & F_HALF_DEAD) != 0;
  pageUnlatchShared(rs);
  if (rightHalfDead) { pageUnlatchExclusive(p); return 0; }

  // Climb to the subtree parent.
  let child = pg;
  let top = pg;
  let level = 1;
  while (true) {
    // The page one level up holding child's downlink (parent.ts), found by the leaf's high key:
    // the end of the key space of the whole chain below it.
    const a = findDownlink(tree, child, level, key, hlen, DL_BELOW);
    if (a == 0) { pageUnlatchExclusive(p); return 0; } // no downlink yet: an incomplete split's right half
    const n = pCount(a);
    if (n == 1) {
      // `a` has only the chain below it: it joins the doomed chain, unless it is the root or its
      // own split is incomplete (then its right neighbour at this level has no downlink in the
      // next parent up, and key space could not pass to it).
      if ((pFlags(a) & (F_ROOT | F_INCOMPLETE_SPLIT)) != 0) {
        pageUnlatchExclusive(a);
        pageUnlatchExclusive(p);
        return 0;
      }
      top = pageNo(a);
      child = top;
      level++;
      pageUnlatchExclusive(a);
      continue;
    }
    const idx = downlinkIndex;
    // The check that makes the key-space transfer legal: the top's right sibling has its
    // downlink right after the top's, in this same page. `a` stays latched from here to the end
    // of stage 1, so no split of `a` can move that downlink away.
    if (idx == n - 1) {
      pageUnlatchExclusive(a);
      pageUnlatchExclusive(p);
      return 0;
    }
    const r = inject(INJECT_PAGEDEL_PARENT_CHECKED);
    if (r != OK) {
      pageUnlatchExclusive(a);
      pageUnlatchExclusive(p);
      return r;
    }
    // Stage 1: the top's downlink now points at its right sibling, whose own downlink goes.
    store<u32>(cellAddr(a, idx), childAt(a, idx + 1), 4);
    pageDelete(a, idx + 1);
    store<u32>(p, pFlags(p) | F_HALF_DEAD, P_FLAGS);
    store<u32>(p, top, P_CHAIN);
    pageUnlatchExclusive(a);
    pageUnlatchExclusive(p);
    break;
  }
  const r = inject(INJECT_PAGEDEL_HALFDEAD);
  if (r != OK) return r;
  return unlinkChain(tree, pg);
}

// ---- the tree shrinks ----

/** While the root is an internal page with a single child, makes that child the root. */
function shrinkRoot(tree: u32): i32 {
  let shrunk = 0;
  const m = tableMeta(tree);
  while (true) {
    const rootPg = tableRoot(tree);
    const r = pageAddr(rootPg);
    pageLatchShared(r);
    const candidate = pLevel(r) > 0 && pCount(r) == 1 && (pFlags(r) & (F_INCOMPLETE_SPLIT | F_IGNORE)) == 0;
    const childPg = candidate ? childAt(r, 0) : 0;
    pageUnlatchShared(r);
    if (!candidate) break;
    // Bottom-up: the child, then the root, then the meta latch last.
    const c = pageAddr(childPg);
    pageLatchExclusive(c);
    pageLatchExclusive(r);
    const ok = tableRoot(tree) == rootPg && pCount(r) == 1 && childAt(r, 0) == childPg
      && (pFlags(r) & (F_ROOT | F_INCOMPLETE_SPLIT | F_IGNORE)) == F_ROOT
      && pLeft(c) == 0 && pRight(c) == 0 && (pFlags(c) & (F_INCOMPLETE_SPLIT | F_IGNORE)) == 0;
    if (ok) {
      latchExclusive(m + C_META_LATCH, Lock.META);
      atomic.store<u32>(m + C_ROOT_LEVEL, <u32>pLevel(c));
      atomic.store<u32>(m + C_ROOT, childPg);
      unlatchExclusive(m + C_META_LATCH);
      store<u32>(c, pFlags(c) | F_ROOT, P_FLAGS);
      // The old root keeps its one downlink: a descent that read it before goes through it.
      store<u32>(r, (pFlags(r) & ~F_ROOT) | F_DELETED, P_FLAGS);
      epochStamp(r);
      atomic.add<u32>(m + C_DELETIONS, 1);
    }
    pageUnlatchExclusive(r);
    pageUnlatchExclusive(c);
    if (!ok) break;
    limboPush(rootPg);
    shrunk++;
  }
  return shrunk;
}

// ---- drivers ----

/** Leaves collected per pass of a compaction walk (the staging page holds them as u32). */
const COLLECT_MAX: i32 = MAX_PAGE_SIZE >> 2;

/**
 * Walks the leaf level and records in the staging area the leaves to work on: half-dead ones
 * (`halfDead`) or empty, live, non-rightmost ones. Returns how many.
 */
function collectLeaves(tree: u32, halfDead: bool): i32 {
  const list = sTemp();
  let n = 0;
  let p = levelLeftmost(tree, 0);
  for (; p != 0 && n < COLLECT_MAX; p = levelNext(p)) {
    const f = pFlags(p);
    const want = halfDead ? (f & F_HALF_DEAD) != 0 : ((f & F_IGNORE) == 0 && pCount(p) == 0 && pRight(p) != 0);
    if (want) { store<u32>(list + (<usize>n << 2), pageNo(p)); n++; }
  }
  if (p != 0) pageUnlatchShared(p); // the list is full: stop the walk here
  return n;
}

// What pagedelCompact leaves at S_OUT (u32 fields; session.compact's CompactResult):
export const COMPACT_DELETED: usize = 0;  // pagesDeleted
export const COMPACT_FINISHED: usize = 4; // halfDeadFinished
export const COMPACT_RECYCLED: usize = 8; // pagesRecycled

/**
 * session.compact: finishes interrupted deletions, deletes every empty leaf it can, shrinks the
 * root, and recycles what the limbo list allows. Writes the COMPACT_* fields to the output area.
 * Returns OK or EINJECTED.
 */
export function pagedelCompact(tree: u32): i32 {
  const vacuum = tableMeta(tree) + C_VACUUM_LATCH;
  latchExclusive(vacuum, Lock.VACUUM);
  let deleted = 0;
  let finished = 0;
  let status = OK;
  // 1. Interrupted deletions.
  const nHalf = collectLeaves(tree, true);
  for (let i = 0; i < nHalf && status == OK; i++) {
    epochRefresh();
    const r = unlinkChain(tree, load<u32>(sTemp() + (<usize>i << 2)));
    if (r < 0) status = r; else { deleted += r; finished++; }
  }
  // 2. Empty leaves, in passes while a pass makes progress (a full staging list means more).
  while (status == OK) {
    epochRefresh();
    const n = collectLeaves(tree, false);
    let progress = 0;
    for (let i = 0; i < n && status == OK; i++) {
      epochRefresh();
      const r = pagedelLeaf(tree, load<u32>(sTemp() + (<usize>i << 2)));
      if (r < 0) status = r; else if (r > 0) { deleted += r; progress++; }
    }
    if (n < COLLECT_MAX || progress == 0) break;
  }
  if (status == OK) deleted += shrinkRoot(tree);
  unlatchExclusive(vacuum);
  epochRefresh();
  const recycled = limboReclaim(0x7fffffff);
  const o = sOut();
  store<u32>(o + COMPACT_DELETED, <u32>deleted);
  store<u32>(o + COMPACT_FINISHED, <u32>finished);
  store<u32>(o + COMPACT_RECYCLED, <u32>recycled);
  return status;
}

/**
 * A remove emptied leaf `pg`: note it as a deletion candidate and, unless another deleter of this
 * tree is busy, delete the candidates at once (the remover never waits for the vacuum latch).
 * The caller holds no latch. Returns the pages deleted.
 *
 * Candidates sit in a small ring of slots in the catalog entry. A remover pushes its leaf, then
 * tries the vacuum latch; whoever holds it drains the ring and, after releasing it, looks at the
 * ring again, so a candidate pushed while the latch was busy is not forgotten. A full ring drops
 * the candidate: the next compaction still finds the empty leaf.
 */
export function pagedelNoteEmpty(tree: u32, pg: u32): i32 {
  const ring = tableMeta(tree) + C_CAND;
  for (let k = 0; k < CANDIDATES; k++) {
    if (atomic.cmpxchg<u32>(ring + (<usize>k << 2), 0, pg) == 0) break;
  }
  const vacuum = tableMeta(tree) + C_VACUUM_LATCH;
  let deleted = 0;
  while (latchTryExclusive(vacuum, Lock.VACUUM)) {
    for (let k = 0; k < CANDIDATES; k++) {
      const c = atomic.xchg<u32>(ring + (<usize>k << 2), 0);
      if (c == 0) continue;
      // The remove is done and holds no page pointer: re-announce the current epoch, or this
      // thread's own older epoch would keep every page it deletes here from being recycled.
      epochRefresh();
      const r = pagedelLeaf(tree, c);
      if (r > 0) deleted += r;
    }
    unlatchExclusive(vacuum);
    if (!candidatesPending(ring)) break;
  }
  if (deleted > 0) {
    epochRefresh();
    limboReclaim(CANDIDATES);
  }
  return deleted;
}

function candidatesPending(ring: usize): bool {
  for (let k = 0; k < CANDIDATES; k++) if (atomic.load<u32>(ring + (<usize>k << 2)) != 0) return true;
  return false;
}
