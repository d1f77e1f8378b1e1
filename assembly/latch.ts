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
// rule). Spinning is safe because no latch holder
// ever waits for anything but another latch acquired in the global order (see
// assembly/btree/README.md), so every holder makes progress.
//
// Latch order (the deadlock-freedom argument lives in assembly/btree/README.md):
//   within a level left to right, across levels bottom-up, a tree's meta latch last.
// Readers hold at most one latch and never wait while holding one. Writers hold at most
// MAX_LATCHES_HELD. Debug builds count held latches per thread and assert both rules.

import { MAX_LATCHES_HELD } from "./limits";
import { futexWait, futexWake } from "./futex";

const WRITER: u32 = 0x80000000;
const WAITERS: u32 = 0x40000000;
const READERS: u32 = 0x3fffffff;
/** Spins before sleeping: long enough to ride out a short critical section on another core. */
const SPIN_LIMIT: i32 = 100;

/** Per thread: may this thread block in wait32? (false on main threads, see above) */
export let canBlock: bool = true;
export function latchSetCanBlock(b: bool): void { canBlock = b; }

/** Per thread (debug builds): latches currently held. */
export let latchesHeld: i32 = 0;

// @ts-ignore: decorator
@inline function noteAcquire(): void {
  if (!ASC_NO_ASSERT) {
    latchesHeld++;
    assert(latchesHeld <= MAX_LATCHES_HELD, "latch: more than MAX_LATCHES_HELD latches held");
  }
}
// @ts-ignore: decorator
@inline function noteRelease(): void {
  if (!ASC_NO_ASSERT) { latchesHeld--; assert(latchesHeld >= 0, "latch: released a latch not held"); }
}

function sleepOn(w: usize, v: u32): void {
  // Announce ourselves, then sleep only while the word is exactly what we announced on.
  if ((v & WAITERS) == 0) {
    if (atomic.cmpxchg<u32>(w, v, v | WAITERS) != v) return;
    v |= WAITERS;
  }
  futexWait(w, <i32>v, -1);
}

/**
 * Shared acquire. Readers call it holding nothing (their entry points assert that); a writer
 * may call it while holding latches earlier in the latch order (a parent search while holding
 * the child, the verifier's left-to-right coupling).
 */
export function latchShared(w: usize): void {
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
  noteAcquire();
}

export function latchExclusive(w: usize): void {
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
  noteAcquire();
}

/** Exclusive acquire that never waits: false if the latch is held. */
export function latchTryExclusive(w: usize): bool {
  const v = atomic.load<u32>(w);
  if ((v & (WRITER | READERS)) != 0) return false;
  if (atomic.cmpxchg<u32>(w, v, v | WRITER) != v) return false;
  noteAcquire();
  return true;
}

export function unlatchShared(w: usize): void {
  noteRelease();
  const now = atomic.sub<u32>(w, 1) - 1;
  if (!ASC_NO_ASSERT) assert(((now + 1) & READERS) != 0, "latch: shared release without holders");
  // Last reader out wakes the sleepers (a writer waiting for the readers to drain).
  if (now == WAITERS && atomic.cmpxchg<u32>(w, WAITERS, 0) == WAITERS) futexWake(w, -1);
}

export function unlatchExclusive(w: usize): void {
  noteRelease();
  const old = atomic.xchg<u32>(w, 0);
  if (!ASC_NO_ASSERT) assert((old & WRITER) != 0, "latch: exclusive release without holder");
  if ((old & WAITERS) != 0) futexWake(w, -1);
}

// @ts-ignore: decorator
@inline export function latch(w: usize, exclusive: bool): void {
  if (exclusive) latchExclusive(w); else latchShared(w);
}
// @ts-ignore: decorator
@inline export function unlatch(w: usize, exclusive: bool): void {
  if (exclusive) unlatchExclusive(w); else unlatchShared(w);
}

/** Does a writer hold this latch right now? (optimistic readers' check; no ordering implied) */
// @ts-ignore: decorator
@inline export function latchHeldExclusive(w: usize): bool { return (atomic.load<u32>(w) & WRITER) != 0; }

