// crc32 (IEEE 802.3, the zlib polynomial, reflected; bindings/checkpoint.ts computes the same in
// JS): the checksum of every log record, computed by the thread that appends it, on bytes it has
// just written (assembly/log/log.ts), so that the log's writer only copies records out.
//
// The table lives in the superblock (SB + CRC_OFF), filled once by the thread that lays the
// memory out, before any other thread can attach; read-only afterwards. (Static data would be
// rewritten by every instantiation; a per-thread copy would cost a page per thread.)

import { SB, CRC_OFF } from "../arena";

/** Fills the table (arenaInit, the first thread, before the superblock is marked ready). */
export function crcInit(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(SB + CRC_OFF + (<usize>n << 2), c);
  }
}

// @ts-ignore: decorator
@inline function step(c: u32, byte: u32): u32 {
  return load<u32>(SB + CRC_OFF + (<usize>((c ^ byte) & 0xff) << 2)) ^ (c >>> 8);
}

/** Continues a crc32 (pre-inverted state: start with ~0, finish with ~) over `n` bytes at `p`. */
export function crcBytes(c: u32, p: usize, n: i32): u32 {
  for (let i = 0; i < n; i++) c = step(c, <u32>load<u8>(p + <usize>i));
  return c;
}

/** Continues a crc32 over the 8 little-endian bytes of `v`. */
export function crcU64(c: u32, v: u64): u32 {
  for (let i = 0; i < 8; i++) {
    c = step(c, <u32>(v & 0xff));
    v >>= 8;
  }
  return c;
}
