/**
 * Keys and values across the boundary: 'u' (raw bytes, Uint8Array), 'S' (strings, UTF-8) and
 * 'q' (integers, JS numbers, 8 bytes ordered as the numbers are; see "'q'" below). Bytes are
 * written into this thread's scratch area and read back as copies, never as views of shared
 * memory.
 */

import { LatchkeyError, invalid } from './errors.js';
import { describe } from './args.js';
import type { CoreThread } from './core.js';

/** A table's key or value format: 'u' raw bytes (Uint8Array), 'S' strings (UTF-8), 'q' integers (number). */
export type Format = 'u' | 'S' | 'q';
/** The JS type of a format's keys or values: Uint8Array for 'u', string for 'S', number for 'q' (all for Format). */
export type FormatType<F extends Format> = F extends 'S' ? string : F extends 'q' ? number : Uint8Array;
export const FORMATS: readonly Format[] = ['u', 'S', 'q'];
/** A format as the core's catalog stores it (assembly/catalog.ts C_KEY_FORMAT): its letter's char code. */
export const formatCode = (f: Format): number => f.charCodeAt(0);
/** The format a catalog code stands for (a table's formats come as keyFormat << 8 | valueFormat). */
export const formatOf = (code: number): Format => {
  const f = String.fromCharCode(code) as Format;
  return FORMATS.includes(f) ? f : 'u';
};
/** The formats as create() and a dump's header name them, for messages. */
export const FORMATS_ACCEPTED = "'u' (bytes), 'S' (string) or 'q' (integer)";

// ---- 'q': integers ----
// WiredTiger's 'q' is an int64; a JS number holds integers exactly up to 2^53 - 1, so a 'q' key
// or value is a safe integer (Number.isSafeInteger: -(2^53 - 1) to 2^53 - 1; -0 is stored as 0),
// and nothing else: no fraction, NaN, Infinity, bigint or numeric string. It is stored as 8 bytes:
// the int64, big-endian, with its sign bit flipped, so that the tables' unsigned bytewise order
// is the numbers' order (negative ones first). Writing one reads no object: an application with
// integer ids passes the numbers themselves, as it would to a Map or sorted-btree, and no key
// object of its own scattered in the heap has to be loaded per call.

/** Bytes of a 'q' key or value. */
export const INT_BYTES = 8;
const TWO_32 = 4294967296;

/** Writes safe integer `v` (checked) as a 'q' key or value at `at` in `buf`; returns INT_BYTES. */
function writeInt(buf: Uint8Array, at: number, v: unknown, what: 'key' | 'value'): number {
  if (!Number.isSafeInteger(v)) {
    const got = typeof v === 'number' ? String(v) : describe(v);
    throw invalid(`${what} must be a safe integer for format 'q', got ${got}`, 'an integer number from -(2^53 - 1) to 2^53 - 1');
  }
  const x = v as number;
  const hi = Math.floor(x / TWO_32); // -2^21 .. 2^21 - 1
  const lo = x - hi * TWO_32;         // 0 .. 2^32 - 1
  const h = hi ^ 0x80000000;          // the int64's high word, sign bit flipped (stores keep 8 bits)
  buf[at] = h >>> 24;
  buf[at + 1] = h >>> 16;
  buf[at + 2] = h >>> 8;
  buf[at + 3] = h;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = lo >>> 16;
  buf[at + 6] = lo >>> 8;
  buf[at + 7] = lo;
  return INT_BYTES;
}

/**
 * The integer of the 'q' key or value of `len` bytes at `at` in `b`: ECORRUPT unless it is 8
 * bytes that writeInt could have written (a safe integer), never a rounded guess.
 */
export function readInt(b: Uint8Array, at: number, len: number): number {
  if (len !== INT_BYTES) throw new LatchkeyError('ECORRUPT', `a 'q' key or value of ${len} bytes; a 'q' table holds ${INT_BYTES}-byte integers`);
  const hi = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) ^ 0x80000000;
  const lo = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
  const x = hi * TWO_32 + lo;
  if (!Number.isSafeInteger(x)) throw new LatchkeyError('ECORRUPT', `a 'q' key or value outside the safe integers (high word ${hi}); a 'q' table holds integers from -(2^53 - 1) to 2^53 - 1`);
  return x;
}

/** The 8 bytes a 'q' table stores for safe integer `v` (checked). */
export function intBytes(v: unknown, what: 'key' | 'value' = 'key'): Uint8Array {
  const b = new U8(INT_BYTES);
  writeInt(b, 0, v, what);
  return b;
}

const encoder = new TextEncoder();
// ignoreBOM: a string that starts with U+FEFF is data, and must come back as it went in.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Chromium refuses TextEncoder.encodeInto on views of shared memory; Node accepts them.
 * Probe once and fall back to a private staging buffer.
 */
let encodeIntoShared: boolean | undefined;
let staging = new Uint8Array(0);

/**
 * Encodes `s` into `area` (the whole of it: a subarray of `limit` bytes per call cost as much as
 * the encoding); its byte length, or -1 when it takes more than `limit` bytes. Bytes past `limit`
 * that a refused string wrote stay inside the area, this thread's scratch.
 */
function encodeString(s: string, area: Uint8Array, limit: number): number {
  if (encodeIntoShared !== false) {
    try {
      const r = encoder.encodeInto(s, area);
      encodeIntoShared = true;
      return r.read < s.length || r.written > limit ? -1 : r.written;
    } catch {
      encodeIntoShared = false;
    }
  }
  if (staging.length < area.length) staging = new Uint8Array(area.length);
  const r = encoder.encodeInto(s, staging.subarray(0, limit));
  if (r.read < s.length) return -1;
  area.set(staging.subarray(0, r.written));
  return r.written;
}

/**
 * Keys and values of at most this many bytes (or ASCII characters) are copied by a loop: for them
 * it costs less than TypedArray.prototype.set, slice and TextEncoder.encodeInto, whose fixed cost
 * the loop's passes above it (measured on Node 20: an 8-byte key written in 18 ns by the loop,
 * 27 ns by set; an 8-byte value read in 55 ns by new Uint8Array + loop, 80 ns by slice; break-even
 * near 16 bytes for each).
 */
const SHORT_COPY = 16;
/**
 * Strings of at most this many bytes are read by a loop when they are ASCII: a TextDecoder call
 * costs twice as much for them (87 ns against 180 ns for 8 bytes), and from 13 characters
 * concatenation makes a rope that a flat decode beats.
 */
const SHORT_STRING = 12;
const fromCharCode = String.fromCharCode;

// ---- what a 'u' key or value is ----
// `instanceof Uint8Array` and `.length` can both be made to lie (a subclass, an own `length`
// property, a Proxy, Object.create(Uint8Array.prototype)), while TypedArray.prototype.set copies
// by the view's internal length whatever `.length` says: a size check on `.length` let the copy
// run past the room it had checked, into other threads' scratch areas and the pages. So a view's
// kind and byte length are read from its internal slots, through the %TypedArray%.prototype
// getters captured here at load, which no subclass, own property or Proxy can answer for (they
// give undefined, or throw, for anything that is not a genuine typed array).
const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** The getter as a plain function of its receiver (bound at load: no argument array per call). */
const intrinsicGetter = (key: PropertyKey) => Function.prototype.call.bind(Object.getOwnPropertyDescriptor(TYPED_ARRAY, key)!.get!) as (v: unknown) => unknown;
const kindOf = intrinsicGetter(Symbol.toStringTag);     // 'Uint8Array' for one (a Buffer too)
const byteLengthOf = intrinsicGetter('byteLength');     // 0 once its buffer is detached
const bufferOf = intrinsicGetter('buffer');
const U8 = Uint8Array;

/**
 * Loads key or value `v` ahead of its packing and answers at least the bytes it will take (the
 * byte length of a Uint8Array, 3 per UTF-16 unit of a string, 8 for a number ('q'); 0 for
 * anything else, which the packing refuses). Runs no code of the caller's: no getter, no Proxy trap (the intrinsic getters
 * above, and an indexed read of what they prove a genuine Uint8Array). A batch loads a group of
 * keys this way in a tight loop before it packs them: each key the caller built is an object of
 * its own, somewhere in the heap, whose first load is a cache miss; issued one after another, the
 * misses of a group overlap instead of each waiting for the packing of the key before.
 */
export function touchBytes(v: unknown): number {
  if (typeof v === 'string') return 3 * v.length;
  if (typeof v === 'number') return INT_BYTES;
  if (kindOf(v) !== 'Uint8Array') return 0;
  touched ^= (v as Uint8Array)[0] ?? 0;
  return byteLengthOf(v) as number;
}
/** What touchBytes read: kept so that no read is optimized away. */
let touched = 0;

/** The real byte length of a 'u' key or value; EINVAL unless it is a genuine, attached Uint8Array. */
function bytesLength(v: unknown, what: 'key' | 'value'): number {
  if (kindOf(v) !== 'Uint8Array') {
    throw invalid(`${what} must be a Uint8Array for format 'u', got ${describe(v)}`, 'a Uint8Array (or Buffer)');
  }
  const n = byteLengthOf(v) as number;
  if (n === 0) {
    // Empty, or detached (transferred away): constructing a view over a detached buffer throws.
    try {
      new U8(bufferOf(v) as ArrayBuffer, 0, 0);
    } catch {
      throw invalid(`${what} is a Uint8Array whose buffer is detached (transferred away)`, 'a Uint8Array (or Buffer) over a buffer that is not detached');
    }
  }
  return n;
}

/** Checks that a key or value for an 'S' table is a well-formed primitive string. */
function checkString(v: unknown, what: 'key' | 'value'): string {
  if (typeof v !== 'string') throw invalid(`${what} must be a string for format 'S', got ${describe(v)}`, 'a string');
  if (!v.isWellFormed()) throw invalid(`${what} is not well-formed UTF-16 (lone surrogate)`, 'a well-formed string');
  return v;
}

/** Unsigned byte order, shorter first on a common prefix (the tables' key order): < 0, 0 or > 0. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Writes a key or value into `area` (this thread's key or value area, core.keyArea or
 * core.valueArea: no copy into it can run past it); returns its byte length. `what` names the
 * argument; `limit` (at most the area's length) is the largest accepted length.
 */
export function writeBytes(area: Uint8Array, format: Format, v: unknown, limit: number,
  what: 'key' | 'value', why = ''): number {
  if (format === 'q') return writeInt(area, 0, v, what);
  const tooLarge = what === 'key' ? 'EKEYSIZE' : 'EVALUESIZE';
  if (format === 'u') {
    const n = bytesLength(v, what);
    if (n > limit) throw new LatchkeyError(tooLarge, `${what} of ${n} bytes exceeds the limit of ${limit} bytes${why}`);
    if (n <= SHORT_COPY) {
      // Indexed reads of a genuine typed array (checked above) go to its elements, whatever
      // its prototype or own properties say.
      const b = v as Uint8Array;
      for (let i = 0; i < n; i++) area[i] = b[i];
    } else {
      area.set(v as Uint8Array);
    }
    return n;
  }
  if (typeof v === 'string' && v.length <= SHORT_COPY && v.length <= limit) {
    // A short ASCII string is its own UTF-8 (and well-formed): a loop writes it for a third of
    // what isWellFormed and encodeInto cost (26 ns against 68 ns for 8 characters). At the first
    // other character the general path below writes it again from the start.
    const n = v.length;
    let i = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) break;
      area[i] = c;
    }
    if (i === n) return n;
  }
  const s = checkString(v, what);
  const n = encodeString(s, area, limit);
  if (n < 0) {
    throw new LatchkeyError(tooLarge, `${what} of ${encoder.encode(s).length} UTF-8 bytes exceeds the limit of ${limit} bytes${why}`);
  }
  return n;
}

/**
 * Reads `len` bytes at `at` as a fresh value of the format. For 'u' the copy itself is returned,
 * never a subarray of it: that would make V8 materialize an ArrayBuffer for the copy's on-heap
 * storage (a typed array of at most 64 bytes is kept on the heap), which cost more than the
 * lookup itself.
 */
export function readBytes(core: CoreThread, format: Format, at: number, len: number): Uint8Array | string | number {
  const u8 = core.u8;
  if (format === 'q') return readInt(u8, at, len);
  if (format === 'u') {
    if (len > SHORT_COPY) return u8.slice(at, at + len);
    const copy = new U8(len);
    for (let i = 0; i < len; i++) copy[i] = u8[at + i];
    return copy;
  }
  if (len <= SHORT_STRING) {
    let s = '';
    let i = 0;
    for (; i < len; i++) {
      const c = u8[at + i];
      if (c >= 0x80) break;
      s += fromCharCode(c);
    }
    if (i === len) return s;
  }
  // A copy first: TextDecoder refuses views of shared memory in browsers.
  return decoder.decode(u8.slice(at, at + len));
}

/**
 * A value of the format from a private (non-shared) buffer: a view for 'u', a string for 'S'.
 * The view is made by the constructor over the buffer, never by subarray() (which looks up the
 * species constructor and costs twice as much).
 */
export function decodeBytes(format: Format, bytes: Uint8Array, at: number, len: number): Uint8Array | string | number {
  if (format === 'q') return readInt(bytes, at, len);
  const view = new U8(bytes.buffer, bytes.byteOffset + at, len);
  return format === 'u' ? view : decoder.decode(view);
}

/**
 * A scan batch's entry bytes (a private copy) decoded as one string, when every byte of it
 * decodes to exactly one UTF-16 unit, so that a string's byte offsets in the batch are its
 * offsets in the text; else undefined. A key or value of an 'S' table is well-formed UTF-8, whose
 * only one-byte-one-unit characters are ASCII: in such a batch each is `text.substring` of its
 * byte range, one TextDecoder call per batch instead of one per string (three times the entries
 * per second for short strings). Any other byte (a length byte of 0x80 or more decodes to U+FFFD,
 * one unit for one byte too) only has to keep the alignment, which counting units proves: UTF-8
 * never decodes to more units than bytes, and to fewer as soon as one sequence is longer than one
 * byte.
 */
export function batchText(entries: Uint8Array): string | undefined {
  const text = decoder.decode(entries);
  return text.length === entries.length ? text : undefined;
}

/** A key as the cursor's own bytes (a bound, a seek, a position); same rules as a key. */
export function keyBytes(format: Format, v: unknown): Uint8Array {
  if (format === 'S') return encoder.encode(checkString(v, 'key'));
  if (format === 'q') return intBytes(v);
  const copy = new U8(bytesLength(v, 'key'));
  copy.set(v as Uint8Array);
  return copy;
}

/**
 * writeBytes at `at` in `buf` (this thread's scratch area, or a private staging buffer for a
 * batch): the caller has checked that `limit` bytes from `at` are inside `buf`, so no copy can
 * run past them. Returns the byte length.
 */
export function writeBytesAt(buf: Uint8Array, at: number, format: Format, v: unknown, limit: number,
  what: 'key' | 'value', why = ''): number {
  if (format === 'q') return writeInt(buf, at, v, what);
  if (format === 'u') {
    const n = bytesLength(v, what);
    if (n > limit) throw new LatchkeyError(what === 'key' ? 'EKEYSIZE' : 'EVALUESIZE', `${what} of ${n} bytes exceeds the limit of ${limit} bytes${why}`);
    buf.set(v as Uint8Array, at);
    return n;
  }
  return writeBytes(buf.subarray(at, at + limit), format, v, limit, what, why);
}
