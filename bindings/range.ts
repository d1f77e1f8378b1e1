/**
 * The iterator range() returns: one scan's batches (bindings/cursor.ts fetches them: the first
 * one leaf, the ones after it several leaves, as many entries as the core's output area holds),
 * each entry decoded as it is taken.
 *
 * It behaves as the generator it replaces (range() was one): nothing runs until the first next(),
 * which checks the cursor and the options (their errors are thrown there); an error or return()
 * ends it; `[Symbol.iterator]()` is itself, and it inherits the iterator helpers (map, filter,
 * take, toArray) where the runtime has them. Hand-written because a generator's resumption cost
 * as much as the rest of an entry's work.
 *
 * Per entry: a key and a value made over the batch's private copy (one copy of the batch's bytes
 * per batch, fetchRaw; a 'q' integer read from it), [key, value] and the result object; nothing
 * per batch beyond the copy and (for 'S' formats) one decode of it. The views never overlap, and
 * no later batch reuses a copy, so what a caller keeps stays as it was given.
 */

import type { RawBatch } from './cursor.js';
import { type Format, batchText, readInt } from './codec.js';

/** A scan as range() planned it at the first next(): its first batch, and how to get the next. */
export interface ScanPlan {
  /** Entries still wanted (limit; Infinity for none). */
  remaining: number;
  /** The first batch (at most `remaining` entries). */
  first: RawBatch;
  /** The batch after `from`, all of whose entries were taken; at most `remaining` entries. */
  after(from: RawBatch, remaining: number): RawBatch;
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const U8 = Uint8Array;

export class RangeIterator<K, V> implements IterableIterator<[K, V]> {
  private readonly kf: Format;
  private readonly vf: Format;
  /** Plans the scan (the first next() calls it once); undefined after. */
  private begin: (() => ScanPlan | undefined) | undefined;
  private plan: ScanPlan | undefined;
  private batch: RawBatch | undefined;
  /** The batch's copy (from its start: positions are offsets in `buf`), and its buffer. */
  private bytes: Uint8Array = new U8(0);
  private buf: ArrayBufferLike = this.bytes.buffer;
  /** The batch's entries as one string, when aligned to their bytes (codec.ts batchText), and where they start in `buf`. */
  private text: string | undefined;
  private textAt = 0;
  /** Where the next entry starts in `buf`, and how many of the batch's entries are left to give. */
  private pos = 0;
  private left = 0;
  private remaining = 0;
  private done = false;

  constructor(kf: Format, vf: Format, begin: () => ScanPlan | undefined) {
    this.kf = kf;
    this.vf = vf;
    this.begin = begin;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<[K, V]> {
    if (this.left === 0 && !this.refill()) return { value: undefined, done: true };
    const b = this.bytes;
    const buf = this.buf;
    const at = this.pos;
    const kl = b[at] | (b[at + 1] << 8);
    const vl = b[at + 2] | (b[at + 3] << 8);
    const key = this.kf === 'u' ? new U8(buf, at + 4, kl) : this.kf === 'q' ? readInt(b, at + 4, kl) : this.string(at + 4, kl);
    const value = this.vf === 'u' ? new U8(buf, at + 4 + kl, vl) : this.vf === 'q' ? readInt(b, at + 4 + kl, vl) : this.string(at + 4 + kl, vl);
    this.pos = at + 4 + kl + vl;
    this.left--;
    return { value: [key as K, value as V], done: false };
  }

  return(): IteratorResult<[K, V]> {
    this.finish();
    return { value: undefined, done: true };
  }

  throw(e?: unknown): IteratorResult<[K, V]> {
    this.finish();
    throw e;
  }

  /** A string of the batch, `len` bytes at `at` of its buffer. */
  private string(at: number, len: number): string {
    const text = this.text;
    if (text !== undefined) return text.substring(at - this.textAt, at - this.textAt + len);
    return decoder.decode(new U8(this.buf, at, len));
  }

  /** Takes the next batch that has entries; false at the end (or the limit). An error ends the scan. */
  private refill(): boolean {
    if (this.done) return false;
    try {
      for (;;) {
        let b: RawBatch;
        if (this.begin !== undefined) {
          const begin = this.begin;
          this.begin = undefined;
          this.plan = begin();
          if (this.plan === undefined) break;
          this.remaining = this.plan.remaining;
          b = this.plan.first;
        } else {
          const last = this.batch!;
          if (last.end || this.remaining <= 0) break;
          b = this.plan!.after(last, this.remaining);
        }
        this.batch = b;
        if (b.count === 0) continue;
        this.bytes = new U8(b.bytes.buffer, 0, b.bytes.byteOffset + b.bytes.byteLength);
        this.buf = b.bytes.buffer;
        this.text = this.kf === 'S' || this.vf === 'S' ? batchText(b.bytes) : undefined;
        this.pos = this.textAt = b.bytes.byteOffset;
        this.left = Math.min(b.count, this.remaining);
        this.remaining -= this.left;
        return true;
      }
    } catch (e) {
      this.finish();
      throw e;
    }
    this.finish();
    return false;
  }

  private finish(): void {
    this.done = true;
    this.left = 0;
    this.begin = undefined;
    this.plan = undefined;
    this.batch = undefined;
    this.text = undefined;
  }
}

// Inherit %IteratorPrototype% as generators do: the iterator helpers where the runtime has them.
Object.setPrototypeOf(RangeIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object);
