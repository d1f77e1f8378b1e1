// The table catalog: MAX_TABLES entries in shared memory, one per table, each holding the tree's
// meta area (root page, root level, meta latch), its vacuum latch and deletion candidates, and
// its counters.
//
// Creation and lookup take the catalog latch (exclusive to create, shared to look up). A tree's
// meta latch comes after its page latches (assembly/locks.ts, the lock table): only a root split
// and a root shrink take it, holding the old root. Readers read the root with one atomic load.
//
// An entry is one btree. Its state says what it is to the table of its name:
//   LIVE     the table's current tree: what lookups, opens and checkpoints see
//   LOADING  a tree being filled from a checkpoint image, seen by nobody but its loader
//   RETIRED  replaced by a newer image, or dropped: still read by dhandles opened before; the
//            dhandle sweep frees its pages once no dhandle refers to it (assembly/conn/dhandle.ts)
// At most one LIVE entry has a given name; LOADING and RETIRED ones may share it.

import { SB, SB_CATALOG_LATCH, CATALOG_OFF, CATALOG_ENTRY_SIZE, pageAlloc, pageAddr, pageNo } from "./arena";
import { latchExclusive, latchShared, unlatchExclusive, unlatchShared } from "./latch";
import { Lock } from "./locks";
import { MAX_TABLES, MAX_NAME } from "./limits";
import { EINVAL, ENOENT, ENOMEM, EBUSY } from "./status";
import { pageInit, F_LEAF, F_ROOT, F_DELETED, P_FLAGS, pLeft, pRight, pFlags, childAt } from "./page";
import { epochStamp, limboPush, epochCurrent } from "./epoch";
import { logging, logAppend, LOG_CREATE } from "./log/log";

export const C_STATE: usize = 0;       // TABLE_FREE, _LIVE, _LOADING, _RETIRED
export const C_KEY_FORMAT: usize = 4;  // u8: the format's letter, 'u', 'S' or 'q' (bindings/codec.ts)
export const C_VALUE_FORMAT: usize = 5;
export const C_ROOT: usize = 8;        // u32, atomic
export const C_ROOT_LEVEL: usize = 12; // u32, atomic
export const C_META_LATCH: usize = 16;
export const C_NAME_LEN: usize = 20;
export const C_SPLITS: usize = 24;     // u64, atomic
export const C_ROOT_SPLITS: usize = 32;// u64, atomic
export const C_VACUUM_LATCH: usize = 40; // serialises page deleters of this tree (one VACUUM at a time)
export const C_DELETIONS: usize = 44;  // u32, atomic: pages deleted since open
export const C_FLAGS: usize = 48;      // u32, atomic: T_READONLY
export const C_BORN: usize = 52;       // u32: the epoch when this incarnation of the id was created
const C_NAME: usize = 64;               // MAX_NAME bytes
export const C_CAND: usize = 320;       // u32[CANDIDATES]: leaves emptied by removes (0 = free slot)
export const CANDIDATES: i32 = 128;

export const TABLE_FREE: u32 = 0;
export const TABLE_LIVE: u32 = 1;
export const TABLE_LOADING: u32 = 2;
export const TABLE_RETIRED: u32 = 3;

/**
 * The tree's content is frozen: it equals a checkpoint image (a follower's tree, or a leader's
 * after its step-down drained every write). Set only when no write can be in flight, so a write
 * meeting it is a broken invariant (asserted in debug builds, assembly/btree/insert.ts).
 */
export const T_READONLY: u32 = 1;

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
    if (atomic.load<u32>(m + C_STATE) == TABLE_LIVE && nameEquals(m, name, len)) return i;
  }
  return ENOENT;
}

export function tableState(tree: u32): u32 { return atomic.load<u32>(tableMeta(tree) + C_STATE); }

/** Is `tree` an id of a tree being loaded (the loader's own calls)? */
export function tableLoading(tree: i32): bool {
  return tree >= 0 && tree < MAX_TABLES && tableState(<u32>tree) == TABLE_LOADING;
}

/**
 * Creates a table (idempotent): returns its id. EINVAL if it exists with other formats, EBUSY if
 * the catalog is full, ENOMEM if no page is left for its root. With `loading`, always a new entry
 * in state LOADING, for tablePublish to make live.
 */
export function tableCreate(name: usize, len: i32, keyFormat: u8, valueFormat: u8, loading: bool = false): i32 {
  if (len <= 0 || len > MAX_NAME) return EINVAL;
  const latchWord = SB + SB_CATALOG_LATCH;
  latchExclusive(latchWord, Lock.CATALOG);
  let id = loading ? ENOENT : findLocked(name, len);
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
      store<u32>(m + C_BORN, epochCurrent());
      memory.copy(m + C_NAME, name, <usize>len);
      atomic.store<u32>(m + C_ROOT_LEVEL, 0);
      atomic.store<u32>(m + C_ROOT, root);
      // Before the table is visible: every record of the table comes after its create (log.ts, ORDER).
      if (logging && !loading) tableLog(<u32>id);
      atomic.store<u32>(m + C_STATE, loading ? TABLE_LOADING : TABLE_LIVE);
    }
  }
  unlatchExclusive(latchWord);
  return id;
}

/**
 * Appends the LOG_CREATE record of tree `tree` (name, formats): at its create, and for every live
 * table at the start of a leader's term (which numbers the trees afresh: bindings/log.ts).
 */
export function tableLog(tree: u32): void {
  const m = tableMeta(tree);
  logAppend(LOG_CREATE, tree, m + C_NAME, <i32>load<u32>(m + C_NAME_LEN), m + C_KEY_FORMAT, 2);
}

/** Looks a table up by name: its id, or ENOENT. */
export function tableLookup(name: usize, len: i32): i32 {
  const latchWord = SB + SB_CATALOG_LATCH;
  latchShared(latchWord, Lock.CATALOG);
  const id = findLocked(name, len);
  unlatchShared(latchWord);
  return id;
}

/** Formats of a tree as (keyFormat << 8 | valueFormat). */
export function tableFormats(tree: u32): i32 {
  const m = tableMeta(tree);
  return (<i32>load<u8>(m + C_KEY_FORMAT) << 8) | <i32>load<u8>(m + C_VALUE_FORMAT);
}

/**
 * Makes a loaded tree the live tree of its name; the tree it replaces (if any) is retired.
 * Returns the retired tree's id, or ENOENT if the name had no live tree.
 */
export function tablePublish(tree: u32): i32 {
  const latchWord = SB + SB_CATALOG_LATCH;
  latchExclusive(latchWord, Lock.CATALOG);
  const m = tableMeta(tree);
  if (!ASC_NO_ASSERT) assert(atomic.load<u32>(m + C_STATE) == TABLE_LOADING, "catalog: publishing a tree not being loaded");
  const old = findLocked(m + C_NAME, <i32>load<u32>(m + C_NAME_LEN));
  if (old >= 0) atomic.store<u32>(tableMeta(<u32>old) + C_STATE, TABLE_RETIRED);
  atomic.store<u32>(m + C_STATE, TABLE_LIVE);
  unlatchExclusive(latchWord);
  return old;
}

/** Retires a tree (a dropped table, or a table absent from a newer image, or a failed load). */
export function tableRetire(tree: u32): void {
  const latchWord = SB + SB_CATALOG_LATCH;
  latchExclusive(latchWord, Lock.CATALOG);
  atomic.store<u32>(tableMeta(tree) + C_STATE, TABLE_RETIRED);
  unlatchExclusive(latchWord);
}

/** The next live tree id at or after `from`, or ENOENT (checkpoints walk the tables with it). */
export function tableNextLive(from: i32): i32 {
  for (let i = max(from, 0); i < MAX_TABLES; i++) if (tableState(<u32>i) == TABLE_LIVE) return i;
  return ENOENT;
}

// What lk_table_next leaves at S_OUT for the tree it returns (i32 fields, then the name's bytes):
export const NEXT_NAME_LEN: usize = 0;  // the name's length in bytes
export const NEXT_FORMATS: usize = 4;   // the tree's formats (tableFormats)
export const NEXT_NAME: usize = 8;      // the name

/** Copies a tree's name to `out`; returns its length. */
export function tableName(tree: u32, out: usize): i32 {
  const m = tableMeta(tree);
  const len = load<u32>(m + C_NAME_LEN);
  memory.copy(out, m + C_NAME, <usize>len);
  return <i32>len;
}

export function tableReadonly(tree: u32): bool { return (atomic.load<u32>(tableMeta(tree) + C_FLAGS) & T_READONLY) != 0; }

export function tableSetReadonly(tree: u32, on: bool): void {
  const f = tableMeta(tree) + C_FLAGS;
  if (on) atomic.or<u32>(f, T_READONLY); else atomic.and<u32>(f, ~T_READONLY);
}

/** Marks every live tree read-only (or writable again). */
export function tablesSetReadonly(on: bool): void {
  for (let i = 0; i < MAX_TABLES; i++) if (tableState(<u32>i) == TABLE_LIVE) tableSetReadonly(<u32>i, on);
}

/**
 * Frees a retired tree's pages: the caller (the dhandle sweep) has made sure no dhandle refers to
 * it, so no operation can be inside it. Every page still in the tree is on a level's chain; pages
 * it deleted earlier are in limbo already. The pages go through limbo too (stamped like deleted
 * pages), so the reclaimer's epoch check covers them as well.
 */
export function tableFree(tree: u32): void {
  const m = tableMeta(tree);
  if (!ASC_NO_ASSERT) assert(atomic.load<u32>(m + C_STATE) == TABLE_RETIRED, "catalog: freeing a tree that is not retired");
  let start = tableRoot(tree);
  while (start != 0) {
    // The level's first page: step left from the page the first downlinks led to.
    let p = pageAddr(start);
    while (pLeft(p) != 0) p = pageAddr(pLeft(p));
    const below = (pFlags(p) & F_LEAF) != 0 ? 0 : childAt(p, 0);
    // childAt(p, 0) of the level's first page leads into the next level's chain; retire this level.
    let pg = pageNo(p);
    while (pg != 0) {
      const q = pageAddr(pg);
      const next = pRight(q);
      store<u32>(q, (pFlags(q) & F_LEAF) | F_DELETED, P_FLAGS);
      epochStamp(q);
      limboPush(pg);
      pg = next;
    }
    start = below;
  }
  const latchWord = SB + SB_CATALOG_LATCH;
  latchExclusive(latchWord, Lock.CATALOG);
  atomic.store<u32>(m + C_ROOT, 0);
  atomic.store<u32>(m + C_STATE, TABLE_FREE);
  unlatchExclusive(latchWord);
}

/** Epoch at this table id's latest creation: deleted pages stamped earlier belong to an older incarnation. */
export function tableBorn(tree: u32): u32 { return load<u32>(tableMeta(tree) + C_BORN); }
