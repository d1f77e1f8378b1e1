// crc32 (IEEE 802.3, the zlib polynomial, reflected; bindings/checkpoint.ts computes the same in
// JS): the checksum of every log record, computed by the thread that appends it, on bytes it has
// just written (assembly/log/log.ts), so that the log's writer only copies records out.
// Slicing-by-8: eight tables of 256 u32, eight bytes per step (a record's position and header word
// are two steps).
//
// The tables live in the superblock (SB + CRC_OFF, CRC_TABLES_SIZE bytes), filled once by the
// thread that lays the memory out, before any other thread can attach; read-only afterwards.
// (Static data would be rewritten by every instantiation; a copy per thread would cost 8 KiB each.)

import { SB, CRC_OFF } from "../arena";

export const CRC_TABLES_SIZE: usize = 8 * 256 * 4;

// @ts-ignore: decorator
@inline function t(k: u32, n: u32): u32 { return load<u32>(SB + CRC_OFF + ((<usize>k << 10) | (<usize>(n & 0xff) << 2))); }

/** Fills the tables (arenaInit, the first thread, before the superblock is marked ready). */
export function crcInit(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(SB + CRC_OFF + (<usize>n << 2), c);
  }
  for (let k: u32 = 1; k < 8; k++) {
    for (let n: u32 = 0; n < 256; n++) {
      const p = t(k - 1, n);
      store<u32>(SB + CRC_OFF + ((<usize>k << 10) | (<usize>n << 2)), (p >>> 8) ^ t(0, p));
    }
  }
}

/** Continues a crc32 (pre-inverted state: start with ~0, finish with ~) over the 8 little-endian bytes of `v`. */
// @ts-ignore: decorator
@inline export function crcU64(c: u32, v: u64): u32 {
  const lo = <u32>v ^ c;
  const hi = <u32>(v >> 32);
  return t(7, lo) ^ t(6, lo >>> 8) ^ t(5, lo >>> 16) ^ t(4, lo >>> 24) ^ t(3, hi) ^ t(2, hi >>> 8) ^ t(1, hi >>> 16) ^ t(0, hi >>> 24);
}

/** Continues a crc32 over one byte. */
// @ts-ignore: decorator
@inline export function crcU8(c: u32, b: u8): u32 { return t(0, c ^ <u32>b) ^ (c >>> 8); }

/** Continues a crc32 over `n` bytes at `p`. */
export function crcBytes(c: u32, p: usize, n: i32): u32 {
  let i = 0;
  for (; i + 8 <= n; i += 8) c = crcU64(c, load<u64>(p + <usize>i));
  for (; i < n; i++) c = crcU8(c, load<u8>(p + <usize>i));
  return c;
}
