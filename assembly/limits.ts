// Explicit limits of the engine. Every fixed-size region is sized from these at build time.

/** Largest key, in bytes. Larger keys are refused with EKEYSIZE. */
export const MAX_KEY: i32 = 1024;
/** Smallest and largest page sizes the page format supports (slot offsets are u16). */
export const MIN_PAGE_SIZE: i32 = 4096;
export const MAX_PAGE_SIZE: i32 = 32768;
/** Largest value is a quarter page: pageSize >> VALUE_SHIFT. Larger gives EVALUESIZE. */
export const VALUE_SHIFT: i32 = 2;
/** Page header bytes (assembly/page.ts HDR): room for PageHeader, a multiple of 32 (checked there). */
export const PAGE_HEADER: i32 = 64;
/** Bytes of one slot (assembly/page.ts): a u16 cell offset and the key's u32 head. */
export const PAGE_SLOT: i32 = 6;

/**
 * Largest leaf item (key + value bytes) on a page of `pageSize`. A split must always find a
 * two-way split that fits: with items of at most C bytes (cell + slot) and high keys of at most
 * H bytes, that holds when 2C + H <= the page's room. From 8 KiB pages up a maximal key with a
 * quarter-page value satisfies it; on 4 KiB pages key + value is capped at 1493 bytes (like
 * WiredTiger's leaf_item_max), so a 1024-byte key takes values up to 469 bytes there.
 */
export function leafItemMax(pageSize: i32): i32 {
  const room = pageSize - PAGE_HEADER;
  const high = 2 + MAX_KEY;
  const cellMax = (room - high) / 2 - PAGE_SLOT; // minus the slot
  return cellMax - 4;                            // minus the 4-byte leaf cell header
}

/** Largest value for a key of `klen` bytes: a quarter page, or less where leafItemMax binds. */
export function valueMax(pageSize: i32, klen: i32): i32 {
  return min(pageSize >> VALUE_SHIFT, leafItemMax(pageSize) - klen);
}
/** Threads (Wasm instances) that can be attached to one memory at once. */
export const MAX_THREADS: i32 = 64;
/** Tables one connection can hold. */
export const MAX_TABLES: i32 = 256;
/** Longest table name (uri), in bytes. */
export const MAX_NAME: i32 = 240;
/** Dhandles in the handle list (open tables, and outdated ones still in use). */
export const MAX_DHANDLES: i32 = 1024;
/** Tallest tree. 2^32 pages of fan-out >= 2 can never exceed this. */
export const MAX_LEVELS: i32 = 32;
/**
 * Latches one thread may hold at once: a page deleter holds its tree's vacuum latch, the leaf,
 * and the target's left sibling, the target and its right sibling. (A split holds at most child,
 * parent, parent's old right sibling, and a page being recycled by the allocator.)
 */
export const MAX_LATCHES_HELD: i32 = 5;
/** Bytes of per-thread scratch memory (key, bound, value, split staging, output batches). */
export const SCRATCH_SIZE: i32 = 131072;
/** Memory is grown in steps of this many bytes at least (amortises memory.grow). */
export const GROW_STEP: i32 = 1 << 20;

/**
 * Bytes of the log buffer (assembly/log/log.ts): records of every thread's writes wait there
 * until the log's writer drains them into a segment. A write that finds it full waits for a drain
 * (it never drops a record). A multiple of 8 (records are 8-byte aligned) and far above the
 * largest record and the largest chunk of a putMany (a full batch input's records). 2 MiB: 4 MiB
 * measured no clearly better (bench/log.js puts, 4 workers: 0.81x of log: false with 2 MiB, 0.80x
 * with 4 MiB, paired medians of 6, noisy) and takes 2 MiB more from every connection's memory (the
 * smallest cache, 16 MiB, would hold too few pages: test/errors-enomem.test.ts).
 */
export const LOG_RING_SIZE: i32 = 2 << 20;
/**
 * Log credit a thread takes from the ring's at a time beyond what its write needs, and keeps
 * between writes (up to twice this): most writes admit their records without touching a shared
 * word (assembly/log/log.ts, ROOM). At most MAX_THREADS * 2 * LOG_CREDIT_GRAIN of the ring is
 * held this way (256 KiB of 2 MiB).
 */
export const LOG_CREDIT_GRAIN: i32 = 2048;
