// Tree statistics: one walk of every level, one latch at a time (exact when quiesced,
// approximate under concurrent writers), plus the arena's counters. `deleted` counts pages in
// the limbo list (deleted, awaiting reclamation: arena-wide); `deletions` this tree's deletions.

import { pageAddr, arenaHighWater, arenaFreeCount, pageSize } from "../arena";
import { latchShared, unlatchShared } from "../latch";
import { P_LATCH, F_HALF_DEAD, F_DELETED, pFlags, pCount, pRight } from "../page";
import { tableMeta, tableRootLevel, C_SPLITS, C_ROOT_SPLITS, C_DELETIONS } from "../catalog";
import { levelLeftmost, levelNext } from "./search";
import { limboCount } from "../epoch";
import { sOut } from "../scratch";

// Output: one f64 per field at S_OUT + field * 8. The bindings' TableStats and its field list are
// generated from these (scripts/gen-abi.js): a field's name is its constant's name less STAT_,
// in camelCase (STAT_LEAF_PAGES: leafPages), documented by the constant's comment.

/** Entries on the leaves. */
export const STAT_ENTRIES: i32 = 0;
/** Levels, the leaves' included. */
export const STAT_DEPTH: i32 = 1;
/** The connection's page size, in bytes. */
export const STAT_PAGE_SIZE: i32 = 2;
/** Pages in the tree, live and half-dead (not deleted ones). */
export const STAT_PAGES: i32 = 3;
/** Live leaf pages. */
export const STAT_LEAF_PAGES: i32 = 4;
/** Half-dead leaves (interrupted deletions). */
export const STAT_HALF_DEAD: i32 = 5;
/** Deleted pages awaiting reclamation, of every table (the arena's limbo list). */
export const STAT_DELETED: i32 = 6;
/** Pages on the arena's free list. */
export const STAT_FREE_PAGES: i32 = 7;
/** Pages the arena has laid out: all pages of the memory. */
export const STAT_ARENA_PAGES: i32 = 8;
/** Page splits of this tree. */
export const STAT_SPLITS: i32 = 9;
/** Root splits of this tree. */
export const STAT_ROOT_SPLITS: i32 = 10;
/** Pages this tree has deleted. */
export const STAT_DELETIONS: i32 = 11;
/** Fields written (STAT_* are 0 .. STATS_FIELDS - 1). */
export const STATS_FIELDS: i32 = 12;

// @ts-ignore: decorator
@inline function stat(field: i32, v: f64): void { store<f64>(sOut() + (<usize>field << 3), v); }

/** Writes the statistics to the output area; returns the depth. */
export function btreeStats(tree: u32): i32 {
  let entries: f64 = 0, pages: f64 = 0, leafPages: f64 = 0, halfDead: f64 = 0;
  // Depth is the number of levels actually walked (the root level read once, plus one), so it
  // always agrees with the page counts of the same walk.
  const top = tableRootLevel(tree);
  let depth = 0;
  for (let level = top; level >= 0; level--) {
    depth++;
    for (let p = levelLeftmost(tree, level); p != 0; p = levelNext(p)) {
      const f = pFlags(p);
      if ((f & F_DELETED) == 0) {
        pages++;
        if ((f & F_HALF_DEAD) != 0) halfDead++;
        if (level == 0) { leafPages++; entries += <f64>pCount(p); }
      }
    }
  }
  const m = tableMeta(tree);
  stat(STAT_ENTRIES, entries);
  stat(STAT_DEPTH, <f64>depth);
  stat(STAT_PAGE_SIZE, <f64>pageSize);
  stat(STAT_PAGES, pages);
  stat(STAT_LEAF_PAGES, leafPages);
  stat(STAT_HALF_DEAD, halfDead);
  stat(STAT_DELETED, <f64>limboCount());
  stat(STAT_FREE_PAGES, <f64>arenaFreeCount());
  stat(STAT_ARENA_PAGES, <f64>(arenaHighWater() - 1));
  stat(STAT_SPLITS, <f64>atomic.load<u64>(m + C_SPLITS));
  stat(STAT_ROOT_SPLITS, <f64>atomic.load<u64>(m + C_ROOT_SPLITS));
  stat(STAT_DELETIONS, <f64>atomic.load<u32>(m + C_DELETIONS));
  return depth;
}
