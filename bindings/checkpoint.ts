/**
 * Checkpoints: the on-store format, and taking, publishing and loading images.
 *
 * THE LOG. A page store holds a sequence of records `log-<seq>` (seq = 1, 2, ...), each created
 * with `publish` (create-if-absent), so each sequence number is won by exactly one writer:
 *   - a checkpoint record: term, page size, and the tables of an image (names, formats, counts);
 *     the image itself is one blob per table, `ckpt-<seq>-t<term>-<i>`, written BEFORE the record;
 *   - a term record: a node stepped up and claimed a new term; it names the latest checkpoint.
 *     A leader that lets go with no change since the newest image publishes one too, of its own
 *     term and without a holder, instead of writing that image again.
 * A leader publishes its next checkpoint at (the last seq it knows) + 1. If that name is taken,
 * somebody claimed a term after it: the checkpoint is refused (ESTALE) and the node is fenced.
 * A node stepping up claims latest + 1; the leader it replaces can then never publish again,
 * because its next seq is taken. So two leaders never both publish. Old records are pruned, so a
 * deposed leader's next seq may have been taken and then pruned: its publish then succeeds into
 * that gap, below the newest record. So a publisher also checks, after publishing, that its
 * record is the newest; if not, it was fenced (ESTALE) all the same. A record in a gap is never
 * the newest, and nothing points to it: readers only follow the newest record.
 *
 * RECORD: "LKRC", crc32 of the body, the body (JSON, UTF-8).
 * IMAGE PAGE (pageSize bytes): "LKPG", crc32 of bytes 8.., seq, table index, page index, item
 * count, bytes used, page size; then items (u16 key length, u16 value length, key, value) in key
 * order. Every page of every blob is checked when an image is loaded; a mismatch is ECORRUPT
 * naming the blob, the page and the check.
 *
 * A crash before a record is published leaves the previous checkpoint the latest one, and its
 * blobs untouched (new blobs have new names); the next leader removes the orphans.
 */

import { LatchkeyError } from './errors.js';
import { canSweep, removeAll, type PageStore } from './store.js';
import type { Holder } from './leader.js';
import { MIN_PAGE_SIZE, MAX_PAGE_SIZE } from './config.js';
import { FORMATS, formatCode } from './codec.js';
import { MAX_TABLES } from './abi.generated.js';

export const RECORD_MAGIC = 0x4352_4b4c; // "LKRC" little-endian
export const PAGE_MAGIC = 0x4750_4b4c;   // "LKPG"
const PAGE_HEADER = 32;
const ITEM_HEADER = 4;

export interface ImageTable {
  name: string;
  keyFormat: number;
  valueFormat: number;
  entries: number;
  pages: number;
  /** The table's tree id on the leader that took the image: its log records name it so (bindings/log.ts). */
  tree?: number;
  /** In a delta: the table starts empty (created or recreated since `prev`); entries counts its changes (bindings/delta.ts). */
  reset?: true;
}

export interface LogRecord {
  v: 1;
  kind: 'checkpoint' | 'term';
  seq: number;
  term: number;
  pageSize: number;
  /** The checkpoint this record makes current: itself for a checkpoint, the latest one (0: none) for a term. */
  checkpoint: number;
  tables?: ImageTable[];
  /** The leader that published it, while it leads (the leader lock, bindings/leader.ts); absent once it let go. */
  holder?: Holder;
  /** A checkpoint's log position: its image holds exactly the log's records before it (bindings/log.ts). */
  lsn?: number;
  /** The log positions where leader terms started: segments never removed (bindings/log.ts, FENCING). */
  termStarts?: number[];
  /** The image's leader wrote with its log off: the image holds writes the log does not. */
  logOff?: true;
  /** A delta (bindings/delta.ts): the checkpoint it builds on, and the checkpoints from the last full image to itself. */
  prev?: number;
  chain?: number[];
}

// ---- crc32 (IEEE 802.3, the zlib polynomial) ----
// Slicing-by-8 (Intel's, 2006): eight tables, eight bytes per step: about 4x the byte-at-a-time
// loop in V8, which matters because every log record and image page is checksummed.
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
})();

/** One slicing step: the state `c` (already xored with the step's low 4 bytes) over 8 bytes, the high 4 being `b4`..`b7`. */
function slice8(c: number, b4: number, b5: number, b6: number, b7: number): number {
  const t = CRC_TABLES;
  return t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)]
    ^ t[768 + b4] ^ t[512 + b5] ^ t[256 + b6] ^ t[b7];
}

/** crc32 of the 8 little-endian bytes of `lo` and `hi` (u32 each); `crc` continues a checksum over bytes before them. */
export function crc32Word(lo: number, hi: number, crc = 0): number {
  return ~slice8(~crc ^ lo, hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, hi >>> 24) >>> 0;
}

/** crc32 of b[from, to); `crc` continues a checksum over bytes before them. */
export function crc32(b: Uint8Array, from = 0, to = b.length, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = from;
  for (const end8 = to - 8; i <= end8; i += 8) {
    c = slice8(c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)), b[i + 4], b[i + 5], b[i + 6], b[i + 7]);
  }
  for (; i < to; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const pad = (n: number) => String(n).padStart(10, '0');
export const recordName = (seq: number) => `log-${pad(seq)}`;
/** A table's image blob. The term makes the name unique to one writer even if two nodes aim at one seq. */
export const blobName = (seq: number, term: number, table: number) => `ckpt-${pad(seq)}-t${term}-${table}`;
const seqOf = (name: string) => Number(name.slice(name.indexOf('-') + 1, name.indexOf('-') + 11));

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeRecord(rec: LogRecord): Uint8Array {
  const body = encoder.encode(JSON.stringify(rec));
  const out = new Uint8Array(8 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, RECORD_MAGIC, true);
  dv.setUint32(4, crc32(body), true);
  out.set(body, 8);
  return out;
}

function corrupt(what: string): LatchkeyError {
  return new LatchkeyError('ECORRUPT', what);
}

export function decodeRecord(name: string, bytes: Uint8Array): LogRecord {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || dv.getUint32(0, true) !== RECORD_MAGIC) throw corrupt(`checkpoint metadata ${name}: not a latchkey record (bad magic)`);
  if (dv.getUint32(4, true) !== crc32(bytes, 8)) throw corrupt(`checkpoint metadata ${name}: checksum mismatch`);
  let rec: unknown;
  try {
    rec = JSON.parse(decoder.decode(bytes.subarray(8)));
  } catch {
    throw corrupt(`checkpoint metadata ${name}: body is not valid JSON`);
  }
  return checkRecord(name, rec);
}

/** The largest seq or term: the connection keeps them in u32 words of shared memory. */
const MAX_SEQ = 0xffff_ffff;
/** Format codes a table may have (the char codes of codec.ts's formats). */
const FORMAT_CODES = FORMATS.map(formatCode);

/**
 * Checks every field of a record whose checksum matched (a record rewritten with a valid checksum
 * but wrong fields is ECORRUPT too, naming the record and the field, never a TypeError later).
 */
function checkRecord(name: string, rec: unknown): LogRecord {
  const bad = (field: string, v: unknown, accepted: string): never => {
    throw corrupt(`checkpoint metadata ${name}: field ${field} is ${v === undefined ? 'missing' : JSON.stringify(v)}; accepted: ${accepted}`);
  };
  const obj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const int = (field: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(field, v, `an integer from ${min} to ${max}`);
    return v as number;
  };
  if (!obj(rec)) return bad('(the body)', rec, 'a JSON object');
  if (rec.v !== 1) bad('v', rec.v, '1');
  if (rec.kind !== 'checkpoint' && rec.kind !== 'term') bad('kind', rec.kind, '"checkpoint" or "term"');
  const seq = int('seq', rec.seq, 1, MAX_SEQ);
  if (seq !== seqOf(name)) bad('seq', rec.seq, `${seqOf(name)}, the number in the record's name`);
  int('term', rec.term, 1, MAX_SEQ);
  const pageSize = int('pageSize', rec.pageSize, MIN_PAGE_SIZE, MAX_PAGE_SIZE);
  if ((pageSize & (pageSize - 1)) !== 0) bad('pageSize', pageSize, `a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}`);
  if (rec.kind === 'checkpoint') {
    if (rec.checkpoint !== seq) bad('checkpoint', rec.checkpoint, `${seq} (a checkpoint record names itself)`);
    if (!Array.isArray(rec.tables)) bad('tables', rec.tables, 'an array of tables');
    (rec.tables as unknown[]).forEach((t, i) => {
      const at = `tables[${i}]`;
      if (!obj(t)) return bad(at, t, 'an object');
      if (typeof t.name !== 'string' || t.name.length === 0) bad(`${at}.name`, t.name, 'a table name');
      for (const f of ['keyFormat', 'valueFormat'] as const) {
        if (!FORMAT_CODES.includes(t[f] as number)) bad(`${at}.${f}`, t[f], `a format code (${FORMAT_CODES.join(', ')})`);
      }
      int(`${at}.entries`, t.entries, 0, Number.MAX_SAFE_INTEGER);
      if (t.tree !== undefined) int(`${at}.tree`, t.tree, 0, MAX_TABLES - 1);
      if (t.reset !== undefined && t.reset !== true) bad(`${at}.reset`, t.reset, 'true, or absent');
      int(`${at}.pages`, t.pages, 1, Math.floor(Number.MAX_SAFE_INTEGER / pageSize));
    });
  } else {
    int('checkpoint', rec.checkpoint, 0, seq - 1);
  }
  if (rec.lsn !== undefined) int('lsn', rec.lsn, 0, Number.MAX_SAFE_INTEGER);
  if (rec.logOff !== undefined && rec.logOff !== true) bad('logOff', rec.logOff, 'true, or absent');
  if (rec.prev !== undefined || rec.chain !== undefined) {
    const prev = int('prev', rec.prev, 1, seq - 1);
    const chain = rec.chain;
    if (!Array.isArray(chain) || chain.length < 2 || chain[chain.length - 1] !== seq || chain[chain.length - 2] !== prev
      || chain.some((c, i) => typeof c !== 'number' || !Number.isInteger(c) || c < 1 || (i > 0 && c <= chain[i - 1]))) {
      bad('chain', chain, `increasing checkpoint numbers ending with prev (${prev}) and this one (${seq})`);
    }
  }
  if (rec.termStarts !== undefined) {
    if (!Array.isArray(rec.termStarts)) bad('termStarts', rec.termStarts, 'an array of log positions');
    (rec.termStarts as unknown[]).forEach((p, i) => int(`termStarts[${i}]`, p, 0, Number.MAX_SAFE_INTEGER));
  }
  if (rec.holder !== undefined && (!obj(rec.holder) || typeof rec.holder.id !== 'string')) bad('holder', rec.holder, 'an object with an id');
  return rec as unknown as LogRecord;
}

/** The newest record of a store, or undefined for an empty store. */
export async function latestRecord(store: PageStore): Promise<LogRecord | undefined> {
  for (let attempt = 0; ; attempt++) {
    const names = await store.list('log-');
    if (names.length === 0) return undefined;
    const name = names[names.length - 1];
    const bytes = await store.read(name);
    if (bytes) return decodeRecord(name, bytes);
    if (attempt > 100) throw corrupt(`checkpoint metadata ${name}: listed but unreadable`);
  }
}

export async function readRecord(store: PageStore, seq: number): Promise<LogRecord | undefined> {
  const bytes = await store.read(recordName(seq));
  return bytes && decodeRecord(recordName(seq), bytes);
}

// ---- image pages ----

/** Packs one table's entries, in key order, into checksummed pages. */
export class ImageWriter {
  private readonly pages: Uint8Array[] = [];
  private page!: Uint8Array;
  private dv!: DataView;
  private used = 0;
  private count = 0;
  entries = 0;

  constructor(private readonly pageSize: number, private readonly seq: number, private readonly table: number) {
    this.newPage();
  }

  private newPage(): void {
    this.page = new Uint8Array(this.pageSize);
    this.dv = new DataView(this.page.buffer);
    this.used = PAGE_HEADER;
    this.count = 0;
  }

  private seal(): void {
    const dv = this.dv;
    dv.setUint32(0, PAGE_MAGIC, true);
    dv.setUint32(8, this.seq, true);
    dv.setUint32(12, this.table, true);
    dv.setUint32(16, this.pages.length, true);
    dv.setUint32(20, this.count, true);
    dv.setUint32(24, this.used, true);
    dv.setUint32(28, this.pageSize, true);
    dv.setUint32(4, crc32(this.page, 8), true);
    this.pages.push(this.page);
  }

  /**
   * Adds `count` items laid out as in an image page (u16 key length, u16 value length, key,
   * value), in key order: the format of the core's scan batches, copied as they are.
   */
  addItems(items: Uint8Array, count: number): void {
    const iv = new DataView(items.buffer, items.byteOffset, items.byteLength);
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const size = ITEM_HEADER + iv.getUint16(pos, true) + iv.getUint16(pos + 2, true);
      if (this.used + size > this.pageSize) {
        this.seal();
        this.newPage();
      }
      this.page.set(items.subarray(pos, pos + size), this.used);
      this.used += size;
      pos += size;
      this.count++;
      this.entries++;
    }
  }

  /** The blob: every page, the last one sealed too (an empty table is one empty page). */
  finish(): { blob: Uint8Array; pages: number } {
    this.seal();
    const blob = new Uint8Array(this.pages.length * this.pageSize);
    this.pages.forEach((p, i) => blob.set(p, i * this.pageSize));
    return { blob, pages: this.pages.length };
  }
}

/**
 * Checks every page of a table's blob and calls `page` with each page's items (a view of the
 * blob, in the layout the core's lk_load_items takes), in key order.
 */
export function readImage(name: string, blob: Uint8Array, rec: LogRecord, table: number,
  page: (items: Uint8Array, count: number) => void): number {
  const { pageSize, seq } = rec;
  const meta = rec.tables![table];
  if (blob.length !== meta.pages * pageSize) {
    throw corrupt(`checkpoint ${seq}, table '${meta.name}' (${name}): ${blob.length} bytes, expected ${meta.pages} pages of ${pageSize}`);
  }
  let entries = 0;
  for (let p = 0; p < meta.pages; p++) {
    const at = p * pageSize;
    const dv = new DataView(blob.buffer, blob.byteOffset + at, pageSize);
    const where = `checkpoint ${seq}, table '${meta.name}' (${name}), page ${p}`;
    if (dv.getUint32(0, true) !== PAGE_MAGIC) throw corrupt(`${where}: bad magic`);
    if (dv.getUint32(4, true) !== crc32(blob, at + 8, at + pageSize)) throw corrupt(`${where}: checksum mismatch`);
    if (dv.getUint32(8, true) !== seq || dv.getUint32(12, true) !== table || dv.getUint32(16, true) !== p
      || dv.getUint32(28, true) !== pageSize) throw corrupt(`${where}: page header names another page`);
    const count = dv.getUint32(20, true);
    const used = dv.getUint32(24, true);
    if (used > pageSize || used < PAGE_HEADER) throw corrupt(`${where}: bytes used ${used} out of range`);
    let off = PAGE_HEADER;
    for (let i = 0; i < count; i++) {
      if (off + ITEM_HEADER > used) throw corrupt(`${where}: item ${i} runs past the bytes used`);
      const kLen = dv.getUint16(off, true);
      const vLen = dv.getUint16(off + 2, true);
      if (off + ITEM_HEADER + kLen + vLen > used || kLen === 0) throw corrupt(`${where}: item ${i} runs past the bytes used`);
      off += ITEM_HEADER + kLen + vLen;
      entries++;
    }
    if (off !== used) throw corrupt(`${where}: items end at ${off}, header says ${used}`);
    page(blob.subarray(at + PAGE_HEADER, at + used), count);
  }
  if (entries !== meta.entries) throw corrupt(`checkpoint ${seq}, table '${meta.name}': ${entries} entries, the record says ${meta.entries}`);
  return entries;
}

/**
 * Removes what no reader needs any more, after this node published record `mySeq` (it is the
 * newest record, so every seq below it is settled): records older than the second-newest
 * checkpoint (a follower still loading the newest-but-one finishes; an older one retries from
 * the latest) with their blobs, and blobs at or below `mySeq` that belong to no checkpoint record
 * (left by a leader that crashed or was fenced before publishing). Nothing above `mySeq` is
 * touched: another node may be writing the blobs of its next checkpoint there. Then a store that
 * can be left with parts of blobs no name points at sweeps them (canSweep). Best effort: a
 * failure leaves garbage for the next prune, never a missing image.
 */
export async function pruneStore(store: PageStore, mySeq: number): Promise<void> {
  try {
    const records = (await store.list('log-')).filter((r) => seqOf(r) <= mySeq);
    const checkpoints = new Set<number>();
    const chains = new Map<number, number[]>();
    for (const r of records) {
      const bytes = await store.read(r);
      const rec = bytes && decodeRecord(r, bytes);
      if (rec && rec.kind === 'checkpoint') {
        checkpoints.add(rec.seq);
        chains.set(rec.seq, rec.chain ?? [rec.seq]);
      }
    }
    const sorted = [...checkpoints].sort((a, b) => a - b);
    // The second-newest checkpoint and every checkpoint its chain loads (a delta's full image and deltas).
    const cutoff = sorted.length >= 2 ? Math.min(...chains.get(sorted[sorted.length - 2])!) : 0;
    await removeAll(store, (await store.list('ckpt-')).filter((b) => { const s = seqOf(b); return s < cutoff || (s <= mySeq && !checkpoints.has(s)); }));
    await removeAll(store, records.filter((r) => seqOf(r) < cutoff));
    // Parts of blobs no name points at (SweepablePageStore, bindings/store.ts).
    if (canSweep(store)) await store.sweep();
  } catch {
    // Garbage stays until the next prune.
  }
}
