/**
 * Keys and values across the boundary: 'u' (raw bytes, Uint8Array) and 'S' (strings, UTF-8).
 * Bytes are written into this thread's scratch area and read back as copies, never as views of
 * shared memory.
 */

import { LatchkeyError, invalid } from './errors.js';
import type { CoreThread } from './core.js';

/** A table's key or value format: 'u' raw bytes (Uint8Array), 'S' strings (UTF-8). */
export type Format = 'u' | 'S';
/** The JS type of a format's keys or values: Uint8Array for 'u', string for 'S' (both for Format). */
export type FormatType<F extends Format> = F extends 'S' ? string : Uint8Array;
export const FORMATS: readonly Format[] = ['u', 'S'];

const encoder = new TextEncoder();
// ignoreBOM: a string that starts with U+FEFF is data, and must come back as it went in.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Chromium refuses TextEncoder.encodeInto on views of shared memory; Node accepts them.
 * Probe once and fall back to a private staging buffer.
 */
let encodeIntoShared: boolean | undefined;
let staging = new Uint8Array(0);

function encodeString(s: string, u8: Uint8Array, at: number, room: number): number {
  if (encodeIntoShared !== false) {
    try {
      const r = encoder.encodeInto(s, u8.subarray(at, at + room));
      encodeIntoShared = true;
      return r.read < s.length ? -1 : r.written;
    } catch {
      encodeIntoShared = false;
    }
  }
  if (staging.length < room) staging = new Uint8Array(room);
  const r = encoder.encodeInto(s, staging.subarray(0, room));
  if (r.read < s.length) return -1;
  u8.set(staging.subarray(0, r.written), at);
  return r.written;
}

/** Checks that `v` has the format's type: a Uint8Array for 'u', a well-formed string for 'S'. */
function checkFormat(format: Format, v: unknown, what: 'key' | 'value'): Uint8Array | string {
  if (format === 'u') {
    if (!(v instanceof Uint8Array)) {
      throw invalid(`${what} must be a Uint8Array for format 'u', got ${describe(v)}`, 'a Uint8Array (or Buffer)');
    }
    return v;
  }
  if (typeof v !== 'string') throw invalid(`${what} must be a string for format 'S', got ${describe(v)}`, 'a string');
  if (!v.isWellFormed()) throw invalid(`${what} is not well-formed UTF-16 (lone surrogate)`, 'a well-formed string');
  return v;
}

/**
 * Writes a key or value into scratch at `at`; returns its byte length.
 * `what` names the argument; `limit` is the largest accepted length.
 */
export function writeBytes(core: CoreThread, format: Format, v: unknown, at: number, limit: number,
  what: 'key' | 'value', why = ''): number {
  const tooLarge = what === 'key' ? 'EKEYSIZE' : 'EVALUESIZE';
  const checked = checkFormat(format, v, what);
  if (typeof checked !== 'string') {
    if (checked.length > limit) throw new LatchkeyError(tooLarge, `${what} of ${checked.length} bytes exceeds the limit of ${limit} bytes${why}`);
    core.u8.set(checked, at);
    return checked.length;
  }
  // Encode with one spare byte of room so that "exactly at the limit" and "over" differ.
  const n = encodeString(checked, core.u8, at, limit + 1);
  if (n < 0 || n > limit) {
    throw new LatchkeyError(tooLarge, `${what} of ${encoder.encode(checked).length} UTF-8 bytes exceeds the limit of ${limit} bytes${why}`);
  }
  return n;
}

/** Reads `len` bytes at `at` as a fresh value of the format. */
export function readBytes(core: CoreThread, format: Format, at: number, len: number): Uint8Array | string {
  return decodeBytes(format, core.u8.slice(at, at + len), 0, len);
}

/** A value of the format from a private (non-shared) buffer: a view for 'u', a string for 'S'. */
export function decodeBytes(format: Format, bytes: Uint8Array, at: number, len: number): Uint8Array | string {
  const view = bytes.subarray(at, at + len);
  return format === 'u' ? view : decoder.decode(view);
}

/** Encodes a bound for a scan; same rules as a key. */
export function keyBytes(format: Format, v: unknown): Uint8Array {
  const checked = checkFormat(format, v, 'key');
  return typeof checked === 'string' ? encoder.encode(checked) : checked;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
