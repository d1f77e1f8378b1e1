// Range scans, a batch per call (nbtsearch.c's _bt_readpage / _bt_steppage / _bt_walk_left).
//
// A scan batch latches one leaf (shared), copies the qualifying items into this thread's output
// area and releases it; a spanning batch (SCAN_SPAN) then goes on to the next leaf the same way,
// one latch at a time. Nothing is held between batches, so an idle cursor never blocks a
// writer. A batch without SCAN_SPAN has entries of one leaf.
//
// Resuming (nbtree's scan position, BTScanPosData, kept by the caller between calls). A batch
// ends with a resume record: the leaf it read, that leaf's recycle generation and version as they
// were under its latch, where in the leaf its entries start, how many, and the direction. The
// caller passes the record back as it is, with how many of its entries it has taken and the last
// of them as an exclusive start bound. A batch may span several leaves (SCAN_SPAN); its record
// names the last one and how many of the batch's entries came before that leaf (R_PRIOR): only a
// caller that has taken at least those can resume in the leaf; one that has taken fewer resumes
// by key. The core decides what still holds:
//
// - Entries remain after the taken ones and the leaf's version is unchanged (scanKept, a call of
//   its own that writes nothing): the next of them is still the true neighbour of the last one
//   taken, and the caller serves its next step from its copy. (No latch and no epoch: the leaf
//   is only compared, and an arena page stays mapped once handed out.)
// - The leaf is still this tree's live leaf of that generation (resumeLeaf, under its latch):
//   if its version is unchanged, the batch continues in it right after the taken entries
//   (forward: through its right link when none are left; backward: stepping left). If it
//   changed, a forward batch searches it by the last key and moves right as a search would
//   (the last key was in its key space, and key space only moves right); a backward batch
//   descends by the last key.
// - Otherwise (recycled, deleted, another tree, no record) the batch descends by the last key.
//
// So a scan returns every key present for its whole duration once, in order, and a positioned
// cursor's step returns the key next to its position when the step is made. The generation check
// matters because a record crosses calls outside any epoch: its leaf may have been deleted,
// recycled and reused since; the reclaimer takes the page latch (without waiting) to recycle.
//
// Forward, within a batch: when a leaf has nothing left to return it latches the right sibling
// and moves right from it as a search would. Keys present for the whole scan cannot be missed:
// every key above the previous page's high key was in the sibling or to its right when we read
// the previous page, and key space only moves right. A spanning batch (SCAN_SPAN) goes on into
// the sibling after entries of the page before, with the last key it emitted as the exclusive
// bound (a copy in the output area), exactly as the next batch would resume: the sibling may
// have taken over the previous page's key space since (page deletion), and keys inserted there
// after we read it must not come out of order.
//
// Backward: the batch descends to the leaf covering the bound and collects items below it. When
// that leaf has none, it steps left: it latches the left sibling and accepts it only if its
// right link still points back at the page just read; otherwise the left page has split since,
// and it moves right from it until it finds the page whose right link is ours (see walkLeft for
// deleted and half-dead pages). A spanning batch steps left the same way after entries of the
// page before (every key of the accepted left page lies below that page's key space); where
// walkLeft asks for a re-descent, the batch ends and the next one resumes by its last key.
//
// Spanning (SCAN_SPAN in lk_scan's flags) applies only with a positive limit: a batch then
// takes leaves until the output area is full, the limit is reached or the bound passed, which
// amortizes a call's fixed costs over thousands of entries instead of one leaf's. Without it
// (a positioned cursor's read-ahead, checkpoints' raw batches) a batch is at most one leaf.
//
// Output layout, the one definition of it (the bindings read these offsets and flags by name,
// once, from the exports in assembly/index.ts; bindings/core.ts ScanLayout):
//
//   offset  field                 meaning
//   0       u32 flags             SCAN_END: nothing lies beyond this batch in its direction (a
//                                 range stops; a positioned cursor asks again)
//   4       u32 bytes             bytes of entries
//   8       u32 last              where the last entry starts, counted from the first entry
//   12      resume record         SCAN_RESUME_SIZE bytes, passed back as they are:
//   12        u32 leaf              page number of the leaf the entries came from (0: none)
//   16        u32 gen               its recycle generation (P_GEN) then
//   20        u32 version           its version (P_VERSION) then
//   24        i32 first             index in the leaf of the first entry
//   28        u32 count             entries in this batch (SCAN_COUNT)
//   32        u32 reverse           1 for a backward batch
//   36        u32 prior             entries of this batch before those from the leaf
//   40      entries (SCAN_ENTRIES) [u16 klen][u16 vlen][key][value], in scan order (a leaf's
//                                 cells have this layout: each is copied whole)

import { pageAddr, pageNo, arenaHighWater, pageSize } from "../arena";
import { pageLatchShared, pageUnlatchShared, latchesHeld } from "../latch";
import {
  P_GEN, P_TREE, P_VERSION, P_UPPER, F_LEAF, F_FREE, F_DELETED, pFlags, pCount, pLeft, pRight, keyAddr, keyLen,
  cellAddr, pageSearchLeaf, searchFound, keyCompare,
} from "../page";
import { copyBytes } from "../bytes";
import { sOut, S_OUT_SIZE } from "../scratch";
import { descend, movesRight, checkLeftLink } from "./search";
import { columnsOn, columnsEmit, columnsStart, columnsLastKey, columnsLastKeyLen, COLUMNS_KEY_ENDS } from "./batch";
import { inject, INJECT_SCAN_BEFORE_NEXT_PAGE, INJECT_SCAN_STEP_LEFT, INJECT_MOVE_RIGHT } from "../inject";

/** A scan's start or end bound: none (from the first / to the last key). */
export const BOUND_NONE: i32 = 0;
/** A scan's bound, the key itself included. */
export const BOUND_INCLUSIVE: i32 = 1;
/** A scan's bound, the key itself left out. */
export const BOUND_EXCLUSIVE: i32 = 2;

/** Batch header: flags (SCAN_END), u32. Offsets are from S_OUT. */
export const SCAN_FLAGS: usize = 0;
/** Batch header: bytes of entries after SCAN_ENTRIES, u32. */
export const SCAN_BYTES: usize = 4;
/** Batch header: where the last entry starts, counted from the first entry, u32. */
export const SCAN_LAST: usize = 8;
/** Batch header: the resume record, SCAN_RESUME_SIZE bytes (whole words) a caller copies and passes back as they are. */
export const SCAN_RESUME: usize = 12;
// The resume record's fields, from SCAN_RESUME (the caller copies the record whole).
const R_LEAF: usize = 0;
const R_GEN: usize = 4;
const R_VERSION: usize = 8;
const R_FIRST: usize = 12;
const R_COUNT: usize = 16;
const R_REVERSE: usize = 20;
const R_PRIOR: usize = 24;
/** Bytes of the resume record. */
export const SCAN_RESUME_SIZE: usize = 28;
/** Batch header: the number of entries, u32 (a field of the resume record). */
export const SCAN_COUNT: usize = SCAN_RESUME + R_COUNT;
/** The first entry: [u16 klen][u16 vlen][key][value], in scan order. */
export const SCAN_ENTRIES: usize = SCAN_RESUME + SCAN_RESUME_SIZE;
/** Flag: nothing lies beyond this batch in its direction. */
export const SCAN_END: u32 = 1;
// @ts-ignore: compile-time ERROR
if (SCAN_ENTRIES > COLUMNS_KEY_ENDS) ERROR("scan.ts: the header overlaps the columns of a columnar batch (btree/batch.ts)");
/** lk_scan's `taken` for a call that passes no resume record (any negative value means none). */
export const SCAN_NO_RESUME: i32 = -1;
/** lk_scan's flags: a backward batch. */
export const SCAN_REVERSE: i32 = 1;
/** lk_scan's flags: with a positive limit, the batch may span leaves (until the output is full). */
export const SCAN_SPAN: i32 = 2;

let outPos: usize = 0;
let outCount: u32 = 0;
/** Where the last entry starts, from SCAN_ENTRIES. */
let outLastAt: usize = 0;

/**
 * Appends item i of leaf p; false when the output area is full. A leaf cell is laid out as an
 * output item ([u16 klen][u16 vlen][key][value], page.ts), so it is copied whole, inline.
 */
// @ts-ignore: decorator
@inline function emit(p: usize, i: i32): bool {
  // cursor.batches(): the entry goes to the columns instead (assembly/btree/batch.ts).
  if (columnsOn) {
    if (!columnsEmit(p, i, outCount)) return false;
    outCount++;
    return true;
  }
  const c = cellAddr(p, i);
  const need = <usize>4 + <usize>load<u16>(c) + <usize>load<u16>(c, 2);
  if (outPos + need > S_OUT_SIZE) return false;
  copyBytes(sOut() + outPos, c, need);
  outLastAt = outPos - SCAN_ENTRIES;
  outPos += need;
  outCount++;
  return true;
}

/** The last key the batch emitted, in the output area (a spanning batch's bound for the next leaf), and its length. */
function lastKeyAddr(): usize { return columnsOn ? columnsLastKey() : sOut() + SCAN_ENTRIES + outLastAt + 4; }
function lastKeyLen(): i32 { return columnsOn ? columnsLastKeyLen() : <i32>load<u16>(sOut() + SCAN_ENTRIES + outLastAt); }

/** The leaf the current batch reads, as the resume record names it: taken under the leaf's latch. */
let outLeaf: usize = 0;
let outLeafGen: u32 = 0;
let outLeafVersion: u32 = 0;
let outFirst: i32 = 0;
/** Entries of the batch before those of outLeaf. */
let outPrior: u32 = 0;

/** Where touchCells' loads go, so that no compiler drops them. */
let touched: u32 = 0;
/** Entries a batch must still want for touchCells to pay. */
const TOUCH_MIN: i32 = 32;

/**
 * Reads one byte of every cache line of latched leaf p's cell area, in address order, before the
 * batch copies its cells in key order (which is not their order in the page: cells are placed as
 * they are inserted). A sequential sweep is prefetched by the hardware and its loads overlap; the
 * copies that follow then hit the cache instead of waiting on a miss every second entry or so.
 */
function touchCells(p: usize): void {
  let sum: u32 = 0;
  const end = p + <usize>pageSize;
  for (let a = p + <usize>load<u32>(p, P_UPPER); a < end; a += 64) sum += <u32>load<u8>(a);
  touched += sum;
}

/** The batch starts reading latched leaf p at index i. */
// @ts-ignore: decorator
@inline function readingLeaf(p: usize, i: i32): void {
  outLeaf = p; outFirst = i; outPrior = outCount; outLeafGen = load<u32>(p, P_GEN); outLeafVersion = load<u32>(p, P_VERSION);
}

// @ts-ignore: decorator
@inline function batchStart(): void { outPos = SCAN_ENTRIES; outCount = 0; outLastAt = 0; outLeaf = 0; outPrior = 0; columnsStart(); }

/** Writes the header and the resume record (none when the batch is empty). */
function finish(flags: u32, reverse: bool): i32 {
  const o = sOut();
  store<u32>(o + SCAN_FLAGS, flags);
  store<u32>(o + SCAN_BYTES, <u32>(outPos - SCAN_ENTRIES));
  store<u32>(o + SCAN_LAST, <u32>outLastAt);
  const r = o + SCAN_RESUME;
  const named = outCount > 0 && outLeaf != 0;
  store<u32>(r + R_LEAF, named ? pageNo(outLeaf) : 0);
  store<u32>(r + R_GEN, named ? outLeafGen : 0);
  store<u32>(r + R_VERSION, named ? outLeafVersion : 0);
  store<i32>(r + R_FIRST, named ? outFirst : 0);
  store<u32>(r + R_COUNT, outCount);
  store<u32>(r + R_REVERSE, reverse ? 1 : 0);
  store<u32>(r + R_PRIOR, named ? outPrior : 0);
  return <i32>outCount;
}

/** Does item i of p lie beyond the end bound (in the scan's direction)? */
function pastEnd(p: usize, i: i32, end: usize, endLen: i32, endMode: i32, reverse: bool): bool {
  if (endMode == BOUND_NONE) return false;
  const c = keyCompare(keyAddr(p, i), keyLen(p, i), end, endLen);
  if (reverse) return endMode == BOUND_INCLUSIVE ? c < 0 : c <= 0;
  return endMode == BOUND_INCLUSIVE ? c > 0 : c >= 0;
}

/** The caller's record names no usable leaf, or it names one whose version changed. */
const BY_KEY: i32 = i32.MIN_VALUE;

/**
 * Does the caller's batch (its resume record at SCAN_RESUME, `taken` of its entries taken) still
 * serve the next step? True if entries remain after the taken ones and its leaf has the same
 * version, generation and tree. Writes nothing. Reads the leaf's header words without its latch
 * or an epoch: the version is loaded first, and while it is unchanged so is everything else in
 * the page (P_VERSION changes whenever the page changes).
 */
export function scanKept(tree: u32, reverse: bool, taken: i32): bool {
  const r = sOut() + SCAN_RESUME;
  const pg = load<u32>(r, R_LEAF);
  if (taken < 0 || <u32>taken >= load<u32>(r, R_COUNT) || <u32>taken < load<u32>(r, R_PRIOR) || pg == 0
    || pg >= arenaHighWater() || load<u32>(r, R_REVERSE) != (reverse ? 1 : 0)) return false;
  const p = pageAddr(pg);
  if (atomic.load<u32>(p + P_VERSION) != load<u32>(r, R_VERSION)
    || load<u32>(p, P_GEN) != load<u32>(r, R_GEN) || load<u32>(p, P_TREE) != tree) return false;
  return true;
}

/** Where resumeLeaf says the batch starts in its leaf, or BY_KEY. */
let resumeAt: i32 = BY_KEY;

/**
 * The leaf of the caller's resume record (`taken` of its entries taken; < 0: none), latched
 * shared, if it is still a live leaf of this tree of the same generation; else 0 (the batch
 * descends by key). Sets resumeAt: if the leaf's version is unchanged since the batch, the index
 * of the entry after the taken ones (forward: up to the leaf's count, past its last item;
 * backward: down to -1, before its first); BY_KEY if it changed.
 */
function resumeLeaf(tree: u32, reverse: bool, taken: i32): usize {
  resumeAt = BY_KEY;
  const r = sOut() + SCAN_RESUME;
  const pg = load<u32>(r, R_LEAF);
  if (taken < 0 || <u32>taken > load<u32>(r, R_COUNT) || <u32>taken < load<u32>(r, R_PRIOR) || pg == 0
    || pg >= arenaHighWater() || load<u32>(r, R_REVERSE) != (reverse ? 1 : 0)) return 0;
  const gen = load<u32>(r, R_GEN);
  const p = pageAddr(pg);
  pageLatchShared(p);
  const f = pFlags(p);
  // A deleted page is stale too: its right link was written at its unlink, possibly before this
  // call's epoch began, so the page it names may be recycled before we get there. (A half-dead
  // page is fine: its right link is still maintained, and a search moves right from it.)
  if (load<u32>(p, P_GEN) != gen || load<u32>(p, P_TREE) != tree || (f & F_LEAF) == 0 || (f & (F_FREE | F_DELETED)) != 0) {
    pageUnlatchShared(p);
    return 0;
  }
  if (load<u32>(p, P_VERSION) == load<u32>(r, R_VERSION)) {
    const first = load<i32>(r, R_FIRST);
    const own = taken - load<i32>(r, R_PRIOR); // entries taken from this leaf
    const at = reverse ? first - own : first + own;
    if (reverse ? at >= -1 && at < pCount(p) : at >= 0 && at <= pCount(p)) resumeAt = at;
  }
  return p;
}

/**
 * One forward batch. Start bound (key, mode): the caller's bound, or the last key it took
 * (exclusive) when it passes a resume record with `taken` >= 0; end bound (end, endMode).
 * Returns the number of items.
 */
export function scanForward(
  tree: u32, key: usize, klen: i32, mode: i32, end: usize, endLen: i32, endMode: i32, limit: i32, taken: i32, span: bool,
): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "scan: a reader starts holding a latch");
  let skLen = mode == BOUND_NONE ? 0 : klen; // the empty key sorts first: the leftmost leaf
  let p = resumeLeaf(tree, false, taken);
  let i = resumeAt;
  batchStart();
  if (p == 0) p = descend(tree, key, skLen, 0, 0);
  while (true) {
    if (i == BY_KEY) {
      // Move right as a search would (a leaf reached by a right link or a resume record may be
      // one whose key space has moved on, or a half-dead one).
      if (movesRight(p, pFlags(p), key, skLen, false)) { // the empty key (no start bound) never moves right by key
        const right = pRight(p);
        pageUnlatchShared(p);
        inject(INJECT_MOVE_RIGHT);
        p = pageAddr(right);
        pageLatchShared(p);
        continue;
      }
      i = skLen == 0 ? 0 : pageSearchLeaf(p, key, skLen);
      if (skLen > 0 && searchFound && mode == BOUND_EXCLUSIVE) i++;
    }
    const n = pCount(p);
    readingLeaf(p, i);
    if (limit <= 0 || limit - <i32>outCount >= TOUCH_MIN) touchCells(p);
    for (; i < n; i++) {
      if (pastEnd(p, i, end, endLen, endMode, false)) {
        pageUnlatchShared(p);
        return finish(SCAN_END, false);
      }
      if ((limit > 0 && <i32>outCount >= limit) || !emit(p, i)) {
        // Partial page: the record resumes in this page after the last entry returned.
        pageUnlatchShared(p);
        return finish(0, false);
      }
    }
    const right = pRight(p);
    pageUnlatchShared(p);
    if (right == 0) return finish(SCAN_END, false);
    if (outCount > 0) {
      if (!span || limit <= 0) return finish(0, false);
      // Spanning: on from the last key emitted, exclusive, as the next batch would resume.
      key = lastKeyAddr();
      skLen = lastKeyLen();
      mode = BOUND_EXCLUSIVE;
    }
    inject(INJECT_SCAN_BEFORE_NEXT_PAGE);
    p = pageAddr(right);
    pageLatchShared(p);
    i = BY_KEY;
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
  if (!ASC_NO_ASSERT) checkLeftLink(p);
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
/** Re-descents one backward batch makes before a debug build calls the left links broken. */
const WALK_LEFT_REDESCENTS: i32 = 1000;

/**
 * One backward batch: items below (or at, if inclusive) the start bound, in decreasing order.
 * Bounds and `taken` as for scanForward.
 */
export function scanBackward(
  tree: u32, key: usize, klen: i32, mode: i32, end: usize, endLen: i32, endMode: i32, limit: i32, taken: i32, span: bool,
): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "scan: a reader starts holding a latch");
  let p = resumeLeaf(tree, true, taken);
  let i = resumeAt;
  if (p != 0 && i == BY_KEY) { pageUnlatchShared(p); p = 0; } // changed: descend by the last key
  let redescents = 0;
  while (true) {
    batchStart();
    if (p == 0) {
      // Each re-descent follows a left step that found nothing to explain a left link whose page
      // does not lead back (walkLeft): transient while splits move the link, never this often.
      // A left link that stays wrong would loop here for ever; debug builds trap instead.
      if (!ASC_NO_ASSERT) assert(redescents++ < WALK_LEFT_REDESCENTS, "scan: stepping left re-descended WALK_LEFT_REDESCENTS times: a left link names a page whose right links never lead back");
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
    }
    while (true) {
      readingLeaf(p, i);
      if (limit <= 0 || limit - <i32>outCount >= TOUCH_MIN) touchCells(p);
      for (; i >= 0; i--) {
        if (pastEnd(p, i, end, endLen, endMode, true)) {
          pageUnlatchShared(p);
          return finish(SCAN_END, true);
        }
        if ((limit > 0 && <i32>outCount >= limit) || !emit(p, i)) {
          pageUnlatchShared(p);
          return finish(0, true);
        }
      }
      const spanning = outCount > 0;
      if (spanning && (!span || limit <= 0 || pLeft(p) == 0)) {
        const atStart = pLeft(p) == 0;
        pageUnlatchShared(p);
        return finish(atStart ? SCAN_END : 0, true);
      }
      const q = walkLeft(p);
      if (q == 0) return finish(SCAN_END, true);
      if (q == 1) {
        if (spanning) return finish(0, true); // the next batch resumes from its last key
        break; // re-descend
      }
      p = q;
      i = pCount(p) - 1;
    }
    p = 0;
  }
  return 0;
}
