// The log buffer: the redo record of every write, from every thread, in one ring of shared memory.
//
// A leader with its log on (SB_LOG_ON) appends one record per change before the write returns:
// put, insert that inserted, remove that removed, table create and drop, and the begin and
// commit of a batch (session.batch). The log's writer (bindings/log.ts, on the thread that opened
// the connection) drains the ring into segments of the page store; a flush resolves when the
// store holds the log up to the position it waited for. The layout of a record is the same in
// the ring and in a segment (LOG_R_*):
//
//   0  u32 len    bytes of header + key + value (the record takes len rounded up to 8); 0 in the
//                 ring until the record is complete: the writer stores it last
//   4  u32 crc    crc32 of the record's log position (8 bytes, little-endian: bytes of log before
//                 it) and then of bytes 8..len, computed by the appending thread
//                 (assembly/log/crc.ts). The position is not stored: a segment's records are
//                 contiguous from its start, so a reader knows each one's, and a record read at a
//                 position other than its own fails its checksum
//   8  u8 type    LOG_PUT, LOG_REMOVE, LOG_CREATE (key: the name; tree: its id; value: u8 key
//                 format, u8 value format), LOG_DROP, LOG_BATCH_BEGIN, LOG_BATCH_COMMIT, LOG_TERM_START
//   9  u8 flags   LOG_F_BATCH: a change of the batch that thread `slot` has begun
//   10 u8 slot    the writer's thread slot     11 u8 0
//   12 u16 tree   the table's tree id (as this leader numbers them; CREATE records map them to names)
//   14 u16 klen   then the key's bytes, then the value's (len - LOG_HEADER - klen of them)
//
// The writer's term is its segments' (bindings/log.ts): a ring holds one term's records only
// (logStart begins each term's log). A put of an 8-byte key and value takes 32 bytes of log.
//
// ORDER. A record is reserved (a fetch-add on SB_LOG_RESERVED, which gives its position) while
// the writer holds the exclusive latch of the leaf it changed, after the change cannot fail. Two
// writes of one key hold that leaf's latch one after the other, so their records' positions are
// in the order the trees saw them: replaying the log in position order rebuilds each key's last
// value. (A split moves keys to a new right page only under the latch of the page they leave,
// and a writer reaches the right page only through that page while the split is incomplete.)
// A create is reserved under the catalog latch before the table becomes visible, so every record
// of a table comes after its create; a drop only happens with no user of the table's dhandles.
//
// ROOM. The ring is never overwritten before it was drained, and no writer waits for room while
// it holds a latch: a write first ADMITS the most bytes its records can take, before the write
// gate and before any latch, and waits there for a drain if the credit is short (the host's
// lk_log_full: the log's writer drains, any other thread asks it to and sleeps). Under the latch
// it reserves no more than it admitted. The credit (free ring bytes) is in SB_LOG_CREDIT, beside
// the log's start count (epoch << 32 | bytes), and in the thread slots: a thread takes credit a
// grain (LOG_CREDIT_GRAIN) beyond its write and keeps what it did not use, in its slot
// (TS_LOG_CREDIT, tagged with the epoch), so most writes admit from their own slot without a
// shared atomic. A slot holds at most 2 grains after a write (the rest goes back), and a slot's
// next owner inherits what it holds. So the ring bytes are always the free credit, plus what the
// slots and the writes in progress hold, plus reserved - drained: reserved - drained never exceeds
// the ring's size. Drained bytes go back in logRelease. A new start of the log (logStart) sets the
// credit to the whole ring under a new epoch: credit of an older epoch, in a slot or coming back
// from a write, is dropped (its compare-and-swap sees the epoch changed), never added to the new.

// COMPLETE RECORDS. The drain reads each record's len with an atomic load and stops at the first
// 0: a reserved record still being written (or nothing yet). A writer stores len (seq-cst) after
// every other byte of its record; the drain's load of a non-zero len therefore happens after
// those bytes. Drained bytes are zeroed before the credit returns, so a len word ahead of the
// drain is always either a complete record's or 0.

import {
  SB, SB_LOG_ON, SB_LOG_CREDIT, SB_LOG_RESERVED, SB_LOG_DRAINED, SB_LOG_DURABLE, SB_LOG_DRAIN_SEQ,
  LOG_RING_BASE, TS_LOG_CREDIT, threadSlot, slotAddr,
} from "../arena";
import { LOG_RING_SIZE, LOG_CREDIT_GRAIN, MAX_THREADS } from "../limits";
import { futexWake } from "../futex";
import { inject, INJECT_LOG_APPEND } from "../inject";
import { crcBytes, crcU64, crcU8 } from "./crc";

// ---- the record ----
export const LOG_HEADER: i32 = 16;
export const LOG_R_LEN: i32 = 0;
export const LOG_R_CRC: i32 = 4;
export const LOG_R_TYPE: i32 = 8;
export const LOG_R_FLAGS: i32 = 9;
export const LOG_R_SLOT: i32 = 10;
export const LOG_R_TREE: i32 = 12;
export const LOG_R_KLEN: i32 = 14;

/** Record types. LOG_SKIP is never written: replay marks a record it must not apply with it. */
export const LOG_SKIP: u8 = 0;
export const LOG_PUT: u8 = 1;
export const LOG_REMOVE: u8 = 2;
export const LOG_CREATE: u8 = 3;
export const LOG_DROP: u8 = 4;
export const LOG_BATCH_BEGIN: u8 = 5;
export const LOG_BATCH_COMMIT: u8 = 6;
export const LOG_TERM_START: u8 = 7;
/** Flag: a change inside the batch its thread slot has begun. */
export const LOG_F_BATCH: u8 = 1;

// @ts-ignore: compile-time ERROR
if ((LOG_RING_SIZE & (LOG_RING_SIZE - 1)) != 0 || LOG_RING_SIZE < (1 << 20)) ERROR("log.ts: LOG_RING_SIZE must be a power of two of 1 MiB or more");
// @ts-ignore: compile-time ERROR
if ((LOG_HEADER & 7) != 0 || LOG_R_KLEN + 2 != LOG_HEADER) ERROR("log.ts: the record header must be a multiple of 8 bytes, klen its last field");

/** Log bytes a record of `len` (its LOG_R_LEN) takes: 8-byte aligned. */
// @ts-ignore: decorator
@inline export function logPadded(len: i32): i32 { return (len + 7) & ~7; }

/** Ring bytes a record of these lengths takes. */
// @ts-ignore: decorator
@inline export function logSize(klen: i32, vlen: i32): i32 { return logPadded(LOG_HEADER + klen + vlen); }

// @ts-ignore: decorator
@inline function ringAddr(pos: u64): usize { return LOG_RING_BASE + <usize>(pos & <u64>(LOG_RING_SIZE - 1)); }

/** Copies `n` bytes to log position `pos`, wrapping at the ring's end. */
function ringCopy(pos: u64, src: usize, n: i32): void {
  const off = <i32>(pos & <u64>(LOG_RING_SIZE - 1));
  const first = min(n, LOG_RING_SIZE - off);
  memory.copy(LOG_RING_BASE + <usize>off, src, <usize>first);
  if (first < n) memory.copy(LOG_RING_BASE, src + <usize>first, <usize>(n - first));
}

/**
 * Copies `n` bytes to log position `pos` and continues the crc `c` over them: one pass over the
 * source, a word at a time (no memory.copy, a call out of the module for the few bytes of a key).
 */
function ringPut(pos: u64, src: usize, n: i32, c: u32): u32 {
  const off = <usize>(pos & <u64>(LOG_RING_SIZE - 1));
  if (off + <usize>n > <usize>LOG_RING_SIZE) { // wraps at the ring's end: rare
    ringCopy(pos, src, n);
    return crcBytes(c, src, n);
  }
  const dst = LOG_RING_BASE + off;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = load<u64>(src + <usize>i);
    store<u64>(dst + <usize>i, v);
    c = crcU64(c, v);
  }
  for (; i < n; i++) {
    const b = load<u8>(src + <usize>i);
    store<u8>(dst + <usize>i, b);
    c = crcU8(c, b);
  }
  return c;
}

/** Zeroes `n` bytes from log position `pos`, wrapping at the ring's end. */
function ringZero(pos: u64, n: i32): void {
  const off = <i32>(pos & <u64>(LOG_RING_SIZE - 1));
  const first = min(n, LOG_RING_SIZE - off);
  memory.fill(LOG_RING_BASE + <usize>off, 0, <usize>first);
  if (first < n) memory.fill(LOG_RING_BASE, 0, <usize>(n - first));
}

/** The host's answer to a short credit: the log's writer drains now; any other thread wakes it and sleeps a little. */
// @ts-ignore: decorator
@external("env", "lk_log_full")
declare function logFull(): void;

/**
 * For a thread waiting for writers to leave the write gate: a writer inside it may be waiting for
 * ring room (a batch's commit), which only a drain gives; the log's writer drains here.
 */
export function logNudge(): void {
  if (atomic.load<u32>(SB + SB_LOG_ON) != 0) logFull();
}

// ---- per-thread state of the write in progress ----
/** True between an admission with the log on and logDone: the write appends its records. */
export let logging = false;
/** Flags of this thread's records (LOG_F_BATCH inside session.batch). */
export let logFlags: u8 = 0;
/** Credit this thread holds for the write in progress. */
let admitted: i32 = 0;

// @ts-ignore: decorator
@inline function creditEpoch(word: u64): u64 { return word >> 32; }
// @ts-ignore: decorator
@inline function creditBytes(word: u64): i32 { return <i32>(<u32>word); }

/**
 * Admits a write whose records take at most `bytes` (logSize of each): from this thread's slot if
 * it holds enough credit of the log's current start, else from the ring's, waiting (lk_log_full)
 * until that covers them. Nothing to do while the log is off. Called holding no latch, outside the
 * write gate.
 */
export function logAdmit(bytes: i32): void {
  if (!ASC_NO_ASSERT) assert(admitted == 0, "log: an admission inside another");
  logging = false;
  if (atomic.load<u32>(SB + SB_LOG_ON) == 0) return;
  const slot = slotAddr(threadSlot) + TS_LOG_CREDIT;
  const held = load<u64>(slot); // only this slot's owner writes it
  const epoch = creditEpoch(atomic.load<u64>(SB + SB_LOG_CREDIT));
  if (creditEpoch(held) == epoch && creditBytes(held) >= bytes) {
    store<u64>(slot, held - <u64>bytes);
    admitted = bytes;
    logging = true;
    return;
  }
  while (atomic.load<u32>(SB + SB_LOG_ON) != 0) {
    const word = atomic.load<u64>(SB + SB_LOG_CREDIT);
    const e = creditEpoch(word);
    const have = creditEpoch(held) == e ? creditBytes(held) : 0; // an older start's credit is void
    const need = bytes - have;
    const free = creditBytes(word);
    if (free >= need) {
      const take = min(free, need + LOG_CREDIT_GRAIN);
      if (atomic.cmpxchg<u64>(SB + SB_LOG_CREDIT, word, word - <u64>take) == word) {
        store<u64>(slot, (e << 32) | <u64>(have + take - bytes));
        admitted = bytes;
        logging = true;
        return;
      }
      continue;
    }
    logFull();
  }
}

/** Gives `n` bytes of credit of the log's start `epoch` back to the ring; false (nothing given: the credit is void) if the log started again since. */
function creditReturn(epoch: u64, n: i32): bool {
  let word = atomic.load<u64>(SB + SB_LOG_CREDIT);
  while (creditEpoch(word) == epoch) {
    const seen = atomic.cmpxchg<u64>(SB + SB_LOG_CREDIT, word, word + <u64>n);
    if (seen == word) return true;
    word = seen;
  }
  return false;
}

/** The write is over: its unused credit goes back to the slot, and past 2 grains to the ring (of the same start only). */
export function logDone(): void {
  if (admitted != 0) {
    const slot = slotAddr(threadSlot) + TS_LOG_CREDIT;
    const held = load<u64>(slot);
    const e = creditEpoch(held);
    let n = creditBytes(held) + admitted;
    admitted = 0;
    if (n > 2 * LOG_CREDIT_GRAIN) n = creditReturn(e, n - LOG_CREDIT_GRAIN) ? LOG_CREDIT_GRAIN : 0;
    store<u64>(slot, (e << 32) | <u64>n);
  }
  logging = false;
}

/**
 * Ring bytes that ROOM's sum misses: the ring's size less the free credit, the slots' credit of
 * the log's current start and the undrained records. 0 whenever no write is in progress (a test's
 * check that no credit is lost or counted twice); meaningless while writes run.
 */
export function logUnaccounted(): i32 {
  const word = atomic.load<u64>(SB + SB_LOG_CREDIT);
  let n = creditBytes(word) + <i32>(atomic.load<u64>(SB + SB_LOG_RESERVED) - atomic.load<u64>(SB + SB_LOG_DRAINED));
  for (let i = 0; i < MAX_THREADS; i++) {
    const held = atomic.load<u64>(slotAddr(i) + TS_LOG_CREDIT);
    if (creditEpoch(held) == creditEpoch(word)) n += creditBytes(held);
  }
  return LOG_RING_SIZE - n;
}

/**
 * Appends a record of this thread's write, within its admission. The caller holds what orders
 * the change against other changes of the same key (the leaf's exclusive latch) or table (the
 * catalog latch), and the change is done or can no longer fail.
 */
export function logAppend(type: u8, tree: u32, key: usize, klen: i32, val: usize, vlen: i32): void {
  inject(INJECT_LOG_APPEND); // a wait action only (tests of ORDER); the append cannot fail
  const size = logSize(klen, vlen);
  if (!ASC_NO_ASSERT) assert(logging && size <= admitted, "log: a record past its admission");
  admitted -= size;
  const pos = atomic.add<u64>(SB + SB_LOG_RESERVED, <u64>size);
  // The header after len and crc in one 8-byte word: aligned in the ring, so it does not wrap.
  const w = <u64>type | (<u64>logFlags << 8) | (<u64>(<u32>threadSlot & 0xff) << 16) | (<u64>(tree & 0xffff) << 32) | (<u64>(<u32>klen) << 48);
  store<u64>(ringAddr(pos + 8), w);
  // The checksum of the position, then of bytes 8..len, computed as the key and value are copied in.
  let crc = crcU64(crcU64(0xffffffff, pos), w);
  crc = ringPut(pos + <u64>LOG_HEADER, key, klen, crc);
  crc = ringPut(pos + <u64>(LOG_HEADER + klen), val, vlen, crc);
  store<u32>(ringAddr(pos) + 4, ~crc);
  atomic.store<u32>(ringAddr(pos), <u32>(LOG_HEADER + klen + vlen)); // complete: the drain may take it
}

/** Begins or ends this thread's batch: its changes' records carry LOG_F_BATCH until the end. */
export function logSetBatch(on: bool): void { logFlags = on ? LOG_F_BATCH : 0; }

// ---- the log's writer (one thread: the bindings' log writer) ----
// The writer is whoever started the log last (logStart bumps the epoch in SB_LOG_CREDIT); it passes the epoch it
// started to every drain, so a writer whose log was stopped and started again by another thread
// (a step-down and step-up from a worker) can never take records of the new one.

/** The log's start count: names the writer that owns the ring. */
export function logEpoch(): u32 { return <u32>creditEpoch(atomic.load<u64>(SB + SB_LOG_CREDIT)); }

/** Bytes of complete records from the drained position on, at most `max` (whole records only); 0 for another epoch's writer. */
export function logReady(max: i32, epoch: u32): i32 {
  if (epoch != logEpoch() || atomic.load<u32>(SB + SB_LOG_ON) == 0) return 0;
  const d = atomic.load<u64>(SB + SB_LOG_DRAINED);
  let n = 0;
  while (n + LOG_HEADER <= max) {
    const len = atomic.load<u32>(ringAddr(d + <u64>n));
    if (len == 0) break;
    const size = logPadded(<i32>len);
    if (n + size > max) break;
    n += size;
  }
  return n;
}

/** The writer copied `n` bytes out from the drained position: zeroed, drained, their credit back (false: another epoch's writer). */
export function logRelease(n: i32, epoch: u32): bool {
  if (epoch != logEpoch()) return false;
  const d = atomic.load<u64>(SB + SB_LOG_DRAINED);
  if (!ASC_NO_ASSERT) assert(d + <u64>n <= atomic.load<u64>(SB + SB_LOG_RESERVED), "log: a release past the reserved records");
  ringZero(d, n);
  atomic.store<u64>(SB + SB_LOG_DRAINED, d + <u64>n);
  creditReturn(<u64>epoch, n); // started again meanwhile: the new start's credit is already the whole ring
  atomic.add<u32>(SB + SB_LOG_DRAIN_SEQ, 1);
  futexWake(SB + SB_LOG_DRAIN_SEQ, -1);
  return true;
}

/**
 * Starts (or restarts) the log at position `pos`: empty ring, every position at `pos`, the log
 * on. Called with no write able to pass (before a step-up's role change, or after a step-down's).
 */
export function logStart(pos: u64): void {
  if (!ASC_NO_ASSERT) assert(atomic.load<u64>(SB + SB_LOG_DRAINED) == atomic.load<u64>(SB + SB_LOG_RESERVED), "log: started with undrained records");
  ringZero(0, LOG_RING_SIZE);
  atomic.store<u64>(SB + SB_LOG_RESERVED, pos);
  atomic.store<u64>(SB + SB_LOG_DRAINED, pos);
  atomic.store<u64>(SB + SB_LOG_DURABLE, pos);
  const e = creditEpoch(atomic.load<u64>(SB + SB_LOG_CREDIT)) + 1;
  atomic.store<u64>(SB + SB_LOG_CREDIT, (e << 32) | <u64>LOG_RING_SIZE);
  atomic.store<u32>(SB + SB_LOG_ON, 1);
}

/** Stops appending (a step-down or a fence, after the role change drained every write). */
export function logStop(): void { atomic.store<u32>(SB + SB_LOG_ON, 0); }
