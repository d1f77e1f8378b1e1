/**
 * Incremental checkpoints: a checkpoint that writes only what changed since the one before it.
 *
 * A DELTA checkpoint is a checkpoint record (bindings/checkpoint.ts) with `prev` (the checkpoint
 * it builds on) and `chain` (every checkpoint from the last full image to itself, in order). Its
 * tables list every live table at its log position; each table's blob holds that table's changes
 * since `prev`: the last log record of each key changed (a put with its value, or a remove),
 * copied from the leader's log records since `prev` (LogWriter.history in bindings/log.ts: the
 * log flushed to the delta's position, its segments' records kept or read back), once per key. A table marked
 * `reset` was created (or dropped and created again) since `prev`: it starts empty. A table of
 * `prev` that the delta does not list was dropped.
 *
 * A delta is built from the records between `prev`'s log position and its own (the write gate
 * makes both exact: a checkpoint's image holds exactly the records before its position), so
 * loading the chain (the full image, then each delta's changes in order) gives the trees at the
 * delta's position. Its cost follows the keys changed, not the database's size; a leader writes a
 * full image instead (the merge) when the changes since the last full image pass a quarter of its
 * size or the chain is DELTA_CHAIN_MAX long, and whenever it lacks the records (after a step-up).
 *
 * BLOB: "LKD2", crc32 of bytes 8.., u32 count, then count log records (the layout of
 * assembly/log/log.ts: LOG_PUT or LOG_REMOVE). A record's own crc32 covers its log position,
 * which the blob does not keep: it was checked when the record was read from its segment, and
 * the blob's crc32 covers every byte since.
 */

import { LatchkeyError } from './errors.js';
import { crc32 } from './checkpoint.js';
import { recordMisfit, recordSize } from './log.js';
import {
  LOG_HEADER, LOG_R_LEN, LOG_R_TYPE, LOG_R_TREE, LOG_R_KLEN, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP,
} from './abi.generated.js';

export const DELTA_MAGIC = 0x3244_4b4c; // "LKD2" little-endian
/** The first format's ("LKDL": records with 32-byte headers), refused by name. */
const DELTA_MAGIC_1 = 0x4c44_4b4c;
const DELTA_HEADER = 12;
/** Deltas after a full image before the next checkpoint writes a full image again. */
export const DELTA_CHAIN_MAX = 8;


/**
 * One table's changes: the last record of each key changed (`count` of them; `keys` leads from
 * a hash of a key to the chain of slots of the keys with that hash, slots of the Changes that
 * made it), and their bytes.
 */
export interface TableChanges {
  reset: boolean;
  keys: Map<number, number>;
  count: number;
  bytes: number;
}

/**
 * The hash of keys is seeded per process (as V8 seeds its string hashes): keys chosen to share
 * one hash, and so one chain the walk searches for every record, cannot be computed ahead.
 */
const HASH_SEED = crypto.getRandomValues(new Uint32Array(1))[0];
/** keyHash's bits: small integers, Map keys with no allocation. */
export const HASH_MASK = 0x3fffffff;

/** A hash of the key of the record at `at` of `c`, within `mask`. */
export function keyHash(c: Uint8Array, at: number, klen: number, mask = HASH_MASK): number {
  let h = HASH_SEED ^ klen;
  let i = at + LOG_HEADER;
  const end = i + klen;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ (c[i] | (c[i + 1] << 8) | (c[i + 2] << 16) | (c[i + 3] << 24)), 0x01000193);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ c[i], 0x01000193);
  return (h ^ (h >>> 16)) & mask;
}

const tableChanges = (reset: boolean): TableChanges => ({ reset, keys: new Map(), count: 0, bytes: 0 });

/**
 * The changes per logged tree id of the records at log positions [from, to), added a run of
 * whole records at a time (the history's segments, in order); `add` says false as soon as their
 * bytes (the last record of each key, as the delta blobs hold them) pass `budget`: a full image
 * is due then, and the rest of the log is neither read nor indexed.
 *
 * A walk reads every record since the last checkpoint (a key written a million times is a
 * million records), so a record costs no allocation: each changed key has a slot (its last
 * record's run, offset and size, and the next slot of its hash's chain), found by a hash of its
 * bytes and then compared byte for byte with that record's key. A view is made only for the
 * records a delta keeps (records()).
 */
export class Changes {
  readonly tables = new Map<number, TableChanges>();
  /** The bytes of the changes so far. */
  bytes = 0;
  private readonly from: number;
  private readonly to: number;
  private readonly budget: number;
  /**
   * The runs of records added so far, and how many slots' records each holds: a run none holds
   * is let go of (a walk of a hot key keeps one run, not the whole log since the checkpoint).
   */
  private readonly chunks: (Uint8Array | undefined)[] = [];
  private readonly live: number[] = [];
  /**
   * Per slot (one per changed key, grown by doubling; a reset table's stay unused until the walk
   * ends): its last record's run, offset in it (a double: a run may pass 2 GiB), size, and the
   * next slot of its chain (-1: none).
   */
  private slotChunk = new Int32Array(1024);
  private slotAt = new Float64Array(1024);
  private slotSize = new Int32Array(1024);
  private slotNext = new Int32Array(1024);
  private slots = 0;
  private readonly hashMask: number;

  /** `hashMask`: keyHash's bits (tests narrow it, so that keys share chains). */
  constructor(from: number, to: number, budget = Infinity, hashMask = HASH_MASK) {
    this.from = from;
    this.to = to;
    this.budget = budget;
    this.hashMask = hashMask;
  }

  /** The changes passed the budget: a full image is due. */
  get over(): boolean {
    return this.bytes > this.budget;
  }

  /** How many of the added runs are still held (those some changed key's last record is in): what the walk keeps in memory. */
  get runsHeld(): number {
    return this.chunks.reduce((n, c) => n + (c ? 1 : 0), 0);
  }

  /** The slots of a table's changed keys, every chain's. */
  private *slotsOf(t: TableChanges): Generator<number> {
    for (const head of t.keys.values()) for (let slot = head; slot >= 0; slot = this.slotNext[slot]) yield slot;
  }

  /** A table's records, one per changed key (views of the added runs). */
  records(t: TableChanges): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const slot of this.slotsOf(t)) {
      const at = this.slotAt[slot];
      out.push(this.chunks[this.slotChunk[slot]]!.subarray(at, at + this.slotSize[slot]));
    }
    return out;
  }

  /** The slot in the chain from `slot` whose record's key is the `klen` bytes of the record at `at` of `c`; -1 if none. */
  private find(slot: number, c: Uint8Array, at: number, klen: number): number {
    for (; slot >= 0; slot = this.slotNext[slot]) {
      const o = this.chunks[this.slotChunk[slot]]!;
      const oat = this.slotAt[slot];
      if ((o[oat + LOG_R_KLEN] | (o[oat + LOG_R_KLEN + 1] << 8)) !== klen) continue; // u16 LE (no view of the run is kept)
      let i = LOG_HEADER;
      while (i < LOG_HEADER + klen && o[oat + i] === c[at + i]) i++;
      if (i === LOG_HEADER + klen) return slot;
    }
    return -1;
  }

  /** A new slot, first in a chain that went on at `next`. */
  private newSlot(next: number): number {
    if (this.slots === this.slotAt.length) {
      const grow = <A extends Int32Array | Float64Array>(a: A): A => { const b = new (a.constructor as new (n: number) => A)(2 * a.length); b.set(a); return b; };
      this.slotChunk = grow(this.slotChunk);
      this.slotAt = grow(this.slotAt);
      this.slotSize = grow(this.slotSize);
      this.slotNext = grow(this.slotNext);
    }
    this.slotNext[this.slots] = next;
    return this.slots++;
  }

  /** Adds the records of `c`, whole records from log position `start`; false once the changes pass the budget (over: the walk stops). */
  add(c: Uint8Array, start: number): boolean {
    const { tables, from, to } = this;
    const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
    const chunk = this.chunks.length;
    this.chunks.push(c);
    this.live.push(0);
    for (let at = 0, pos = start; at < c.length && pos < to;) {
      const len = dv.getUint32(at + LOG_R_LEN, true);
      const size = recordSize(len);
      if (pos >= from) {
        const type = c[at + LOG_R_TYPE];
        const tree = dv.getUint16(at + LOG_R_TREE, true);
        if (type === LOG_PUT || type === LOG_REMOVE) {
          let t = tables.get(tree);
          if (!t) tables.set(tree, (t = tableChanges(false)));
          const klen = dv.getUint16(at + LOG_R_KLEN, true);
          const h = keyHash(c, at, klen, this.hashMask);
          const head = t.keys.get(h) ?? -1;
          let slot = this.find(head, c, at, klen);
          let grew = size;
          if (slot < 0) {
            t.keys.set(h, (slot = this.newSlot(head)));
            t.count++;
            this.live[chunk]++;
          } else {
            grew -= this.slotSize[slot];
            if (this.slotChunk[slot] !== chunk) {
              this.live[chunk]++;
              this.leave(this.slotChunk[slot]);
            }
          }
          this.slotChunk[slot] = chunk;
          this.slotAt[slot] = at;
          this.slotSize[slot] = size;
          t.bytes += grew;
          this.bytes += grew;
          if (this.over) return false;
        } else if (type === LOG_CREATE || type === LOG_DROP) {
          const old = tables.get(tree);
          if (old) {
            this.bytes -= old.bytes;
            for (const slot of this.slotsOf(old)) this.leave(this.slotChunk[slot]);
          }
          tables.set(tree, tableChanges(true));
        }
      }
      at += size;
      pos += size;
    }
    if (this.live[chunk] === 0) this.chunks[chunk] = undefined;
    return true;
  }

  /** A slot's record left run `chunk`: the run is let go of once no slot's record is in it (the run being added, at its end). */
  private leave(chunk: number): void {
    if (--this.live[chunk] === 0 && chunk !== this.chunks.length - 1) this.chunks[chunk] = undefined;
  }
}

/** A table's delta blob: its changed keys' last records. */
export function encodeDelta(records: Iterable<Uint8Array>): Uint8Array {
  const list = [...records];
  const bytes = list.reduce((n, r) => n + r.length, 0);
  const out = new Uint8Array(DELTA_HEADER + bytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, DELTA_MAGIC, true);
  dv.setUint32(8, list.length, true);
  let at = DELTA_HEADER;
  for (const r of list) {
    out.set(r, at);
    at += r.length;
  }
  dv.setUint32(4, crc32(out, 8), true);
  return out;
}

/**
 * Checks a delta blob (`where` names it) and returns its records, each a view of the blob:
 * ECORRUPT naming the blob and the check for anything wrong.
 */
export function decodeDelta(where: string, blob: Uint8Array, count: number): Uint8Array[] {
  const bad = (why: string) => new LatchkeyError('ECORRUPT', `${where}: ${why}`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length >= 4 && dv.getUint32(0, true) === DELTA_MAGIC_1) throw bad('a delta of the first log format ("LKDL": 32-byte record headers), which this build does not read; accepted: "LKD2" deltas');
  if (blob.length < DELTA_HEADER || dv.getUint32(0, true) !== DELTA_MAGIC) throw bad('not a latchkey delta (bad magic)');
  if (dv.getUint32(4, true) !== crc32(blob, 8)) throw bad('checksum mismatch');
  if (dv.getUint32(8, true) !== count) throw bad(`${dv.getUint32(8, true)} changes, the record says ${count}`);
  const out: Uint8Array[] = [];
  let at = DELTA_HEADER;
  for (let i = 0; i < count; i++) {
    const misfit = recordMisfit(dv, at, blob.length);
    if (misfit) throw bad(`change ${i}: ${misfit}`);
    const type = blob[at + LOG_R_TYPE];
    if (type !== LOG_PUT && type !== LOG_REMOVE) throw bad(`change ${i} is malformed: record type ${type}`);
    const size = recordSize(dv.getUint32(at + LOG_R_LEN, true));
    out.push(blob.subarray(at, at + size));
    at += size;
  }
  if (at !== blob.length) throw bad('bytes after the last change');
  return out;
}
