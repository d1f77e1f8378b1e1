// The lock table: every lock of the core, in the one order in which a thread may take them.
//
// A thread that holds locks may wait only for a lock that comes later in this table (for page
// latches: later in the page order below). Then no cycle of waiting threads can form, so there
// is no deadlock. Every acquisition names its lock (the Lock enum); debug builds keep, per
// thread, the list of locks held and trap on an acquisition out of order, naming both locks.
//
//  rank lock                  word (owner file)             protects / taken by / held while taking it
//  ---- --------------------- ----------------------------- ------------------------------------------
//   1   the checkpoint lock   SB_CHECKPOINT_LOCK            Serialises checkpoints and role changes.
//                             (conn/role.ts; a 0/1 word,    Taken by the bindings (bindings/connection.ts,
//                             not a latch)                  `locked`) with a try and an asynchronous wait
//                                                           between tries, held across page-store I/O
//                                                           and many core calls. Held while taking it:
//                                                           nothing.
//   2   the handle-list lock  SB_HANDLE_LIST_LOCK           The handle list: which dhandle slot is in use
//                             (conn/dhandle.ts; a latch)    for which tree, and that a tree looked up
//                                                           under it stays its name's tree (only the
//                                                           sweep frees trees, holding it exclusively).
//                                                           dhandleGet (shared to find, exclusive to
//                                                           allocate), dhandleDrop, dhandleSweep,
//                                                           dhandleOutdateTree. Held: the checkpoint lock.
//   3   the catalog latch     SB_CATALOG_LATCH              Catalog entries' state and names (create,
//                             (catalog.ts)                  lookup, publish, retire, free). Held: the
//                                                           checkpoint lock, the handle-list lock.
//   4   a vacuum latch        C_VACUUM_LATCH, one per tree  Serialises the page deleters of one tree (and
//                             (btree/pagedel.ts)            the drain of its candidate ring). Compaction
//                                                           waits for it; a remover only tries it, after
//                                                           releasing its leaf. Held: the checkpoint lock.
//   5   page latches          P_LATCH, one per page         The page's bytes. Readers hold one at a time
//                             (latch.ts: pageLatch*)        and never wait holding one; writers at most
//                                                           MAX_LATCHES_HELD latches (limits.ts). Among
//                                                           themselves: see "Page latches" below. The
//                                                           release of an exclusive page latch moves the
//                                                           page's version. Held: ranks 1..4, and page
//                                                           latches earlier in the page order.
//   6   a meta latch          C_META_LATCH, one per tree    The tree's root page and level (written by a
//                             (catalog.ts)                  root split or a root shrink; read with one
//                                                           atomic load, without it). Held: the old root's
//                                                           page latch (and its child's, for a shrink).
//   7   the limbo latch       SB_LIMBO_LATCH (epoch.ts)     The limbo list of deleted pages (head, tail,
//                                                           the next links of the pages in it). limboPush
//                                                           and limboReclaim; the reclaimer try-latches
//                                                           pages while holding it, which never waits.
//                                                           Held: page latches (a split's allocation), the
//                                                           catalog latch (tableCreate's), a vacuum latch,
//                                                           the handle-list lock (tableFree, by the sweep).
//   8   the grow latch        SB_GROW_LATCH (arena.ts;      Serialises memory.grow (ensureMemory). Held:
//                             a 0/1 word, not a latch)      page latches, the catalog latch, or nothing
//                                                           (attach). Never the limbo latch.
//   -   self-test latches     the test area (selftest.ts)   Unit tests of the latch itself; in no order.
//
// Page latches. Within a level left to right; across levels bottom-up (a child before its
// parent). Positions within a level never swap (a split puts its new page between two pages,
// unreachable until they are released), so this is a total order; the deadlock-freedom argument
// and who holds what are in assembly/btree/README.md ("Latches and their order"). The one
// exception: the verifier's full mode latches a parent and then its children (top-down), which
// it may only because full mode requires writers to be quiesced (verify.ts).
//
// Waits that are not locks (each holds nothing another waiter needs):
//  - the init state (arena.ts, SB_INIT): a thread attaching waits while the first one lays the
//    superblock out; it holds nothing.
//  - the write gate (conn/role.ts): a writer waits for a closed gate holding nothing; a drain
//    (a checkpoint's gate, a role change) waits for announced writers holding only the checkpoint
//    lock, which writers never take.
//  - injection points (inject.ts, tests only): a parked thread keeps what it holds; the test
//    that wakes it must not need it.
//
// Checked in debug builds (ASC_NO_ASSERT false), at every acquisition that waits:
//  - a lock of a lower rank than one held traps ("took the catalog latch while holding a meta
//    latch ..."); so do two locks of one rank at once, page latches apart;
//  - a page latch at a lower level than a held page latch traps (top-down), unless the thread is
//    in the quiesced verifier (lockOrderTopDown); so does the same page twice, and a page whose
//    right link names a held page of its level (taking its left neighbour: right to left).
// Not checked: that a page of the same level is to the right of a held one when the two are not
// neighbours (a page does not know its position in its level). A try (latchTryExclusive,
// pageTryLatchExclusive, the checkpoint lock's try) is recorded but not checked against the
// order: a try never waits, so it cannot close a cycle. At release: a lock not held traps, and
// so does a page latch released through the plain latch API (its version would not move) and an
// exclusive page latch whose page changed while its version did not (a sum of the page's bytes
// but its latch word and version, page.ts pageContentSum, is recorded at acquire and compared at
// release, after the release has moved the version and before it frees the latch word). latch.ts
// also checks MAX_LATCHES_HELD. Release builds do none of this: every function below is called
// only under `if (!ASC_NO_ASSERT)`.

import { scratch, pageNo } from "./arena";
import { P_LATCH, P_VERSION, pLevel, pRight, pageContentSum } from "./page";
import { sTemp } from "./scratch";
import { futexWake } from "./futex";

export const enum Lock {
  CHECKPOINT = 1,
  HANDLE_LIST = 2,
  CATALOG = 3,
  VACUUM = 4,
  PAGE = 5,
  META = 6,
  LIMBO = 7,
  GROW = 8,
  SELFTEST = 9,
}

/** The name of a lock in messages (and in the prose of every file: one name per lock). */
function lockName(lock: i32): string {
  switch (lock) {
    case Lock.CHECKPOINT: return "the checkpoint lock";
    case Lock.HANDLE_LIST: return "the handle-list lock";
    case Lock.CATALOG: return "the catalog latch";
    case Lock.VACUUM: return "a vacuum latch";
    case Lock.PAGE: return "the page latch of page ";
    case Lock.META: return "a meta latch";
    case Lock.LIMBO: return "the limbo latch";
    case Lock.GROW: return "the grow latch";
    case Lock.SELFTEST: return "a self-test latch";
  }
  return "an unknown lock";
}

// ---- the per-thread record of held locks (debug builds) ----
// Wasm globals are per instance, so per thread; the core allocates nothing, so the records are
// globals: record i is the pair (r[2i], r[2i+1]) of the sixteen below. A = word | lock << 32 |
// level << 40 | exclusive << 48; B (exclusive page latches) = content sum at acquire | version at
// acquire << 32.

/** Locks one thread may hold at once: MAX_LATCHES_HELD latches, the checkpoint lock, the grow latch. */
const HELD_MAX: i32 = 8;
let held: i32 = 0;
let r0: u64 = 0; let r1: u64 = 0; let r2: u64 = 0; let r3: u64 = 0;
let r4: u64 = 0; let r5: u64 = 0; let r6: u64 = 0; let r7: u64 = 0;
let r8: u64 = 0; let r9: u64 = 0; let r10: u64 = 0; let r11: u64 = 0;
let r12: u64 = 0; let r13: u64 = 0; let r14: u64 = 0; let r15: u64 = 0;

function slot(k: i32): u64 {
  switch (k) {
    case 0: return r0; case 1: return r1; case 2: return r2; case 3: return r3;
    case 4: return r4; case 5: return r5; case 6: return r6; case 7: return r7;
    case 8: return r8; case 9: return r9; case 10: return r10; case 11: return r11;
    case 12: return r12; case 13: return r13; case 14: return r14; case 15: return r15;
  }
  return 0;
}
function setSlot(k: i32, v: u64): void {
  switch (k) {
    case 0: r0 = v; break; case 1: r1 = v; break; case 2: r2 = v; break; case 3: r3 = v; break;
    case 4: r4 = v; break; case 5: r5 = v; break; case 6: r6 = v; break; case 7: r7 = v; break;
    case 8: r8 = v; break; case 9: r9 = v; break; case 10: r10 = v; break; case 11: r11 = v; break;
    case 12: r12 = v; break; case 13: r13 = v; break; case 14: r14 = v; break; case 15: r15 = v; break;
  }
}
// @ts-ignore: decorator
@inline function getA(i: i32): u64 { return slot(i << 1); }
// @ts-ignore: decorator
@inline function getB(i: i32): u64 { return slot((i << 1) + 1); }
// @ts-ignore: decorator
@inline function setA(i: i32, v: u64): void { setSlot(i << 1, v); }
// @ts-ignore: decorator
@inline function setB(i: i32, v: u64): void { setSlot((i << 1) + 1, v); }
// @ts-ignore: decorator
@inline function recWord(a: u64): usize { return <usize>(a & 0xffffffff); }
// @ts-ignore: decorator
@inline function recLock(a: u64): i32 { return <i32>((a >> 32) & 0xff); }
// @ts-ignore: decorator
@inline function recLevel(a: u64): i32 { return <i32>((a >> 40) & 0xff); }
// @ts-ignore: decorator
@inline function recExclusive(a: u64): bool { return ((a >> 48) & 1) != 0; }

/** Per thread: may page latches be taken top-down? Only the quiesced verifier (verify.ts) sets it. */
let topDown: bool = false;
export function lockOrderTopDown(on: bool): void { topDown = on; }

// ---- traps ----
// A trap of these checks first lets go of every lock the thread holds (its records say which;
// the checkpoint lock apart), so that the report is not followed by a hang: a thread that would wait for them, or spin for them
// on a main thread, gets them instead (and sees whatever the trapped operation left half done).

function releaseAllHeld(): void {
  let kept = 0;
  for (let i = 0; i < held; i++) {
    const a = getA(i);
    const w = recWord(a);
    // The checkpoint lock stays: the bindings release it themselves (bindings/connection.ts).
    if (recLock(a) == Lock.CHECKPOINT) { setA(kept, a); setB(kept, getB(i)); kept++; continue; }
    if (recExclusive(a)) atomic.store<u32>(w, 0); // a latch's WRITER word, or a 0/1 word: free
    else atomic.sub<u32>(w, 1);                   // one shared holder fewer
    futexWake(w, -1);
  }
  held = kept;
}

/** Traps with a fixed message, after letting go of the thread's locks. */
function lockTrap(what: string): void {
  releaseAllHeld();
  abort(what, "assembly/locks.ts");
}

// Messages name both locks. The core allocates nothing, so a message is composed as an
// AssemblyScript string (u32 byte length, then UTF-16) in this thread's staging page, which the
// trap makes garbage anyway.

let msg: usize = 0;
let msgLen: usize = 0;
const MSG_MAX: usize = 1024;

function put(s: string): void {
  const n = min(<usize>s.length << 1, MSG_MAX - msgLen);
  memory.copy(msg + 4 + msgLen, changetype<usize>(s), n);
  msgLen += n;
}
function putNumber(v: u32): void {
  let d: u32 = 1;
  while (v / d >= 10) d *= 10;
  while (d > 0 && msgLen + 2 <= MSG_MAX) {
    store<u16>(msg + 4 + msgLen, <u16>(48 + (v / d) % 10));
    msgLen += 2;
    d /= 10;
  }
}
function putLock(lock: i32, w: usize, level: i32): void {
  put(lockName(lock));
  if (lock == Lock.PAGE) {
    putNumber(pageNo(w - P_LATCH));
    if (level >= 0) { // (unknown before the page is latched)
      put(" (level ");
      putNumber(<u32>level);
      put(")");
    }
  }
}
/** Traps with "<what>: took <taken> while holding <held>, <why>". */
function orderTrap(what: string, lock: i32, w: usize, level: i32, a: u64, why: string): void {
  if (scratch == 0) { releaseAllHeld(); abort(what, "assembly/locks.ts"); return; } // no staging page before registration
  msg = sTemp();
  msgLen = 0;
  put(what);
  put(": took ");
  putLock(lock, w, level);
  put(" while holding ");
  putLock(recLock(a), recWord(a), recLevel(a));
  put(", ");
  put(why);
  put(" (the lock table: assembly/locks.ts)");
  store<u32>(msg, <u32>msgLen);
  releaseAllHeld();
  abort(changetype<string>(msg + 4), "assembly/locks.ts");
}

/** Traps with "page latch: <page> changed under its exclusive latch ...". */
function versionTrap(w: usize, a: u64): void {
  const what = "page latch: a page changed under its exclusive latch and its version did not move";
  if (scratch == 0) { releaseAllHeld(); abort(what, "assembly/locks.ts"); return; }
  msg = sTemp();
  msgLen = 0;
  put("page latch: ");
  putLock(Lock.PAGE, w, recLevel(a));
  put(" is released after its page changed, and the page's version did not move (an optimistic reader or a cursor's read-ahead would trust the old bytes)");
  store<u32>(msg, <u32>msgLen);
  releaseAllHeld();
  abort(changetype<string>(msg + 4), "assembly/locks.ts");
}

// ---- checks ----

/**
 * Before waiting for `lock` (word `w`): traps if a held lock comes later in the table, or has
 * the same rank (page latches apart: their order is checked once latched, by lockAcquired).
 */
export function lockTaking(w: usize, lock: i32): void {
  for (let i = 0; i < held; i++) {
    const a = getA(i);
    const h = recLock(a);
    if (h == Lock.SELFTEST || lock == Lock.SELFTEST) continue;
    if (lock < h) orderTrap("lock order", lock, w, -1, a, "which comes after it");
    else if (lock == h && lock != Lock.PAGE) orderTrap("lock order", lock, w, -1, a, "of the same rank (no thread holds two at once)");
  }
}

/**
 * The page order, once page `p` is latched and recorded last (its level and right link are
 * stable now): against every page latch held before it.
 */
function pageOrderCheck(p: usize, level: i32): void {
  if (topDown) return;
  const w = p + P_LATCH;
  for (let i = 0; i < held - 1; i++) {
    const a = getA(i);
    if (recLock(a) != Lock.PAGE) continue;
    const hw = recWord(a);
    const hl = recLevel(a);
    if (level < hl) orderTrap("page latch order", Lock.PAGE, w, level, a, "a page above it: across levels pages are latched bottom-up");
    else if (level == hl) {
      if (hw == w) orderTrap("page latch order", Lock.PAGE, w, level, a, "the same page: no page is latched twice");
      else if (pRight(p) == pageNo(hw - P_LATCH)) {
        orderTrap("page latch order", Lock.PAGE, w, level, a, "its right neighbour: within a level pages are latched left to right");
      }
    }
  }
}

/**
 * Records `lock` (word `w`) as held by this thread, after acquiring it. `tried`: taken by a try,
 * which never waits (no order check). For an exclusive page latch it records the page's content
 * sum and version, which lockReleased compares.
 */
export function lockAcquired(w: usize, lock: i32, exclusive: bool, tried: bool): void {
  let level = 0;
  let b: u64 = 0;
  const p = w - P_LATCH;
  if (lock == Lock.PAGE) {
    level = pLevel(p);
    if (exclusive) b = <u64>pageContentSum(p) | (<u64>load<u32>(p, P_VERSION) << 32);
  }
  assert(held < HELD_MAX, "locks: more than HELD_MAX locks held by one thread");
  setA(held, <u64>w | (<u64>lock << 32) | (<u64>(level & 0xff) << 40) | (<u64>(exclusive ? 1 : 0) << 48));
  setB(held, b);
  held++;
  if (lock == Lock.PAGE && !tried) pageOrderCheck(p, level);
}

/**
 * Drops the record of word `w` before it is released (`page`: through the page-latch API,
 * `exclusive`: an exclusive release). Traps if it is not held so, and, for an exclusive page
 * latch, if the page's bytes changed since it was latched while its version did not move.
 */
export function lockReleased(w: usize, page: bool, exclusive: bool): void {
  let i = held - 1;
  while (i >= 0 && recWord(getA(i)) != w) i--;
  if (i < 0) lockTrap("latch: released a latch not held");
  const a = getA(i);
  if ((recLock(a) == Lock.PAGE) != page) lockTrap("latch: a page latch released by the plain latch API (its version would not move), or a plain latch by the page API");
  if (recExclusive(a) != exclusive) lockTrap("latch: a shared latch released as exclusive, or an exclusive one as shared");
  if (page && exclusive) {
    const p = w - P_LATCH;
    const b = getB(i);
    if (pageContentSum(p) != <u32>b && load<u32>(p, P_VERSION) == <u32>(b >> 32)) versionTrap(w, a);
  }
  for (let j = i; j < held - 1; j++) { setA(j, getA(j + 1)); setB(j, getB(j + 1)); }
  held--;
}
