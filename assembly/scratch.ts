// Per-thread scratch area: SCRATCH_SIZE bytes of shared memory owned by one thread.
// The bindings write keys and values here and read results back; the core keeps its descent
// stack and split staging page here. Offsets are from `scratch` (assembly/arena.ts).
//
// Each region is sized from the limits that bound what it holds and starts where the one before
// it ends; the output area takes the rest. The bindings read the offsets
// from bindings/abi.generated.ts (scripts/gen-abi.js), never as literals.

import { scratch } from "./arena";
import { MAX_KEY, MAX_LEVELS, MAX_PAGE_SIZE, VALUE_SHIFT, SCRATCH_SIZE } from "./limits";

/** Every region starts on a multiple of this, so that 8-byte loads and atomics there are aligned. */
const S_ALIGN: usize = 8;

/** The operation's key (MAX_KEY bytes). */
export const S_KEY: usize = 0;
/** A second key: a range's end bound, or a key the core copies aside (MAX_KEY bytes). */
export const S_KEY2: usize = S_KEY + <usize>MAX_KEY;
/** Descent stack: a page number (u32) per level (MAX_LEVELS). */
export const S_STACK: usize = S_KEY2 + <usize>MAX_KEY;
/** The operation's value (up to MAX_PAGE_SIZE >> VALUE_SHIFT bytes, the largest value). */
export const S_VALUE: usize = S_STACK + (<usize>MAX_LEVELS << 2);
/** Page-sized staging area, and lists the verifier and compaction collect (MAX_PAGE_SIZE bytes). */
export const S_TEMP: usize = S_VALUE + (<usize>MAX_PAGE_SIZE >> VALUE_SHIFT);
/** Results: values, scan batches, stats, verify reports, table names, image items: the rest. */
export const S_OUT: usize = S_TEMP + <usize>MAX_PAGE_SIZE;
export const S_OUT_SIZE: usize = <usize>SCRATCH_SIZE - S_OUT;

// Static checks (compile errors when broken): the regions are aligned, and the output area holds
// at least a page (a checkpoint image page's items are loaded from it, bindings/connection.ts).
// @ts-ignore: compile-time ERROR
if (((S_KEY2 | S_STACK | S_VALUE | S_TEMP | S_OUT) & (S_ALIGN - 1)) != 0) ERROR("scratch.ts: a region is not S_ALIGN-aligned");
// @ts-ignore: compile-time ERROR
if (S_OUT + <usize>MAX_PAGE_SIZE > <usize>SCRATCH_SIZE) ERROR("scratch.ts: SCRATCH_SIZE leaves the output area smaller than MAX_PAGE_SIZE");

// @ts-ignore: decorator
@inline export function sKey(): usize { return scratch + S_KEY; }
// @ts-ignore: decorator
@inline export function sKey2(): usize { return scratch + S_KEY2; }
// @ts-ignore: decorator
@inline export function sValue(): usize { return scratch + S_VALUE; }
// @ts-ignore: decorator
@inline export function sTemp(): usize { return scratch + S_TEMP; }
// @ts-ignore: decorator
@inline export function sOut(): usize { return scratch + S_OUT; }
// @ts-ignore: decorator
@inline export function stackGet(level: i32): u32 { return load<u32>(scratch + S_STACK + (<usize>level << 2)); }
// @ts-ignore: decorator
@inline export function stackSet(level: i32, pg: u32): void { store<u32>(scratch + S_STACK + (<usize>level << 2), pg); }
