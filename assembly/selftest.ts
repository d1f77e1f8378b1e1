// Hooks for unit tests of the latch and the page allocator, driven from several workers.
// They use a test area in the superblock that nothing else touches.

import { SB, pageAlloc, pageFree, pageAddr, pageNo } from "./arena";
import { P_RIGHT, F_LEAF, pFlags, pCount, pRight, pHasHigh, pHighKey, pHighLen, pageInit } from "./page";
import { levelLeftmost, levelNext } from "./btree/search";
import { sOut, S_OUT_SIZE } from "./scratch";
import {
  latchShared, latchExclusive, unlatchShared, unlatchExclusive, latchTryExclusive, pageUnlatchShared,
  pageLatchShared, pageLatchExclusive, pageUnlatchExclusiveUnchanged,
} from "./latch";
import { Lock } from "./locks";

/** A 256-byte area of the superblock reserved for these tests. */
export const TEST_AREA: usize = 1024;

export function selftestArea(): usize { return SB + TEST_AREA; }

/**
 * n rounds of: exclusive latch on `w`, a deliberately non-atomic read-modify-write of the two
 * words after it, with a loop between the two stores so that a missing exclusion shows.
 */
export function selftestWriter(w: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    latchExclusive(w, Lock.SELFTEST);
    const v = load<u32>(w, 4);
    store<u32>(w, v + 1, 4);
    let spin: u32 = 0;
    for (let k = 0; k < 50; k++) spin += <u32>k;
    store<u32>(w, v + 1 + (spin & 0), 8);
    unlatchExclusive(w);
  }
}

/** n rounds of a shared latch on `w`, counting reads that saw a torn writer (words differ). */
export function selftestReader(w: usize, n: i32): i32 {
  let torn = 0;
  for (let i = 0; i < n; i++) {
    latchShared(w, Lock.SELFTEST);
    if (load<u32>(w, 4) != load<u32>(w, 8)) torn++;
    unlatchShared(w);
  }
  return torn;
}

export function selftestTryExclusive(w: usize): i32 { return latchTryExclusive(w, Lock.SELFTEST) ? 1 : 0; }
export function selftestUnlatchExclusive(w: usize): void { unlatchExclusive(w); }
export function selftestLatchShared(w: usize): void { latchShared(w, Lock.SELFTEST); }
export function selftestUnlatchShared(w: usize): void { unlatchShared(w); }

/**
 * Misuses the locks on purpose, for the tests that debug builds catch each misuse (and name the
 * locks): 0, a lock taken while holding one later in the lock table (the catalog latch's rank
 * while holding a meta latch's, on two test-area words); 1, a page latch taken top-down (a level-0
 * page while holding a level-1 page); 2, right to left within a level (a page while holding its
 * right neighbour); 3, a page changed under its exclusive latch and released without moving its
 * version. Pages come from the allocator, outside any tree. Debug builds trap; release builds,
 * which check nothing, return -1 without doing anything.
 */
export function selftestLockMisuse(which: i32): i32 {
  if (ASC_NO_ASSERT) return -1;
  if (which == 0) {
    latchExclusive(SB + TEST_AREA + 192, Lock.META);
    latchExclusive(SB + TEST_AREA + 196, Lock.CATALOG);
    return 0;
  }
  const a = pageAlloc();
  const b = pageAlloc();
  if (a == 0 || b == 0) return -1;
  const pa = pageAddr(a);
  const pb = pageAddr(b);
  if (which == 1) {
    pageInit(pa, a, 1, 0, 0);
    pageInit(pb, b, 0, F_LEAF, 0);
    pageLatchShared(pa);
    pageLatchShared(pb);
  } else if (which == 2) {
    pageInit(pa, a, 0, F_LEAF, 0);
    pageInit(pb, b, 0, F_LEAF, 0);
    store<u32>(pa, b, P_RIGHT); // a, then b: b is a's right neighbour
    pageLatchShared(pb);
    pageLatchShared(pa);
  } else {
    pageInit(pa, a, 0, F_LEAF, 0);
    pageLatchExclusive(pa);
    store<u32>(pa, 7, P_RIGHT);
    pageUnlatchExclusiveUnchanged(pa);
  }
  return 0;
}

/**
 * n rounds of: allocate k pages, stamp each with its own number, check the stamps, free them.
 * Returns the number of pages found stamped by someone else (a double allocation), or -1 on ENOMEM.
 */
export function selftestAlloc(n: i32, k: i32, out: usize): i32 {
  let clashes = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const pg = pageAlloc();
      if (pg == 0) return -1;
      store<u32>(out + (<usize>j << 2), pg);
      store<u32>(pageAddr(pg), pg, 128);
    }
    for (let j = 0; j < k; j++) {
      const pg = load<u32>(out + (<usize>j << 2));
      if (load<u32>(pageAddr(pg), 128) != pg) clashes++;
    }
    for (let j = 0; j < k; j++) pageFree(load<u32>(out + (<usize>j << 2)));
  }
  return clashes;
}

/**
 * Lists the pages of one level of a tree into the output area, for tests that must aim at a
 * particular page: u32 count, then per page u32 page, u32 flags, u32 items, u32 highLen, high key.
 * Quiesced use only.
 */
export function selftestLevel(tree: u32, level: i32): i32 {
  const o = sOut();
  let pos: usize = 4;
  let n = 0;
  for (let p = levelLeftmost(tree, level); p != 0; p = levelNext(p)) {
    const hl = pHasHigh(p) ? pHighLen(p) : 0;
    if (pos + 16 + <usize>hl > S_OUT_SIZE) { pageUnlatchShared(p); break; }
    store<u32>(o + pos, pageNo(p));
    store<u32>(o + pos, pFlags(p), 4);
    store<u32>(o + pos, <u32>pCount(p), 8);
    store<u32>(o + pos, <u32>hl, 12);
    memory.copy(o + pos + 16, pHighKey(p), <usize>hl);
    pos += 16 + <usize>hl;
    n++;
  }
  store<u32>(o, <u32>n);
  return n;
}
