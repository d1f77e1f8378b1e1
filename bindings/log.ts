/**
 * The write-ahead log: its segments in the page store, the log's writer (drain, group commit, the
 * background flusher), flushes from any thread, and replay.
 *
 * Records are appended by the core, from every thread, into the log buffer in shared memory
 * (assembly/log/log.ts has their layout and why their order is the trees' order). The log's
 * writer is the connection open() returned, on its thread: it drains the buffer (copying the
 * complete records out: each one's crc32 is its appender's) and writes what it drained as one
 * SEGMENT:
 *
 *   name    `wal-<start>`: start is the log position of its first record, 16 digits
 *   header  "LKL2", crc32 of header bytes 8..32, u64 start, u64 end (start + record bytes),
 *           u32 term of the writer, u32 flags (SEGMENT_TERM_START: the first of a term)
 *   body    the records, each padded to 8 bytes, positions start..end
 *
 * A segment is created with the store's `publish` (create-if-absent, flushed before it resolves),
 * so a segment is in the store whole or not at all, and each position is won by one writer: that
 * is how a deposed leader learns it was fenced (FENCING below). Once a segment is published the
 * log is durable up to its end (SB_LOG_DURABLE), and every flush waiting for a position at or
 * below it resolves: flushes of many threads share one write and one sync (group commit).
 *
 * THE LOG'S HISTORY is the chain of segments from a checkpoint's log position (the `lsn` of its
 * record: the trees of the image hold exactly the records before it, because the image is copied
 * with the write gate closed) in which each segment starts where the one before it ends.
 *
 * FENCING. A leader starts its term at the end of the history, with a segment holding only the
 * term's first records (LOG_TERM_START and a LOG_CREATE naming each table's tree id). A leader
 * publishes its segments in order, each at the end of its last. So a deposed leader's next
 * segment is due exactly where the new term's first segment is: its publish finds the name taken
 * and it is fenced (ESTALE) before it acknowledges anything more. If the deposed leader wins that
 * position first, the new leader's publish fails instead: it replays the winner's segment (those
 * writes were acknowledged) and tries at the new end. A publish that failed with an error (a
 * stalled server, a lost answer) may have landed all the same: the next try at that position
 * finds it taken, reads it, and a segment of this writer's term holding its own first records is
 * taken as written (ownLanded), not as a fence. Other threads' flushes waiting on the writer
 * learn of a failed write through SB_LOG_FAILED and reject with EIO, as the writer's own do. Term
 * starts are never removed from the store (TRUNCATION), so the name a deposed leader would write
 * next is always taken.
 *
 * RECOVERY replays the history after the latest checkpoint: every record is checked (its crc,
 * which covers its position, and its lengths). A bad record in the last segment is a torn tail:
 * replay ends before it, silently. A bad record in an earlier segment, a segment of a format this
 * build does not read (anywhere), or a segment missing from the chain, is damage: ECORRUPT naming
 * the segment and the position. A batch's changes (LOG_F_BATCH) are
 * applied only if its LOG_BATCH_COMMIT is in the history; a batch still open at the end of the
 * history, or when a new term started, never happened. Replay is idempotent: a record sets a key
 * to its value or removes it, and the records come in the order the trees applied them.
 *
 * TRUNCATION. After a checkpoint, segments that end at or before the log position of the oldest
 * checkpoint still kept are removed, except term starts (the positions are carried in every
 * checkpoint record: `termStarts`).
 */

import { LatchkeyError, errorFromStatus } from './errors.js';
import type { PageStore } from './store.js';
import { type CoreThread, HAS_WAIT_ASYNC, waitWord } from './core.js';
import { crc32, crc32Word } from './checkpoint.js';
import { compareBytes } from './codec.js';
import {
  LOG_HEADER, LOG_R_LEN, LOG_R_CRC, LOG_R_TYPE, LOG_R_FLAGS, LOG_R_SLOT, LOG_R_TREE, LOG_R_KLEN,
  LOG_SKIP, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP, LOG_BATCH_BEGIN, LOG_BATCH_COMMIT, LOG_TERM_START, LOG_F_BATCH, LOG_RING_SIZE,
  MAX_NAME,
} from './abi.generated.js';

export const SEGMENT_MAGIC = 0x324c_4b4c; // "LKL2" little-endian
/** The first format's magic ("LKLG": 32-byte record headers with the position and term in each), refused by name. */
const SEGMENT_MAGIC_1 = 0x474c_4b4c;
export const SEGMENT_HEADER = 32;
/** Segment flag: the first segment of a leader's term (never removed: FENCING). */
export const SEGMENT_TERM_START = 1;
export const SEGMENT_PREFIX = 'wal-';
/**
 * Segments since the last checkpoint after which a leader checkpoints by itself, however few
 * bytes they hold: an open, a step-up or a follower's catch-up reads each segment after the
 * checkpoint on its own (a request each on a server home), so a leader that flushes small writes
 * often would otherwise leave them ever more to read (seen: step-ups on a NATS home taking 2.5,
 * 3.7, 6 and then 10 s as the log of 10-put flushes grew).
 */
export const CHECKPOINT_SEGMENTS = 1024;
/**
 * The segment buffer's first size in record bytes; it grows (doubling) to the largest round
 * (LogWriter.segment). Its pages are the system's only once touched (a fresh buffer is zero
 * memory mapped on demand), so a large first size costs nothing until a round uses it, and spares
 * the copies of growing: with one thread putting 8-byte keys as fast as it can, a round (the time
 * one segment's publish takes) drains about 5 MB (bench/RESULTS.md, the log's cost on puts).
 */
const SEGMENT_BUFFER = 4 * LOG_RING_SIZE;
/**
 * A published segment of at most this many record bytes keeps a copy of them for the next
 * incremental checkpoint; a larger one is read back (LogWriter.segments).
 */
export const KEEP_RECORDS = 64 * 1024;
export const segmentName = (start: number) => `${SEGMENT_PREFIX}${String(start).padStart(16, '0')}`;
const startOf = (name: string) => Number(name.slice(SEGMENT_PREFIX.length));

/** Which log positions lk_log_position reports. */
const RESERVED = 0;
const DRAINED = 1;
const DURABLE = 2;
/** Words lk_log_word names (0, SB_LOG_DRAIN_SEQ, is the core's hooks': bindings/core.ts). */
const WORD_DURABLE = 1;
const WORD_REQUEST = 2;
const WORD_FAILED = 3;

const decoder = new TextDecoder('utf-8', { fatal: true });

function corrupt(what: string): LatchkeyError {
  return new LatchkeyError('ECORRUPT', what);
}

/**
 * A segment of the history is missing (ECORRUPT). A reader that loaded an older checkpoint meets
 * this when the leader truncated the log behind two newer ones meanwhile: it starts again from
 * the newest (bindings/connection.ts, loadLatest).
 */
export class LogGap extends LatchkeyError {
  constructor(missing: number, next: string) {
    super('ECORRUPT', `log: segment ${segmentName(missing)} (log position ${missing}) is missing: the log continues at ${next}`);
  }
}

/** The log bytes a record of length `len` (its LOG_R_LEN) takes: padded to 8 (assembly/log/log.ts, logPadded). */
export const recordSize = (len: number) => (len + 7) & ~7;

/**
 * Why the record at `at` is not whole within the first `limit` bytes of `dv` (its header, its
 * length padded, its key inside its length); undefined if it is. Its checksum is the caller's
 * (recordCrc, where the position is known).
 */
export function recordMisfit(dv: DataView, at: number, limit: number): string | undefined {
  if (at + LOG_HEADER > limit) return 'the bytes end inside a record header';
  const len = dv.getUint32(at + LOG_R_LEN, true);
  // Bounded before it is padded: a length of 2^31 or more pads to a negative size.
  if (len < LOG_HEADER || len > limit - at || at + recordSize(len) > limit) return `record length ${len} runs past the end`;
  if (LOG_HEADER + dv.getUint16(at + LOG_R_KLEN, true) > len) return 'record lengths disagree';
  return undefined;
}

/**
 * Makes `out` a segment from position `start`: its records (each with its crc) are already in it after
 * SEGMENT_HEADER bytes (the writer drains into its segment buffer: LogWriter.drain); this writes
 * the header in front of them.
 */
export function encodeSegment(start: number, out: Uint8Array, term: number, flags: number): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, SEGMENT_MAGIC, true);
  dv.setBigUint64(8, BigInt(start), true);
  dv.setBigUint64(16, BigInt(start + out.length - SEGMENT_HEADER), true);
  dv.setUint32(24, term, true);
  dv.setUint32(28, flags, true);
  dv.setUint32(4, crc32(out, 8, SEGMENT_HEADER), true);
  return out;
}

/**
 * The log positions a segment starts and ends at, from its header (what a watching store
 * delivered); undefined if the bytes are not a segment's (too short, wrong magic, bad header crc).
 */
export function segmentBounds(bytes: Uint8Array): { start: number; end: number } | undefined {
  const h = segmentHeader(bytes);
  return typeof h === 'string' ? undefined : { start: h.start, end: h.end };
}

/** A segment's header (its positions and flags), checked; or why the bytes do not start with one. */
function segmentHeader(bytes: Uint8Array): { start: number; end: number; term: number; flags: number } | string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < SEGMENT_HEADER || dv.getUint32(0, true) !== SEGMENT_MAGIC) return 'not a latchkey log segment (bad magic)';
  if (dv.getUint32(4, true) !== crc32(bytes, 8, SEGMENT_HEADER)) return 'segment header checksum mismatch';
  return { start: u64(dv, 8), end: u64(dv, 16), term: dv.getUint32(24, true), flags: dv.getUint32(28, true) };
}

/**
 * A segment's records, checked: `ats`, each record's offset in `bytes` (its log position is
 * start + at - SEGMENT_HEADER: records are contiguous); `goodEnd`, the position after the last
 * good one; `bad`, where checking stopped (undefined: all good).
 */
interface Parsed {
  name: string;
  start: number;
  end: number;
  goodEnd: number;
  flags: number;
  bytes: Uint8Array;
  ats: number[];
  bad?: Bad;
}

/** Where checking a segment stopped and why; `format`: the segment is of a format this build does not read (never a torn tail). */
interface Bad {
  lsn: number;
  why: string;
  format?: true;
}

/** A u64 field as a number (exact below 2^53; no BigInt per record). */
const u64 = (dv: DataView, at: number) => dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;

/** A record's crc32: of its log position `lsn` (8 bytes, little-endian), then of its bytes 8..len (assembly/log/log.ts). */
function recordCrc(b: Uint8Array, at: number, len: number, lsn: number): number {
  const hi = Math.floor(lsn / 2 ** 32);
  return crc32(b, at + 8, at + len, crc32Word(lsn - hi * 2 ** 32, hi));
}

function parseSegment(name: string, bytes: Uint8Array): Parsed {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = startOf(name);
  const head = (bad: Omit<Bad, 'lsn'>): Parsed => ({ name, start, end: start, goodEnd: start, flags: 0, bytes, ats: [], bad: { lsn: start, ...bad } });
  if (bytes.length >= 4 && dv.getUint32(0, true) === SEGMENT_MAGIC_1) {
    return head({ why: 'a segment of the first log format ("LKLG": 32-byte record headers), which this build does not read; accepted: "LKL2" segments', format: true });
  }
  const h = segmentHeader(bytes);
  if (typeof h === 'string') return head({ why: h });
  const end = h.end;
  if (h.start !== start || end < start) return head({ why: `segment header names positions ${h.start}..${end}` });
  const seg: Parsed = { name, start, end, goodEnd: start, flags: h.flags, bytes, ats: [] };
  let at = SEGMENT_HEADER;
  let lsn = start;
  const stop = (why: string) => { seg.bad = { lsn, why }; seg.goodEnd = lsn; return seg; };
  while (lsn < end) {
    const misfit = recordMisfit(dv, at, bytes.length);
    if (misfit) return stop(misfit);
    const len = dv.getUint32(at + LOG_R_LEN, true);
    const size = recordSize(len);
    if (lsn + size > end) return stop(`record length ${len} runs past the end`);
    if (dv.getUint32(at + LOG_R_CRC, true) !== recordCrc(bytes, at, len, lsn)) return stop('record checksum mismatch');
    seg.ats.push(at);
    at += size;
    lsn += size;
  }
  if (at !== bytes.length) return stop('bytes after the last record');
  seg.goodEnd = end;
  return seg;
}

/** One segment as `latchkey log` shows it. */
export interface SegmentInfo {
  name: string;
  start: number;
  end: number;
  term: number;
  termStart: boolean;
  /** Records by type name (put, remove, create, drop, batch-begin, batch-commit, term-start). */
  records: Record<string, number>;
  /** The first bad record, if any: its position and what is wrong (`format`: a format this build does not read). */
  bad?: Bad;
}

const TYPE_NAMES: Record<number, string> = {
  [LOG_PUT]: 'put', [LOG_REMOVE]: 'remove', [LOG_CREATE]: 'create', [LOG_DROP]: 'drop',
  [LOG_BATCH_BEGIN]: 'batch-begin', [LOG_BATCH_COMMIT]: 'batch-commit', [LOG_TERM_START]: 'term-start',
};

/** Every segment of a store, checked record by record, in position order (the CLI's `latchkey log`). */
export async function inspectLog(store: PageStore): Promise<SegmentInfo[]> {
  const names = (await store.list(SEGMENT_PREFIX)).filter((n) => /^wal-\d{16}$/.test(n)).sort();
  const out: SegmentInfo[] = [];
  for (const name of names) {
    const bytes = await store.read(name);
    if (!bytes) continue;
    const seg = parseSegment(name, bytes);
    const records: Record<string, number> = {};
    for (const at of seg.ats) {
      const type = bytes[at + LOG_R_TYPE];
      const t = TYPE_NAMES[type] ?? `type ${type}`;
      records[t] = (records[t] ?? 0) + 1;
    }
    const term = bytes.length >= SEGMENT_HEADER ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(24, true) : 0;
    out.push({ name, start: seg.start, end: seg.end, term, termStart: (seg.flags & SEGMENT_TERM_START) !== 0, records, ...(seg.bad ? { bad: seg.bad } : {}) });
  }
  return out;
}

/** What replay needs of the node it rebuilds: its core, and its tables by name. */
export interface ReplayTarget {
  readonly core: CoreThread;
  /** Live table name -> tree id, on this node. */
  liveTrees(): Map<string, number>;
  /** Creates a table outside the write gate (replay on a follower); returns its tree id. */
  createTree(name: string, keyFormat: number, valueFormat: number): number;
  /** Drops a tree outside the write gate. */
  retireTree(tree: number): void;
}

/** Where replay ended, and what it learned. */
export interface ReplayResult {
  /** The log position after the last record applied: where the history ends. */
  end: number;
  /** Records applied (changes, creates and drops). */
  applied: number;
  /** Term starts met. */
  termStarts: number[];
  /** Logged tree id -> this node's tree id, as of `end`. */
  trees: Map<number, number>;
}

/**
 * Replays the history from log position `from` onto `target`. `trees` maps the logged tree ids
 * of the image the trees hold (its record's tables) to this node's. Torn tail: ends silently at
 * the last good record; damage before it: ECORRUPT naming segment and position.
 */
export async function replay(store: PageStore, target: ReplayTarget, from: number, trees: Map<number, number>): Promise<ReplayResult> {
  const starts = (await store.list(SEGMENT_PREFIX)).filter((n) => /^wal-\d{16}$/.test(n)).map(startOf).sort((p, q) => p - q);
  const segs: Parsed[] = [];
  // The chain: the last segment starting at or before `from`, then each one starting where the
  // one before ends (a segment with a bad record ends at it: a later term may continue there).
  let i = starts.findLastIndex((s) => s <= from);
  if (i < 0 && starts.length > 0 && starts[0] > from) throw new LogGap(from, segmentName(starts[0]));
  let pos = from;
  for (let first = i; i >= 0 && i < starts.length; i++) {
    const name = segmentName(starts[i]);
    if (i !== first && starts[i] !== pos) throw new LogGap(pos, name);
    const bytes = await store.read(name);
    if (!bytes) throw corrupt(`log: segment ${name} was listed but could not be read`);
    const seg = parseSegment(name, bytes);
    const goodEnd = seg.goodEnd;
    // Wholly before the checkpoint's position (a term start kept, or damage the checkpoint holds):
    // the history goes on at `from`.
    if (i === first && goodEnd <= from && seg.start < from) continue;
    segs.push(seg);
    pos = goodEnd;
    if (seg.bad) {
      const next = starts[i + 1];
      if (next === undefined && !seg.bad.format) break; // a torn tail: the history ends at the last good record
      if (next !== pos) throw corrupt(`log: segment ${name}, log position ${seg.bad.lsn}: ${seg.bad.why}`);
    }
  }
  const end = pos;

  // Pass 1: batches that never committed (open at a term start, or at the end).
  const aborted = new Set<number>(); // lsn of their LOG_BATCH_BEGIN
  const open = new Map<number, number>(); // slot -> begin lsn
  const termStarts: number[] = [];
  for (const seg of segs) {
    const b = seg.bytes;
    for (const at of seg.ats) {
      const lsn = seg.start + at - SEGMENT_HEADER;
      if (lsn < from) continue;
      const type = b[at + LOG_R_TYPE];
      if (type === LOG_TERM_START) {
        for (const x of open.values()) aborted.add(x);
        open.clear();
        termStarts.push(lsn);
      } else if (type === LOG_BATCH_BEGIN) open.set(b[at + LOG_R_SLOT], lsn);
      else if (type === LOG_BATCH_COMMIT) open.delete(b[at + LOG_R_SLOT]);
    }
  }
  for (const b of open.values()) aborted.add(b);

  // Pass 2: apply, in order. Changes go to the core in runs (lk_log_apply): a run of records is
  // copied to OUT at once, then each one's tree id is mapped (or the record marked LOG_SKIP, a
  // change of a batch that never committed). Creates and drops are done here, between runs.
  const { core } = target;
  const x = core.x;
  const out = core.u8;
  const odv = core.dv;
  let applied = 0;
  const inBatch = new Map<number, number>(); // slot -> begin lsn of its open batch
  for (const seg of segs) {
    const b = seg.bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const lsnOf = (at: number) => seg.start + at - SEGMENT_HEADER;
    let runFrom = -1; // offset in b of the run's first record
    let runTo = 0;
    const flush = () => {
      if (runFrom < 0) return;
      const len = runTo - runFrom;
      out.set(b.subarray(runFrom, runTo), core.OUT);
      for (let o = 0; o < len;) {
        const r = core.OUT + o;
        const logged = odv.getUint16(r + LOG_R_TREE, true);
        const bt = (out[r + LOG_R_FLAGS] & LOG_F_BATCH) !== 0 ? inBatch.get(out[r + LOG_R_SLOT]) : undefined;
        if (bt !== undefined && aborted.has(bt)) out[r + LOG_R_TYPE] = LOG_SKIP;
        else {
          const tree = trees.get(logged);
          if (tree === undefined) throw corrupt(`log: segment ${seg.name}, log position ${lsnOf(runFrom + o)}: a change of tree ${logged}, which no create names`);
          odv.setUint16(r + LOG_R_TREE, tree, true);
        }
        o += recordSize(odv.getUint32(r + LOG_R_LEN, true));
      }
      const done = x.lk_log_apply(len);
      if (done !== len) throw done < 0 ? errorFromStatus(done, `log: replaying segment ${seg.name} from log position ${lsnOf(runFrom)}`)
        : corrupt(`log: segment ${seg.name}: a record after log position ${lsnOf(runFrom)} could not be replayed`);
      runFrom = -1;
    };
    for (const at of seg.ats) {
      if (lsnOf(at) < from) continue;
      const t = b[at + LOG_R_TYPE];
      const size = recordSize(dv.getUint32(at + LOG_R_LEN, true));
      if (t === LOG_PUT || t === LOG_REMOVE) {
        if (runFrom >= 0 && runTo - runFrom + size > core.OUT_SIZE) flush();
        if (runFrom < 0) runFrom = at;
        runTo = at + size;
        applied++;
        continue;
      }
      flush();
      const lsn = lsnOf(at);
      if (t === LOG_CREATE) {
        const klen = dv.getUint16(at + LOG_R_KLEN, true);
        if (klen < 1 || klen > MAX_NAME) throw corrupt(`log: segment ${seg.name}, log position ${lsn}: a create with a name of ${klen} bytes`);
        if (dv.getUint32(at + LOG_R_LEN, true) < LOG_HEADER + klen + 2) throw corrupt(`log: segment ${seg.name}, log position ${lsn}: a create without its two format bytes`);
        const name = decoder.decode(b.subarray(at + LOG_HEADER, at + LOG_HEADER + klen));
        const kf = b[at + LOG_HEADER + klen];
        const vf = b[at + LOG_HEADER + klen + 1];
        const have = target.liveTrees().get(name);
        trees.set(dv.getUint16(at + LOG_R_TREE, true), have ?? target.createTree(name, kf, vf));
        applied++;
      } else if (t === LOG_DROP) {
        const logged = dv.getUint16(at + LOG_R_TREE, true);
        const tree = trees.get(logged);
        if (tree !== undefined) target.retireTree(tree);
        trees.delete(logged);
        applied++;
      } else if (t === LOG_BATCH_BEGIN) inBatch.set(b[at + LOG_R_SLOT], lsn);
      else if (t === LOG_BATCH_COMMIT) inBatch.delete(b[at + LOG_R_SLOT]);
      else if (t === LOG_TERM_START) inBatch.clear();
      else throw corrupt(`log: segment ${seg.name}, log position ${lsn}: unknown record type ${t}`);
    }
    flush();
  }
  return { end, applied, termStarts, trees };
}

/**
 * The log's writer: drains the log buffer, publishes segments, tracks the durable position. One
 * per connection, on the thread that opened it (other threads reach it through SB_LOG_REQUEST).
 */
export class LogWriter {
  private readonly x: CoreThread['x'];
  private readonly words: Int32Array;
  /**
   * Drained records not yet in a published segment: `pendingBytes` bytes from position
   * pendingStart, in `segment` after SEGMENT_HEADER bytes of room, so that a round publishes the
   * buffer as it is (encodeSegment writes the header): the drain's copy out of the ring is the
   * only one. While a round's publish holds its buffer, the drain fills the other (`spare`), and
   * a round whose publish resolved keeps its buffer as the next spare: memory touched for the
   * first time costs a put more than the copy itself (bench/log-parts.js), and a store keeps no
   * reference to a blob's bytes once its publish resolved. A buffer whose publish failed is
   * dropped (a store's timed-out call may still be reading it). Each grows to the largest round.
   */
  private segment: Uint8Array = new Uint8Array(SEGMENT_HEADER + SEGMENT_BUFFER);
  private pendingBytes = 0;
  private pendingStart = 0;
  private spare: Uint8Array | undefined = undefined;
  /**
   * The segments this writer published since historyStart (its term's start, then each
   * checkpoint's position), in log order: the history an incremental checkpoint takes its changes
   * from (bindings/delta.ts, history()). A small one keeps a copy of its records (reading it back
   * would cost a request on a server home); a larger one's are read back from the store when a
   * checkpoint needs them, so that records are not held in memory until the next checkpoint.
   */
  private segments: { start: number; end: number; records?: Uint8Array }[] = [];
  private historyStart = 0;
  private running: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private seenRequest = 0;
  /** The start of the last segment whose publish failed with an error (it may have landed: ownLanded); -1: none. */
  private uncertain = -1;
  /** Set when a publish found its position taken: this node was fenced. */
  fenced: LatchkeyError | undefined;
  /** The last background flush's failure (I/O), if any. */
  error: unknown;
  /** Flags of the next segment (SEGMENT_TERM_START for a term's first). */
  private nextFlags = 0;
  /** The log start this writer owns (lk_log_epoch after its lk_log_start). */
  private epoch = -1;
  /**
   * The log position of the last checkpoint, and what to call once the durable log passes it by
   * `checkpointSize` bytes (the leader's own checkpoint: log.checkpointSize) or by
   * CHECKPOINT_SEGMENTS segments.
   */
  private checkpointAt = 0;
  /** Segments this writer published since checkpointAt (CHECKPOINT_SEGMENTS). */
  private segmentsSince = 0;
  checkpointSize = Infinity;
  checkpointDue: () => void = () => {};

  /** A checkpoint holds the log up to `lsn`: what checkpointSize and CHECKPOINT_SEGMENTS count from. */
  checkpointed(lsn: number): void {
    this.checkpointAt = lsn;
    this.segmentsSince = 0;
  }

  /**
   * `onFenced`: a segment's position was taken by another node's (it leads now): the connection
   * becomes a follower and returns the ESTALE that this and every later flush reject with.
   */
  constructor(private readonly core: CoreThread, private readonly store: PageStore, private readonly onFenced: (reason: string) => LatchkeyError) {
    this.x = core.x;
    this.words = new Int32Array(core.memory.buffer);
  }

  /** Log positions (numbers: exact to 2^53 bytes of log). */
  get end(): number { return this.x.lk_log_position(RESERVED); }
  get durable(): number { return this.x.lk_log_position(DURABLE); }

  /**
   * Starts the log at `pos` for term `term`: its first records (the term start and every table's
   * create), published as the term's first segment. Resolves false if that position is taken
   * (another leader wrote there: the caller replays it and tries at the new end).
   */
  async startTerm(pos: number): Promise<boolean> {
    const x = this.x;
    x.lk_log_start(pos);
    this.epoch = x.lk_log_epoch();
    x.lk_log_term_start();
    this.pendingBytes = 0;
    this.pendingStart = pos;
    this.segments = [];
    this.historyStart = pos;
    this.nextFlags = SEGMENT_TERM_START;
    this.core.hooks.logFull = () => this.drain();
    try {
      if (await this.round()) return true;
    } catch (e) {
      this.stop();
      throw e;
    }
    this.stop();
    return false;
  }

  /**
   * Starts the background flusher: every write durable within `interval` ms; and, where the
   * runtime has Atomics.waitAsync, a round as soon as another thread asks (SB_LOG_REQUEST: its
   * flush, or a full buffer). Neither keeps the thread's event loop alive.
   */
  startTimer(interval: number): void {
    this.timer = setInterval(() => {
      if (!this.active) this.retire();
      else if (this.end > this.durable) this.kick().catch((e) => { this.error = e; });
    }, interval);
    (this.timer as { unref?: () => void }).unref?.();
    void this.listen();
  }

  private async listen(): Promise<void> {
    if (!HAS_WAIT_ASYNC) return; // the timer alone, then
    const at = this.x.lk_log_word(WORD_REQUEST) >> 2;
    while (this.timer !== undefined) {
      const seen = Atomics.load(this.words, at);
      if (seen !== this.seenRequest) {
        this.seenRequest = seen;
        // Room first, at once, even while a round's write is out: a writer may be waiting for
        // it (a full buffer). The round's records go in the next segment; the flush that asked
        // asks again when the durable position moves (flushRemote).
        this.drain();
        this.kick().catch((e) => { this.error = e; });
        continue;
      }
      await waitWord(this.words, at, seen);
    }
  }

  /**
   * Does this writer still own the log? Another thread's step-down stops the log (after a flush
   * through this writer), and its step-up starts a new one (a new epoch): this one then retires.
   */
  get active(): boolean {
    return this.x.lk_log_on() === 1 && this.x.lk_log_epoch() === this.epoch;
  }

  /** Stops appending (after the role change drained every write): the buffer stays as it is. */
  stop(): void {
    if (this.active) this.x.lk_log_stop();
    this.retire();
  }

  /** Lets go of this thread's part (timers, the listener, the full-buffer hook); the log itself is another writer's now. */
  retire(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // Wakes the listener (it sees the timer gone and returns).
    const at = this.x.lk_log_word(WORD_REQUEST) >> 2;
    Atomics.add(this.words, at, 1);
    Atomics.notify(this.words, at);
    this.core.hooks.logFull = () => {};
  }

  /** Copies every complete record out of the log buffer into the pending ones (synchronous). */
  drain(): void {
    const { x, core } = this;
    const ring = x.lk_log_ring();
    for (;;) {
      const n = x.lk_log_ready(LOG_RING_SIZE, this.epoch);
      if (n === 0) return;
      const pos = x.lk_log_position(DRAINED);
      const off = pos % LOG_RING_SIZE;
      const at = this.room(n);
      const first = Math.min(n, LOG_RING_SIZE - off);
      this.segment.set(core.u8.subarray(ring + off, ring + off + first), at);
      if (first < n) this.segment.set(core.u8.subarray(ring, ring + n - first), at + first);
      if (!x.lk_log_release(n, this.epoch)) return; // the log was started again meanwhile: not ours
      this.pendingBytes += n; // each record's crc is in it: its appender computed it
    }
  }

  /** Where `n` more pending bytes go in `segment`, grown (to twice its size at least) if they do not fit. */
  private room(n: number): number {
    const at = SEGMENT_HEADER + this.pendingBytes;
    if (at + n > this.segment.length) {
      const grown = new Uint8Array(Math.max(at + n, 2 * this.segment.length));
      grown.set(this.segment.subarray(0, at));
      this.segment = grown;
    }
    return at;
  }

  /** Puts `records` (from position `start`) back in front of the pending ones, in a fresh buffer (a failed round's). */
  private unshift(start: number, records: Uint8Array): void {
    const next = new Uint8Array(Math.max(SEGMENT_HEADER + records.length + this.pendingBytes, this.segment.length));
    next.set(records, SEGMENT_HEADER);
    next.set(this.segment.subarray(SEGMENT_HEADER, SEGMENT_HEADER + this.pendingBytes), SEGMENT_HEADER + records.length);
    this.segment = next;
    this.pendingBytes += records.length;
    this.pendingStart = start;
  }

  /** Is the history from position `from` on all this writer's (history() can give it)? */
  hasHistory(from: number): boolean {
    return from >= this.historyStart;
  }

  /**
   * Feeds `take` the records from position `from` to `to` at least, as the records of the
   * segments that hold them, in order (`start`: the position of a run's first record; the first
   * may start before `from`), until it says false: an incremental checkpoint's changes
   * (bindings/delta.ts). The log is flushed to `to` first, so every one of them is in a published
   * segment; those without a kept copy are read back from the store, one at a time as `take`
   * goes on, and checked as replay checks them. False where that history is not all this
   * writer's (hasHistory) or a segment read back is not the one it published: the caller writes a
   * full image instead. A stop by `take` is not a failure: true.
   */
  async history(from: number, to: number, take: (records: Uint8Array, start: number) => boolean): Promise<boolean> {
    if (!this.hasHistory(from)) return false;
    await this.flush(to);
    const segs = this.segments.filter((g) => g.end > from && g.start < to);
    if (segs.length === 0 || segs[0].start > from) return from === to;
    for (const g of segs) {
      const records = g.records ?? await this.readBack(g.start, g.end);
      if (!records) return false;
      if (!take(records, g.start)) break;
    }
    return true;
  }

  /** The records of this writer's published segment at `start`, read back and checked; undefined if it is not there whole. */
  private async readBack(start: number, end: number): Promise<Uint8Array | undefined> {
    const name = segmentName(start);
    const bytes = await this.store.read(name);
    if (!bytes) return undefined;
    const seg = parseSegment(name, bytes);
    return seg.bad || seg.end !== end ? undefined : bytes.subarray(SEGMENT_HEADER, SEGMENT_HEADER + end - start);
  }

  /** Lets go of the history wholly before `pos` (a checkpoint's position). */
  dropHistory(pos: number): void {
    while (this.segments.length > 0 && this.segments[0].end <= pos) this.segments.shift();
    this.historyStart = Math.max(this.historyStart, pos);
  }

  /**
   * One round: drain, publish what is pending as a segment, move the durable position. False if
   * the segment's position was taken (another node's segment is there; nothing is durable).
   */
  private async round(): Promise<boolean> {
    if (!this.active) {
      this.retire();
      return true;
    }
    this.drain();
    if (this.pendingBytes === 0) return true;
    const start = this.pendingStart;
    const bytes = this.pendingBytes;
    const buffer = this.segment;
    const records = buffer.subarray(SEGMENT_HEADER, SEGMENT_HEADER + bytes);
    this.segment = this.spare ?? new Uint8Array(buffer.length);
    this.spare = undefined;
    this.pendingBytes = 0;
    this.pendingStart = start + bytes;
    const term = this.x.lk_conn_get(0);
    let end = start + bytes;
    let published: boolean;
    try {
      published = await this.store.publish(segmentName(start), encodeSegment(start, buffer.subarray(0, SEGMENT_HEADER + bytes), term, this.nextFlags));
    } catch (e) {
      // Not written, or not known to be: the records go back in front, for the next round; flushes
      // of other threads waiting meanwhile are told (SB_LOG_FAILED), as this thread's are by the rejection.
      this.unshift(start, records);
      this.uncertain = start;
      this.failed();
      throw e;
    }
    if (!published) {
      const landed = start === this.uncertain ? await this.ownLanded(start, records, term) : undefined;
      if (landed === undefined) return false;
      // The failed attempt landed after all: durable to its end; the rest goes in the next segment.
      end = landed;
      if (landed < start + bytes) this.unshift(landed, records.subarray(landed - start));
    }
    const kept = end - start;
    this.segments.push({ start, end, ...(kept <= KEEP_RECORDS ? { records: records.slice(0, kept) } : {}) });
    this.spare = buffer;
    this.uncertain = -1;
    this.nextFlags = 0;
    if (this.active) this.x.lk_log_set_durable(end);
    if (end - this.checkpointAt > this.checkpointSize || ++this.segmentsSince > CHECKPOINT_SEGMENTS) this.checkpointDue();
    return true;
  }

  /**
   * The end of the segment at `start` if it is this writer's own earlier attempt, one whose
   * publish failed (EIO: a stalled server, a lost answer) but landed anyway: this term's, its
   * records the first of `ours`. Undefined for another writer's (a newer leader's: fenced).
   */
  private async ownLanded(start: number, ours: Uint8Array, term: number): Promise<number | undefined> {
    const stored = await this.store.read(segmentName(start));
    if (!stored) return undefined;
    const h = segmentHeader(stored);
    if (typeof h === 'string' || h.start !== start || h.term !== term) return undefined;
    const len = h.end - start;
    return len <= ours.length && compareBytes(stored.subarray(SEGMENT_HEADER), ours.subarray(0, len)) === 0 ? h.end : undefined;
  }

  /** Counts a failed segment write (SB_LOG_FAILED) and wakes the flushes of other threads waiting (flushRemote). */
  private failed(): void {
    Atomics.add(this.words, this.x.lk_log_word(WORD_FAILED) >> 2, 1);
    const durable = this.x.lk_log_word(WORD_DURABLE) >> 2;
    Atomics.add(this.words, durable, 1);
    Atomics.notify(this.words, durable);
  }

  /** Runs a round, or returns the one running; a taken position fences this node (onFenced). */
  private kick(): Promise<void> {
    if (!this.running) {
      this.running = this.round().then((ok) => {
        if (ok || this.fenced) return;
        const at = this.durable;
        this.fenced = this.onFenced(`log segment ${segmentName(at)} (log position ${at}) refused: the page store already has it, written by a newer leader whose term starts there`);
        throw this.fenced;
      }).finally(() => { this.running = undefined; });
    }
    return this.running;
  }

  /** Resolves once the log is durable up to `target` (default: every record so far). */
  async flush(target = this.end): Promise<void> {
    while (this.durable < target) {
      if (this.fenced) throw this.fenced;
      if (!this.active) {
        throw new LatchkeyError('ESTALE', `flush: the log stopped at log position ${this.durable} (a role change) before the writes up to ${target} were durable`);
      }
      // A running round may have drained before `target`'s records: wait for it, then go again.
      await this.kick();
    }
  }
}

/**
 * A flush from a thread that is not the log's writer: asks the writer (SB_LOG_REQUEST) and waits
 * for the durable position to pass `target`, without blocking the thread. EIO once a segment
 * write of the writer fails meanwhile (SB_LOG_FAILED; its own flush rejects with the store's
 * error), as that thread's flush would: bounded by the page store's own timeout, never a hang.
 */
export async function flushRemote(core: CoreThread, target: number): Promise<void> {
  const x = core.x;
  const words = new Int32Array(core.memory.buffer);
  const durableWord = x.lk_log_word(WORD_DURABLE) >> 2;
  const request = x.lk_log_word(WORD_REQUEST) >> 2;
  const failedWord = x.lk_log_word(WORD_FAILED) >> 2;
  const failures = Atomics.load(words, failedWord);
  while (x.lk_log_position(DURABLE) < target) {
    if (!x.lk_log_on()) {
      throw new LatchkeyError('ESTALE', `flush: the log stopped at log position ${x.lk_log_position(DURABLE)} before this thread's writes up to ${target} were durable (the connection stepped down or was fenced)`);
    }
    if (Atomics.load(words, failedWord) !== failures) {
      throw new LatchkeyError('EIO', `flush: the log's writer (the thread that opened the connection) could not write the log to the page store: durable up to log position ${x.lk_log_position(DURABLE)}, this thread's writes need ${target}; the store's error is what a flush() on that thread rejects with; the writes stay in memory and a later flush writes them`);
    }
    const seen = Atomics.load(words, durableWord);
    Atomics.add(words, request, 1);
    Atomics.notify(words, request);
    await waitWord(words, durableWord, seen, 50, true); // the flush keeps its thread alive
  }
}

