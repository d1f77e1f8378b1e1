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


/** One table's changes: the last record of each key (a view into the history's chunks), and their bytes. */
export interface TableChanges {
  reset: boolean;
  records: Map<string, Uint8Array>;
  bytes: number;
}

/** The key of the record at `at` of `c` as a Map key (bytes as char codes: distinct byte strings give distinct strings). */
function keyString(c: Uint8Array, at: number, klen: number): string {
  let s = '';
  for (let i = at + LOG_HEADER; i < at + LOG_HEADER + klen; i++) s += String.fromCharCode(c[i]);
  return s;
}

/**
 * The changes per logged tree id of the records at log positions [from, to), added a run of
 * whole records at a time (the history's segments, in order); `add` says false as soon as their
 * bytes (the last record of each key, as the delta blobs hold them) pass `budget`: a full image
 * is due then, and the rest of the log is neither read nor indexed.
 */
export class Changes {
  readonly tables = new Map<number, TableChanges>();
  /** The bytes of the changes so far. */
  bytes = 0;
  private readonly from: number;
  private readonly to: number;
  private readonly budget: number;

  constructor(from: number, to: number, budget = Infinity) {
    this.from = from;
    this.to = to;
    this.budget = budget;
  }

  /** The changes passed the budget: a full image is due. */
  get over(): boolean {
    return this.bytes > this.budget;
  }

  /** Adds the records of `c`, whole records from log position `start`; false once the changes pass the budget (over: the walk stops). */
  add(c: Uint8Array, start: number): boolean {
    const { tables, from, to } = this;
    const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
    for (let at = 0, pos = start; at < c.length && pos < to;) {
      const len = dv.getUint32(at + LOG_R_LEN, true);
      const size = recordSize(len);
      if (pos >= from) {
        const type = c[at + LOG_R_TYPE];
        const tree = dv.getUint16(at + LOG_R_TREE, true);
        if (type === LOG_PUT || type === LOG_REMOVE) {
          let t = tables.get(tree);
          if (!t) tables.set(tree, (t = { reset: false, records: new Map(), bytes: 0 }));
          const key = keyString(c, at, dv.getUint16(at + LOG_R_KLEN, true));
          const grew = size - (t.records.get(key)?.length ?? 0);
          t.records.set(key, c.subarray(at, at + size));
          t.bytes += grew;
          this.bytes += grew;
          if (this.over) return false;
        } else if (type === LOG_CREATE || type === LOG_DROP) {
          this.bytes -= tables.get(tree)?.bytes ?? 0;
          tables.set(tree, { reset: true, records: new Map(), bytes: 0 });
        }
      }
      at += size;
      pos += size;
    }
    return true;
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
