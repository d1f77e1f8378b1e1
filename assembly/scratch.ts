// Per-thread scratch area: SCRATCH_SIZE bytes of shared memory owned by one thread.
// The bindings write keys and values here and read results back; the core keeps its descent
// stack and split staging page here. Offsets are from `scratch` (assembly/arena.ts).

import { scratch } from "./arena";

export const S_KEY: usize = 0;        // the operation's key (MAX_KEY)
export const S_KEY2: usize = 1024;    // second key: a range's end bound (MAX_KEY)
export const S_STACK: usize = 2048;   // descent stack: page number per level (MAX_LEVELS u32)
export const S_VALUE: usize = 8192;   // the operation's value (up to MAX_PAGE_SIZE / 4)
export const S_TEMP: usize = 16384;   // page-sized staging area (MAX_PAGE_SIZE)
export const S_OUT: usize = 49152;    // results: values, scan batches, stats, verify reports
export const S_OUT_SIZE: usize = 131072 - 49152;

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
