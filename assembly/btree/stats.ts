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

// Output: f64[] entries, depth, pageSize, pages, leafPages, halfDead, deleted, freePages,
//         arenaPages, splits, rootSplits, deletions (bindings/session.ts reads them in this order)

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
  const o = sOut();
  store<f64>(o, entries, 0);
  store<f64>(o, <f64>depth, 8);
  store<f64>(o, <f64>pageSize, 16);
  store<f64>(o, pages, 24);
  store<f64>(o, leafPages, 32);
  store<f64>(o, halfDead, 40);
  store<f64>(o, <f64>limboCount(), 48);
  store<f64>(o, <f64>arenaFreeCount(), 56);
  store<f64>(o, <f64>(arenaHighWater() - 1), 64);
  store<f64>(o, <f64>atomic.load<u64>(m + C_SPLITS), 72);
  store<f64>(o, <f64>atomic.load<u64>(m + C_ROOT_SPLITS), 80);
  store<f64>(o, <f64>atomic.load<u32>(m + C_DELETIONS), 88);
  return depth;
}
