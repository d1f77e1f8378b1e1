// The latchkey runtime: every managed allocation traps.
//
// AssemblyScript's built-in runtimes keep their allocator state in a Wasm global, and globals are
// per instance: two threads over one shared memory would hand out the same addresses. The core
// therefore allocates nothing managed. All state lives in the superblock and arena that
// assembly/arena.ts lays out. Any `new`, array literal or string concatenation that slips into
// the core reaches one of these functions and traps loudly instead of corrupting shared memory.

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize { unreachable(); return 0; }
// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize { unreachable(); return 0; }
// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void { unreachable(); }
// @ts-ignore: decorator
@unsafe @global
export function __reset(): void { unreachable(); }
// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize { unreachable(); return 0; }
// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize { unreachable(); return 0; }
// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}
// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize { return ptr; }
// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {}
// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void {}
// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {}
