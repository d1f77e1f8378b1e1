// Remove: latch the leaf exclusively (descent and move-right as for an insert, without finishing
// incomplete splits: a removal never needs a page) and drop the item. Its cell becomes garbage
// that the next insert needing room compacts away. Pages emptied here stay in the tree until
// page deletion (assembly/btree/pagedel.ts) removes them.

import { unlatchExclusive, latchesHeld } from "../latch";
import { P_LATCH, pageSearchLeaf, searchFound, pageDelete, bumpVersion } from "../page";
import { descend } from "./search";

/** 1 if the key was removed, 0 if it was absent. */
export function btreeRemove(tree: u32, key: usize, klen: i32): i32 {
  if (!ASC_NO_ASSERT) assert(latchesHeld == 0, "remove: starts holding a latch");
  const p = descend(tree, key, klen, 0, true, false);
  const i = pageSearchLeaf(p, key, klen);
  let r = 0;
  if (searchFound) { pageDelete(p, i); bumpVersion(p); r = 1; }
  unlatchExclusive(p + P_LATCH);
  return r;
}
