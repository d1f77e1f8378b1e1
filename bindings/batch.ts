/**
 * Batches of keys and entries as the core reads them (assembly/btree/batch.ts): [u16 klen][key]
 * per key, [u16 klen][u16 vlen][key][value] per entry, packed into this thread's scratch area or
 * a private staging buffer, and the caller's arguments read once, each checked as it is packed.
 * A refused key or entry is reported with its index in the batch.
 */

import { LatchkeyError, invalid } from './errors.js';
import { type Format, writeBytesAt, touchBytes } from './codec.js';
import { describe } from './args.js';

/** The list of keys a batch call was given: an array, or any other iterable (not a string). */
export function keyList(keys: unknown, what: string): readonly unknown[] {
  if (!iterable(keys)) {
    throw invalid(`${what}: keys must be an array of keys, got ${describe(keys)}`, 'an array (or another iterable, not a string or typed array) of keys');
  }
  try {
    return Array.isArray(keys) ? keys : Array.from(keys as Iterable<unknown>);
  } catch (e) {
    throw fromArgument(e, what, 'iterating the keys');
  }
}

/** Is `v` an iterable a batch takes: an object with Symbol.iterator, not a typed array (nor a revoked Proxy)? */
function iterable(v: unknown): boolean {
  try {
    return v !== null && typeof v === 'object' && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function' && !ArrayBuffer.isView(v);
  } catch {
    return false;
  }
}

/** A failure while reading or packing argument `index` of a batch, named as such. */
export function fromArgument(e: unknown, what: string, where: string): LatchkeyError {
  if (e instanceof LatchkeyError) return new LatchkeyError(e.code, `${what}: ${where}: ${e.message}`);
  const shown = e instanceof Error ? `${e.name}: ${e.message}` : describe(e);
  const err = invalid(`${what}: ${where} threw ${shown}`, 'an array (or iterable) of plain values');
  (err as { cause?: unknown }).cause = e;
  return err;
}

/** Keys packKeys reads (once each) and loads as a group before it packs them (codec.ts touchBytes). */
const AHEAD = 32;

/**
 * Packs keys[from..] as [u16 klen][key] into buf from `at`, while `room` bytes (from `at`) still
 * hold a largest one; returns how many; `packed.bytes` says how many bytes they took. Keys are
 * read a group at a time, each once, and loaded together before the group is packed; a group
 * takes only keys whose room is certain (touchBytes bounds their size), so every key read is
 * packed in this call.
 */
export function packKeys(buf: Uint8Array, at: number, room: number, keys: readonly unknown[], from: number,
  kf: Format, maxKey: number, what: string): number {
  let pos = at;
  const end = at + room - 2 - maxKey;
  const group: unknown[] = new Array(AHEAD);
  let i = from;
  try {
    while (i < keys.length && pos <= end) {
      const m = Math.min(AHEAD, keys.length - i);
      let g = 0;
      for (let bound = pos; g < m && bound <= end; g++) {
        const v = keys[i + g];
        group[g] = v;
        bound += 2 + Math.min(touchBytes(v), maxKey);
      }
      for (let j = 0; j < g; j++, i++) {
        const n = writeBytesAt(buf, pos + 2, kf, group[j], maxKey, 'key');
        if (n === 0) throw new LatchkeyError('EKEYSIZE', `empty key; accepted: keys of 1 to ${maxKey} bytes`);
        buf[pos] = n & 0xff;
        buf[pos + 1] = n >>> 8;
        pos += 2 + n;
      }
    }
  } catch (e) {
    throw fromArgument(e, what, `key ${i}`);
  }
  packed.bytes = pos - at;
  return i - from;
}

/** What the last pack took. */
export const packed = { bytes: 0 };

/** A private, growing buffer of packed keys or entries, checked in full before any is applied. */
export class Staging {
  buf = new Uint8Array(1 << 16);
  length = 0;
  count = 0;

  private view: DataView | undefined;

  /** A DataView of the current buffer (renewed when it grows). */
  dv(): DataView {
    if (!this.view || this.view.buffer !== this.buf.buffer) this.view = new DataView(this.buf.buffer);
    return this.view;
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** Bytes of the packed items from byte `at` that fit `room` bytes, whole items only: `count` of them. */
  span(at: number, room: number, entries: boolean, upTo: number): { bytes: number; count: number } {
    const b = this.buf;
    let pos = at;
    let n = 0;
    while (n < upTo && pos < this.length) {
      const size = entries ? 4 + (b[pos] | (b[pos + 1] << 8)) + (b[pos + 2] | (b[pos + 3] << 8)) : 2 + (b[pos] | (b[pos + 1] << 8));
      if (pos + size - at > room) break;
      pos += size;
      n++;
    }
    return { bytes: pos - at, count: n };
  }
}

/** Packs every key (checked) into a fresh staging buffer. */
export function stageKeys(keys: readonly unknown[], kf: Format, maxKey: number, what: string): Staging {
  const s = new Staging();
  while (s.count < keys.length) {
    // Room for one largest key: packKeys fills whatever room the buffer has, and the buffer
    // doubles when that is used up (reserving for thousands of largest keys at once allocated
    // megabytes per call for a batch of small keys, and the collector ran after them).
    s.reserve(2 + maxKey);
    s.count += packKeys(s.buf, s.length, s.buf.length - s.length, keys, s.count, kf, maxKey, what);
    s.length += packed.bytes;
  }
  return s;
}

/**
 * Packs every entry ([key, value] pairs from any iterable) into a fresh staging buffer, each
 * checked: `valueLimit(klen)` is the largest value with a key of klen bytes. Entries are read
 * (the entry, its key, its value, each once) and their keys and values loaded (touchBytes) a
 * group of AHEAD at a time before the group is packed; a failure while reading comes after the
 * entries read before it are checked, so the first bad entry is the one named.
 */
export function stageEntries(entries: unknown, kf: Format, vf: Format, maxKey: number, maxValue: number,
  itemMax: number, valueLimit: (klen: number) => number, what: string): Staging {
  if (!iterable(entries)) {
    throw invalid(`${what}: entries must be an iterable of [key, value] pairs, got ${describe(entries)}`, 'an array, Map or other iterable of [key, value] arrays');
  }
  const s = new Staging();
  const ks: unknown[] = new Array(AHEAD);
  const vs: unknown[] = new Array(AHEAD);
  let g = 0;
  let i = 0;
  /** Packs the group read so far (emptied first, so that a failure in it is not packed twice). */
  const pack = () => {
    const n = g;
    g = 0;
    for (let j = 0; j < n; j++) {
      // Room for one largest entry at a time: the buffer doubles when it is used up, so it ends
      // at most twice what the entries take (fresh memory is what a batch mostly pays for).
      s.reserve(4 + maxKey + maxValue);
      const b = s.buf;
      const at = s.length;
      const kl = writeBytesAt(b, at + 4, kf, ks[j], maxKey, 'key');
      if (kl === 0) throw new LatchkeyError('EKEYSIZE', `empty key; accepted: keys of 1 to ${maxKey} bytes`);
      const vl = writeBytesAt(b, at + 4 + kl, vf, vs[j], maxValue, 'value', ' (a quarter page)');
      // The core has the exact limit where key + value binds (4 KiB pages); ask it only then.
      if (kl + vl > itemMax && vl > valueLimit(kl)) {
        throw new LatchkeyError('EVALUESIZE', `value of ${vl} bytes exceeds the limit of ${valueLimit(kl)} bytes (key + value at most ${itemMax} bytes)`);
      }
      b[at] = kl & 0xff;
      b[at + 1] = kl >>> 8;
      b[at + 2] = vl & 0xff;
      b[at + 3] = vl >>> 8;
      s.length = at + 4 + kl + vl;
      s.count = ++i;
    }
  };
  try {
    try {
      for (const e of entries as Iterable<unknown>) {
        if (!Array.isArray(e) || e.length !== 2) {
          throw invalid(`entry must be a [key, value] array, got ${Array.isArray(e) ? `an array of ${e.length}` : describe(e)}`, 'a [key, value] array of two');
        }
        ks[g] = e[0];
        vs[g] = e[1];
        touchBytes(ks[g]);
        touchBytes(vs[g]);
        if (++g === AHEAD) pack();
      }
    } catch (e) {
      pack(); // the entries read before a failure are checked first: the first bad one is named
      throw e;
    }
    pack();
  } catch (e) {
    throw fromArgument(e, what, `entry ${i}`);
  }
  return s;
}
