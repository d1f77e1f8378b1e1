// Search: descending the B-link tree and moving right (Lehman & Yao; nbtsearch.c).
//
// A descent reads the root from the tree's meta area, then at each level visits one page, moves
// right while the key is at or above the page's high key (or the page is half-dead or deleted),
// and picks the downlink. Pages above the target level are read optimistically (a version check,
// no latch written; see optimisticStep); the target page, and any page a writer holds, is
// latched, one latch at a time, never waiting while holding one. That is safe because a page's key space
// only ever moves right: a split moves the upper half to a new right sibling, so whatever the
// child looked like when we read its downlink, the key is in it or somewhere to its right.
//
// Writers descend the same way with shared latches and take the exclusive latch only at the
// target level. The page numbers passed on the way down are recorded in the per-thread stack,
// which a split uses to find the parent again (moving right from the recorded page).

import { pageAddr, pageNo, pageSize } from "../arena";
import { pageLatch, pageUnlatch, pageLatchShared, pageUnlatchShared, latchesHeld, latchHeldExclusive } from "../latch";
import { splitFinishAt } from "./split";
import {
  P_LATCH, P_VERSION, F_IGNORE, F_DELETED, F_INCOMPLETE_SPLIT, pFlags, pLevel, pRight, pLeft, keyAtOrAboveHigh, pageSearchInternal, pageSearchLeaf,
  childAt, searchFound, valAddr, valLen, keyAboveHigh, pageSearchInternalBelow, pCount,
} from "../page";
import { tableRoot } from "../catalog";
import { stackSet } from "../scratch";
import { VALUE_SHIFT } from "../limits";
import { copyBytes } from "../bytes";
import {
  inject, INJECT_SEARCH_BEFORE_CHILD, INJECT_MOVE_RIGHT, INJECT_SCAN_STEP_LEFT, INJECT_OPTIMISTIC_CHILD, INJECT_OPTIMISTIC_LEAF,
} from "../inject";
import { NOTFOUND } from "../status";

/** Per thread: level of the root when the last descent started (the stack is valid up to it). */
export let stackTop: i32 = 0;

/**
 * Does the search for `key` continue on p's right sibling? It does when p is half-dead or deleted
 * (its key space passed right) or the key is at or above p's high key (with `below`: above it).
 * False on the rightmost page. The caller has p latched, or validates an optimistic read.
 */
// @ts-ignore: decorator
@inline export function movesRight(p: usize, flags: u32, key: usize, klen: i32, below: bool): bool {
  return movesRightPast(p, flags, key, klen, below, true);
}

/**
 * movesRight for a caller that has searched p already: `past` says whether the search put the key
 * past p's last item (internal: the last downlink; leaf: after the last item). Every item of a
 * page is below its high key, so a key at or before an item is below the high key too, and the
 * high key (a cell of its own elsewhere in the page: one more cache line per level) is compared
 * only for a key past the last item.
 */
// @ts-ignore: decorator
@inline export function movesRightPast(p: usize, flags: u32, key: usize, klen: i32, below: bool, past: bool): bool {
  return pRight(p) != 0
    && ((flags & F_IGNORE) != 0 || (past && (below ? keyAboveHigh(p, key, klen) : keyAtOrAboveHigh(p, key, klen))));
}

/** Per thread: why the last descent returned 0 (a status < 0). */
export let descendError: i32 = 0;

/** Descent flags. */
export const D_EXCLUSIVE: i32 = 1; // latch the target page exclusively
export const D_FINISH: i32 = 2;    // finish incomplete splits on the way (inserts)
export const D_BELOW: i32 = 4;     // find the page holding keys just *below* `key` (page deletion:
                                   // `key` is a page's high key, and that page is the target)
export const D_UNLATCHED: i32 = 8; // return the target page unlatched: the caller reads it
                                   // optimistically (btreeGet), and descends again if that fails

/**
 * Descends to the page at `level` covering `key` and returns it latched (exclusive with
 * D_EXCLUSIVE; not at all with D_UNLATCHED, and then it may be a page left of the one covering
 * `key`: the caller moves right). Records the pages passed on the way in the descent stack.
 *
 * With D_BELOW the downlink followed is the last one whose separator is strictly below `key`,
 * and moving right stops at a page whose high key equals `key`.
 *
 * With D_FINISH, the descent is for an insert: like nbtree's _bt_moveright with forupdate, any
 * page it lands on whose split is incomplete gets that split finished first (so an insert never
 * lands in, or splits, the right half of an incomplete split, which has no downlink yet). Then
 * the descent restarts from the root. On failure to finish (ENOMEM) it returns 0 with
 * descendError set, holding no latch.
 */
export function descend(tree: u32, key: usize, klen: i32, level: i32, flags: i32): usize {
  const exclusive = (flags & D_EXCLUSIVE) != 0;
  const finish = (flags & D_FINISH) != 0;
  const below = (flags & D_BELOW) != 0;
  const unlatched = (flags & D_UNLATCHED) != 0;
  while (true) {
    let restart = false;
    let p = pageAddr(tableRoot(tree));
    // A page's level is fixed while it is live, and the epoch keeps it live during the descent.
    stackTop = pLevel(p);
    while (true) {
      const lvl = pLevel(p);
      if (lvl > level) {
        // Above the target level: read the page optimistically, writing nothing shared.
        const next = optimisticStep(p, key, klen, below, finish);
        if (next != 0) {
          if (optimisticDown) {
            stackSet(lvl, pageNo(p));
            inject(INJECT_SEARCH_BEFORE_CHILD);
          } else {
            inject(INJECT_MOVE_RIGHT);
          }
          p = pageAddr(next);
          continue;
        }
      } else if (unlatched) {
        return p;
      }
      // The target level, or a page a writer holds or changed under us: one latched step.
      const ex = exclusive && lvl == level;
      pageLatch(p, ex);
      const pf = pFlags(p);
      if (finish && (pf & F_INCOMPLETE_SPLIT) != 0) {
        const r = splitFinishAt(tree, p, ex);
        if (r < 0) { descendError = r; return 0; }
        restart = true;
        break;
      }
      if (movesRight(p, pf, key, klen, below)) {
        const right = pRight(p);
        pageUnlatch(p, ex);
        inject(INJECT_MOVE_RIGHT);
        p = pageAddr(right);
        continue;
      }
      if (lvl <= level) return p;
      const child = childAt(p, below ? pageSearchInternalBelow(p, key, klen) : pageSearchInternal(p, key, klen));
      stackSet(lvl, pageNo(p));
      pageUnlatchShared(p);
      inject(INJECT_SEARCH_BEFORE_CHILD);
      p = pageAddr(child);
    }
    if (!restart) break;
  }
  return 0;
}

/**
 * The validation of an optimistic read of page p that began by loading `version` with no writer
 * holding the latch: still no writer holds it, and the version has not moved (optimisticStep).
 */
// @ts-ignore: decorator
@inline function readValid(p: usize, version: u32): bool {
  return !latchHeldExclusive(p + P_LATCH) && atomic.load<u32>(p + P_VERSION) == version;
}

/** Per thread: did the last successful optimisticStep go down (true) or right (false)? */
let optimisticDown: bool = false;
/** Validation failures tolerated before a page is visited with its latch. */
const OPTIMISTIC_TRIES: i32 = 3;

/**
 * Optimistic lock coupling for an internal page (Leis et al., "The ART of practical
 * synchronization"): read the page's version with no writer holding its latch, decide where to
 * go (right sibling or child), then check that still no writer holds the latch and the version
 * has not moved. Nothing shared is written, so concurrent readers do not contend on the hot
 * upper pages.
 *
 * Why an accepted read is consistent. Every change to a page happens under its exclusive latch,
 * whose release stores version + 1 and then frees the latch word, both sequentially consistent
 * atomics (assembly/latch.ts, pageUnlatchExclusive: by mechanism, the one way to release it).
 * Take all these atomics in their one total order. The reader does (a) load version = v, (b) latch
 * free, the plain reads, (d) latch free, (e) load version = v. A writer W does A (acquire),
 * its plain changes, B (version + 1), R (free); A < B < R. Neither (b) nor (d) lies between A
 * and R (both saw the latch free), which leaves three cases:
 *  - R < (b): then B < (a), or else (a) < B < (e) and (e) would not read v. So W finished
 *    before the reads began, and (b), reading the word W freed (or a later release of it),
 *    synchronizes with R: the plain reads see all of W's changes.
 *  - (b) < A and R < (d): then (a) < B < (e), and (e) does not read v: rejected.
 *  - (d) < A: W begins after the reads. This case also relies on the plain reads being done
 *    before (d), which Wasm's memory model does not promise for non-atomic loads: x86 (TSO)
 *    keeps loads in order; a weakly ordered CPU would need a read fence before (d) (Wasm has only
 *    the full atomic.fence), as any seqlock reader does.
 * So an accepted read saw each writer's changes entirely or not at all. (The version must move
 * before the latch is freed: with R < B, the second case could accept a read that overlapped W.)
 * A release that keeps the version (pageUnlatchExclusiveUnchanged) is one whose writer changed
 * nothing, which debug builds check against the page's bytes: the cases hold with no changes.
 *
 * While a writer changes the page, the reads in between may see garbage: every address they form
 * stays within the page plus 2 x 64 KiB (u16 offsets and lengths), which the arena keeps mapped
 * (assembly/arena.ts, ARENA_GUARD), and any result is thrown away by the validation.
 *
 * Returns the page number to go to, or 0 to visit the page with its latch (a writer holds it, it
 * kept changing, or it has an incomplete split to finish).
 */
function optimisticStep(p: usize, key: usize, klen: i32, below: bool, finish: bool): u32 {
  for (let tries = 0; tries < OPTIMISTIC_TRIES; tries++) {
    const version = atomic.load<u32>(p + P_VERSION);
    if (latchHeldExclusive(p + P_LATCH)) return 0;
    const pf = pFlags(p);
    if (finish && (pf & F_INCOMPLETE_SPLIT) != 0) return 0;
    let next: u32;
    let down = false;
    const i = below ? pageSearchInternalBelow(p, key, klen) : pageSearchInternal(p, key, klen);
    if (movesRightPast(p, pf, key, klen, below, i == pCount(p) - 1)) {
      next = pRight(p);
    } else {
      // A change of p from here to the validation (a test parks here) must move its version.
      inject(INJECT_OPTIMISTIC_CHILD);
      next = childAt(p, i);
      down = true;
    }
    if (readValid(p, version) && next != 0) {
      optimisticDown = down;
      return next;
    }
  }
  return 0;
}

/**
 * Debug check before a step left from page p, which is live and latched shared: its left link
 * never names a deleted page. An unlink relinks its right sibling's left link in the same latched
 * step that marks it DELETED (pagedel.ts, unlinkLatched), and while p is latched its left
 * neighbour cannot be unlinked (that needs p exclusively), so the flag, read without that page's
 * latch, cannot change under the check. A stale left link would send every step left from p back
 * to p for ever. The trap comes after p's latch is released, so that other threads see the
 * failure instead of waiting on p.
 */
export function checkLeftLink(p: usize): void {
  const left = pLeft(p);
  if (left == 0 || (pFlags(pageAddr(left)) & F_DELETED) == 0) return;
  pageUnlatchShared(p);
  assert(false, "search: a live page's left link names a deleted page");
}

/**
 * The leftmost page of `level`, latched shared. A descent by the empty key reaches the page that
 * owns minus infinity; pages left of it can only be half-dead or chain tops of an interrupted
 * deletion (their key space already passed right), so it steps left over them to the true first
 * page of the level, one latch at a time.
 */
export function levelLeftmost(tree: u32, level: i32): usize {
  while (true) {
    let p = descend(tree, 0, 0, level, 0);
    while (pLeft(p) != 0 && (pFlags(p) & F_DELETED) == 0) {
      if (!ASC_NO_ASSERT) checkLeftLink(p);
      const left = pLeft(p);
      pageUnlatchShared(p);
      inject(INJECT_SCAN_STEP_LEFT);
      p = pageAddr(left);
      pageLatchShared(p);
    }
    // A page unlinked while we stepped onto it is no page of the level any more: start again.
    if ((pFlags(p) & F_DELETED) == 0) return p;
    pageUnlatchShared(p);
  }
  return 0;
}

/**
 * The next page of a level walk: releases latched page p and returns its right sibling latched
 * shared, or 0 after the rightmost page. Walks go `for (p = levelLeftmost(..); p != 0; p = levelNext(p))`.
 */
export function levelNext(p: usize): usize {
  const right = pRight(p);
  pageUnlatchShared(p);
  if (right == 0) return 0;
  const r = pageAddr(right);
  pageLatchShared(r);
  return r;
}

/**
 * Point lookup: copies the value to `dst` (in this thread's private output area: lk_get's value,
 * or a getMany slot) and returns its length, or NOTFOUND. `dst` must have room for the largest
 * value (pageSize >> VALUE_SHIFT).
 *
 * The leaf is read optimistically too, as optimisticStep reads an internal page (its comment has
 * the argument): version, latch free, the search and the copy of the value into this thread's
 * private output area, then the validation. A lookup then writes nothing shared, not even the
 * leaf's latch word (two atomic read-modify-writes on a line every reader of the leaf shares).
 * An accepted read saw the leaf as it was between two exclusive holders, at the moment of its
 * first latch check: the lookup takes effect there, as a latched one takes effect under its
 * latch. A read that fails validation may have copied garbage into the output area, which is
 * private and rewritten by the next try; garbage never forms an address outside the page plus
 * 2 x 64 KiB (u16 offsets and lengths) plus the largest value (the length is checked against
 * it before the copy, which reads only the bytes it copies: assembly/bytes.ts), inside the arena's guard (assembly/arena.ts, ARENA_GUARD). The epoch keeps
 * the leaf from being recycled meanwhile (a deleted leaf is stepped over to the right, as under
 * the latch). After OPTIMISTIC_TRIES failures, or at once if a writer holds the leaf, the lookup
 * descends again and reads the leaf under its shared latch (btreeGetLatched).
 */
export function btreeGet(tree: u32, key: usize, klen: i32, dst: usize): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "search: a reader starts holding a latch");
  let p = descend(tree, key, klen, 0, D_UNLATCHED);
  const maxValue = <i32>pageSize >> VALUE_SHIFT;
  for (let tries = 0; tries < OPTIMISTIC_TRIES; ) {
    const version = atomic.load<u32>(p + P_VERSION);
    if (latchHeldExclusive(p + P_LATCH)) break;
    const i = pageSearchLeaf(p, key, klen);
    const found = searchFound;
    if (movesRightPast(p, pFlags(p), key, klen, false, !found && i == pCount(p))) {
      const right = pRight(p);
      if (readValid(p, version) && right != 0) {
        inject(INJECT_MOVE_RIGHT);
        p = pageAddr(right);
      } else {
        tries++;
      }
      continue;
    }
    let r = NOTFOUND;
    if (found) {
      r = valLen(p, i);
      const from = valAddr(p, i);
      // A change of the leaf from here to the validation (a test parks here) must move its version.
      inject(INJECT_OPTIMISTIC_LEAF);
      if (r > maxValue) { tries++; continue; } // a torn read: no value is that long
      copyBytes(dst, from, <usize>r);
    }
    if (readValid(p, version)) return r;
    tries++;
  }
  return btreeGetLatched(tree, key, klen, dst);
}

/** btreeGet under the leaf's shared latch, from a new descent. */
function btreeGetLatched(tree: u32, key: usize, klen: i32, dst: usize): i32 {
  const p = descend(tree, key, klen, 0, 0);
  const i = pageSearchLeaf(p, key, klen);
  let r = NOTFOUND;
  if (searchFound) {
    r = valLen(p, i);
    copyBytes(dst, valAddr(p, i), <usize>r);
  }
  pageUnlatchShared(p);
  return r;
}
