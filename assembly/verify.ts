// The verifier: amcheck's invariants (contrib/amcheck/verify_nbtree.c) as a single call.
//
// Always (safe with concurrent writers: one level at a time, left to right, holding a page and
// its right sibling shared, which respects the page order of assembly/locks.ts):
//   FLAGS         page belongs to the tree, LEAF iff level 0, no internal page half-dead, never
//                 half-dead and deleted at once, never FREE while linked
//   LEVEL         every page on a level has that level
//   KEY_ORDER     keys strictly increasing on each page
//   HIGH_KEY      every key below the page's high key
//   SIBLING_ORDER last key of a page < first key of its right sibling, and >= the page's high key
//   LINKS         the right sibling's left link points back; no cycle (bounded walk)
//   RIGHTMOST     the rightmost page of a level is live
//   DELETED       no live link (right link, left link, downlink) leads to a deleted page
//   PREFIX        every key on the page and its high key are at least `prefix` bytes long and
//                 share their first `prefix` bytes; the header's copy of the prefix's first bytes
//                 matches; every slot's head, and the header's head of the high key, is its key's
//                 4 bytes after the prefix (page.ts); a page without keys has prefix 0
// Full mode (writers quiesced; the caller promises it), also:
//   LEFTMOST      the page that owns minus infinity is the first page of its level, but for
//                 half-dead leaves and chain tops of interrupted deletions left of it
//   DOWNLINK      parent and child levels agree: each downlink, in order, names the next child
//                 page; keys of a child are >= its separator; the high key of a child (of the
//                 last page of an incomplete-split chain) equals the parent's next separator; every
//                 child page has a downlink except right halves of incomplete splits and the tops
//                 of interrupted deletions (confirmed by a half-dead leaf naming them)
//   ROOT          the meta area's root is the only ROOT page and its level is the meta level
//   LEAK          every page of the arena is in a tree, on the free list, in the limbo list
//                 (deleted, awaiting reclamation) or in a thread's stash
//
// Result: OK, or ECORRUPT with the report (page, rule, level) in the output area.

import { pageAddr, pageNo, arenaHighWater, arenaFreeHead, arenaFreeTag, stashedPages } from "./arena";
import { inject, INJECT_VERIFY_NEXT_PAGE } from "./inject";
import { pageLatchShared, pageUnlatchShared, latchesHeld } from "./latch";
import { lockOrderTopDown } from "./locks";
import {
  P_TREE, P_CHAIN, P_NEXT_FREE, F_LEAF, F_ROOT, F_HALF_DEAD, F_DELETED, F_FREE, F_IGNORE, F_INCOMPLETE_SPLIT,
  pFlags, pLevel, pCount, pLeft, pRight, pHasHigh, pHighKey, pHighLen, keyAddr, keyLen, childAt,
  keyCompare, pPrefix, slotHead, keyHead, prefixHeadOf, P_PREFIX_HEAD, P_HIGH_HEAD,
} from "./page";
import { tableRoot, tableRootLevel, tableState, TABLE_FREE } from "./catalog";
import { levelLeftmost, levelNext } from "./btree/search";
import { limboLength } from "./epoch";
import { sTemp } from "./scratch";
import { sOut } from "./scratch";
import { MAX_PAGE_SIZE } from "./limits";
import { MAX_TABLES } from "./limits";
import { OK, ECORRUPT, EINJECTED } from "./status";

// The rules' numbers in reports. The bindings' VERIFY_RULES (scripts/gen-abi.js) names them by
// these constants' names less RULE_, at index = number (1 .. the last, each once).
export const RULE_FLAGS: u32 = 1;
export const RULE_LEVEL: u32 = 2;
export const RULE_KEY_ORDER: u32 = 3;
export const RULE_HIGH_KEY: u32 = 4;
export const RULE_SIBLING_ORDER: u32 = 5;
export const RULE_LINKS: u32 = 6;
export const RULE_RIGHTMOST: u32 = 7;
export const RULE_LEFTMOST: u32 = 8;
export const RULE_DOWNLINK: u32 = 9;
export const RULE_ROOT: u32 = 10;
export const RULE_LEAK: u32 = 11;
export const RULE_DELETED: u32 = 12;
export const RULE_PREFIX: u32 = 13;

// The report at S_OUT, u32 fields (bindings/session.ts reads them by these offsets):
/** The status (OK or ECORRUPT). */
export const VERIFY_OUT_STATUS: usize = 0;
/** The page that breaks a rule. */
export const VERIFY_OUT_PAGE: usize = 4;
/** The rule it breaks (RULE_*). */
export const VERIFY_OUT_RULE: usize = 8;
/** Its level (i32; -1: the arena). */
export const VERIFY_OUT_LEVEL: usize = 12;
/** Pages checked. */
export const VERIFY_OUT_PAGES: usize = 16;
/** Levels walked (a passed check only). */
export const VERIFY_OUT_LEVELS: usize = 20;
/** A number that says more about the failure (rule-specific). */
export const VERIFY_OUT_DETAIL: usize = 24;

let pagesChecked: u32 = 0;

function fail(page: u32, rule: u32, level: i32, detail: u32): i32 {
  const o = sOut();
  store<u32>(o + VERIFY_OUT_STATUS, <u32>ECORRUPT);
  store<u32>(o + VERIFY_OUT_PAGE, page);
  store<u32>(o + VERIFY_OUT_RULE, rule);
  store<u32>(o + VERIFY_OUT_LEVEL, <u32>level);
  store<u32>(o + VERIFY_OUT_PAGES, pagesChecked);
  store<u32>(o + VERIFY_OUT_DETAIL, detail);
  return ECORRUPT;
}

/** Index of a page's first real key (internal pages: item 0 is minus infinity). */
// @ts-ignore: decorator
@inline function firstKeyIndex(p: usize): i32 { return (pFlags(p) & F_LEAF) != 0 ? 0 : 1; }

/** Checks one latched page on its own. Returns 0 or the rule it breaks. */
function checkPage(tree: u32, p: usize, level: i32): u32 {
  const f = pFlags(p);
  if ((f & F_DELETED) != 0) return RULE_DELETED;
  if (load<u32>(p, P_TREE) != tree || (f & F_FREE) != 0) return RULE_FLAGS;
  if (((f & F_LEAF) != 0) != (level == 0)) return RULE_FLAGS;
  if ((f & F_HALF_DEAD) != 0 && ((f & F_DELETED) != 0 || level != 0)) return RULE_FLAGS;
  if (pLevel(p) != level) return RULE_LEVEL;
  const n = pCount(p);
  const first = firstKeyIndex(p);
  for (let i = first + 1; i < n; i++) {
    if (keyCompare(keyAddr(p, i - 1), keyLen(p, i - 1), keyAddr(p, i), keyLen(p, i)) >= 0) return RULE_KEY_ORDER;
  }
  if (pHasHigh(p) && n > first) {
    if (keyCompare(keyAddr(p, n - 1), keyLen(p, n - 1), pHighKey(p), pHighLen(p)) >= 0) return RULE_HIGH_KEY;
  }
  if (pRight(p) == 0 && pHasHigh(p)) return RULE_HIGH_KEY;
  if (pRight(p) != 0 && !pHasHigh(p)) return RULE_HIGH_KEY;
  if (!prefixHolds(p)) return RULE_PREFIX;
  return 0;
}

/** Does key (a, alen) start with the first `pre` bytes at b? */
function sharesPrefix(a: usize, alen: i32, b: usize, pre: i32): bool {
  return alen >= pre && memory.compare(a, b, <usize>pre) == 0;
}

/** The PREFIX rule for one latched page (the layout is in page.ts). */
function prefixHolds(p: usize): bool {
  const pre = pPrefix(p);
  const n = pCount(p);
  const first = firstKeyIndex(p);
  if (n <= first) return pre == 0 && load<u32>(p, P_HIGH_HEAD) == (pHasHigh(p) ? keyHead(pHighKey(p), pHighLen(p), 0) : 0);
  const a = keyAddr(p, first);
  for (let i = first; i < n; i++) if (!sharesPrefix(keyAddr(p, i), keyLen(p, i), a, pre)) return false;
  if (pHasHigh(p) && !sharesPrefix(pHighKey(p), pHighLen(p), a, pre)) return false;
  if (load<u32>(p, P_PREFIX_HEAD) != prefixHeadOf(a, pre)) return false;
  if (load<u32>(p, P_HIGH_HEAD) != (pHasHigh(p) ? keyHead(pHighKey(p), pHighLen(p), pre) : 0)) return false;
  for (let i = 0; i < n; i++) if (slotHead(p, i) != keyHead(keyAddr(p, i), keyLen(p, i), pre)) return false;
  return true;
}

/** Checks page p against its right sibling r (both latched). Returns 0 or the rule. */
function checkSiblings(p: usize, r: usize): u32 {
  if ((pFlags(r) & F_DELETED) != 0) return RULE_DELETED;
  if (pLeft(r) != pageNo(p)) return RULE_LINKS;
  const rf = firstKeyIndex(r);
  if (pCount(r) > rf) {
    const rk = keyAddr(r, rf);
    const rl = keyLen(r, rf);
    // A half-dead page gave its key space to its right sibling, which may now hold keys below
    // the half-dead page's high key.
    if ((pFlags(p) & F_HALF_DEAD) == 0 && keyCompare(rk, rl, pHighKey(p), pHighLen(p)) < 0) return RULE_SIBLING_ORDER;
    const pn = pCount(p);
    if (pn > firstKeyIndex(p) && keyCompare(keyAddr(p, pn - 1), keyLen(p, pn - 1), rk, rl) >= 0) return RULE_SIBLING_ORDER;
  }
  return 0;
}

/**
 * Walks one level left to right with sibling coupling. Returns OK, ECORRUPT or EINJECTED.
 *
 * The walk is bounded to find a cycle of right links. A walk visits each incarnation of a page
 * at most once (pages never move within a level; a page that leaves it comes back only through
 * the free list), so it visits at most as many pages as the arena has ever handed out: the high
 * water mark plus the free-list operations since the verify began (`tag0`). Concurrent writers
 * raise both while the walk runs, so the bound is read again whenever the walk reaches it;
 * a fixed bound read at the start failed correct trees that grew during the walk.
 */
function verifyLevel(tree: u32, level: i32, tag0: u32): i32 {
  let p = levelLeftmost(tree, level);
  let walked: u32 = 0;
  let limit = arenaHighWater();
  while (true) {
    pagesChecked++;
    const rule = checkPage(tree, p, level);
    if (rule != 0) { const pg = pageNo(p); pageUnlatchShared(p); return fail(pg, rule, level, 0); }
    const right = pRight(p);
    if (right == 0) {
      const dead = (pFlags(p) & F_IGNORE) != 0;
      const pg = pageNo(p);
      pageUnlatchShared(p);
      return dead ? fail(pg, RULE_RIGHTMOST, level, 0) : OK;
    }
    if (++walked > limit) {
      limit = arenaHighWater() + (arenaFreeTag() - tag0);
      if (walked > limit) { const pg = pageNo(p); pageUnlatchShared(p); return fail(pg, RULE_LINKS, level, 1); }
    }
    if (inject(INJECT_VERIFY_NEXT_PAGE) != OK) { pageUnlatchShared(p); return EINJECTED; }
    const r = pageAddr(right);
    pageLatchShared(r); // left to right: the page order (assembly/locks.ts)
    const srule = checkSiblings(p, r);
    const pg = pageNo(p);
    pageUnlatchShared(p);
    if (srule != 0) { pageUnlatchShared(r); return fail(pg, srule, level, right); }
    p = r;
  }
  return OK;
}

/** Compares a key with the parent's next separator (absent = +infinity). */
function highMatches(x: usize, sep: usize, sepLen: i32): bool {
  if (sepLen < 0) return !pHasHigh(x);
  return pHasHigh(x) && keyCompare(pHighKey(x), pHighLen(x), sep, sepLen) == 0;
}

// ---- interrupted deletions (full mode) ----
// Pairs (half-dead leaf, top of its chain) collected from the leaf level into the staging page.
let chainCount: i32 = 0;

function collectChains(tree: u32): void {
  chainCount = 0;
  const list = sTemp();
  for (let p = levelLeftmost(tree, 0); p != 0; p = levelNext(p)) {
    if ((pFlags(p) & F_HALF_DEAD) != 0 && chainCount < CHAINS_MAX) {
      store<u32>(list + (<usize>chainCount << 3), pageNo(p));
      store<u32>(list + (<usize>chainCount << 3) + 4, load<u32>(p, P_CHAIN));
      chainCount++;
    }
  }
}
const CHAINS_MAX: i32 = MAX_PAGE_SIZE >> 3;

/** Is `pg` the top of the doomed chain of some half-dead leaf (so it has no downlink)? */
function isChainTop(pg: u32): bool {
  const list = sTemp();
  for (let i = 0; i < chainCount; i++) if (load<u32>(list + (<usize>i << 3) + 4) == pg) return true;
  return false;
}

/** From page `pg` on, skips pages without a downlink by design; returns the first that needs one. */
function skipUnlinked(pg: u32): u32 {
  while (pg != 0 && isChainTop(pg)) {
    const x = pageAddr(pg);
    pageLatchShared(x);
    const r = pRight(x);
    pageUnlatchShared(x);
    pg = r;
  }
  return pg;
}

/**
 * Full mode: walks parent level `level` and child level `level - 1` together. Writers are
 * quiesced, so holding a parent and latching its child (top-down) cannot deadlock here.
 */
function verifyDownlinks(tree: u32, level: i32): i32 {
  let q = levelLeftmost(tree, level);
  const c0 = levelLeftmost(tree, level - 1);
  let expected = pageNo(c0);
  pageUnlatchShared(c0);
  let first = true;
  while (true) {
    const n = pCount(q);
    for (let j = 0; j < n; j++) {
      const child = childAt(q, j);
      expected = skipUnlinked(expected);
      if (child != expected) {
        const pg = pageNo(q); pageUnlatchShared(q);
        return fail(pg, first ? RULE_LEFTMOST : RULE_DOWNLINK, level, child);
      }
      first = false;
      let x = pageAddr(child);
      pageLatchShared(x);
      if ((pFlags(x) & F_DELETED) != 0) { pageUnlatchShared(x); pageUnlatchShared(q); return fail(child, RULE_DELETED, level - 1, 0); }
      // keys of the child are >= its separator (item 0 of a leftmost parent is minus infinity)
      if (j > 0 || pLeft(q) != 0) {
        const sep = j > 0 ? keyAddr(q, j) : 0;
        const sepLen = j > 0 ? keyLen(q, j) : -1;
        const fk = firstKeyIndex(x);
        if (sepLen >= 0 && pCount(x) > fk && keyCompare(keyAddr(x, fk), keyLen(x, fk), sep, sepLen) < 0) {
          pageUnlatchShared(x); pageUnlatchShared(q); return fail(child, RULE_DOWNLINK, level - 1, 1);
        }
      }
      // follow the chain of incomplete splits: their right halves have no downlink yet
      while ((pFlags(x) & F_INCOMPLETE_SPLIT) != 0 && pRight(x) != 0) {
        const r = pRight(x);
        pageUnlatchShared(x);
        x = pageAddr(r);
        pageLatchShared(x);
      }
      const nextSep = j + 1 < n ? keyAddr(q, j + 1) : (pHasHigh(q) ? pHighKey(q) : 0);
      const nextLen = j + 1 < n ? keyLen(q, j + 1) : (pHasHigh(q) ? pHighLen(q) : -1);
      const ok = highMatches(x, nextSep, nextLen);
      const xpg = pageNo(x);
      expected = pRight(x);
      pageUnlatchShared(x);
      if (!ok) { pageUnlatchShared(q); return fail(xpg, RULE_DOWNLINK, level - 1, 2); }
    }
    const right = pRight(q);
    pageUnlatchShared(q);
    if (right == 0) break;
    q = pageAddr(right);
    pageLatchShared(q);
  }
  expected = skipUnlinked(expected);
  if (expected != 0) return fail(expected, RULE_DOWNLINK, level - 1, 3);
  return OK;
}

/** Pages on every level of a tree (one latch at a time). */
export function treePageCount(tree: u32): u32 {
  let total: u32 = 0;
  const top = tableRootLevel(tree);
  for (let level = top; level >= 0; level--) {
    for (let p = levelLeftmost(tree, level); p != 0; p = levelNext(p)) total++;
  }
  return total;
}

function verifyLeaks(): i32 {
  let accounted: u32 = 1 + stashedPages(); // page 0 is never used
  for (let t = 0; t < MAX_TABLES; t++) if (tableState(<u32>t) != TABLE_FREE) accounted += treePageCount(<u32>t);
  const hw = arenaHighWater();
  let pg = arenaFreeHead();
  let free: u32 = 0;
  while (pg != 0 && free < hw) { free++; pg = load<u32>(pageAddr(pg) + P_NEXT_FREE); }
  accounted += free + limboLength();
  if (accounted != hw) return fail(0, RULE_LEAK, -1, hw - accounted);
  return OK;
}

export function verifyTree(tree: u32, full: bool): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "verify: starts holding a latch");
  pagesChecked = 0;
  const top = tableRootLevel(tree);
  const tag0 = arenaFreeTag();
  for (let level = top; level >= 0; level--) {
    const r = verifyLevel(tree, level, tag0);
    if (r != OK) return r;
  }
  if (full) {
    collectChains(tree);
    const root = pageAddr(tableRoot(tree));
    pageLatchShared(root);
    const ok = (pFlags(root) & F_ROOT) != 0 && pLevel(root) == top && pLeft(root) == 0;
    pageUnlatchShared(root);
    if (!ok) return fail(pageNo(root), RULE_ROOT, top, 0);
    // Parent, then child (top-down): against the page order, allowed only because full mode
    // requires writers to be quiesced (assembly/locks.ts checks the order elsewhere).
    if (!ASC_NO_ASSERT) lockOrderTopDown(true);
    let r = OK;
    for (let level = top; level >= 1 && r == OK; level--) r = verifyDownlinks(tree, level);
    if (!ASC_NO_ASSERT) lockOrderTopDown(false);
    if (r != OK) return r;
    r = verifyLeaks();
    if (r != OK) return r;
  }
  const o = sOut();
  store<u32>(o + VERIFY_OUT_STATUS, OK);
  store<u32>(o + VERIFY_OUT_PAGE, 0);
  store<u32>(o + VERIFY_OUT_RULE, 0);
  store<u32>(o + VERIFY_OUT_LEVEL, 0);
  store<u32>(o + VERIFY_OUT_PAGES, pagesChecked);
  store<u32>(o + VERIFY_OUT_LEVELS, <u32>(top + 1));
  return OK;
}
