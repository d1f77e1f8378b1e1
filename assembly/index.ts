// The core's exported functions. Every function works on this thread's instance state (Wasm
// globals) and exchanges bytes through this thread's scratch area: keys at S_KEY / S_KEY2, values
// at S_VALUE, results at S_OUT (see assembly/scratch.ts and bindings/core.ts). These and the
// constants the bindings read form the boundary that assembly/abi.ts declares; the TypeScript side
// is generated from it (scripts/gen-abi.js), so no function here is typed again by hand.
// Failures are negative status numbers (assembly/status.ts); nothing here traps on bad input.

import {
  SB, SB_CHECKPOINT_LOCK, SB_TERM, CONN_FIELDS, arenaInit, arenaAttach, arenaBase, arenaBuildId, BUILD_ID, threadRegister, threadUnregister, scratch,
  threadToken, threadTableId, threadOwner, threadReclaim,
  pageSize, threadsAttached, threadSlot, arenaHighWater, arenaFreeCount, arenaMaxPages,
} from "./arena";
import { latchSetCanBlock } from "./latch";
import { MAX_DHANDLES, MAX_KEY, MIN_PAGE_SIZE, MAX_PAGE_SIZE, VALUE_SHIFT, MAX_TABLES, MAX_NAME, valueMax, leafItemMax, MAX_THREADS, LOG_CREDIT_GRAIN, LOG_RING_SIZE } from "./limits";
import {
  tableCreate, tableFormats, tableNextLive, tableName, tableLoading, tablePublish, tableRetire, tableState,
  tableReadonly, tableSetReadonly, tablesSetReadonly, TABLE_LIVE, TABLE_LOADING, NEXT_NAME_LEN, NEXT_FORMATS, NEXT_NAME,
} from "./catalog";
import {
  dhandleGet, dhandleUse, dhandleUnuse, dhandleRelease, dhandleFlags, dhandleCount, dhandleSweep, dhandleDrop,
  dhandleInUse, dhandleTree, dhandleStamp, dhandleCurrent, dhandleSweepRole, dhandleOutdateTree,
} from "./conn/dhandle";
import {
  roleInit, roleWord, roleSet, writeEnter, writeExit, writeDrain, gateClose, gateOpen, ckptTryLock, ckptUnlock,
} from "./conn/role";
import { btreeGet } from "./btree/search";
import { btreePut } from "./btree/insert";
import { btreeRemove } from "./btree/remove";
import { scanForward, scanBackward, scanKept, SCAN_BYTES, SCAN_REVERSE, SCAN_SPAN } from "./btree/scan";
import { batchGet, batchPut, batchRemove, columnsBegin, columnsEnd, columnsPack } from "./btree/batch";
import { btreeStats } from "./btree/stats";
import { dumpLevel, dumpDeleted } from "./btree/dump";
import { verifyTree } from "./verify";
import { pagedelCompact } from "./btree/pagedel";
import { epochEnter, epochExit, limboReclaim } from "./epoch";
import { injectArm, injectWake, injectArrivedAddr, injectHits, injectArrived, injectCount } from "./inject";
import { sKey, sKey2, sValue, sOut, S_OUT_SIZE } from "./scratch";
import { OK, EINVAL, EKEYSIZE, EVALUESIZE, ENOENT, EAGAIN } from "./status";
import {
  logging, logAdmit, logDone, logAppend, logUnaccounted, logSize, logPadded, logSetBatch, logReady, logRelease, logStart, logStop, logEpoch,
  LOG_HEADER, LOG_R_TYPE, LOG_R_TREE, LOG_R_KLEN, LOG_PUT, LOG_REMOVE, LOG_SKIP, LOG_BATCH_BEGIN, LOG_BATCH_COMMIT, LOG_TERM_START,
} from "./log/log";
import { tableLog } from "./catalog";
import { SB_LOG_RESERVED, SB_LOG_DRAINED, SB_LOG_DURABLE, SB_LOG_DURABLE_SEQ, SB_LOG_DRAIN_SEQ, SB_LOG_REQUEST, SB_LOG_FAILED, SB_LOG_ON, LOG_RING_BASE } from "./arena";
import { roleStamp } from "./conn/role";
import { futexWake } from "./futex";
import { BATCH_IN_SIZE, BATCH_OP_HEADER } from "./btree/batch";

// ---- connection and threads ----

/** Lays out (first caller) or checks the superblock. */
export function lk_init(pgSize: u32, maxPages: u32, idLow: u32, idHigh: u32): i32 {
  if (pgSize < <u32>MIN_PAGE_SIZE || pgSize > <u32>MAX_PAGE_SIZE || popcnt(pgSize) != 1) return EINVAL;
  return arenaInit(pgSize, maxPages, (<u64>idHigh << 32) | <u64>idLow);
}
export function lk_attach(): i32 { return arenaAttach(); }
/** Registers this instance as a thread of owner `token` (lk_thread_token, or 1: none); returns its slot. */
export function lk_thread_register(canBlock: i32, token: u32): i32 {
  latchSetCanBlock(canBlock != 0);
  return threadRegister(token);
}
export function lk_thread_unregister(): void { threadUnregister(); }
/** Thread slots of threads that end (assembly/arena.ts): tokens, owners, reclaiming. */
export function lk_thread_token(): u32 { return threadToken(); }
export function lk_thread_table_id(which: i32): u32 { return threadTableId(which); }
export function lk_thread_owner(slot: i32): u32 { return threadOwner(slot); }
export function lk_thread_reclaim(slot: i32, token: u32): i32 { return threadReclaim(slot, token); }
export function lk_scratch(): usize { return scratch; }
export function lk_arena_base(): usize { return arenaBase(); }
export function lk_build_id(): u32 { return BUILD_ID; }
export function lk_superblock_build_id(): u32 { return arenaBuildId(); }
export function lk_page_size(): u32 { return pageSize; }
export function lk_threads_attached(): i32 { return threadsAttached(); }
export function lk_thread_slot(): i32 { return threadSlot; }
export function lk_debug(): i32 { return ASC_NO_ASSERT ? 0 : 1; }

// Limits that depend on the connection (its page size, its cacheSize). Constant limits and the
// scratch layout reach the bindings as generated constants (assembly/abi.ts), not through calls.

/** The largest value: a quarter page (limits.ts VALUE_SHIFT); less where leafItemMax binds. */
export function lk_max_value(): i32 { return <i32>pageSize >> VALUE_SHIFT; }
/** The largest key + value of one item (limits.ts leafItemMax; binds on 4 KiB pages only). */
export function lk_leaf_item_max(): i32 { return leafItemMax(<i32>pageSize); }
/** Pages the arena may hold (the connection's cacheSize). */
export function lk_arena_max_pages(): i32 { return <i32>arenaMaxPages(); }

/** Largest value accepted with a key of `klen` bytes on this memory's pages (EKEYSIZE for no such key). */
export function lk_value_max(klen: i32): i32 {
  const r = checkKey(klen);
  return r < 0 ? r : valueMax(<i32>pageSize, klen);
}

// ---- tables and dhandles ----
// Operations on a table go through a dhandle the caller uses (assembly/conn/dhandle.ts): the
// bindings get one by name, become a user for the cursor's life, and pass its id here.

export function lk_table_create(nameLen: i32, keyFormat: i32, valueFormat: i32): i32 {
  if (nameLen <= 0 || nameLen > MAX_NAME) return EINVAL;
  logAdmit(logSize(nameLen, 2));
  const w = writeEnter(0);
  if (w < 0) { logDone(); return w; }
  const v = tableCreate(sKey(), nameLen, <u8>keyFormat, <u8>valueFormat);
  writeExit();
  logDone();
  return v;
}
export function lk_table_drop(nameLen: i32): i32 {
  if (nameLen <= 0 || nameLen > MAX_NAME) return ENOENT;
  logAdmit(logSize(0, 0));
  const v = dhandleDrop(sKey(), nameLen);
  logDone();
  return v;
}
export function lk_table_formats(dh: i32): i32 {
  return dhandleInUse(dh) ? tableFormats(dhandleTree(dh)) : ENOENT;
}
export function lk_dhandle_get(nameLen: i32): i32 {
  if (nameLen <= 0 || nameLen > MAX_NAME) return ENOENT;
  return dhandleGet(sKey(), nameLen);
}
export function lk_dhandle_use(dh: i32): i32 { return dhandleUse(dh); }
export function lk_dhandle_unuse(dh: i32): void { dhandleUnuse(dh); }
export function lk_dhandle_release(dh: i32): void { dhandleRelease(dh); }
export function lk_dhandle_flags(dh: i32): u32 { return dhandleFlags(dh); }
export function lk_dhandle_stamp(dh: i32): u32 { return dh >= 0 && dh < MAX_DHANDLES ? dhandleStamp(dh) : 0; }
export function lk_dhandle_count(): i32 { return dhandleCount(); }
export function lk_sweep(idleTicks: u32): i32 { return dhandleSweep(idleTicks); }

// ---- roles, the write gate, checkpoints (assembly/conn/role.ts) ----

export function lk_role_init(leader: i32): void { roleInit(leader != 0); }
export function lk_role_word(): u32 { return roleWord(); }
/** A role change: the new role word first, then the sweep of OPEN dhandles, then the drain. */
export function lk_role_change(leader: i32): u32 {
  const w = roleSet(leader != 0);
  dhandleSweepRole();
  writeDrain();
  return w;
}
export function lk_tables_readonly(on: i32): void { tablesSetReadonly(on != 0); }
export function lk_gate_close(): void { gateClose(); }
export function lk_gate_open(): void { gateOpen(); }
export function lk_ckpt_try_lock(): i32 { return ckptTryLock() ? 1 : 0; }
export function lk_ckpt_unlock(): void { ckptUnlock(); }
export function lk_ckpt_lock_addr(): usize { return SB + SB_CHECKPOINT_LOCK; }
/** Connection state the checkpoint code keeps in the superblock: a CONN_* field (arena.ts). */
export function lk_conn_get(field: i32): u32 { return field >= 0 && field < CONN_FIELDS ? atomic.load<u32>(SB + SB_TERM + (<usize>field << 2)) : 0; }
export function lk_conn_set(field: i32, v: u32): void { if (field >= 0 && field < CONN_FIELDS) atomic.store<u32>(SB + SB_TERM + (<usize>field << 2), v); }

/** The next live tree at or after `from` (ENOENT after the last); its name goes to S_OUT. */
export function lk_table_next(from: i32): i32 {
  const t = tableNextLive(from);
  if (t >= 0) {
    store<i32>(sOut() + NEXT_NAME_LEN, tableName(<u32>t, sOut() + NEXT_NAME));
    store<i32>(sOut() + NEXT_FORMATS, tableFormats(<u32>t));
  }
  return t;
}
/** A tree for a checkpoint image, filled by lk_load_items and published by lk_table_load_publish. */
export function lk_table_load_begin(nameLen: i32, keyFormat: i32, valueFormat: i32): i32 {
  return tableCreate(sKey(), nameLen, <u8>keyFormat, <u8>valueFormat, true);
}
/**
 * Inserts `count` items (u16 key length, u16 value length, key, value), `len` bytes at S_OUT, into
 * a tree being loaded: one image page per call. EINVAL if an item runs past `len` or breaks a size
 * limit (nothing after it is inserted).
 */
export function lk_load_items(tree: i32, count: i32, len: i32): i32 {
  if (!tableLoading(tree)) return ENOENT;
  if (len < 0 || len > <i32>S_OUT_SIZE) return EINVAL;
  const base = sOut();
  let pos = 0;
  epochEnter();
  for (let i = 0; i < count; i++) {
    if (pos + 4 > len) { epochExit(); return EINVAL; }
    const klen = <i32>load<u16>(base + <usize>pos);
    const vlen = <i32>load<u16>(base + <usize>pos + 2);
    if (checkKey(klen) < 0 || vlen > valueMax(<i32>pageSize, klen) || pos + 4 + klen + vlen > len) { epochExit(); return EINVAL; }
    const k = base + <usize>pos + 4;
    const r = btreePut(<u32>tree, k, klen, k + <usize>klen, vlen, 0);
    if (r < 0) { epochExit(); return r; }
    pos += 4 + klen + vlen;
  }
  epochExit();
  return count;
}
/** Makes a loaded tree live (read-only); the tree it replaces is retired and its dhandles outdated. */
export function lk_table_load_publish(tree: i32): i32 {
  if (!tableLoading(tree)) return ENOENT;
  tableSetReadonly(<u32>tree, true);
  const old = tablePublish(<u32>tree);
  if (old >= 0) dhandleOutdateTree(<u32>old);
  return old;
}
/** Retires a live tree (absent from a newer image) or a loading one (a failed load). */
export function lk_table_retire(tree: i32): i32 {
  if (tree < 0 || tree >= MAX_TABLES) return ENOENT;
  const s = tableState(<u32>tree);
  if (s != TABLE_LIVE && s != TABLE_LOADING) return ENOENT;
  tableRetire(<u32>tree);
  dhandleOutdateTree(<u32>tree);
  return OK;
}

// ---- operations ----

// @ts-ignore: decorator
@inline function checkKey(klen: i32): i32 { return klen < 1 || klen > MAX_KEY ? EKEYSIZE : 0; }

// Every operation that reads the tree runs inside an announced epoch (assembly/epoch.ts), so
// that no page it may still point to is recycled under it. Writes run inside the write gate
// (assembly/conn/role.ts) as well. A cursor's operations return EAGAIN when its dhandle is from
// before a role change (the write gate, or dhandleCurrent for reads): the bindings then take a
// current dhandle and call again (assembly/conn/README.md, "Cursors across role changes").

export function lk_get(dh: i32, klen: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  const r = checkKey(klen);
  if (r < 0) return r;
  if (!dhandleCurrent(dh)) return EAGAIN;
  epochEnter();
  const v = btreeGet(dhandleTree(dh), sKey(), klen, sOut());
  epochExit();
  return v;
}

export function lk_put(dh: i32, klen: i32, vlen: i32, mode: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  const r = checkKey(klen);
  if (r < 0) return r;
  if (vlen < 0 || vlen > valueMax(<i32>pageSize, klen)) return EVALUESIZE;
  if (inBatch) return EINVAL;
  logAdmit(logSize(klen, vlen)); // before the gate and every latch (assembly/log/log.ts, ROOM)
  const w = writeEnter(dhandleStamp(dh));
  if (w < 0) { logDone(); return w; }
  const tree = dhandleTree(dh);
  if (!ASC_NO_ASSERT) assert(!tableReadonly(tree), "write gate: a write reached a read-only tree");
  epochEnter();
  const v = btreePut(tree, sKey(), klen, sValue(), vlen, mode);
  epochExit();
  writeExit();
  logDone();
  return v;
}

export function lk_remove(dh: i32, klen: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  const r = checkKey(klen);
  if (r < 0) return r;
  if (inBatch) return EINVAL;
  logAdmit(logSize(klen, 0));
  const w = writeEnter(dhandleStamp(dh));
  if (w < 0) { logDone(); return w; }
  const tree = dhandleTree(dh);
  if (!ASC_NO_ASSERT) assert(!tableReadonly(tree), "write gate: a write reached a read-only tree");
  epochEnter();
  const v = btreeRemove(tree, sKey(), klen);
  epochExit();
  writeExit();
  logDone();
  return v;
}

// Batches (assembly/btree/batch.ts): `count` keys or entries packed in `len` bytes at BATCH_IN.
// Each returns how many it did (a chunk the output area cut short, or the first failure after
// at least one done: the caller calls again from the first not done), or the status of the first.

/** cursor.getMany: values (or BATCH_NOTFOUND) of the keys done at BATCH_OUT, in order. */
export function lk_get_many(dh: i32, count: i32, len: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  if (count < 0) return EINVAL;
  if (!dhandleCurrent(dh)) return EAGAIN;
  epochEnter();
  const v = batchGet(dhandleTree(dh), count, len);
  epochExit();
  return v;
}

/** cursor.putMany: inserts or overwrites each entry ([u16 klen][u16 vlen][key][value]). */
export function lk_put_many(dh: i32, count: i32, len: i32): i32 { return writeMany(dh, count, len, false); }

/** cursor.removeMany: removes each key; how many of the keys done were present is at BATCH_OUT (u32). */
export function lk_remove_many(dh: i32, count: i32, len: i32): i32 { return writeMany(dh, count, len, true); }

/** A chunk of putMany or removeMany: one pass through the write gate, one epoch. */
function writeMany(dh: i32, count: i32, len: i32, remove: bool): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  if (count < 0) return EINVAL;
  if (inBatch) return EINVAL;
  logAdmit(chunkLogBound(count, len, remove ? 3 : 5));
  const w = writeEnter(dhandleStamp(dh));
  if (w < 0) { logDone(); return w; }
  const tree = dhandleTree(dh);
  if (!ASC_NO_ASSERT) assert(!tableReadonly(tree), "write gate: a write reached a read-only tree");
  epochEnter();
  const v = remove ? batchRemove(tree, count, len) : batchPut(tree, count, len);
  epochExit();
  writeExit();
  logDone();
  return v;
}

/**
 * The most log bytes a chunk of `count` entries in `len` bytes can append: each entry's key and
 * value bytes and a record header with padding. An entry takes at least `minEntry` input bytes,
 * which bounds `count` whatever the caller says.
 */
function chunkLogBound(count: i32, len: i32, minEntry: i32): i32 {
  const l = min(max(len, 0), <i32>BATCH_IN_SIZE);
  return l + min(count, l / minEntry) * (LOG_HEADER + 7);
}
// The largest admission (a chunk of removeMany: 3-byte entries) is always admitted once the ring
// is drained, whatever credit the thread slots keep (assembly/log/log.ts, ROOM).
// @ts-ignore: compile-time ERROR
if (<i32>BATCH_IN_SIZE + <i32>BATCH_IN_SIZE / 3 * (LOG_HEADER + 7) + MAX_THREADS * 2 * LOG_CREDIT_GRAIN > LOG_RING_SIZE) ERROR("index.ts: the largest log admission does not fit the ring beside the threads' credit");

// ---- session.batch: changes of several tables, all in the log or none after a crash ----
// lk_batch_begin enters the write gate once for the whole batch (so no checkpoint image holds
// part of it, and a role change waits for it) and appends LOG_BATCH_BEGIN; lk_batch_apply does a
// chunk of its changes, whose records carry LOG_F_BATCH; lk_batch_end appends LOG_BATCH_COMMIT
// (with `commit`) and leaves the gate. Recovery applies a batch's changes only if its commit is in
// the log (bindings/log.ts). The bindings run a batch from begin to end without yielding.

/** This thread is inside session.batch; the role word it entered under. */
let inBatch = false;
let batchWord: u32 = 0;

/**
 * Begins a batch over the `count` dhandles whose ids (u32) are at S_OUT: OK; EAGAIN (nothing
 * begun) if one is from before a role change; ENOTLEADER on a follower.
 */
export function lk_batch_begin(count: i32): i32 {
  if (inBatch || count < 0 || count > MAX_DHANDLES) return EINVAL;
  for (let i = 0; i < count; i++) if (!dhandleInUse(load<i32>(sOut() + (<usize>i << 2)))) return ENOENT;
  logAdmit(logSize(0, 0));
  const w = writeEnter(0);
  if (w < 0) { logDone(); return w; }
  const word = roleStamp();
  for (let i = 0; i < count; i++) {
    if (dhandleStamp(load<i32>(sOut() + (<usize>i << 2))) != word) { writeExit(); logDone(); return EAGAIN; }
  }
  if (logging) logAppend(LOG_BATCH_BEGIN, 0, 0, 0, 0, 0);
  logDone();
  logSetBatch(true);
  inBatch = true;
  batchWord = word;
  return OK;
}

/**
 * A chunk of the batch: `count` changes in `len` bytes at S_OUT (btree/batch.ts, BATCH_OP_HEADER:
 * type LOG_PUT or LOG_REMOVE, dhandle, lengths, key, value). Returns how many were done (all, or
 * those before a failure), or the first one's failure.
 */
export function lk_batch_apply(count: i32, len: i32): i32 {
  if (!inBatch || count < 0 || len < 0 || <usize>len > BATCH_IN_SIZE) return EINVAL;
  logAdmit(chunkLogBound(count, len, BATCH_OP_HEADER + 1));
  const base = sOut();
  const end = base + <usize>len;
  let at = base;
  let n = 0;
  let failure = OK;
  epochEnter();
  for (; n < count; n++) {
    if (at + <usize>BATCH_OP_HEADER > end) { failure = EINVAL; break; }
    const type = load<u8>(at);
    const dh = <i32>load<u16>(at + 2);
    const klen = <i32>load<u16>(at + 4);
    const vlen = <i32>load<u16>(at + 6);
    const key = at + <usize>BATCH_OP_HEADER;
    if ((type != LOG_PUT && type != LOG_REMOVE) || !dhandleInUse(dh) || dhandleStamp(dh) != batchWord) { failure = EINVAL; break; }
    if (checkKey(klen) < 0) { failure = EKEYSIZE; break; }
    if (type == LOG_PUT && vlen > valueMax(<i32>pageSize, klen)) { failure = EVALUESIZE; break; }
    const vl = type == LOG_PUT ? vlen : 0;
    if (key + <usize>(klen + vl) > end) { failure = EINVAL; break; }
    const r = type == LOG_PUT ? btreePut(dhandleTree(dh), key, klen, key + <usize>klen, vl, 0) : btreeRemove(dhandleTree(dh), key, klen);
    if (r < 0) { failure = r; break; }
    at = key + <usize>(klen + vl);
  }
  epochExit();
  logDone();
  return n > 0 || failure == OK ? n : failure;
}

/** Ends the batch: its commit record (with `commit`), then out of the write gate. */
export function lk_batch_end(commit: i32): void {
  if (!inBatch) return;
  if (commit != 0) {
    // Inside the gate: lk_log_full drains or waits; the log's writer also drains while it waits
    // for writers to leave the gate (role.ts, writeDrain), so this cannot wait for itself.
    logAdmit(logSize(0, 0));
    if (logging) logAppend(LOG_BATCH_COMMIT, 0, 0, 0, 0, 0);
    logDone();
  }
  logSetBatch(false);
  inBatch = false;
  writeExit();
}

// ---- the log buffer (assembly/log/log.ts), for the bindings' log writer ----

export function lk_log_ring(): usize { return LOG_RING_BASE; }
/** A log position: 0 reserved (the log's end), 1 drained, 2 durable. */
export function lk_log_position(which: i32): f64 {
  const at = which == 0 ? SB_LOG_RESERVED : which == 1 ? SB_LOG_DRAINED : SB_LOG_DURABLE;
  return <f64>atomic.load<u64>(SB + at);
}
export function lk_log_on(): i32 { return <i32>atomic.load<u32>(SB + SB_LOG_ON); }
/** Bytes of complete records from the drained position (at most `max`) for the writer of `epoch`: copy them, then lk_log_release. */
export function lk_log_ready(max: i32, epoch: u32): i32 { return logReady(max, epoch); }
/** 1 if released; 0 if the log was started again (another epoch) since lk_log_ready. */
export function lk_log_release(n: i32, epoch: u32): i32 { return logRelease(n, epoch) ? 1 : 0; }
/** The log's start count (lk_log_start bumps it): the writer that owns the ring. */
export function lk_log_epoch(): u32 { return logEpoch(); }
/** Ring bytes the log's credit does not account for: 0 while no write is in progress (assembly/log/log.ts, logUnaccounted). */
export function lk_log_unaccounted(): i32 { return logUnaccounted(); }
/** The page store holds the log up to `pos`: flushes waiting on SB_LOG_DURABLE_SEQ wake. */
export function lk_log_set_durable(pos: f64): void {
  atomic.store<u64>(SB + SB_LOG_DURABLE, <u64>pos);
  atomic.add<u32>(SB + SB_LOG_DURABLE_SEQ, 1);
  futexWake(SB + SB_LOG_DURABLE_SEQ, -1);
}
/**
 * Words to wait on: 0 SB_LOG_DRAIN_SEQ (writers wanting room), 1 SB_LOG_DURABLE_SEQ (flushes),
 * 2 SB_LOG_REQUEST (the log's writer); and 3 SB_LOG_FAILED (the writer's failed segment writes).
 */
export function lk_log_word(which: i32): usize {
  return SB + (which == 0 ? SB_LOG_DRAIN_SEQ : which == 1 ? SB_LOG_DURABLE_SEQ : which == 2 ? SB_LOG_REQUEST : SB_LOG_FAILED);
}
/** Starts the log at position `pos` (a step-up, before its role change): empty ring, log on. */
export function lk_log_start(pos: f64): void { logStart(<u64>pos); }
export function lk_log_stop(): void { logStop(); }
/**
 * The records a term starts with: LOG_TERM_START, then a LOG_CREATE of every live table (naming
 * this leader's tree ids). Called after lk_log_start, before the role change lets writes in.
 */
export function lk_log_term_start(): void {
  logAdmit(logSize(0, 0));
  if (logging) logAppend(LOG_TERM_START, 0, 0, 0, 0, 0);
  logDone();
  for (let t = tableNextLive(0); t >= 0; t = tableNextLive(t + 1)) {
    logAdmit(logSize(MAX_NAME, 2));
    if (logging) tableLog(<u32>t);
    logDone();
  }
}

/**
 * Replay: applies the LOG_PUT and LOG_REMOVE records (and skips LOG_SKIP ones) in `len` bytes at
 * S_OUT, whose checksums the bindings checked and whose tree ids they mapped to this node's (a
 * live tree, or one being loaded: an incremental checkpoint's changes, bindings/delta.ts).
 * Stops before any other record. Returns the bytes done; EINVAL for a record that breaks a limit
 * or names no live tree (nothing after it is applied). Never logs: the log is off while it runs.
 */
export function lk_log_apply(len: i32): i32 {
  if (len < 0 || len > <i32>S_OUT_SIZE) return EINVAL;
  const base = sOut();
  let pos = 0;
  epochEnter();
  while (pos + LOG_HEADER <= len) {
    const r = base + <usize>pos;
    const rlen = load<u32>(r);
    const type = load<u8>(r + LOG_R_TYPE);
    if (type != LOG_PUT && type != LOG_REMOVE && type != LOG_SKIP) break;
    const klen = <i32>load<u16>(r + LOG_R_KLEN);
    if (rlen < <u32>(LOG_HEADER + klen) || rlen > <u32>(len - pos)) { epochExit(); return EINVAL; }
    const size = logPadded(<i32>rlen);
    const vlen = <i32>rlen - LOG_HEADER - klen;
    if (pos + size > len) { epochExit(); return EINVAL; }
    if (type != LOG_SKIP) {
      const tree = <u32>load<u16>(r + LOG_R_TREE);
      if (tree >= <u32>MAX_TABLES || (tableState(tree) != TABLE_LIVE && tableState(tree) != TABLE_LOADING) || checkKey(klen) < 0) { epochExit(); return EINVAL; }
      const key = r + <usize>LOG_HEADER;
      let v: i32;
      if (type == LOG_PUT) {
        if (vlen > valueMax(<i32>pageSize, klen)) { epochExit(); return EINVAL; }
        v = btreePut(tree, key, klen, key + <usize>klen, vlen, 0);
      } else v = btreeRemove(tree, key, klen);
      if (v < 0) { epochExit(); return v; }
    }
    pos += size;
  }
  epochExit();
  return pos;
}

/**
 * One columnar scan batch (cursor.batches()): lk_scan, its entries written as the COLUMNS_*
 * regions (assembly/btree/batch.ts) instead of items, then packed together from COLUMNS_KEY_ENDS
 * (columnsPack); the header and resume record as lk_scan's, and SCAN_BYTES the packed bytes.
 */
export function lk_scan_columns(
  dh: i32, flags: i32, mode: i32, klen: i32, endMode: i32, endLen: i32, limit: i32, taken: i32,
): i32 {
  columnsBegin();
  const v = lk_scan(dh, flags, mode, klen, endMode, endLen, limit, taken);
  columnsEnd();
  if (v > 0) store<u32>(sOut() + SCAN_BYTES, <u32>columnsPack(<usize>v));
  return v;
}

/**
 * One scan batch (assembly/btree/scan.ts). flags: SCAN_REVERSE (a backward batch), SCAN_SPAN
 * (with a positive limit, the batch may take several leaves, until the output area is full).
 * mode/endMode: 0 none, 1 inclusive, 2 exclusive; start key at S_KEY (klen), end key at S_KEY2
 * (endLen); limit: at most that many entries (0: a leaf's worth). `taken` >= 0: the caller wrote
 * a batch's resume record back at the head of S_OUT and has taken that many of its entries, the
 * last of them being the start key (exclusive); -1: none. Returns the number of entries.
 */
export function lk_scan(
  dh: i32, flags: i32, mode: i32, klen: i32, endMode: i32, endLen: i32, limit: i32, taken: i32,
): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  if (mode < 0 || mode > 2 || endMode < 0 || endMode > 2) return EINVAL;
  if ((mode != 0 && checkKey(klen) < 0) || (endMode != 0 && checkKey(endLen) < 0)) return EKEYSIZE;
  // After a role change the cursor moves to a current dhandle, whose tree may be another image.
  if (!dhandleCurrent(dh)) return EAGAIN;
  const tree = dhandleTree(dh);
  epochEnter();
  const span = (flags & SCAN_SPAN) != 0;
  const v = (flags & SCAN_REVERSE) != 0
    ? scanBackward(tree, sKey(), klen, mode, sKey2(), endLen, endMode, limit, taken, span)
    : scanForward(tree, sKey(), klen, mode, sKey2(), endLen, endMode, limit, taken, span);
  epochExit();
  return v;
}

/**
 * A positioned cursor's step: does its batch still serve it? The batch's resume record written
 * back at the head of S_OUT, `taken` of its entries taken: 1 if the next of them is still the
 * true neighbour of the last one taken (assembly/btree/scan.ts, scanKept); 0 if the cursor must
 * call lk_scan (which says EAGAIN if the dhandle is from before a role change).
 */
export function lk_scan_kept(dh: i32, reverse: i32, taken: i32): i32 {
  if (!dhandleInUse(dh) || !dhandleCurrent(dh)) return 0;
  return scanKept(dhandleTree(dh), reverse != 0, taken) ? 1 : 0;
}


export function lk_verify(dh: i32, full: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  epochEnter();
  const v = verifyTree(dhandleTree(dh), full != 0);
  epochExit();
  return v;
}

export function lk_stats(dh: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  epochEnter();
  const v = btreeStats(dhandleTree(dh));
  epochExit();
  return v;
}

/** session.treeShape: one batch of a level's pages, or of the table's deleted pages (btree/dump.ts). */
export function lk_dump_level(dh: i32, level: i32, from: u32, fromGen: u32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  epochEnter();
  const v = dumpLevel(dhandleTree(dh), level, from, fromGen);
  epochExit();
  return v;
}
export function lk_dump_deleted(dh: i32, from: u32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  epochEnter();
  const v = dumpDeleted(dhandleTree(dh), from);
  epochExit();
  return v;
}

/** session.compact: page deletion, interrupted deletions, root shrink, recycling. */
export function lk_compact(dh: i32): i32 {
  if (!dhandleInUse(dh)) return ENOENT;
  epochEnter();
  const v = pagedelCompact(dhandleTree(dh));
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
  selftestAlloc as lk_test_alloc, selftestLevel as lk_test_level, selftestLockMisuse as lk_test_lock_misuse,
} from "./selftest";
export function lk_arena_high_water(): u32 { return arenaHighWater(); }
export function lk_arena_free_count(): u32 { return arenaFreeCount(); }
