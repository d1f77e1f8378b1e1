// Short byte copies on the per-operation path.
//
// memory.copy leaves Wasm in V8: it calls the runtime's memory_copy_wrapper, which checks the
// bounds and calls memmove (about 100 instructions for an 8-byte value, counted with callgrind:
// bench/core-ops.js). The copies of a point operation are short (an 8-byte key or value is
// typical), so copyBytes does them inline with word loads and stores, and leaves longer ones to
// memory.copy. It reads exactly the bytes src .. src + n - 1, so an optimistic reader's bound on
// the addresses it forms (btree/search.ts, btreeGet) holds for it as for memory.copy.

/** Copies longer than this go to memory.copy. */
export const INLINE_COPY_MAX: usize = 64;

/** Copies n bytes from src to dst. The two ranges must not overlap (memory.copy's may). */
// @ts-ignore: decorator
@inline export function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n > INLINE_COPY_MAX) {
    memory.copy(dst, src, n);
  } else if (n >= 8) {
    // Whole words, then the last word (which may overlap the one before it: same bytes).
    for (let i: usize = 0; i < n - 8; i += 8) store<u64>(dst + i, load<u64>(src + i));
    store<u64>(dst + n - 8, load<u64>(src + n - 8));
  } else {
    let i: usize = 0;
    if ((n & 4) != 0) { store<u32>(dst, load<u32>(src)); i = 4; }
    if ((n & 2) != 0) { store<u16>(dst + i, load<u16>(src + i)); i += 2; }
    if ((n & 1) != 0) store<u8>(dst + i, load<u8>(src + i));
  }
}
