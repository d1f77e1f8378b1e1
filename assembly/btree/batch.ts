// Batches: many point operations in one crossing of the boundary (getMany, putMany, removeMany),
// and the columnar form of a scan batch (cursor.batches()).
//
// Point batches. The bindings pack a chunk of a batch into the input half of this thread's output
// area and call once; the core does the keys in order, each one by its single-key operation
// (btreeGet, btreePut, btreeRemove: linearizable on its own: a batch is not
// atomic), and returns how many it did. It stops early when the output half is full (getMany)
// or at the first failure, so the bindings call again from the first key not done (which
// reports the failure if it is one). The whole chunk runs inside one epoch (and, for writes, one
// pass through the write gate), never holding a latch from one key to the next.
//
//   input  (BATCH_IN, from S_OUT)   get, remove: count x [u16 klen][key]
//                                   put:         count x [u16 klen][u16 vlen][key][value]
//   output (BATCH_OUT, from S_OUT)  get:    done x [u16 vlen or BATCH_NOTFOUND][value]
//                                   remove: u32 how many of the keys done were present
//
// Columnar scan batches. With columnsBegin() called, the scan (assembly/btree/scan.ts) writes
// each entry it returns into four regions of the output area instead of as an item (see
// COLUMNS_*): the ends of the keys and of the values (u32 each, counted from the region's
// start), the keys' bytes and the values' bytes. A batch stops when any region is full. The
// header and the resume record are the scan's own; SCAN_BYTES and SCAN_LAST are left at 0.
// At the end of the call columnsPack moves the four regions together, so that the bindings take
// the batch with one copy: from COLUMNS_KEY_ENDS, count x u32 key ends, count x u32 value ends,
// the keys' bytes, the values' bytes (COLUMNS_PACKED bytes in all).

import { latchesHeld } from "../latch";
import { cellAddr, LEAF_CELL_HDR } from "../page";
import { copyBytes } from "../bytes";
import { sOut, S_OUT_SIZE } from "../scratch";
import { MAX_KEY, MAX_PAGE_SIZE, VALUE_SHIFT, valueMax } from "../limits";
import { pageSize } from "../arena";
import { btreeGet } from "./search";
import { btreePut, MODE_PUT } from "./insert";
import { btreeRemove } from "./remove";
import { EINVAL, NOTFOUND } from "../status";

/** Batch input: offset from S_OUT of the packed keys (or entries) of a chunk. */
export const BATCH_IN: usize = 0;
/** Bytes of the batch input. */
export const BATCH_IN_SIZE: usize = (S_OUT_SIZE >> 1) & ~(<usize>7);
/** Batch output: offset from S_OUT of what the core writes back (values, a count). */
export const BATCH_OUT: usize = BATCH_IN_SIZE;
/** Bytes of the batch output. */
export const BATCH_OUT_SIZE: usize = S_OUT_SIZE - BATCH_OUT;
/**
 * session.batch's chunks (index.ts lk_batch_apply): each change is [u8 type: LOG_PUT or
 * LOG_REMOVE][u8 0][u16 dhandle][u16 klen][u16 vlen], then the key, then the value (puts).
 */
export const BATCH_OP_HEADER: i32 = 8;
/** getMany: the length written for a key that is absent (no value bytes follow). */
export const BATCH_NOTFOUND: u32 = 0xffff;

// Static checks: a chunk of one largest key (with a largest value) always fits the input, one
// largest value always fits the output, and a value's length always fits a u16 below NOTFOUND.
// @ts-ignore: compile-time ERROR
if (BATCH_IN_SIZE < <usize>(4 + MAX_KEY + (MAX_PAGE_SIZE >> VALUE_SHIFT))) ERROR("batch.ts: the batch input cannot hold one entry");
// @ts-ignore: compile-time ERROR
if (BATCH_OUT_SIZE < <usize>(2 + (MAX_PAGE_SIZE >> VALUE_SHIFT))) ERROR("batch.ts: the batch output cannot hold one value");
// @ts-ignore: compile-time ERROR
if ((MAX_PAGE_SIZE >> VALUE_SHIFT) >= <i32>BATCH_NOTFOUND) ERROR("batch.ts: a value's length can be BATCH_NOTFOUND");

// @ts-ignore: decorator
@inline function badKey(klen: i32): bool { return klen < 1 || klen > MAX_KEY; }

/**
 * getMany: looks up `count` packed keys (`len` bytes at BATCH_IN) in order; writes each one's
 * value, or BATCH_NOTFOUND, at BATCH_OUT. Returns how many keys were done (fewer than count when
 * the output is full; at least one), or EINVAL for a malformed chunk (nothing is written for the
 * key that is malformed; the ones before it are done). The caller is in an epoch.
 */
export function batchGet(tree: u32, count: i32, len: i32): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "batch: a reader starts holding a latch");
  if (len < 0 || <usize>len > BATCH_IN_SIZE) return EINVAL;
  const base = sOut();
  const inEnd = base + BATCH_IN + <usize>len;
  const outEnd = base + BATCH_OUT + BATCH_OUT_SIZE;
  let k = base + BATCH_IN;
  let o = base + BATCH_OUT;
  const maxValue = <usize>(pageSize >> VALUE_SHIFT);
  for (let n = 0; n < count; n++) {
    if (k + 2 > inEnd) return n > 0 ? n : EINVAL;
    const klen = <i32>load<u16>(k);
    const key = k + 2;
    if (badKey(klen) || key + <usize>klen > inEnd) return n > 0 ? n : EINVAL;
    // The single-key lookup itself (its optimistic leaf read, its latched fallback), its value
    // written in place: the output must have room for the largest value first.
    if (o + 2 + <usize>maxValue > outEnd) return n;
    const vl = btreeGet(tree, key, klen, o + 2);
    if (vl == NOTFOUND) {
      store<u16>(o, <u16>BATCH_NOTFOUND);
      o += 2;
    } else {
      store<u16>(o, <u16>vl);
      o += 2 + <usize>vl;
    }
    k = key + <usize>klen;
  }
  return count;
}

/**
 * putMany: inserts or overwrites `count` packed entries (`len` bytes at BATCH_IN) in order, each
 * as btreePut would. Returns how many were done; at the first failure, that many (the failed
 * one not applied) or, if it is the first entry, its status (EINVAL for a malformed entry,
 * ENOMEM, EINJECTED). The caller is in an epoch and the write gate.
 */
export function batchPut(tree: u32, count: i32, len: i32): i32 {
  if (len < 0 || <usize>len > BATCH_IN_SIZE) return EINVAL;
  const inEnd = sOut() + BATCH_IN + <usize>len;
  let e = sOut() + BATCH_IN;
  for (let n = 0; n < count; n++) {
    if (e + 4 > inEnd) return n > 0 ? n : EINVAL;
    const klen = <i32>load<u16>(e);
    const vlen = <i32>load<u16>(e, 2);
    const key = e + 4;
    if (badKey(klen) || vlen > valueMax(<i32>pageSize, klen) || key + <usize>(klen + vlen) > inEnd) return n > 0 ? n : EINVAL;
    const r = btreePut(tree, key, klen, key + <usize>klen, vlen, MODE_PUT);
    if (r < 0) return n > 0 ? n : r;
    e = key + <usize>(klen + vlen);
  }
  return count;
}

/**
 * removeMany: removes `count` packed keys (`len` bytes at BATCH_IN) in order, each as
 * btreeRemove would; how many of them were present goes to BATCH_OUT (u32). Returns how many
 * were done, as batchGet does. The caller is in an epoch and the write gate.
 */
export function batchRemove(tree: u32, count: i32, len: i32): i32 {
  const base = sOut();
  store<u32>(base + BATCH_OUT, 0);
  if (len < 0 || <usize>len > BATCH_IN_SIZE) return EINVAL;
  const inEnd = base + BATCH_IN + <usize>len;
  let k = base + BATCH_IN;
  let removed: u32 = 0;
  for (let n = 0; n < count; n++) {
    if (k + 2 > inEnd) { store<u32>(base + BATCH_OUT, removed); return n > 0 ? n : EINVAL; }
    const klen = <i32>load<u16>(k);
    const key = k + 2;
    if (badKey(klen) || key + <usize>klen > inEnd) { store<u32>(base + BATCH_OUT, removed); return n > 0 ? n : EINVAL; }
    removed += <u32>btreeRemove(tree, key, klen);
    k = key + <usize>klen;
  }
  store<u32>(base + BATCH_OUT, removed);
  return count;
}

// ---- columnar scan batches ----

/** Columnar batch: most entries (the two end regions' length). */
export const COLUMNS_MAX: usize = 2048;
/**
 * Columnar batch: offset from S_OUT of the keys' ends, COLUMNS_MAX x u32: after the scan's header
 * and resume record (scan.ts checks that they end before it; it imports this file, not the reverse).
 */
export const COLUMNS_KEY_ENDS: usize = 64;
/** Columnar batch: offset from S_OUT of the values' ends, COLUMNS_MAX x u32. */
export const COLUMNS_VALUE_ENDS: usize = COLUMNS_KEY_ENDS + (COLUMNS_MAX << 2);
/** Columnar batch: offset from S_OUT of the keys' bytes. */
export const COLUMNS_KEYS: usize = COLUMNS_VALUE_ENDS + (COLUMNS_MAX << 2);
/** Columnar batch: bytes of the keys region. */
export const COLUMNS_KEYS_SIZE: usize = ((S_OUT_SIZE - COLUMNS_KEYS) / 3) & ~(<usize>7);
/** Columnar batch: offset from S_OUT of the values' bytes (to the end of the output area). */
export const COLUMNS_VALUES: usize = COLUMNS_KEYS + COLUMNS_KEYS_SIZE;

// @ts-ignore: compile-time ERROR
if (COLUMNS_KEYS_SIZE < <usize>MAX_KEY || S_OUT_SIZE - COLUMNS_VALUES < <usize>(MAX_PAGE_SIZE >> VALUE_SHIFT)) ERROR("batch.ts: a columnar region cannot hold one entry");

/** Per thread: does the scan write columns (cursor.batches()) rather than items? */
export let columnsOn: bool = false;

/** The next scan batches are columnar (until columnsEnd). */
export function columnsBegin(): void { columnsOn = true; }
export function columnsEnd(): void { columnsOn = false; }

/** Bytes in the keys and values regions so far in this batch, and where its last key starts. */
let keysUsed: usize = 0;
let valuesUsed: usize = 0;
let lastKeyAt: usize = 0;

/** A batch starts (the scan's batchStart): its regions are empty. */
// @ts-ignore: decorator
@inline export function columnsStart(): void { keysUsed = 0; valuesUsed = 0; lastKeyAt = 0; }

/** The batch's last key (at least one entry written): its address, and its length. */
export function columnsLastKey(): usize { return sOut() + COLUMNS_KEYS + lastKeyAt; }
export function columnsLastKeyLen(): i32 { return <i32>(keysUsed - lastKeyAt); }

/**
 * Writes item i of latched leaf p as entry n of the batch's columns (the scan's emit in columnar
 * mode: n is how many entries the batch has); false when a region is full.
 */
// @ts-ignore: decorator
@inline export function columnsEmit(p: usize, i: i32, n: usize): bool {
  const c = cellAddr(p, i); // a leaf cell: [u16 klen][u16 vlen][key][value]
  const kl = <usize>load<u16>(c);
  const vl = <usize>load<u16>(c, 2);
  const k0 = keysUsed;
  const v0 = valuesUsed;
  if (n >= COLUMNS_MAX || k0 + kl > COLUMNS_KEYS_SIZE || COLUMNS_VALUES + v0 + vl > S_OUT_SIZE) return false;
  const o = sOut();
  copyBytes(o + COLUMNS_KEYS + k0, c + LEAF_CELL_HDR, kl);
  copyBytes(o + COLUMNS_VALUES + v0, c + LEAF_CELL_HDR + kl, vl);
  store<u32>(o + COLUMNS_KEY_ENDS + (n << 2), <u32>(k0 + kl));
  store<u32>(o + COLUMNS_VALUE_ENDS + (n << 2), <u32>(v0 + vl));
  lastKeyAt = k0;
  keysUsed = k0 + kl;
  valuesUsed = v0 + vl;
  return true;
}

/**
 * Moves the batch's `count` entries' regions together from COLUMNS_KEY_ENDS: key ends, value
 * ends, keys, values (each moves down, so none overwrites one not yet moved). Returns the bytes.
 */
export function columnsPack(count: usize): usize {
  const o = sOut() + COLUMNS_KEY_ENDS;
  const ends = count << 2;
  memory.copy(o + ends, sOut() + COLUMNS_VALUE_ENDS, ends);
  memory.copy(o + (ends << 1), sOut() + COLUMNS_KEYS, keysUsed);
  memory.copy(o + (ends << 1) + keysUsed, sOut() + COLUMNS_VALUES, valuesUsed);
  return (ends << 1) + keysUsed + valuesUsed;
}
