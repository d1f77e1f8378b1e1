// Data handles (dhandles): the connection's handle list, in shared memory.
//
// A dhandle is one thread-shared open of one btree (a catalog entry, assembly/catalog.ts). Sessions
// in every thread find and cache dhandles; cursors and other operations use them. Entry layout
// (DHANDLE_SIZE bytes at SB + DHANDLE_OFF):
//
//   DH_STATE  atomic u32: flag bits below, and in bits 8..31 the number of users (open cursors,
//             running verify/compact/stats calls). Flags and users share the word so that
//             "start using it unless it is dead" and "declare it dead unless it is used" are each
//             one compare-and-swap, never a plain read-modify-write (the WT-18452 lesson).
//   DH_TREE   the btree it opens
//   DH_ROLE   the role word (assembly/conn/role.ts) it was opened under: writes through it pass
//             only while the role word is still exactly this one, and it is a leader word
//   DH_REFS   atomic: sessions caching it (an entry is reused only when this is 0 and it is DEAD)
//   DH_LAST   the sweep tick at which its last user left
//
// Flags: ALLOC (entry in use), EXCLUSIVE (being opened: not yet OPEN), OPEN (ready), OUTDATED (no new users:
// a role change, a newer checkpoint image or a drop happened since it opened), DEAD (swept).
//
// GETTING A DHANDLE (dhandleGet): 1. record the role word r0; 2. under the handle-list lock, look
// the table's live tree up; 3. find an OPEN, not OUTDATED dhandle of it stamped r0, or allocate one
// (EXCLUSIVE, DH_ROLE = r0); 4. outside the lock, publish OPEN; 5. re-check the role word and the
// tree, and mark it OUTDATED if either moved.
//
// Why this keeps the step-down race (WiredTiger's seed report: an open on the leader path, half
// done while a step-down sweeps, ends up writable on the follower) harmless, and why cursors that
// re-acquire a dhandle after a role change keep it so: README.md in this directory, "The
// step-down race" (checks (a), (b), (c) below) and "Cursors across role changes".
//   (a) the write gate passes only a dhandle stamped with the current, leader, role word (role.ts);
//   (b) step 3 hands out only dhandles stamped r0;
//   (c) the role sweep and step 5 together mark every dhandle from before a change OUTDATED.
//
// Every flag both sides touch (DH_STATE) changes only by atomic or/and/cmpxchg; the role word is
// one atomic word; DH_ROLE and DH_TREE are written before OPEN is published and never after.
//
// The handle-list lock comes before the catalog latch in the lock table (assembly/locks.ts):
// dhandleGet and drop look tables up inside it, and the sweep frees trees inside it.

import { logging, logAppend, LOG_DROP } from "../log/log";
import { SB, SB_HANDLE_LIST_LOCK, SB_SWEEP_TICK, DHANDLE_OFF, DHANDLE_SIZE } from "../arena";
import { latchShared, unlatchShared, latchExclusive, unlatchExclusive } from "../latch";
import { Lock } from "../locks";
import { MAX_DHANDLES, MAX_TABLES } from "../limits";
import { OK, EBUSY, EAGAIN, ENOENT, EINVAL } from "../status";
import { tableLookup, tableState, tableFree, tableRetire, TABLE_LIVE, TABLE_RETIRED } from "../catalog";
import { roleStamp, writeEnter, writeExit } from "./role";
import { inject, INJECT_DHANDLE_GET, INJECT_DHANDLE_OPEN, INJECT_DHANDLE_RECHECK, INJECT_ROLE_SWEEP } from "../inject";

const DH_STATE: usize = 0;
const DH_TREE: usize = 4;
const DH_ROLE: usize = 8;
const DH_REFS: usize = 12;
const DH_LAST: usize = 16;

export const DH_ALLOC: u32 = 1;
export const DH_EXCLUSIVE: u32 = 2;
export const DH_OPEN: u32 = 4;
export const DH_OUTDATED: u32 = 8;
export const DH_DEAD: u32 = 16;
const USER_ONE: u32 = 256;

// @ts-ignore: decorator
@inline function dhAddr(dh: i32): usize { return SB + DHANDLE_OFF + <usize>dh * DHANDLE_SIZE; }
// @ts-ignore: decorator
@inline function dhState(dh: i32): u32 { return atomic.load<u32>(dhAddr(dh) + DH_STATE); }

/** The tree a dhandle opens (the caller is one of its users). */
// @ts-ignore: decorator
@inline export function dhandleTree(dh: i32): u32 { return load<u32>(dhAddr(dh) + DH_TREE); }
/** The role word a dhandle was opened under. */
// @ts-ignore: decorator
@inline export function dhandleStamp(dh: i32): u32 { return load<u32>(dhAddr(dh) + DH_ROLE); }

/** Is `dh` an id the caller may pass to operations: allocated and in use (by the caller)? */
export function dhandleInUse(dh: i32): bool {
  if (dh < 0 || dh >= MAX_DHANDLES) return false;
  const s = dhState(dh); // one load: every operation checks this
  return (s & DH_ALLOC) != 0 && s >= USER_ONE;
}

/** The flag bits and users of a dhandle (the bindings' diagnostics and tests). */
export function dhandleFlags(dh: i32): u32 { return dh >= 0 && dh < MAX_DHANDLES ? dhState(dh) : 0; }

/** An OPEN, not OUTDATED dhandle of `tree` opened under role word `stamp`, or -1. */
function findLocked(tree: u32, stamp: u32): i32 {
  for (let i = 0; i < MAX_DHANDLES; i++) {
    const s = dhState(i);
    if ((s & (DH_ALLOC | DH_OPEN | DH_OUTDATED | DH_DEAD)) == (DH_ALLOC | DH_OPEN)
      && load<u32>(dhAddr(i) + DH_TREE) == tree && load<u32>(dhAddr(i) + DH_ROLE) == stamp) return i;
  }
  return -1;
}

/**
 * Gets a dhandle for the live table named at `name`, with one reference for the caller's session
 * (release it with dhandleRelease). Returns its id, ENOENT or EBUSY (the list is full). Two
 * threads opening one table at once may each allocate a dhandle: both are valid, later opens find
 * one of them, and the sweep closes whichever stays idle. (Making the second opener wait for the
 * first's EXCLUSIVE would let a parked or slow open stall a step-down's final checkpoint.)
 */
export function dhandleGet(name: usize, len: i32): i32 {
  const r0 = roleStamp();                                   // 1. the role decision
  // 2 and 3 under the handle-list lock: a tree id from the lookup stays this name's tree while
  // the lock is held, because only the sweep frees a tree (and reuses its catalog slot for
  // another name), and it holds the lock exclusively. Looked up before taking the lock, the id
  // could be freed and reused meanwhile, and the dhandle would open another table's tree.
  inject(INJECT_DHANDLE_GET);
  const lw = SB + SB_HANDLE_LIST_LOCK;
  latchShared(lw, Lock.HANDLE_LIST);                                          // find ...
  let tree = tableLookup(name, len);
  let dh = tree >= 0 ? findLocked(<u32>tree, r0) : -1;
  if (dh >= 0) atomic.add<u32>(dhAddr(dh) + DH_REFS, 1);
  unlatchShared(lw);
  if (tree < 0) return tree;
  if (dh >= 0) return dh;
  latchExclusive(lw, Lock.HANDLE_LIST);                                       // ... or allocate
  tree = tableLookup(name, len);
  if (tree < 0) { unlatchExclusive(lw); return tree; }
  dh = findLocked(<u32>tree, r0);
  if (dh >= 0) {
    atomic.add<u32>(dhAddr(dh) + DH_REFS, 1);
    unlatchExclusive(lw);
    return dh;
  }
  for (let i = 0; i < MAX_DHANDLES; i++) {
    if (dhState(i) == 0) { dh = i; break; }
  }
  if (dh < 0) { unlatchExclusive(lw); return EBUSY; }
  const d = dhAddr(dh);
  store<u32>(d + DH_TREE, <u32>tree);
  store<u32>(d + DH_ROLE, r0);
  store<u32>(d + DH_LAST, atomic.load<u32>(SB + SB_SWEEP_TICK));
  atomic.store<u32>(d + DH_REFS, 1);
  atomic.store<u32>(d + DH_STATE, DH_ALLOC | DH_EXCLUSIVE);
  unlatchExclusive(lw);
  // 4. open, outside the handle-list lock. (The btree is already in memory: opening it is
  // publishing the handle. A test parks a thread here to force the seed interleaving.)
  inject(INJECT_DHANDLE_OPEN);
  atomic.or<u32>(d + DH_STATE, DH_OPEN);
  atomic.and<u32>(d + DH_STATE, ~DH_EXCLUSIVE);
  inject(INJECT_DHANDLE_RECHECK);
  // 5. the re-check (README.md, "The step-down race", (c)).
  if (roleStamp() != r0 || tableState(<u32>tree) != TABLE_LIVE) atomic.or<u32>(d + DH_STATE, DH_OUTDATED);
  return dh;
}

/** Drops a session's reference (the entry is reused once it is also DEAD). */
export function dhandleRelease(dh: i32): void {
  if (dh < 0 || dh >= MAX_DHANDLES) return;
  atomic.sub<u32>(dhAddr(dh) + DH_REFS, 1);
}

/**
 * Is the dhandle (which the caller uses) stamped with the current role word? Cursors' reads and
 * the write gate move a cursor to a current dhandle when not (README.md, "Cursors").
 */
// @ts-ignore: decorator
@inline export function dhandleCurrent(dh: i32): bool { return load<u32>(dhAddr(dh) + DH_ROLE) == roleStamp(); }

/**
 * Becomes a user (a cursor, a verify): OK, or EAGAIN if the dhandle is outdated or dead, or was
 * opened under another role word (a session's cached one that the sweep has not marked yet).
 */
export function dhandleUse(dh: i32): i32 {
  if (dh < 0 || dh >= MAX_DHANDLES) return EINVAL;
  const a = dhAddr(dh) + DH_STATE;
  while (true) {
    const s = atomic.load<u32>(a);
    if ((s & (DH_ALLOC | DH_OPEN | DH_OUTDATED | DH_DEAD)) != (DH_ALLOC | DH_OPEN) || !dhandleCurrent(dh)) return EAGAIN;
    if (atomic.cmpxchg<u32>(a, s, s + USER_ONE) == s) return OK;
  }
  return OK;
}

export function dhandleUnuse(dh: i32): void {
  if (!dhandleInUse(dh)) return;
  store<u32>(dhAddr(dh) + DH_LAST, atomic.load<u32>(SB + SB_SWEEP_TICK));
  atomic.sub<u32>(dhAddr(dh) + DH_STATE, USER_ONE);
}

/**
 * After a role change (the caller changed the role word first): marks every OPEN dhandle
 * OUTDATED, so that sessions drop them. Returns how many it marked. It takes no lock: entries are
 * fixed slots and each mark is one compare-and-swap against the state it judged, so a slot freed
 * and reused meanwhile is left alone. (Holding the handle-list lock here would make every open
 * that allocates wait for the sweep; a test parks the sweep half way to show opens go on.)
 */
export function dhandleSweepRole(): i32 {
  let n = 0;
  for (let i = 0; i < MAX_DHANDLES; i++) {
    const a = dhAddr(i) + DH_STATE;
    while (true) {
      const s = atomic.load<u32>(a);
      if ((s & (DH_ALLOC | DH_OPEN | DH_OUTDATED)) != (DH_ALLOC | DH_OPEN)) break;
      inject(INJECT_ROLE_SWEEP);
      if (atomic.cmpxchg<u32>(a, s, s | DH_OUTDATED) == s) { n++; break; }
    }
  }
  return n;
}

/** Marks the dhandles of one tree OUTDATED (it was retired: a newer image replaced it). */
export function dhandleOutdateTree(tree: u32): void {
  const lw = SB + SB_HANDLE_LIST_LOCK;
  latchShared(lw, Lock.HANDLE_LIST); // DH_TREE of an allocated entry does not change under the shared lock
  for (let i = 0; i < MAX_DHANDLES; i++) {
    if ((dhState(i) & DH_ALLOC) != 0 && load<u32>(dhAddr(i) + DH_TREE) == tree) atomic.or<u32>(dhAddr(i) + DH_STATE, DH_OUTDATED);
  }
  unlatchShared(lw);
}

/**
 * Drops the live table named at `name`: a write (leader only), EBUSY while any thread uses one of
 * its dhandles. Its dhandles are marked OUTDATED first (no new users), then DEAD if none has a
 * user; the tree is retired and the sweep frees it.
 */
export function dhandleDrop(name: usize, len: i32): i32 {
  const w = writeEnter(0);
  if (w < 0) return w;
  const lw = SB + SB_HANDLE_LIST_LOCK;
  latchExclusive(lw, Lock.HANDLE_LIST);
  const tree = tableLookup(name, len);
  if (tree < 0) { unlatchExclusive(lw); writeExit(); return ENOENT; }
  let busy = 0;
  for (let i = 0; i < MAX_DHANDLES; i++) {
    const a = dhAddr(i);
    if ((dhState(i) & DH_ALLOC) == 0 || load<u32>(a + DH_TREE) != <u32>tree) continue;
    atomic.or<u32>(a + DH_STATE, DH_OUTDATED);
    if (dhState(i) >= USER_ONE) busy++;
  }
  if (busy == 0) {
    for (let i = 0; i < MAX_DHANDLES; i++) {
      const a = dhAddr(i);
      if ((dhState(i) & DH_ALLOC) != 0 && load<u32>(a + DH_TREE) == <u32>tree) atomic.or<u32>(a + DH_STATE, DH_DEAD);
    }
    // No user: no write of the table is in flight, and none can start (log.ts, ORDER).
    if (logging) logAppend(LOG_DROP, <u32>tree, 0, 0, 0, 0);
    tableRetire(<u32>tree);
  }
  unlatchExclusive(lw);
  writeExit();
  return busy == 0 ? OK : EBUSY;
}

/**
 * The sweep: closes dhandles nobody uses that are outdated or were idle for `idleTicks` sweeps
 * (DEAD), reuses entries of dead dhandles no session caches, and frees retired trees no dhandle
 * refers to. Returns the number of dhandles it closed.
 */
export function dhandleSweep(idleTicks: u32): i32 {
  const tick = atomic.add<u32>(SB + SB_SWEEP_TICK, 1) + 1;
  const lw = SB + SB_HANDLE_LIST_LOCK;
  latchExclusive(lw, Lock.HANDLE_LIST);
  let closed = 0;
  for (let i = 0; i < MAX_DHANDLES; i++) {
    const a = dhAddr(i);
    const s = dhState(i);
    if ((s & DH_ALLOC) == 0) continue;
    if ((s & DH_DEAD) != 0) {
      if (atomic.load<u32>(a + DH_REFS) == 0) atomic.store<u32>(a + DH_STATE, 0);
      continue;
    }
    if ((s & DH_OPEN) == 0 || s >= USER_ONE) continue;
    if ((s & DH_OUTDATED) == 0 && tick - load<u32>(a + DH_LAST) < idleTicks) continue;
    // Dead only if still unused: one cmpxchg against the word we judged.
    if (atomic.cmpxchg<u32>(a + DH_STATE, s, s | DH_DEAD) == s) {
      closed++;
      if (atomic.load<u32>(a + DH_REFS) == 0) atomic.store<u32>(a + DH_STATE, 0);
    }
  }
  // Retired trees that no live dhandle refers to any more. A DEAD dhandle still cached by a
  // session (DH_REFS > 0) does not count: nothing can use it again (dhandleUse refuses DEAD, and
  // finds skip it), so its tree number is never followed; the session drops it when it next
  // opens that table, or closes. Otherwise an idle session would keep old images forever.
  for (let t = 0; t < MAX_TABLES; t++) {
    if (tableState(<u32>t) != TABLE_RETIRED) continue;
    let referenced = false;
    for (let i = 0; i < MAX_DHANDLES; i++) {
      if ((dhState(i) & (DH_ALLOC | DH_DEAD)) == DH_ALLOC && load<u32>(dhAddr(i) + DH_TREE) == <u32>t) { referenced = true; break; }
    }
    if (!referenced) tableFree(<u32>t);
  }
  unlatchExclusive(lw);
  return closed;
}

/** Dhandles allocated (open, outdated or dead but still cached): stats and tests. */
export function dhandleCount(): i32 {
  let n = 0;
  for (let i = 0; i < MAX_DHANDLES; i++) if ((dhState(i) & DH_ALLOC) != 0) n++;
  return n;
}
