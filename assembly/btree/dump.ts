// Tree shape: the pages of a table, level by level, for pictures (bindings/svg.ts) and tools.
//
// A level is walked like stats and the verifier walk it (search.ts levelLeftmost / levelNext):
// one shared latch at a time, left to right, never waiting while holding a latch. So it runs
// while other threads write; the picture is then a mix of moments (exact when quiesced).
// Output goes to the calling thread's scratch OUT area in batches; a batch that fills the area
// says where to resume (a page and its recycle generation, checked under the page's latch like a
// scan's resume leaf, so a page recycled between batches is noticed, not followed).
//
// Deleted pages awaiting reclamation (in limbo) are reachable from no level walk; dumpDeleted
// finds this table's by scanning the arena's page headers.
//
// Output: a header of DUMP_HEADER bytes, then `count` records of DUMP_RECORD bytes; every field
// a u32 at the offset below (bindings/shape.ts reads them by these names, scripts/gen-abi.js).

import { pageAddr, pageNo, pageSize, arenaHighWater } from "../arena";
import { pageLatchShared, pageUnlatchShared, latchesHeld } from "../latch";
import { P_GEN, P_TREE, P_FLAGS, P_STAMP, F_DELETED, F_FREE, pFlags, pLevel, pCount, pRight, pLeft, pageFreeTotal } from "../page";
import { tableRootLevel, tableBorn } from "../catalog";
import { levelLeftmost, levelNext } from "./search";
import { sOut, S_OUT_SIZE } from "../scratch";
import { NOTFOUND, EINVAL } from "../status";

/** Header: records in the batch. */
export const DUMP_COUNT: usize = 0;
/** Header: the level walked (the root level's number when asked for level -1; 0 for deleted pages). */
export const DUMP_LEVEL: usize = 4;
/** Header: the page the next batch resumes from (0: done). */
export const DUMP_RESUME: usize = 8;
/** Header: that page's recycle generation (level walks; 0 otherwise). */
export const DUMP_RESUME_GEN: usize = 12;
export const DUMP_HEADER: usize = 16;
/** Record: page number. */
export const DUMP_PAGE: usize = 0;
/** Record: the page's level. */
export const DUMP_PAGE_LEVEL: usize = 4;
/** Record: the page's flags (page.ts F_*). */
export const DUMP_FLAGS: usize = 8;
/** Record: items on the page. */
export const DUMP_ITEMS: usize = 12;
/** Record: bytes in use (header, slots, live cells, high key). */
export const DUMP_USED: usize = 16;
/** Record: right sibling (0: none). */
export const DUMP_RIGHT: usize = 20;
/** Record: left sibling (0: none). */
export const DUMP_LEFT: usize = 24;
export const DUMP_RECORD: usize = 28;

/** Writes one record for latched page p at o + pos. */
function record(o: usize, pos: usize, p: usize): void {
  const r = o + pos;
  store<u32>(r + DUMP_PAGE, pageNo(p));
  store<u32>(r + DUMP_PAGE_LEVEL, <u32>pLevel(p));
  store<u32>(r + DUMP_FLAGS, pFlags(p));
  store<u32>(r + DUMP_ITEMS, <u32>pCount(p));
  store<u32>(r + DUMP_USED, pageSize - <u32>pageFreeTotal(p));
  store<u32>(r + DUMP_RIGHT, pRight(p));
  store<u32>(r + DUMP_LEFT, pLeft(p));
}

/** Writes the batch header. */
function header(o: usize, n: u32, level: u32, resume: u32, resumeGen: u32): void {
  store<u32>(o + DUMP_COUNT, n);
  store<u32>(o + DUMP_LEVEL, level);
  store<u32>(o + DUMP_RESUME, resume);
  store<u32>(o + DUMP_RESUME_GEN, resumeGen);
}

/**
 * One batch of a level walk. `level` < 0 means the root level (as the catalog names it now).
 * `from`/`fromGen` = 0: start at the level's leftmost page; otherwise continue after page
 * `from`, the last page of the previous batch, if it is still a live page of this tree and level
 * with that generation; else NOTFOUND (the caller starts the level again).
 * Returns the number of records.
 */
export function dumpLevel(tree: u32, level: i32, from: u32, fromGen: u32): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "dump: a reader starts holding a latch");
  if (level < 0) level = tableRootLevel(tree);
  const o = sOut();
  let p: usize;
  if (from == 0) {
    p = levelLeftmost(tree, level);
  } else {
    if (from >= arenaHighWater()) return EINVAL;
    const q = pageAddr(from);
    pageLatchShared(q);
    const f = pFlags(q);
    if (load<u32>(q, P_GEN) != fromGen || load<u32>(q, P_TREE) != tree || pLevel(q) != level
      || (f & (F_FREE | F_DELETED)) != 0) {
      pageUnlatchShared(q);
      return NOTFOUND;
    }
    p = levelNext(q);
  }
  let pos = DUMP_HEADER;
  let n: u32 = 0;
  let resume: u32 = 0, resumeGen: u32 = 0;
  while (p != 0) {
    if (pos + DUMP_RECORD > S_OUT_SIZE) {
      // Full: the previous record's page is where the next batch resumes. p is not written.
      resume = load<u32>(o + pos - DUMP_RECORD + DUMP_PAGE);
      pageUnlatchShared(p);
      break;
    }
    record(o, pos, p);
    resumeGen = load<u32>(p, P_GEN);
    pos += DUMP_RECORD;
    n++;
    p = levelNext(p);
  }
  if (resume == 0) resumeGen = 0;
  header(o, n, <u32>level, resume, resumeGen);
  return <i32>n;
}

/**
 * One batch of this table's deleted pages awaiting reclamation, scanning page headers from page
 * `from` (1 to start). Each candidate is latched shared and checked again under its latch (the
 * reclaimer takes a page's latch before recycling it; a latch word is never cleared, so latching
 * a page that is being recycled meanwhile is harmless). Header as above with level 0 and
 * resumePage the page to scan from next (0: done).
 */
export function dumpDeleted(tree: u32, from: u32): i32 {
  const o = sOut();
  const hw = arenaHighWater();
  const born = tableBorn(tree);
  let pos = DUMP_HEADER;
  let n: u32 = 0;
  let pg: u32 = from == 0 ? 1 : from;
  for (; pg < hw; pg++) {
    const p = pageAddr(pg);
    const f0 = atomic.load<u32>(p + P_FLAGS);
    if ((f0 & F_DELETED) == 0 || (f0 & F_FREE) != 0 || atomic.load<u32>(p + P_TREE) != tree) continue;
    if (pos + DUMP_RECORD > S_OUT_SIZE) break;
    pageLatchShared(p);
    const f = pFlags(p);
    if ((f & F_DELETED) != 0 && (f & F_FREE) == 0 && load<u32>(p, P_TREE) == tree && load<u32>(p, P_STAMP) >= born) {
      record(o, pos, p);
      pos += DUMP_RECORD;
      n++;
    }
    pageUnlatchShared(p);
  }
  header(o, n, 0, pg < hw ? pg : 0, 0);
  return <i32>n;
}
