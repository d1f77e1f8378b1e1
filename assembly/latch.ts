// The latch: a reader/writer lock in one 32-bit word of shared memory.
//
//   bit 31  WRITER   held exclusively
//   bit 30  WAITERS  some thread sleeps (or is about to) in memory.atomic.wait32 on this word
//   0..29   number of shared holders
//
// Acquire: cmpxchg the word; on contention spin a little, then (where blocking is allowed) set
// WAITERS and sleep (assembly/futex.ts) on the exact value seen. Release: clear our part; whoever observes WAITERS
// clears it and notifies every sleeper, which then re-contends. A sleeper can never miss its
// wake-up: it only sleeps while the word still holds the value it saw *with* WAITERS set, and any
// release changes the word.
//
// On main threads `canBlock` is false and the latch only spins (bindings/core.ts,
// threadCanBlock: a browser window cannot block at all; Node's main thread follows the same
// rule). Spinning is safe because no latch holder ever waits for anything but a lock later in the
// one lock order (assembly/locks.ts, the lock table), so every holder makes progress.
//
// Every acquisition names its lock (assembly/locks.ts, Lock): debug builds record the latches
// each thread holds, trap on one taken out of the table's order (naming both), count them
// against MAX_LATCHES_HELD, and trap on a release of a latch not held. Readers hold at most one
// latch and never wait while holding one (their entry points assert latchesHeld == 0).
//
// Page latches go through the page-latch API at the end of this file and nowhere else (the
// plain API refuses Lock.PAGE in debug builds): the release of an exclusive page latch moves the
// page's version, which optimistic readers and cursors' read-ahead trust.

import { MAX_LATCHES_HELD } from "./limits";
import { futexWait, futexWake } from "./futex";
import { P_LATCH, P_VERSION } from "./page";
import { Lock, lockTaking, lockAcquired, lockReleased } from "./locks";

const WRITER: u32 = 0x80000000;
const WAITERS: u32 = 0x40000000;
const READERS: u32 = 0x3fffffff;
/** Spins before sleeping: long enough to ride out a short critical section on another core. */
const SPIN_LIMIT: i32 = 100;

/** Per thread: may this thread block in wait32? (false on main threads, see above) */
export let canBlock: bool = true;
export function latchSetCanBlock(b: bool): void { canBlock = b; }

/** Per thread (debug builds): latches currently held (the checkpoint lock and grow latch are no latches). */
export let latchesHeld: i32 = 0;

// @ts-ignore: decorator
@inline function noteAcquire(w: usize, lock: i32, exclusive: bool, tried: bool): void {
  if (!ASC_NO_ASSERT) {
    latchesHeld++;
    assert(latchesHeld <= MAX_LATCHES_HELD, "latch: more than MAX_LATCHES_HELD latches held");
    lockAcquired(w, lock, exclusive, tried);
  }
}
// @ts-ignore: decorator
@inline function noteRelease(w: usize, page: bool, exclusive: bool): void {
  if (!ASC_NO_ASSERT) {
    lockReleased(w, page, exclusive);
    latchesHeld--;
    assert(latchesHeld >= 0, "latch: released a latch not held");
  }
}

function sleepOn(w: usize, v: u32): void {
  // Announce ourselves, then sleep only while the word is exactly what we announced on.
  if ((v & WAITERS) == 0) {
    if (atomic.cmpxchg<u32>(w, v, v | WAITERS) != v) return;
    v |= WAITERS;
  }
  futexWait(w, <i32>v, -1);
}

function acquireShared(w: usize): void {
  let spins = 0;
  while (true) {
    const v = atomic.load<u32>(w);
    if ((v & WRITER) == 0) {
      if (atomic.cmpxchg<u32>(w, v, v + 1) == v) break;
      continue;
    }
    if (spins < SPIN_LIMIT || !canBlock) { spins++; continue; }
    sleepOn(w, v);
  }
}

function acquireExclusive(w: usize): void {
  let spins = 0;
  while (true) {
    const v = atomic.load<u32>(w);
    if ((v & (WRITER | READERS)) == 0) {
      if (atomic.cmpxchg<u32>(w, v, v | WRITER) == v) break;
      continue;
    }
    if (spins < SPIN_LIMIT || !canBlock) { spins++; continue; }
    sleepOn(w, v);
  }
}

// @ts-ignore: decorator
@inline function tryExclusive(w: usize): bool {
  const v = atomic.load<u32>(w);
  return (v & (WRITER | READERS)) == 0 && atomic.cmpxchg<u32>(w, v, v | WRITER) == v;
}

function releaseShared(w: usize): void {
  const now = atomic.sub<u32>(w, 1) - 1;
  if (!ASC_NO_ASSERT) assert(((now + 1) & READERS) != 0, "latch: shared release without holders");
  // Last reader out wakes the sleepers (a writer waiting for the readers to drain).
  if (now == WAITERS && atomic.cmpxchg<u32>(w, WAITERS, 0) == WAITERS) futexWake(w, -1);
}

function releaseExclusive(w: usize): void {
  const old = atomic.xchg<u32>(w, 0);
  if (!ASC_NO_ASSERT) assert((old & WRITER) != 0, "latch: exclusive release without holder");
  if ((old & WAITERS) != 0) futexWake(w, -1);
}

// ---- latches other than page latches: the word at `w` is the lock `lock` of the lock table ----

// @ts-ignore: decorator
@inline function notPage(lock: i32): void {
  if (!ASC_NO_ASSERT) assert(lock != Lock.PAGE, "latch: page latches are taken through pageLatch* (their exclusive release moves the version)");
}

/**
 * Shared acquire of lock `lock` at word `w`. Readers call it holding nothing; a thread may call
 * it while holding locks earlier in the lock table (the handle-list lock, then the catalog latch).
 */
export function latchShared(w: usize, lock: Lock): void {
  notPage(lock);
  if (!ASC_NO_ASSERT) lockTaking(w, lock);
  acquireShared(w);
  noteAcquire(w, lock, false, false);
}

export function latchExclusive(w: usize, lock: Lock): void {
  notPage(lock);
  if (!ASC_NO_ASSERT) lockTaking(w, lock);
  acquireExclusive(w);
  noteAcquire(w, lock, true, false);
}

/** Exclusive acquire that never waits: false if the latch is held. */
export function latchTryExclusive(w: usize, lock: Lock): bool {
  notPage(lock);
  if (!tryExclusive(w)) return false;
  noteAcquire(w, lock, true, true);
  return true;
}

export function unlatchShared(w: usize): void {
  noteRelease(w, false, false);
  releaseShared(w);
}

export function unlatchExclusive(w: usize): void {
  noteRelease(w, false, true);
  releaseExclusive(w);
}

/** Does a writer hold this latch right now? (optimistic readers' check; no ordering implied) */
// @ts-ignore: decorator
@inline export function latchHeldExclusive(w: usize): bool { return (atomic.load<u32>(w) & WRITER) != 0; }

// ---- page latches ----
//
// A page's latch is two words of its header: the latch word (P_LATCH) and the version
// (P_VERSION). The version is what LeanStore's optimistic latch calls the version: it moves by
// mechanism, at the release of the exclusive latch, never by hand. An exclusive holder's changes
// are plain stores; its release then does, in this order,
//   (1) atomic store  version + 1          (only the exclusive holder writes the version)
//   (2) atomic xchg   latch word -> 0      (the release proper)
// Wasm atomics are sequentially consistent, so every thread that sees the latch free after (2)
// sees the new version, and the changes before (1) happen-before anything that synchronizes
// with (2). Two kinds of readers rely on this:
//  - optimistic readers (btree/search.ts, optimisticStep): version, latch word free, plain reads,
//    latch word free, version unchanged => no exclusive holder's changes overlapped the reads
//    (the argument is there);
//  - a scan's resume record (btree/scan.ts, scanKept and resumeLeaf): entries copied under a
//    shared latch at version v stay valid while an atomic load still reads v: any writer that has changed the
//    leaf since and released it has moved the version before its release, so a writer whose
//    change the load does not see has not released the leaf, and its write has not completed.
// An exclusive release under which nothing changed may keep the version
// (pageUnlatchExclusiveUnchanged); debug builds check every exclusive release against a sum of
// the page's bytes recorded at acquire (assembly/locks.ts, lockReleased): changed bytes with an
// unmoved version trap.

/** Shared latch of page `p` (a reader, or a writer's descent above its target level). */
// @ts-ignore: decorator
@inline export function pageLatchShared(p: usize): void {
  if (!ASC_NO_ASSERT) lockTaking(p + P_LATCH, Lock.PAGE);
  acquireShared(p + P_LATCH);
  noteAcquire(p + P_LATCH, Lock.PAGE, false, false);
}

/** Exclusive latch of page `p`: its holder may change the page; the release moves the version. */
// @ts-ignore: decorator
@inline export function pageLatchExclusive(p: usize): void {
  if (!ASC_NO_ASSERT) lockTaking(p + P_LATCH, Lock.PAGE);
  acquireExclusive(p + P_LATCH);
  noteAcquire(p + P_LATCH, Lock.PAGE, true, false);
}

/** Exclusive latch of page `p` if free, without waiting (the limbo reclaimer). */
export function pageTryLatchExclusive(p: usize): bool {
  if (!tryExclusive(p + P_LATCH)) return false;
  noteAcquire(p + P_LATCH, Lock.PAGE, true, true);
  return true;
}

// @ts-ignore: decorator
@inline export function pageUnlatchShared(p: usize): void {
  noteRelease(p + P_LATCH, true, false);
  releaseShared(p + P_LATCH);
}

/** Releases page `p`'s exclusive latch, moving its version first (see above). */
// @ts-ignore: decorator
@inline export function pageUnlatchExclusive(p: usize): void {
  atomic.store<u32>(p + P_VERSION, load<u32>(p, P_VERSION) + 1);
  noteRelease(p + P_LATCH, true, true);
  releaseExclusive(p + P_LATCH);
}

/**
 * Releases page `p`'s exclusive latch without moving its version: its holder changed nothing (an
 * insert that found its key, a remove that did not, so that cursors reading the leaf keep their
 * read-ahead). Debug builds trap if the page's bytes did change.
 */
// @ts-ignore: decorator
@inline export function pageUnlatchExclusiveUnchanged(p: usize): void {
  noteRelease(p + P_LATCH, true, true);
  releaseExclusive(p + P_LATCH);
}

// @ts-ignore: decorator
@inline export function pageLatch(p: usize, exclusive: bool): void {
  if (exclusive) pageLatchExclusive(p); else pageLatchShared(p);
}
// @ts-ignore: decorator
@inline export function pageUnlatch(p: usize, exclusive: bool): void {
  if (exclusive) pageUnlatchExclusive(p); else pageUnlatchShared(p);
}
