// Epochs and the limbo list: when a deleted page may be reused.
//
// A page unlinked by page deletion (assembly/btree/pagedel.ts) can still be reached through a
// pointer read before the unlink: a descent that read a downlink, a move-right that read a right
// link, a split's parent hint. Such pointers live only inside one operation. So:
//  - There is one global epoch E (superblock). Every operation announces, in its thread slot, the
//    epoch it started in, and clears the announcement when it ends (idle threads announce 0 and
//    hold nothing up).
//  - A deleted page is stamped with the epoch current at its unlink, then the global epoch moves
//    on, and the page joins the tail of the limbo list (stamps are non-decreasing along it).
//  - A page stamped S is reused only once every announced epoch is > S: every operation that
//    started before the unlink, and so could hold a pointer to the page, has finished. An
//    operation that starts later cannot reach it: no live page links to it any more.
// Reclamation takes the page's latch exclusively (without waiting) before marking it FREE and
// bumping its generation (the release moves its version, as every exclusive release does), so a
// scan that latched a page named by a resume record from an earlier call (kept outside any epoch)
// either sees the old generation with the page intact, or a new one.
//
// The announcement is an atomic store before the operation's first shared read, and the
// reclaimer's scan of the slots is atomic: either it sees the announcement, or the operation's
// reads all come after the scan, when pages the scan lets go are already unreachable.

import {
  SB, SB_EPOCH, SB_LIMBO_LATCH, SB_LIMBO_HEAD, SB_LIMBO_TAIL, SB_LIMBO_COUNT, TS_EPOCH,
  slotAddr, threadSlot, pageAddr, pageFree,
} from "./arena";
import { latchExclusive, unlatchExclusive, pageTryLatchExclusive, pageUnlatchExclusive } from "./latch";
import { Lock } from "./locks";
import { P_FLAGS, P_GEN, P_STAMP, P_NEXT_FREE, F_FREE, F_DELETED } from "./page";
import { MAX_THREADS } from "./limits";
import { BENCH_NO_EPOCH } from "./benchflags";

/** Pages recycled at most per allocation that finds the free list empty. */
export const RECLAIM_BATCH: i32 = 16;

/** Announces that this thread's operation starts now. */
// @ts-ignore: decorator
@inline export function epochEnter(): void {
  if (BENCH_NO_EPOCH) return; // a benchmark build only (benchflags.ts); false, and compiled away, otherwise
  atomic.store<u32>(slotAddr(threadSlot) + TS_EPOCH, atomic.load<u32>(SB + SB_EPOCH));
}

/** Announces that this thread's operation has ended (it holds no page pointer any more). */
// @ts-ignore: decorator
@inline export function epochExit(): void {
  if (BENCH_NO_EPOCH) return;
  atomic.store<u32>(slotAddr(threadSlot) + TS_EPOCH, 0);
}

/** A long operation (compaction) re-announces between steps that hold no page pointer. */
export function epochRefresh(): void {
  epochEnter();
}

/** The oldest epoch any running operation announced (the current epoch if none). */
function epochOldest(): u32 {
  let oldest = atomic.load<u32>(SB + SB_EPOCH);
  for (let i = 0; i < MAX_THREADS; i++) {
    const e = atomic.load<u32>(slotAddr(i) + TS_EPOCH);
    if (e != 0 && e < oldest) oldest = e;
  }
  return oldest;
}

/**
 * Stamps a page just unlinked (the caller holds its latch and has set DELETED) with the current
 * epoch and moves the epoch on. Returns the stamp.
 */
export function epochStamp(p: usize): u32 {
  const e = atomic.add<u32>(SB + SB_EPOCH, 1);
  store<u32>(p, e, P_STAMP);
  return e;
}

/** Appends a deleted, stamped page to the limbo list (its latch already released). */
export function limboPush(pg: u32): void {
  const l = SB + SB_LIMBO_LATCH;
  latchExclusive(l, Lock.LIMBO);
  store<u32>(pageAddr(pg) + P_NEXT_FREE, 0);
  const tail = load<u32>(SB + SB_LIMBO_TAIL);
  if (tail == 0) store<u32>(SB + SB_LIMBO_HEAD, pg);
  else store<u32>(pageAddr(tail) + P_NEXT_FREE, pg);
  store<u32>(SB + SB_LIMBO_TAIL, pg);
  atomic.add<u32>(SB + SB_LIMBO_COUNT, 1);
  unlatchExclusive(l);
}

/**
 * Moves up to `max` limbo pages that no running operation can reach to the free list. It waits
 * for the limbo latch (whose holders only push a page or run this loop, never waiting for a page
 * latch, so this cannot deadlock even under a split's page latches; giving up instead made the
 * allocator grow the arena whenever a deleter was pushing), but never for a page latch: if a
 * page's latch is held, it stops. Returns the number of pages recycled.
 */
export function limboReclaim(max: i32): i32 {
  const l = SB + SB_LIMBO_LATCH;
  latchExclusive(l, Lock.LIMBO);
  const oldest = epochOldest();
  let freed = 0;
  while (freed < max) {
    const pg = load<u32>(SB + SB_LIMBO_HEAD);
    if (pg == 0) break;
    const p = pageAddr(pg);
    if (load<u32>(p, P_STAMP) >= oldest) break;
    if (!pageTryLatchExclusive(p)) break;
    if (!ASC_NO_ASSERT) assert((load<u32>(p, P_FLAGS) & F_DELETED) != 0, "epoch: a live page in limbo");
    const next = load<u32>(p + P_NEXT_FREE);
    store<u32>(SB + SB_LIMBO_HEAD, next);
    if (next == 0) store<u32>(SB + SB_LIMBO_TAIL, 0);
    atomic.sub<u32>(SB + SB_LIMBO_COUNT, 1);
    store<u32>(p, F_FREE, P_FLAGS);
    atomic.store<u32>(p + P_GEN, load<u32>(p, P_GEN) + 1);
    pageUnlatchExclusive(p);
    pageFree(pg);
    freed++;
  }
  unlatchExclusive(l);
  return freed;
}

export function limboCount(): u32 { return atomic.load<u32>(SB + SB_LIMBO_COUNT); }

/** Walks the limbo list (quiesced use only: the verifier's leak check). */
export function limboLength(): u32 {
  let n: u32 = 0;
  let pg = load<u32>(SB + SB_LIMBO_HEAD);
  while (pg != 0 && n < 0x7fffffff) { n++; pg = load<u32>(pageAddr(pg) + P_NEXT_FREE); }
  return n;
}

export function epochCurrent(): u32 { return atomic.load<u32>(SB + SB_EPOCH); }
