// The connection's role (leader or follower) and the write gate.
//
// THE ROLE WORD (superblock SB_ROLE), one atomic u32:
//
//   bits 2..31  generation: bumped by every role change (step-down, step-up, fencing)
//   bit 1       GATE: a checkpoint is taking its image; writers wait for it to clear
//   bit 0       LEADER
//
// Leader flag and generation live in ONE word and change in ONE atomic store, so no thread can
// see "leader" together with a generation from the other side of a change (the WT-18205 lesson:
// the role itself must be read and written atomically; here it is also never split in two).
//
// THE WRITE GATE. Every write (put, insert, remove, table create, drop) runs between writeEnter
// and writeExit:
//   writeEnter:  store TS_WRITING = 1 in this thread's slot;  then load the role word.
//   drain:       (after changing the role word)  load every slot's TS_WRITING until all are 0.
// Sequentially consistent atomics: of a writer and a role change at least one sees the other, so
// when a drain returns, every write that will ever pass under the old word has completed.
// A write passes only if the role word equals, bit for bit, the word its dhandle was stamped with
// at open (assembly/conn/dhandle.ts), and that word has LEADER set; a dhandle from before a role
// change gets EAGAIN, and the cursor takes a current one. The argument (the step-down race, and
// cursors across role changes) is in README.md in this directory. A write that passes also
// clears SB_IMAGE_SEQ ("the trees equal checkpoint N"): imageStale below says why that is
// ordered against a concurrent checkpoint.
//
// THE CHECKPOINT LOCK (SB_CHECKPOINT_LOCK) serialises checkpoints and role changes. The bindings
// take it without blocking a thread (try + wait asynchronously), because a step-down holds it
// across the final checkpoint's page-store writes. Role changes and checkpoints never take it
// from inside the core, and nothing holding another lock waits for it: it is first in the lock
// table (assembly/locks.ts), which debug builds check.

import { SB, SB_ROLE, SB_CHECKPOINT_LOCK, SB_IMAGE_SEQ, slotAddr, threadSlot, TS_WRITING } from "../arena";
import { MAX_THREADS } from "../limits";
import { BENCH_NO_GATE } from "../benchflags";
import { canBlock } from "../latch";
import { Lock, lockAcquired, lockReleased } from "../locks";
import { futexWait, futexWake } from "../futex";
import { OK, ENOTLEADER, EAGAIN } from "../status";
import { logNudge } from "../log/log";
import { inject, INJECT_WRITE_OUTDATED, INJECT_WRITE_ANNOUNCED } from "../inject";

export const ROLE_LEADER: u32 = 1;
export const ROLE_GATE: u32 = 2;
export const ROLE_GEN_ONE: u32 = 4;

// @ts-ignore: decorator
@inline export function roleWord(): u32 { return atomic.load<u32>(SB + SB_ROLE); }
/** The role word as dhandles record it: without the GATE bit. */
// @ts-ignore: decorator
@inline export function roleStamp(): u32 { return roleWord() & ~ROLE_GATE; }

/** First role of a fresh connection (before any thread writes). */
export function roleInit(leader: bool): void {
  atomic.store<u32>(SB + SB_ROLE, ROLE_GEN_ONE | (leader ? ROLE_LEADER : 0));
}

/**
 * Changes the role: one atomic store of a new generation with the new leader bit. Returns the new
 * word. The caller holds the checkpoint lock (so GATE is clear and no other change runs).
 */
export function roleSet(leader: bool): u32 {
  while (true) {
    const w = roleWord();
    if (!ASC_NO_ASSERT) assert((w & ROLE_GATE) == 0, "role: change while a checkpoint gate is closed");
    const nw = ((w & ~(ROLE_GATE | ROLE_LEADER)) + ROLE_GEN_ONE) | (leader ? ROLE_LEADER : 0);
    if (atomic.cmpxchg<u32>(SB + SB_ROLE, w, nw) == w) return nw;
  }
  return 0;
}

/**
 * Enters a write through a dhandle opened under role word `stamp` (0 for writes that need no
 * dhandle: they pass under any leader word). OK; or, with nothing announced, ENOTLEADER (the role
 * word is a follower word equal to `stamp`, or `stamp` is 0 on a follower) or EAGAIN (the role
 * word is not `stamp`: the dhandle is from before a role change; the caller gets a current one).
 */
export function writeEnter(stamp: u32): i32 {
  if (BENCH_NO_GATE) { imageStale(); return OK; } // a benchmark build only (benchflags.ts); false, and compiled away, otherwise
  const slot = slotAddr(threadSlot) + TS_WRITING;
  while (true) {
    atomic.store<u32>(slot, 1);
    inject(INJECT_WRITE_ANNOUNCED);
    const w = roleWord();
    if ((w & ROLE_GATE) != 0) {
      // A checkpoint is taking its image: step aside so its drain can finish, wait for the gate.
      atomic.store<u32>(slot, 0);
      gateWait(w);
      continue;
    }
    if ((w & ROLE_LEADER) == 0 || (stamp != 0 && w != stamp)) {
      atomic.store<u32>(slot, 0);
      if (stamp == 0 || w == stamp) return ENOTLEADER;
      // The dhandle is from before a role change: the caller takes a current one (dhandleGet)
      // and tries again (README.md, "Cursors across role changes"). Nothing is announced here.
      inject(INJECT_WRITE_OUTDATED);
      return EAGAIN;
    }
    imageStale();
    return OK;
  }
  return OK;
}

/**
 * A write passed the gate: the live trees no longer equal the checkpoint named by SB_IMAGE_SEQ,
 * so the next checkpoint (or close, or step-down) writes an image instead of skipping it.
 *
 * Cleared here, announced (TS_WRITING = 1) and after the role word was seen with GATE clear,
 * before the write changes anything. A checkpoint stores its seq in the word only inside the gate
 * (bindings/connection.ts, takeImage: after gateClose drained every announced writer, before
 * gateOpen). So a write either was announced when the gate closed, then the drain waited for it,
 * its clear came before that store and its change is in the copy; or it passes only after
 * gateOpen, and its clear comes after the store and leaves 0 for the next checkpoint. Seq-cst
 * atomics make the "either" exhaustive, as for the drain itself. A skip decision that reads the
 * word outside the gate sees 0 for every write acknowledged before it, and a write landing after
 * it clears the word for the next one. A load first: a store only on the first write after a
 * checkpoint, not a shared-line write per operation.
 */
// @ts-ignore: decorator
@inline function imageStale(): void {
  if (atomic.load<u32>(SB + SB_IMAGE_SEQ) != 0) atomic.store<u32>(SB + SB_IMAGE_SEQ, 0);
}

// @ts-ignore: decorator
@inline export function writeExit(): void {
  if (BENCH_NO_GATE) return;
  atomic.store<u32>(slotAddr(threadSlot) + TS_WRITING, 0);
}

function gateWait(w: u32): void {
  while (roleWord() == w) {
    if (canBlock) futexWait(SB + SB_ROLE, <i32>w, 10);
  }
}

/** Waits until no other thread is inside a write (the write gate, above; README.md). */
export function writeDrain(): void {
  for (let i = 0; i < MAX_THREADS; i++) {
    if (i == threadSlot) continue;
    const w = slotAddr(i) + TS_WRITING;
    let spins = 0;
    while (atomic.load<u32>(w) != 0) {
      // Writes hold no lock a drainer holds and take microseconds; sleep briefly where allowed.
      spins++;
      if (canBlock && spins > 1000) futexWait(w, 1, 0.05);
      if ((spins & 1023) == 0) logNudge(); // a batch inside may wait for log room (log/log.ts)
    }
  }
}

/** Closes the gate for a checkpoint image and waits until in-flight writes are done. */
export function gateClose(): void {
  while (true) {
    const w = roleWord();
    if (!ASC_NO_ASSERT) assert((w & ROLE_GATE) == 0, "role: gate closed twice");
    if (atomic.cmpxchg<u32>(SB + SB_ROLE, w, w | ROLE_GATE) == w) break;
  }
  writeDrain();
}

export function gateOpen(): void {
  while (true) {
    const w = roleWord();
    if (atomic.cmpxchg<u32>(SB + SB_ROLE, w, w & ~ROLE_GATE) == w) break;
  }
  futexWake(SB + SB_ROLE, -1);
}

/** The checkpoint lock, taken without waiting (the bindings wait between tries). */
export function ckptTryLock(): bool {
  const w = SB + SB_CHECKPOINT_LOCK;
  if (atomic.cmpxchg<u32>(w, 0, 1) != 0) return false;
  if (!ASC_NO_ASSERT) lockAcquired(w, Lock.CHECKPOINT, true, true);
  return true;
}

export function ckptUnlock(): void {
  const w = SB + SB_CHECKPOINT_LOCK;
  if (!ASC_NO_ASSERT) lockReleased(w, false, true);
  atomic.store<u32>(w, 0);
  futexWake(w, -1);
}
