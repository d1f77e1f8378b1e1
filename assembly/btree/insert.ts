// Insert and overwrite (nbtinsert.c's _bt_doinsert, minus uniqueness waits: keys are unique).
//
// Descend for update (finishing any incomplete split met on the way), latch the leaf
// exclusively, move right as needed, then:
//  - key present: INSERT reports it and changes nothing; PUT overwrites in place when the value
//    has the same length, else replaces the cell;
//  - room on the page (after compaction if garbage makes the room): add the cell;
//  - no room: reserve the pages a split may need up to a new root *before* changing anything
//    (so ENOMEM leaves the tree exactly as it was), then split (assembly/btree/split.ts).

import { stashReserve } from "../arena";
import { pageUnlatchExclusive, pageUnlatchExclusiveUnchanged } from "../latch";
import {
  pageSearchLeaf, searchFound, valLen, valAddr, leafCellSize, cellSize, pageFreeTotal,
  pageDelete, pageMakeRoom, pageInsertLeaf, SLOT_SIZE,
} from "../page";
import { tableRootLevel } from "../catalog";
import { sTemp } from "../scratch";
import { copyBytes } from "../bytes";
import { descend, descendError, D_EXCLUSIVE, D_FINISH } from "./search";
import { splitLeaf, splitInsertParent } from "./split";
import { inject, INJECT_INSERT_BEFORE_LEAF, INJECT_SPLIT_BEFORE_PARENT } from "../inject";
import { OK, ENOMEM, EINJECTED } from "../status";
import { logging, logAppend, LOG_PUT } from "../log/log";

/** PUT inserts or overwrites; INSERT never overwrites. */
export const MODE_PUT: i32 = 0;
export const MODE_INSERT: i32 = 1;

/** Results: a new key went in, an existing key was left alone, or its value was replaced. */
export const PUT_INSERTED: i32 = 1;
export const PUT_EXISTS: i32 = 0;
export const PUT_REPLACED: i32 = 2;

export function btreePut(tree: u32, key: usize, klen: i32, val: usize, vlen: i32, mode: i32): i32 {
  if (inject(INJECT_INSERT_BEFORE_LEAF) != OK) return EINJECTED;
  const p = descend(tree, key, klen, 0, D_EXCLUSIVE | D_FINISH);
  if (p == 0) return descendError;
  const i = pageSearchLeaf(p, key, klen);
  const found = searchFound;
  if (found) {
    if (mode == MODE_INSERT) { pageUnlatchExclusiveUnchanged(p); return PUT_EXISTS; }
    if (valLen(p, i) == vlen) {
      copyBytes(valAddr(p, i), val, <usize>vlen);
      if (logging) logAppend(LOG_PUT, tree, key, klen, val, vlen); // under the leaf's latch (assembly/log/log.ts, ORDER)
      pageUnlatchExclusive(p);
      return PUT_REPLACED;
    }
  }
  const need = leafCellSize(klen, vlen) + <i32>SLOT_SIZE;
  const freed = found ? cellSize(p, i) + <i32>SLOT_SIZE : 0;
  if (pageFreeTotal(p) + freed >= need) {
    if (found) pageDelete(p, i);
    pageMakeRoom(p, need, sTemp());
    pageInsertLeaf(p, i, key, klen, val, vlen);
    if (logging) logAppend(LOG_PUT, tree, key, klen, val, vlen);
    pageUnlatchExclusive(p);
    return found ? PUT_REPLACED : PUT_INSERTED;
  }
  // A split: one page per level plus a new root, reserved before the first change.
  if (!stashReserve(tableRootLevel(tree) + 2)) { pageUnlatchExclusive(p); return ENOMEM; }
  if (found) pageDelete(p, i);
  const r = splitLeaf(tree, p, i, key, klen, val, vlen);
  if (r < 0) { pageUnlatchExclusive(p); return r; }
  // The item is in; from here a failure leaves a legal incomplete split, finished later. The
  // leaf is still latched, and the new right page is reached only through it until the split
  // completes: the record is ordered against every other change of the key.
  if (logging) logAppend(LOG_PUT, tree, key, klen, val, vlen);
  if (inject(INJECT_SPLIT_BEFORE_PARENT) != OK) { pageUnlatchExclusive(p); return EINJECTED; }
  splitInsertParent(tree, p);
  return found ? PUT_REPLACED : PUT_INSERTED;
}
