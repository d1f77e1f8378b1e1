// Tree shape: the pages of a table, level by level, for pictures (bindings/svg.ts) and tools.
//
// A level is walked like stats and the verifier walk it (search.ts levelLeftmost / levelNext):
// one shared latch at a time, left to right, never waiting while holding a latch. So it runs
// while other threads write; the picture is then a mix of moments (exact when quiesced).
// Output goes to the calling thread's scratch OUT area in batches; a batch that fills the area
// says where to resume (a page and its recycle generation, checked under the page's latch like a
// scan's hint, so a page recycled between batches is noticed, not followed).
//
// Deleted pages awaiting reclamation (in limbo) are reachable from no level walk; dumpDeleted
// finds this table's by scanning the arena's page headers.
//
// Output: header u32 count, u32 level, u32 resumePage (0: done), u32 resumeGen, then `count`
// records of DUMP_RECORD bytes: u32 page, level, flags, items, bytes used, right, left.

import { pageAddr, pageNo, pageSize, arenaHighWater } from "../arena";
import { pageLatchShared, pageUnlatchShared, latchesHeld } from "../latch";
import { P_GEN, P_TREE, P_FLAGS, P_STAMP, F_DELETED, F_FREE, pFlags, pLevel, pCount, pRight, pLeft, pageFreeTotal } from "../page";
import { tableRootLevel, tableBorn } from "../catalog";
import { levelLeftmost, levelNext } from "./search";
import { sOut, S_OUT_SIZE } from "../scratch";
import { NOTFOUND, EINVAL } from "../status";

const HDR: usize = 16;
export const DUMP_RECORD: usize = 28;

/** Writes one record for latched page p at o + pos. */
function record(o: usize, pos: usize, p: usize): void {
  store<u32>(o + pos, pageNo(p));
  store<u32>(o + pos, <u32>pLevel(p), 4);
  store<u32>(o + pos, pFlags(p), 8);
  store<u32>(o + pos, <u32>pCount(p), 12);
  store<u32>(o + pos, pageSize - <u32>pageFreeTotal(p), 16);
  store<u32>(o + pos, pRight(p), 20);
  store<u32>(o + pos, pLeft(p), 24);
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
  let pos = HDR;
  let n: u32 = 0;
  let resume: u32 = 0, resumeGen: u32 = 0;
  while (p != 0) {
    if (pos + DUMP_RECORD > S_OUT_SIZE) {
      // Full: the previous record's page is where the next batch resumes. p is not written.
      resume = load<u32>(o + pos - DUMP_RECORD);
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
  store<u32>(o, n);
  store<u32>(o, <u32>level, 4);
  store<u32>(o, resume, 8);
  store<u32>(o, resumeGen, 12);
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
  let pos = HDR;
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
  store<u32>(o, n);
  store<u32>(o, 0, 4);
  store<u32>(o, pg < hw ? pg : 0, 8);
  store<u32>(o, 0, 12);
  return <i32>n;
}
