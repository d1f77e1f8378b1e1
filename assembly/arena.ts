// The arena: the superblock, the fixed regions, and the page allocator.
//
// Memory map (absolute addresses, identical in every build so that a mismatched build finds the
// superblock and is refused by its build id):
//
//   [0, __heap_base)        read-only static data of the module (re-applied at every instantiation)
//   SB (fixed, 128 KiB)     superblock: format, build id, init state, page geometry, allocator heads
//   SB + THREADS_OFF - 16   thread table header: the memory's id (u64), the next owner token
//   SB + THREADS_OFF        thread table: MAX_THREADS slots (owner token, announced epoch, page stash)
//   SB + INJECT_OFF         injection-point table (assembly/inject.ts)
//   SB + CATALOG_OFF        table catalog: MAX_TABLES entries (assembly/catalog.ts)
//   SB + DHANDLE_OFF        handle list: MAX_DHANDLES dhandles (assembly/conn/dhandle.ts)
//   SB + CRC_OFF            the crc32 tables (8 x 256 u32, assembly/log/crc.ts), laid out with the rest
//   SCRATCH_BASE            per-thread scratch areas, SCRATCH_SIZE bytes each
//   LOG_RING_BASE           the log buffer: LOG_RING_SIZE bytes (assembly/log/log.ts)
//   ARENA_BASE              pages: page n lives at ARENA_BASE + n * pageSize; page 0 is never used
//
// Everything below ARENA_BASE is laid out once, by the first thread (cmpxchg on SB_INIT 0 -> 1,
// lay out, store 2, notify). The arena then grows on demand, one GROW_STEP at least, up to the
// connection's cacheSize, past which allocation reports ENOMEM.
//
// Pages are handed out from a lock-free free list (a Treiber stack whose head carries a 32-bit
// tag against ABA; a free page's header field nextFree, assembly/page.ts, links it) and, when that is empty, by bumping the high-water mark. Each thread also keeps
// a small stash of pages reserved before a split starts, so that a split never discovers half way
// up the tree that memory has run out (assembly/btree/insert.ts).

import { MAX_THREADS, MAX_TABLES, MAX_DHANDLES, SCRATCH_SIZE, GROW_STEP, MAX_LEVELS, LOG_RING_SIZE } from "./limits";
import { ENOMEM, EINVAL, EBUSY, OK } from "./status";
import { limboReclaim, RECLAIM_BATCH } from "./epoch";
import { canBlock } from "./latch";
import { Lock, lockTaking, lockAcquired, lockReleased } from "./locks";
import { P_NEXT_FREE } from "./page";
import { futexWait, futexWake } from "./futex";
import { crcInit, CRC_TABLES_SIZE } from "./log/crc";

export const FORMAT_MAGIC: u32 = 0x4c54434b; // "LTCK"
export const FORMAT_VERSION: u32 = 1;
/** Distinguishes builds whose static data differ (debug builds reserve more below __heap_base). */
export const BUILD_ID: u32 = (FORMAT_VERSION << 8) | (ASC_NO_ASSERT ? 1 : 2);

// ---- superblock fields (byte offsets from SB) ----
const SB_MAGIC: usize = 0;
const SB_FORMAT: usize = 4;
const SB_BUILD: usize = 8;
const SB_INIT: usize = 12;        // 0 untouched, 1 being laid out, 2 ready
const SB_PAGE_SIZE: usize = 16;
const SB_PAGE_SHIFT: usize = 20;
const SB_MAX_PAGES: usize = 24;   // pages the cache size allows, page 0 included
const SB_HIGH_WATER: usize = 28;  // next never-used page number
const SB_FREE_HEAD: usize = 32;   // u64: tag << 32 | page number of the free-list head
const SB_FREE_COUNT: usize = 40;
const SB_GROW_LATCH: usize = 44;  // the grow latch: serialises memory.grow
export const SB_CATALOG_LATCH: usize = 48; // the catalog latch (assembly/catalog.ts)
export const SB_INJECT_ARMED: usize = 52; // number of armed injection points; 0 = fast path
export const SB_EPOCH: usize = 56;        // the global reclamation epoch (assembly/epoch.ts)
export const SB_LIMBO_LATCH: usize = 60;  // the limbo latch: guards the limbo list of deleted pages
export const SB_LIMBO_HEAD: usize = 64;
export const SB_LIMBO_TAIL: usize = 68;
export const SB_LIMBO_COUNT: usize = 72;
// connection state (assembly/conn/role.ts, assembly/conn/dhandle.ts)
export const SB_ROLE: usize = 76;         // the role word: generation << 2 | GATE | LEADER
export const SB_CHECKPOINT_LOCK: usize = 80;   // the checkpoint lock: checkpoints and role changes
export const SB_HANDLE_LIST_LOCK: usize = 84; // the handle-list lock (a latch: shared or exclusive)
export const SB_TERM: usize = 88;         // this connection's leader term in its page store
export const SB_LAST_SEQ: usize = 92;     // the newest page-store record this connection knows
export const SB_IMAGE_SEQ: usize = 96;    // the checkpoint the live trees equal (0: none; changed since)
export const SB_SWEEP_TICK: usize = 100;  // the dhandle sweep's clock
// the log buffer (assembly/log/log.ts); u64 positions on 8-byte boundaries
export const SB_LOG_ON: usize = 104;       // 1 while writes append records (a leader with its log on)
export const SB_LOG_DRAINED: usize = 120;  // u64: the log position up to which the ring was drained
export const SB_LOG_DURABLE: usize = 128;  // u64: the log position up to which the page store holds the log
export const SB_LOG_DRAIN_SEQ: usize = 136;   // bumped (and woken) after every drain: writers waiting for room
export const SB_LOG_DURABLE_SEQ: usize = 140; // bumped (and woken) when SB_LOG_DURABLE moves: flushes waiting
export const SB_LOG_REQUEST: usize = 144;     // bumped (and woken) by a flush or a full ring: the log's writer
export const SB_LOG_FAILED: usize = 148;      // bumped by the log's writer when a segment's write failed (I/O): other threads' flushes reject
// The log's two words that writers change (assembly/log/log.ts), each on a cache line of its own:
// a write's fetch-add must not take away the line every write reads (the role word, the term, SB_LOG_ON).
export const SB_LOG_CREDIT: usize = 192;   // u64: the log's start count (epoch) << 32 | ring bytes free to admit
export const SB_LOG_RESERVED: usize = 256; // u64: the log position after the last reserved record
// The fields lk_conn_get / lk_conn_set take: the u32 at SB_TERM + field * 4.
export const CONN_TERM: i32 = 0;          // SB_TERM
export const CONN_LAST_SEQ: i32 = 1;      // SB_LAST_SEQ
export const CONN_IMAGE_SEQ: i32 = 2;     // SB_IMAGE_SEQ
export const CONN_FIELDS: i32 = 3;
// @ts-ignore: compile-time ERROR
if (SB_LAST_SEQ != SB_TERM + (<usize>CONN_LAST_SEQ << 2) || SB_IMAGE_SEQ != SB_TERM + (<usize>CONN_IMAGE_SEQ << 2)) ERROR("arena.ts: the CONN_* fields do not follow SB_TERM");

export const THREAD_SLOT_SIZE: usize = 256;
const THREADS_OFF: usize = 4096;
export const INJECT_OFF: usize = THREADS_OFF + <usize>MAX_THREADS * THREAD_SLOT_SIZE;
export const CATALOG_ENTRY_SIZE: usize = 1024;
export const CATALOG_OFF: usize = INJECT_OFF + 4096;
export const DHANDLE_SIZE: usize = 32;
export const DHANDLE_OFF: usize = CATALOG_OFF + <usize>MAX_TABLES * CATALOG_ENTRY_SIZE;
export const CRC_OFF: usize = DHANDLE_OFF + <usize>MAX_DHANDLES * DHANDLE_SIZE;
const FIXED_END: usize = CRC_OFF + CRC_TABLES_SIZE;

// thread table header (the superblock's last words before the table)
const TT_ID: usize = THREADS_OFF - 16;    // u64: this memory's id, random (names owners' liveness tokens)
const TT_TOKEN: usize = THREADS_OFF - 8;  // the next owner token

// thread slot fields
const TS_STATE: usize = 0;        // 0 free, else the owner's token (TOKEN_RECLAIMING while reclaimed)
const TS_STASH_COUNT: usize = 4;
export const TS_EPOCH: usize = 8;  // epoch announced by the thread's running operation; 0 = idle
export const TS_WRITING: usize = 12; // 1 while the thread is inside a write (assembly/conn/role.ts)
export const TS_LOG_CREDIT: usize = 16; // u64: log credit the slot holds (epoch << 32 | bytes; assembly/log/log.ts)
const TS_STASH: usize = 64;       // u32[STASH_MAX]
export const STASH_MAX: i32 = MAX_LEVELS + 2;

// @ts-ignore: decorator
@inline function alignUp(x: usize, a: usize): usize { return (x + a - 1) & ~(a - 1); }

/** The superblock's fixed address; every build's static data must end below it. */
export const SB: usize = 131072;
export const SCRATCH_BASE: usize = alignUp(SB + FIXED_END, 65536);
export const LOG_RING_BASE: usize = alignUp(SCRATCH_BASE + <usize>MAX_THREADS * <usize>SCRATCH_SIZE, 65536);
export const ARENA_BASE: usize = alignUp(LOG_RING_BASE + <usize>LOG_RING_SIZE, 65536);

// ---- per-instance (per-thread) state: Wasm globals are thread-locals ----
/** Cached page geometry (read from the superblock at attach; immutable afterwards). */
export let pageSize: u32 = 0;
export let pageShift: u32 = 0;
/** This thread's slot in the thread table, or -1 before registration. */
export let threadSlot: i32 = -1;
/** Base of this thread's scratch area. */
export let scratch: usize = 0;

// @ts-ignore: decorator
@inline export function pageAddr(pgno: u32): usize { return ARENA_BASE + (<usize>pgno << pageShift); }
// @ts-ignore: decorator
@inline export function pageNo(addr: usize): u32 { return <u32>((addr - ARENA_BASE) >> pageShift); }

/**
 * Bytes kept mapped past the last page handed out: an optimistic reader racing a writer may form
 * addresses up to a page plus two u16 offsets beyond a page's start (btree/search.ts).
 */
export const ARENA_GUARD: usize = 192 << 10;

/** Bytes below the arena; the connection's cacheSize must exceed this. */
export function arenaBase(): usize { return ARENA_BASE; }

function ensureMemory(end: usize): bool {
  if (end <= (<usize>memory.size() << 16)) return true;
  // The grow latch (assembly/locks.ts) serialises growers so that two threads do not both grow
  // by a full step. A 0/1 word, not a latch of latch.ts; its holder waits for nothing.
  const latch = SB + SB_GROW_LATCH;
  if (!ASC_NO_ASSERT) lockTaking(latch, Lock.GROW);
  while (atomic.cmpxchg<u32>(latch, 0, 1) != 0) {
    if (canBlock) futexWait(latch, 1, 1); // else spin: main threads never sleep here
  }
  if (!ASC_NO_ASSERT) lockAcquired(latch, Lock.GROW, true, false);
  let ok = true;
  const have = <usize>memory.size() << 16;
  if (end > have) {
    const limit = ARENA_BASE + (<usize>atomic.load<u32>(SB + SB_MAX_PAGES) << pageShift) + ARENA_GUARD;
    let want = max<usize>(end, have + <usize>GROW_STEP);
    if (want > limit) want = limit;
    if (want < end) want = end;
    const delta = <i32>((want - have + 65535) >> 16);
    ok = memory.grow(delta) >= 0;
  }
  if (!ASC_NO_ASSERT) lockReleased(latch, false, true);
  atomic.store<u32>(latch, 0);
  futexWake(latch, 1);
  return ok;
}

/**
 * Lays out the superblock, or checks an existing one. The first caller over a fresh memory
 * initialises it; every later caller (another worker's instance) waits until it is ready and then
 * checks format and build id. Returns OK, EINVAL (build or geometry mismatch) or ENOMEM.
 */
export function arenaInit(pgSize: u32, maxPages: u32, id: u64): i32 {
  if (__heap_base > SB) return EINVAL; // static data would overlap the superblock
  if (!ensureMemory(ARENA_BASE + ARENA_GUARD + (<usize>pgSize << 1))) return ENOMEM;
  const init = SB + SB_INIT;
  if (atomic.cmpxchg<u32>(init, 0, 1) == 0) {
    store<u32>(SB + SB_MAGIC, FORMAT_MAGIC);
    store<u32>(SB + SB_FORMAT, FORMAT_VERSION);
    store<u32>(SB + SB_BUILD, BUILD_ID);
    store<u32>(SB + SB_PAGE_SIZE, pgSize);
    store<u32>(SB + SB_PAGE_SHIFT, <u32>ctz(pgSize));
    store<u32>(SB + SB_MAX_PAGES, maxPages);
    store<u32>(SB + SB_HIGH_WATER, 1);
    store<u32>(SB + SB_EPOCH, 1);
    store<u64>(SB + SB_FREE_HEAD, 0);
    store<u64>(SB + SB_LOG_CREDIT, <u64>LOG_RING_SIZE);
    store<u64>(SB + TT_ID, id);
    store<u32>(SB + TT_TOKEN, TOKEN_FIRST);
    crcInit();
    atomic.store<u32>(init, 2);
    futexWake(init, -1);
  }
  return arenaAttach();
}

/** Checks the superblock written by another instance and caches the page geometry. */
export function arenaAttach(): i32 {
  const init = SB + SB_INIT;
  let state = atomic.load<u32>(init);
  while (state == 1) {
    if (canBlock) futexWait(init, 1, 1);
    state = atomic.load<u32>(init);
  }
  if (state != 2) return EINVAL;
  if (load<u32>(SB + SB_MAGIC) != FORMAT_MAGIC || load<u32>(SB + SB_FORMAT) != FORMAT_VERSION) return EINVAL;
  if (load<u32>(SB + SB_BUILD) != BUILD_ID) return EBUSY;
  pageSize = load<u32>(SB + SB_PAGE_SIZE);
  pageShift = load<u32>(SB + SB_PAGE_SHIFT);
  return OK;
}

/** The build id recorded in the superblock (for the mismatch message). */
export function arenaBuildId(): u32 { return load<u32>(SB + SB_BUILD); }

// ---- page allocation ----

/** Takes a page from the free list or the high-water mark; 0 when the cache size is exhausted. */
export function pageAlloc(): u32 {
  const head = SB + SB_FREE_HEAD;
  while (true) {
    const h = atomic.load<u64>(head);
    const pg = <u32>h;
    if (pg == 0) break;
    // The page may be popped and reused by another thread between these two loads; then the
    // tag has moved and the cmpxchg fails, so a torn `next` is never installed.
    const next = atomic.load<u32>(pageAddr(pg) + P_NEXT_FREE);
    const nh = (((h >> 32) + 1) << 32) | <u64>next;
    if (atomic.cmpxchg<u64>(head, h, nh) == h) {
      atomic.sub<u32>(SB + SB_FREE_COUNT, 1);
      return pg;
    }
  }
  // Before taking a never-used page, recycle deleted pages no operation can still reach.
  if (atomic.load<u32>(SB + SB_LIMBO_COUNT) != 0 && limboReclaim(RECLAIM_BATCH) > 0) return pageAlloc();
  // A never-used page: make sure the memory (and the guard zone after it) is there, then claim
  // the page number with a cmpxchg, so a failed grow never hands one number to two threads.
  const hw = SB + SB_HIGH_WATER;
  while (true) {
    const pg = atomic.load<u32>(hw);
    if (pg >= atomic.load<u32>(SB + SB_MAX_PAGES)) return 0;
    if (!ensureMemory(pageAddr(pg) + pageSize + ARENA_GUARD)) return 0;
    if (atomic.cmpxchg<u32>(hw, pg, pg + 1) == pg) return pg;
  }
  return 0;
}

/** Returns a page to the free list. The caller guarantees no thread can still reach it. */
export function pageFree(pg: u32): void {
  const head = SB + SB_FREE_HEAD;
  while (true) {
    const h = atomic.load<u64>(head);
    atomic.store<u32>(pageAddr(pg) + P_NEXT_FREE, <u32>h);
    const nh = (((h >> 32) + 1) << 32) | <u64>pg;
    if (atomic.cmpxchg<u64>(head, h, nh) == h) break;
  }
  atomic.add<u32>(SB + SB_FREE_COUNT, 1);
}

export function arenaHighWater(): u32 { return atomic.load<u32>(SB + SB_HIGH_WATER); }
/**
 * The free list's tag: it moves by one at every push and pop (pageAlloc, pageFree), so the
 * difference of two readings (u32, wrapping) bounds the pages recycled in between.
 */
export function arenaFreeTag(): u32 { return <u32>(atomic.load<u64>(SB + SB_FREE_HEAD) >> 32); }
export function arenaMaxPages(): u32 { return atomic.load<u32>(SB + SB_MAX_PAGES); }
export function arenaFreeCount(): u32 { return atomic.load<u32>(SB + SB_FREE_COUNT); }
/** Walks the free list (quiesced use only: the verifier's leak check). */
export function arenaFreeHead(): u32 { return <u32>atomic.load<u64>(SB + SB_FREE_HEAD); }

// ---- threads ----

// @ts-ignore: decorator
@inline export function slotAddr(slot: i32): usize { return SB + THREADS_OFF + <usize>slot * THREAD_SLOT_SIZE; }

// Thread slots of threads that end without unregistering.
//
// A thread (a Wasm instance: a worker, a window, the opener) takes a slot at attach and gives it
// back at close. One that ends first (a worker terminated, crashed, or returned without close())
// would keep it for good, and 63 of them fill the table. Its slot may be reclaimed only when its
// owner is provably dead: a live owner whose slot went to another thread would share its scratch
// area, into which the bindings write keys *before* each core call, so no per-call check could
// make a wrong guess safe. Neither a timeout nor a heartbeat proves death (a live thread may be
// blocked or throttled for any time), FinalizationRegistry does not run for a terminated worker,
// Node emits no process 'exit' in a worker terminated with live handles, and a worker's 'exit'
// event reaches only the thread that created it, while attach can happen in any thread.
//
// What does prove it is a token the runtime itself lets go of when a thread ends, whatever it was
// doing: the platform's liveness token (bindings/core.ts Platform.liveness: a listening local
// socket on Node, closed with the worker's handles; a Web Lock in browsers, released with its
// agent). Each owner takes a fresh token number from TT_TOKEN, holds the token named by it and the
// memory's id, then registers with the number as its slot's state, and gives the slot back before
// the token. A thread that finds the table full probes each slot's token; where it is free, the
// owner has ended, and threadReclaim frees the slot if it still holds that token (cmpxchg), so a
// slot freed and retaken meanwhile is left alone.
//
// It reclaims only a slot whose owner ended outside an operation: announced epoch 0 and not
// inside a write. An owner that died inside one may hold latches and left its operation half
// done; its announcement then stays for good (the limbo list keeps what that epoch could reach,
// and a drain of writes would wait for it), and so does its slot: that is correct, and such a
// slot is never reclaimed. Those two words are all of a slot that other threads read; an owner
// that died inside another core call (one that takes the handle-list lock or the catalog latch
// without an epoch) leaves that lock held whether or not its slot is reclaimed, and its stash is
// given back count first (slotRelease), so reclaiming it cannot free a page twice. Stores before
// a thread's end are seen by the reclaimer: the end is a thread join in the runtime, and the
// reclaimer learns of it only after.
//
// Owners registered without a token (TOKEN_NONE: a runtime with no liveness token) are never
// reclaimed.
export const TOKEN_NONE: u32 = 1;
const TOKEN_FIRST: u32 = 2;
export const TOKEN_RECLAIMING: u32 = 0xffffffff;

/** A fresh owner token for a thread about to register (never 0, TOKEN_NONE or TOKEN_RECLAIMING). */
export function threadToken(): u32 {
  while (true) {
    const t = atomic.add<u32>(SB + TT_TOKEN, 1);
    if (t >= TOKEN_FIRST && t != TOKEN_RECLAIMING) return t;
  }
  return TOKEN_NONE;
}

/** Half of this memory's id (which 0: low, 1: high), for the names of liveness tokens. */
export function threadTableId(which: i32): u32 { return <u32>(load<u64>(SB + TT_ID) >> (which == 0 ? 0 : 32)); }

/** Claims a free thread slot and its scratch area for owner `token`. EBUSY when all are taken. */
export function threadRegister(token: u32): i32 {
  if (token < TOKEN_NONE || token == TOKEN_RECLAIMING) return EINVAL;
  for (let i = 0; i < MAX_THREADS; i++) {
    if (atomic.cmpxchg<u32>(slotAddr(i) + TS_STATE, 0, token) == 0) {
      threadSlot = i;
      scratch = SCRATCH_BASE + <usize>i * <usize>SCRATCH_SIZE;
      store<u32>(slotAddr(i) + TS_STASH_COUNT, 0);
      return i;
    }
  }
  return EBUSY;
}

/** The owner token in slot `slot` (0: free). */
export function threadOwner(slot: i32): u32 {
  return slot >= 0 && slot < MAX_THREADS ? atomic.load<u32>(slotAddr(slot) + TS_STATE) : 0;
}

/**
 * Empties a slot: its stashed pages go back to the free list, one at a time with the count
 * lowered first (a thread that ends half way leaks a page, never frees one twice), then the slot.
 */
function slotRelease(s: usize): void {
  let n = load<u32>(s + TS_STASH_COUNT);
  while (n > 0) {
    n--;
    store<u32>(s + TS_STASH_COUNT, n);
    pageFree(load<u32>(s + TS_STASH + (<usize>n << 2)));
  }
  atomic.store<u32>(s + TS_EPOCH, 0);
  atomic.store<u32>(s + TS_WRITING, 0);
  atomic.store<u32>(s + TS_STATE, 0);
}

/** Releases this thread's slot; its stashed pages go back to the free list. */
export function threadUnregister(): void {
  if (threadSlot < 0) return;
  slotRelease(slotAddr(threadSlot));
  threadSlot = -1;
}

/**
 * Reclaims slot `slot` of owner `token`, whose liveness token the caller found free (the owner
 * ended; see above). OK; EBUSY if the slot no longer holds that owner, or its owner ended inside
 * an operation (then the slot stays as it is, for good).
 */
export function threadReclaim(slot: i32, token: u32): i32 {
  if (slot < 0 || slot >= MAX_THREADS || slot == threadSlot || token < TOKEN_FIRST || token == TOKEN_RECLAIMING) return EINVAL;
  const s = slotAddr(slot);
  if (atomic.cmpxchg<u32>(s + TS_STATE, token, TOKEN_RECLAIMING) != token) return EBUSY;
  if (atomic.load<u32>(s + TS_EPOCH) != 0 || atomic.load<u32>(s + TS_WRITING) != 0) {
    atomic.store<u32>(s + TS_STATE, token);
    return EBUSY;
  }
  slotRelease(s);
  return OK;
}

/** Tops this thread's stash up to `n` pages; false (stash unchanged beyond what it got) on ENOMEM. */
export function stashReserve(n: i32): bool {
  const s = slotAddr(threadSlot);
  let have = <i32>load<u32>(s + TS_STASH_COUNT);
  if (n > STASH_MAX) n = STASH_MAX;
  while (have < n) {
    const pg = pageAlloc();
    if (pg == 0) { store<u32>(s + TS_STASH_COUNT, have); return false; }
    store<u32>(s + TS_STASH + (<usize>have << 2), pg);
    have++;
  }
  store<u32>(s + TS_STASH_COUNT, have);
  return true;
}

/** Takes a page from this thread's stash, falling back to the allocator; 0 on ENOMEM. */
export function stashTake(): u32 {
  const s = slotAddr(threadSlot);
  const have = load<u32>(s + TS_STASH_COUNT);
  if (have == 0) return pageAlloc();
  store<u32>(s + TS_STASH_COUNT, have - 1);
  return load<u32>(s + TS_STASH + (<usize>(have - 1) << 2));
}

/** Pages held in the stashes of all threads (the verifier's leak accounting). */
export function stashedPages(): u32 {
  let n: u32 = 0;
  for (let i = 0; i < MAX_THREADS; i++) {
    if (atomic.load<u32>(slotAddr(i) + TS_STATE) != 0) n += load<u32>(slotAddr(i) + TS_STASH_COUNT);
  }
  return n;
}

export function threadsAttached(): i32 {
  let n = 0;
  for (let i = 0; i < MAX_THREADS; i++) if (atomic.load<u32>(slotAddr(i) + TS_STATE) != 0) n++;
  return n;
}
