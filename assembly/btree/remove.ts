// Remove: latch the leaf exclusively (descent and move-right as for an insert, without finishing
// incomplete splits: a removal never needs a page) and drop the item. Its cell becomes garbage
// that the next insert needing room compacts away. A leaf emptied here becomes a candidate for
// page deletion (assembly/btree/pagedel.ts).

import { pageUnlatchExclusive, pageUnlatchExclusiveUnchanged, latchesHeld } from "../latch";
import { F_ROOT, pageSearchLeaf, searchFound, pageDelete, pCount, pRight, pFlags } from "../page";
import { pageNo } from "../arena";
import { pagedelNoteEmpty } from "./pagedel";
import { descend, D_EXCLUSIVE } from "./search";
import { logging, logAppend, LOG_REMOVE } from "../log/log";

/** 1 if the key was removed, 0 if it was absent. */
export function btreeRemove(tree: u32, key: usize, klen: i32): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "remove: starts holding a latch");
  const p = descend(tree, key, klen, 0, D_EXCLUSIVE);
  const i = pageSearchLeaf(p, key, klen);
  let r = 0;
  let emptied = false;
  if (searchFound) {
    pageDelete(p, i);
    if (logging) logAppend(LOG_REMOVE, tree, key, klen, 0, 0); // under the leaf's latch (assembly/log/log.ts, ORDER)
    r = 1;
    emptied = pCount(p) == 0 && pRight(p) != 0 && (pFlags(p) & F_ROOT) == 0;
  }
  const pg = pageNo(p);
  // The release moves the leaf's version after the delete; an absent key changed nothing.
  if (r != 0) pageUnlatchExclusive(p); else pageUnlatchExclusiveUnchanged(p);
  // An emptied leaf becomes a deletion candidate (deleted in batches, see pagedelNoteEmpty).
  if (emptied) pagedelNoteEmpty(tree, pg);
  return r;
}
