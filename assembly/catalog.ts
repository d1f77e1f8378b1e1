// The table catalog: MAX_TABLES entries in shared memory, one per table, each holding the tree's
// meta area (root page, root level, meta latch), its vacuum latch and deletion candidates, and
// its counters.
//
// Creation and lookup take the catalog latch (exclusive to create, shared to look up). The meta
// latch of a tree is the last latch in the latch order: only a root split (and later a root
// shrink) takes it, while holding the old root. Readers read the root with one atomic load.

import { SB, SB_CATALOG_LATCH, CATALOG_OFF, CATALOG_ENTRY_SIZE, pageAlloc, pageAddr } from "./arena";
import { latchExclusive, latchShared, unlatchExclusive, unlatchShared } from "./latch";
import { MAX_TABLES, MAX_NAME } from "./limits";
import { EINVAL, ENOENT, ENOMEM, EBUSY } from "./status";
import { pageInit, F_LEAF, F_ROOT } from "./page";

export const C_STATE: usize = 0;       // 0 free, 1 live
export const C_KEY_FORMAT: usize = 4;  // u8: 'u' or 'S'
export const C_VALUE_FORMAT: usize = 5;
export const C_ROOT: usize = 8;        // u32, atomic
export const C_ROOT_LEVEL: usize = 12; // u32, atomic
export const C_META_LATCH: usize = 16;
export const C_NAME_LEN: usize = 20;
export const C_SPLITS: usize = 24;     // u64, atomic
export const C_ROOT_SPLITS: usize = 32;// u64, atomic
export const C_VACUUM_LATCH: usize = 40; // serialises page deleters of this tree (one VACUUM at a time)
export const C_DELETIONS: usize = 44;  // u32, atomic: pages deleted since open
const C_NAME: usize = 64;               // MAX_NAME bytes
export const C_CAND: usize = 320;       // u32[CANDIDATES]: leaves emptied by removes (0 = free slot)
export const CANDIDATES: i32 = 128;

// @ts-ignore: decorator
@inline export function tableMeta(tree: u32): usize { return SB + CATALOG_OFF + <usize>tree * CATALOG_ENTRY_SIZE; }
// @ts-ignore: decorator
@inline export function tableRoot(tree: u32): u32 { return atomic.load<u32>(tableMeta(tree) + C_ROOT); }
// @ts-ignore: decorator
@inline export function tableRootLevel(tree: u32): i32 { return <i32>atomic.load<u32>(tableMeta(tree) + C_ROOT_LEVEL); }

function nameEquals(m: usize, name: usize, len: i32): bool {
  if (<i32>load<u32>(m + C_NAME_LEN) != len) return false;
  return memory.compare(m + C_NAME, name, <usize>len) == 0;
}

function findLocked(name: usize, len: i32): i32 {
  for (let i = 0; i < MAX_TABLES; i++) {
    const m = tableMeta(<u32>i);
    if (atomic.load<u32>(m + C_STATE) == 1 && nameEquals(m, name, len)) return i;
  }
  return ENOENT;
}

/** Is `tree` a live table id? */
export function tableValid(tree: i32): bool {
  return tree >= 0 && tree < MAX_TABLES && atomic.load<u32>(tableMeta(<u32>tree) + C_STATE) == 1;
}

/**
 * Creates a table (idempotent): returns its id. EINVAL if it exists with other formats, EBUSY if
 * the catalog is full, ENOMEM if no page is left for its root.
 */
export function tableCreate(name: usize, len: i32, keyFormat: u8, valueFormat: u8): i32 {
  if (len <= 0 || len > MAX_NAME) return EINVAL;
  const latchWord = SB + SB_CATALOG_LATCH;
  latchExclusive(latchWord);
  let id = findLocked(name, len);
  if (id >= 0) {
    const m = tableMeta(<u32>id);
    if (load<u8>(m + C_KEY_FORMAT) != keyFormat || load<u8>(m + C_VALUE_FORMAT) != valueFormat) id = EINVAL;
    unlatchExclusive(latchWord);
    return id;
  }
  id = EBUSY;
  for (let i = 0; i < MAX_TABLES; i++) {
    if (atomic.load<u32>(tableMeta(<u32>i) + C_STATE) == 0) { id = i; break; }
  }
  if (id >= 0) {
    const root = pageAlloc();
    if (root == 0) id = ENOMEM;
    else {
      pageInit(pageAddr(root), root, 0, F_LEAF | F_ROOT, <u32>id);
      const m = tableMeta(<u32>id);
      memory.fill(m + 4, 0, CATALOG_ENTRY_SIZE - 4);
      store<u8>(m + C_KEY_FORMAT, keyFormat);
      store<u8>(m + C_VALUE_FORMAT, valueFormat);
      store<u32>(m + C_NAME_LEN, <u32>len);
      memory.copy(m + C_NAME, name, <usize>len);
      atomic.store<u32>(m + C_ROOT_LEVEL, 0);
      atomic.store<u32>(m + C_ROOT, root);
      atomic.store<u32>(m + C_STATE, 1);
    }
  }
  unlatchExclusive(latchWord);
  return id;
}

/** Looks a table up by name: its id, or ENOENT. */
export function tableLookup(name: usize, len: i32): i32 {
  const latchWord = SB + SB_CATALOG_LATCH;
  latchShared(latchWord);
  const id = findLocked(name, len);
  unlatchShared(latchWord);
  return id;
}

/** Formats of a table as (keyFormat << 8 | valueFormat), or ENOENT. */
export function tableFormats(tree: i32): i32 {
  if (!tableValid(tree)) return ENOENT;
  const m = tableMeta(<u32>tree);
  return (<i32>load<u8>(m + C_KEY_FORMAT) << 8) | <i32>load<u8>(m + C_VALUE_FORMAT);
}
