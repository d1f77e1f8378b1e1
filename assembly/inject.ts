// Injection points: named places in the core where a test can make a thread stop, fail or count.
//
// A test arms a point from any thread with an action:
//   WAIT   the thread that reaches it parks on the point's wake word until a test wakes it; the
//          test can wait until a given number of threads have arrived
//   ERROR  the operation fails there with EINJECTED (what it did before the point stays done)
//   COUNT  only counts hits
// `skip` hits pass untouched before the action applies, then `count` hits get it (0 = all).
//
// Disarmed points cost one plain load of a superblock word that stays 0 while nothing is armed.
// Models: PostgreSQL's src/test/modules/injection_points, WiredTiger's timing_stress_for_test.
//
// Each id's comment starts with the point's public name: scripts/gen-abi.js generates the
// bindings' INJECTION_POINTS from the ids and these names (ids 0 .. INJECT_POINTS - 1, each once).

import { SB, SB_INJECT_ARMED, INJECT_OFF } from "./arena";
import { OK, EINJECTED, EINVAL } from "./status";
import { futexWait, futexWake } from "./futex";

export const INJECT_SEARCH_BEFORE_CHILD: i32 = 0;   // btree-search-before-child
export const INJECT_MOVE_RIGHT: i32 = 1;            // btree-move-right
export const INJECT_SPLIT_BEFORE_PARENT: i32 = 2;   // btree-split-before-parent-insert
export const INJECT_SPLIT_FINISH: i32 = 3;          // btree-split-finish-incomplete
export const INJECT_SCAN_BEFORE_NEXT_PAGE: i32 = 4; // scan-before-next-page (a forward scan about to latch the next leaf)
export const INJECT_SCAN_STEP_LEFT: i32 = 5;        // scan-step-left (a backward scan or a level walk about to latch a left sibling)
export const INJECT_INSERT_BEFORE_LEAF: i32 = 6;    // btree-insert-before-leaf-latch
export const INJECT_PAGEDEL_PARENT_CHECKED: i32 = 7; // pagedel-after-parent-check (subtree parent held)
export const INJECT_PAGEDEL_HALFDEAD: i32 = 8;       // pagedel-after-halfdead (between the stages)
export const INJECT_PAGEDEL_BEFORE_UNLINK: i32 = 9;  // pagedel-before-unlink (each stage-2 step)
export const INJECT_DHANDLE_OPEN: i32 = 10;         // dhandle-open-before-set-open (dhandle allocated, OPEN not yet set)
export const INJECT_ROLE_SWEEP: i32 = 11;           // role-sweep (a role change about to mark one more OPEN dhandle outdated)
export const INJECT_DHANDLE_GET: i32 = 12;          // dhandle-get-before-lock (role decided, table not yet looked up)
export const INJECT_WRITE_OUTDATED: i32 = 13;       // write-gate-outdated (a write refused its dhandle as from before a role change; nothing announced)
export const INJECT_DHANDLE_RECHECK: i32 = 14;      // dhandle-open-before-recheck (OPEN published, role word not yet re-read)
export const INJECT_PAGEDEL_LEFT_READ: i32 = 15;    // pagedel-left-link-read (stage 2 read the target's left link, not yet latched it)
export const INJECT_WRITE_ANNOUNCED: i32 = 16;      // write-announced (a write announced itself, role word not yet read)
export const INJECT_OPTIMISTIC_CHILD: i32 = 17;     // btree-optimistic-child (an optimistic descent step chose a child's index; downlink not yet read, version not yet validated)
export const INJECT_OPTIMISTIC_LEAF: i32 = 18;      // btree-optimistic-leaf (an optimistic leaf read found its key; value not yet copied, version not yet validated)
export const INJECT_VERIFY_NEXT_PAGE: i32 = 19;     // verify-before-next-page (a verify's level walk holds one page shared, about to latch its right sibling)
export const INJECT_LOG_APPEND: i32 = 20;          // log-before-append (a write changed its leaf and holds its latch; its log record not yet reserved)
export const INJECT_POINTS: i32 = 21;

export const ACTION_NONE: u32 = 0;
export const ACTION_WAIT: u32 = 1;
export const ACTION_ERROR: u32 = 2;
export const ACTION_COUNT: u32 = 3;

const E_ACTION: usize = 0;
const E_SKIP: usize = 4;
const E_COUNT: usize = 8;
const E_HITS: usize = 12;
const E_ARRIVED: usize = 16;
const E_WAKE: usize = 20;
const E_SIZE: usize = 32;

// @ts-ignore: decorator
@inline function entry(id: i32): usize { return SB + INJECT_OFF + <usize>id * E_SIZE; }

/** The hot-path check: free unless some point is armed. Returns OK or EINJECTED. */
// @ts-ignore: decorator
@inline export function inject(id: i32): i32 {
  if (load<u32>(SB + SB_INJECT_ARMED) == 0) return OK;
  return injectHit(id);
}

function injectHit(id: i32): i32 {
  const e = entry(id);
  const action = atomic.load<u32>(e + E_ACTION);
  if (action == ACTION_NONE) return OK;
  const hit = atomic.add<u32>(e + E_HITS, 1);
  const skip = atomic.load<u32>(e + E_SKIP);
  const count = atomic.load<u32>(e + E_COUNT);
  if (hit < skip || (count != 0 && hit - skip >= count)) return OK;
  if (action == ACTION_ERROR) return EINJECTED;
  if (action == ACTION_WAIT) {
    const gen = atomic.load<u32>(e + E_WAKE);
    atomic.add<u32>(e + E_ARRIVED, 1);
    futexWake(e + E_ARRIVED, -1);
    while (atomic.load<u32>(e + E_WAKE) == gen) futexWait(e + E_WAKE, <i32>gen, -1);
  }
  return OK;
}

export function injectArm(id: i32, action: u32, skip: u32, count: u32): i32 {
  if (id < 0 || id >= INJECT_POINTS || action > ACTION_COUNT) return EINVAL;
  const e = entry(id);
  const was = atomic.xchg<u32>(e + E_ACTION, ACTION_NONE);
  atomic.store<u32>(e + E_SKIP, skip);
  atomic.store<u32>(e + E_COUNT, count);
  atomic.store<u32>(e + E_HITS, 0);
  atomic.store<u32>(e + E_ARRIVED, 0);
  if (action != ACTION_NONE) atomic.store<u32>(e + E_ACTION, action);
  const delta: i32 = (action != ACTION_NONE ? 1 : 0) - (was != ACTION_NONE ? 1 : 0);
  if (delta > 0) atomic.add<u32>(SB + SB_INJECT_ARMED, 1);
  else if (delta < 0) atomic.sub<u32>(SB + SB_INJECT_ARMED, 1);
  return OK;
}

/** Wakes every thread parked at the point. */
export function injectWake(id: i32): void {
  const e = entry(id);
  atomic.add<u32>(e + E_WAKE, 1);
  futexWake(e + E_WAKE, -1);
}

/** Address of the point's arrival counter (the bindings wait on it with JS Atomics.wait). */
export function injectArrivedAddr(id: i32): usize { return entry(id) + E_ARRIVED; }

export function injectHits(id: i32): u32 { return atomic.load<u32>(entry(id) + E_HITS); }
export function injectArrived(id: i32): u32 { return atomic.load<u32>(entry(id) + E_ARRIVED); }
export function injectCount(): i32 { return INJECT_POINTS; }
