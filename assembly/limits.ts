// Explicit limits of the engine. Every fixed-size region is sized from these at build time.

/** Largest key, in bytes. Larger keys are refused with EKEYSIZE. */
export const MAX_KEY: i32 = 1024;
/** Smallest and largest page sizes the page format supports (slot offsets are u16). */
export const MIN_PAGE_SIZE: i32 = 4096;
export const MAX_PAGE_SIZE: i32 = 32768;
/** Largest value is a quarter page: pageSize >> VALUE_SHIFT. Larger gives EVALUESIZE. */
export const VALUE_SHIFT: i32 = 2;
/** Threads (Wasm instances) that can be attached to one memory at once. */
export const MAX_THREADS: i32 = 64;
/** Tables one connection can hold. */
export const MAX_TABLES: i32 = 256;
/** Longest table name (uri), in bytes. */
export const MAX_NAME: i32 = 240;
/** Tallest tree. 2^32 pages of fan-out >= 2 can never exceed this. */
export const MAX_LEVELS: i32 = 32;
/** Latches one operation may hold at once (split: child, page, new right, old right). */
export const MAX_LATCHES_HELD: i32 = 4;
/** Bytes of per-thread scratch memory (key, bound, value, split staging, output batches). */
export const SCRATCH_SIZE: i32 = 131072;
/** Memory is grown in steps of this many bytes at least (amortises memory.grow). */
export const GROW_STEP: i32 = 1 << 20;
