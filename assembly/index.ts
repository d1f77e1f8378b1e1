// The core's exported ABI. Every function works on this thread's instance state (Wasm globals)
// and exchanges bytes through this thread's scratch area: keys at S_KEY / S_KEY2, values at
// S_VALUE, results at S_OUT (see assembly/scratch.ts and bindings/core.ts).
// Failures are negative status numbers (assembly/status.ts); nothing here traps on bad input.

import {
  arenaInit, arenaAttach, arenaBase, arenaBuildId, BUILD_ID, threadRegister, threadUnregister, scratch,
  pageSize, pageAddr, ARENA_GUARD, threadsAttached, threadSlot, arenaHighWater, arenaFreeCount, arenaMaxPages,
} from "./arena";
import { latchSetCanBlock } from "./latch";
import { MAX_KEY, MIN_PAGE_SIZE, MAX_PAGE_SIZE, VALUE_SHIFT, MAX_THREADS, MAX_TABLES, MAX_NAME, valueMax, leafItemMax } from "./limits";
import { P_VERSION } from "./page";
import { tableCreate, tableLookup, tableFormats, tableValid } from "./catalog";
import { btreeGet } from "./btree/search";
import { btreePut } from "./btree/insert";
import { btreeRemove } from "./btree/remove";
import { scanForward, scanBackward } from "./btree/scan";
import { btreeStats } from "./btree/stats";
import { dumpLevel, dumpDeleted } from "./btree/dump";
import { verifyTree } from "./verify";
import { pagedelCompact } from "./btree/pagedel";
import { epochEnter, epochExit, limboReclaim } from "./epoch";
import { injectArm, injectWake, injectArrivedAddr, injectHits, injectArrived, injectCount } from "./inject";
import { sKey, sKey2, sValue, S_KEY, S_KEY2, S_VALUE, S_OUT, S_OUT_SIZE } from "./scratch";
import { EINVAL, EKEYSIZE, EVALUESIZE, ENOENT, ECORRUPT } from "./status";

// ---- connection and threads ----

/** Lays out (first caller) or checks the superblock. */
export function lk_init(pgSize: u32, maxPages: u32): i32 {
  if (pgSize < <u32>MIN_PAGE_SIZE || pgSize > <u32>MAX_PAGE_SIZE || popcnt(pgSize) != 1) return EINVAL;
  return arenaInit(pgSize, maxPages);
}
export function lk_attach(): i32 { return arenaAttach(); }
/** Registers this instance as a thread; returns its slot. */
export function lk_thread_register(canBlock: i32): i32 {
  latchSetCanBlock(canBlock != 0);
  return threadRegister();
}
export function lk_thread_unregister(): void { threadUnregister(); }
export function lk_scratch(): usize { return scratch; }
export function lk_arena_base(): usize { return arenaBase(); }
export function lk_build_id(): u32 { return BUILD_ID; }
export function lk_superblock_build_id(): u32 { return arenaBuildId(); }
export function lk_page_size(): u32 { return pageSize; }
export function lk_threads_attached(): i32 { return threadsAttached(); }
export function lk_thread_slot(): i32 { return threadSlot; }
export function lk_debug(): i32 { return ASC_NO_ASSERT ? 0 : 1; }

/** Limits, for the bindings' messages: which = 0 key, 1 value, 2 threads, 3 tables, 4 name. */
export function lk_limit(which: i32): i32 {
  switch (which) {
    case 0: return MAX_KEY;
    case 1: return <i32>pageSize >> VALUE_SHIFT;
    case 2: return MAX_THREADS;
    case 3: return MAX_TABLES;
    case 4: return MAX_NAME;
    case 5: return <i32>S_KEY;
    case 6: return <i32>S_KEY2;
    case 7: return <i32>S_VALUE;
    case 8: return <i32>S_OUT;
    case 9: return <i32>S_OUT_SIZE;
    case 10: return leafItemMax(<i32>pageSize);
    case 11: return <i32>arenaMaxPages();
    case 12: return <i32>ARENA_GUARD;
  }
  return EINVAL;
}

// ---- tables ----

export function lk_table_create(nameLen: i32, keyFormat: i32, valueFormat: i32): i32 {
  return tableCreate(sKey(), nameLen, <u8>keyFormat, <u8>valueFormat);
}
export function lk_table_lookup(nameLen: i32): i32 {
  if (nameLen <= 0 || nameLen > MAX_NAME) return ENOENT;
  return tableLookup(sKey(), nameLen);
}
export function lk_table_formats(tree: i32): i32 { return tableFormats(tree); }

// ---- operations ----

// @ts-ignore: decorator
@inline function checkKey(klen: i32): i32 { return klen < 1 || klen > MAX_KEY ? EKEYSIZE : 0; }

// Every operation that reads the tree runs inside an announced epoch (assembly/epoch.ts), so
// that no page it may still point to is recycled under it.

export function lk_get(tree: i32, klen: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  const r = checkKey(klen);
  if (r < 0) return r;
  epochEnter();
  const v = btreeGet(<u32>tree, sKey(), klen);
  epochExit();
  return v;
}

export function lk_put(tree: i32, klen: i32, vlen: i32, mode: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  const r = checkKey(klen);
  if (r < 0) return r;
  if (vlen < 0 || vlen > valueMax(<i32>pageSize, klen)) return EVALUESIZE;
  epochEnter();
  const v = btreePut(<u32>tree, sKey(), klen, sValue(), vlen, mode);
  epochExit();
  return v;
}

export function lk_remove(tree: i32, klen: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  const r = checkKey(klen);
  if (r < 0) return r;
  epochEnter();
  const v = btreeRemove(<u32>tree, sKey(), klen);
  epochExit();
  return v;
}

/**
 * One scan batch. reverse: 0/1. mode/endMode: 0 none, 1 inclusive, 2 exclusive; start key at
 * S_KEY (klen), end key at S_KEY2 (endLen). Forward batches take the previous batch's hint.
 */
export function lk_scan(
  tree: i32, reverse: i32, mode: i32, klen: i32, endMode: i32, endLen: i32, hint: u32, hintGen: u32, limit: i32,
): i32 {
  if (!tableValid(tree)) return ENOENT;
  if (mode < 0 || mode > 2 || endMode < 0 || endMode > 2) return EINVAL;
  if ((mode != 0 && checkKey(klen) < 0) || (endMode != 0 && checkKey(endLen) < 0)) return EKEYSIZE;
  epochEnter();
  const v = reverse != 0
    ? scanBackward(<u32>tree, sKey(), klen, mode, sKey2(), endLen, endMode, limit)
    : scanForward(<u32>tree, sKey(), klen, mode, sKey2(), endLen, endMode, hint, hintGen, limit);
  epochExit();
  return v;
}

/** A page's version (0 for a page number the arena never handed out): cursors' read-ahead check. */
export function lk_page_version(pg: u32): u32 {
  if (pg == 0 || pg >= arenaHighWater()) return 0;
  return atomic.load<u32>(pageAddr(pg) + P_VERSION);
}

export function lk_verify(tree: i32, full: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  epochEnter();
  const v = verifyTree(<u32>tree, full != 0);
  epochExit();
  return v;
}

export function lk_stats(tree: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  epochEnter();
  const v = btreeStats(<u32>tree);
  epochExit();
  return v;
}

/** session.treeShape: one batch of a level's pages, or of the table's deleted pages (btree/dump.ts). */
export function lk_dump_level(tree: i32, level: i32, from: u32, fromGen: u32): i32 {
  if (!tableValid(tree)) return ENOENT;
  epochEnter();
  const v = dumpLevel(<u32>tree, level, from, fromGen);
  epochExit();
  return v;
}
export function lk_dump_deleted(tree: i32, from: u32): i32 {
  if (!tableValid(tree)) return ENOENT;
  epochEnter();
  const v = dumpDeleted(<u32>tree, from);
  epochExit();
  return v;
}

/** session.compact: page deletion, interrupted deletions, root shrink, recycling. */
export function lk_compact(tree: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  epochEnter();
  const v = pagedelCompact(<u32>tree);
  epochExit();
  return v;
}

/** Recycles what the limbo list allows (tests and the bench). */
export function lk_reclaim(): i32 { return limboReclaim(0x7fffffff); }

// ---- injection points ----
export function lk_inject_arm(id: i32, action: u32, skip: u32, count: u32): i32 { return injectArm(id, action, skip, count); }
export function lk_inject_wake(id: i32): void { injectWake(id); }
export function lk_inject_arrived_addr(id: i32): usize { return injectArrivedAddr(id); }
export function lk_inject_hits(id: i32): u32 { return injectHits(id); }
export function lk_inject_arrived(id: i32): u32 { return injectArrived(id); }
export function lk_inject_count(): i32 { return injectCount(); }

// ---- unit-test hooks (assembly/selftest.ts) ----
export {
  selftestArea as lk_test_area, selftestWriter as lk_test_writer, selftestReader as lk_test_reader,
  selftestTryExclusive as lk_test_try_exclusive, selftestUnlatchExclusive as lk_test_unlatch_exclusive,
  selftestLatchShared as lk_test_latch_shared, selftestUnlatchShared as lk_test_unlatch_shared,
  selftestAlloc as lk_test_alloc, selftestLevel as lk_test_level,
} from "./selftest";
export function lk_arena_high_water(): u32 { return arenaHighWater(); }
export function lk_arena_free_count(): u32 { return arenaFreeCount(); }
