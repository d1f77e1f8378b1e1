// The page: a fixed-size slotted page of the B-link tree.
//
//   0 .. HDR      header: the fields of PageHeader below, in that order (offsets derived from it)
//   HDR ..        slots   u16[nslots]  cell offsets, in key order
//   ... free space ...
//   upper .. end  cells
//
// Cells:  leaf      [klen u16][vlen u16][key][value]
//         internal  [klen u16][0 u16][child u32][key]   (item 0's key is "minus infinity": klen 0)
//         high key  [klen u16][key]
//
// Key space of a page: [low, high) where low is the separator of its downlink. A leaf item k is
// on the page with low <= k < high; a search moves right while k >= high. Internal item i with
// separator s_i points at the child covering [s_i, s_{i+1}).
//
// All functions here assume the caller holds the page latch (exclusive to change it).

import { pageSize } from "./arena";
import { PAGE_HEADER } from "./limits";
import { copyBytes } from "./bytes";

/**
 * The page header, declared once: every P_* offset below is offsetof this class, so a field
 * added, removed or resized moves the offsets after it, and the static checks below refuse a
 * header that outgrows PAGE_HEADER (limits.ts) or moves the latch word. Fields are laid out in
 * declaration order at their natural alignment (AssemblyScript's @unmanaged layout: `high` is
 * followed by 2 bytes of padding). Never allocated: pages live in the arena, and this class
 * only names their first bytes.
 */
// @ts-ignore: decorator
@unmanaged class PageHeader {
  /** The page latch (assembly/latch.ts); never copied, never cleared by a rewrite. */
  latch: u32;
  /** LEAF, ROOT, HALF_DEAD, DELETED, INCOMPLETE_SPLIT, FREE. */
  flags: u32;
  /** 0 = leaf. */
  level: u16;
  /** Number of items (slots). */
  nslots: u16;
  /** Left sibling page number (0 = leftmost). */
  left: u32;
  /** Right sibling page number (0 = rightmost). */
  right: u32;
  /** Start of the cell area (cells grow down from the page end). */
  upper: u32;
  /** Bytes of dead cells inside the cell area (reclaimed by compaction). */
  garbage: u32;
  /** Offset of the high-key cell; 0 = no high key (rightmost page). */
  high: u16;
  /** Owning table id. */
  tree: u32;
  /** Bumped each time the page is recycled (stale cursor hints notice). */
  gen: u32;
  /** On a HALF_DEAD leaf: top page of the doomed chain (page deletion). */
  chain: u32;
  /**
   * Moved on by every release of the page's exclusive latch (assembly/latch.ts,
   * pageUnlatchExclusive), never by hand; optimistic readers and cursors' read-ahead compare it.
   */
  version: u32;
  /** On a DELETED page: the reclamation epoch it was unlinked in (assembly/epoch.ts; epochs are u32). */
  stamp: u32;
  /** Unused (keeps nextFree where it always was). */
  reserved: u32;
  /** On a page in limbo or on the free list: the next page of that list (assembly/arena.ts, epoch.ts). */
  nextFree: u32;
}

export const P_LATCH: usize = offsetof<PageHeader>("latch");
export const P_FLAGS: usize = offsetof<PageHeader>("flags");
export const P_LEVEL: usize = offsetof<PageHeader>("level");
export const P_NSLOTS: usize = offsetof<PageHeader>("nslots");
export const P_LEFT: usize = offsetof<PageHeader>("left");
export const P_RIGHT: usize = offsetof<PageHeader>("right");
export const P_UPPER: usize = offsetof<PageHeader>("upper");
export const P_GARBAGE: usize = offsetof<PageHeader>("garbage");
export const P_HIGH: usize = offsetof<PageHeader>("high");
export const P_TREE: usize = offsetof<PageHeader>("tree");
export const P_GEN: usize = offsetof<PageHeader>("gen");
export const P_CHAIN: usize = offsetof<PageHeader>("chain");
export const P_VERSION: usize = offsetof<PageHeader>("version");
export const P_STAMP: usize = offsetof<PageHeader>("stamp");
export const P_NEXT_FREE: usize = offsetof<PageHeader>("nextFree");
/** Where the slot array starts: the header's reserved size (limits.ts), at least the declared header. */
export const HDR: usize = <usize>PAGE_HEADER;

// Static checks (compile time: a constant condition compiles only its taken branch, so ERROR is
// reached only when a check fails). The fields cannot overlap: the class lays them out.
// @ts-ignore: compile-time diagnostic
if (offsetof<PageHeader>() > <usize>PAGE_HEADER) ERROR("page.ts: PageHeader is larger than PAGE_HEADER (limits.ts)");
// The latch word comes first: rewrites copy and clear from offset 4 on (pageInit, splitPage), and
// pageContentSum skips it as the first word.
// @ts-ignore: compile-time diagnostic
if (P_LATCH != 0 || P_FLAGS != 4) ERROR("page.ts: the latch word must be the header's first word, flags the second");
// pageContentSum reads the body 32 bytes at a time from HDR (page sizes are powers of two >= 4096).
// @ts-ignore: compile-time diagnostic
if ((HDR & 31) != 0) ERROR("page.ts: PAGE_HEADER must be a multiple of 32");
// Fields accessed atomically (version, gen, nextFree, left) must stay naturally aligned u32s.
// @ts-ignore: compile-time diagnostic
if (((P_VERSION | P_GEN | P_NEXT_FREE | P_LEFT) & 3) != 0) ERROR("page.ts: an atomically accessed header field is not 4-byte aligned");

export const F_LEAF: u32 = 1;
export const F_ROOT: u32 = 2;
export const F_HALF_DEAD: u32 = 4;
export const F_DELETED: u32 = 8;
export const F_INCOMPLETE_SPLIT: u32 = 16;
export const F_FREE: u32 = 32;
/** Pages a search must step over to the right. */
export const F_IGNORE: u32 = F_HALF_DEAD | F_DELETED;

export const LEAF_CELL_HDR: usize = 4;
export const INTERNAL_CELL_HDR: usize = 8;

// ---- header accessors ----
// @ts-ignore: decorator
@inline export function pFlags(p: usize): u32 { return load<u32>(p, P_FLAGS); }
// @ts-ignore: decorator
@inline export function pLevel(p: usize): i32 { return <i32>load<u16>(p, P_LEVEL); }
// @ts-ignore: decorator
@inline export function pCount(p: usize): i32 { return <i32>load<u16>(p, P_NSLOTS); }
// @ts-ignore: decorator
@inline export function pLeft(p: usize): u32 { return load<u32>(p, P_LEFT); }
// @ts-ignore: decorator
@inline export function pRight(p: usize): u32 { return load<u32>(p, P_RIGHT); }
// @ts-ignore: decorator
@inline export function pIsLeaf(p: usize): bool { return (load<u32>(p, P_FLAGS) & F_LEAF) != 0; }
// @ts-ignore: decorator
@inline export function pHasHigh(p: usize): bool { return load<u16>(p, P_HIGH) != 0; }
// @ts-ignore: decorator
@inline export function pHighKey(p: usize): usize { return p + <usize>load<u16>(p, P_HIGH) + 2; }
// @ts-ignore: decorator
@inline export function pHighLen(p: usize): i32 { return <i32>load<u16>(p + <usize>load<u16>(p, P_HIGH)); }
// @ts-ignore: decorator
@inline function slotOff(p: usize, i: i32): usize { return <usize>load<u16>(p + HDR + (<usize>i << 1)); }
// @ts-ignore: decorator
@inline export function cellAddr(p: usize, i: i32): usize { return p + slotOff(p, i); }
// @ts-ignore: decorator
@inline export function keyLen(p: usize, i: i32): i32 { return <i32>load<u16>(cellAddr(p, i)); }
// @ts-ignore: decorator
@inline export function keyAddr(p: usize, i: i32): usize {
  return cellAddr(p, i) + (pIsLeaf(p) ? LEAF_CELL_HDR : INTERNAL_CELL_HDR);
}
// @ts-ignore: decorator
@inline export function valLen(p: usize, i: i32): i32 { return <i32>load<u16>(cellAddr(p, i), 2); }
// @ts-ignore: decorator
@inline export function valAddr(p: usize, i: i32): usize { const c = cellAddr(p, i); return c + LEAF_CELL_HDR + <usize>load<u16>(c); }
// @ts-ignore: decorator
@inline export function childAt(p: usize, i: i32): u32 { return load<u32>(cellAddr(p, i), 4); }
/**
 * A checksum of the page's bytes other than its latch word and version (FNV-1a, 64-bit, over the
 * header's u32 words and, in four lanes, the body's u64 words).
 * Debug builds only: the page latch records it at exclusive acquire and checks at release that a
 * page whose bytes changed had its version moved (assembly/latch.ts, assembly/locks.ts).
 */
export function pageContentSum(p: usize): u32 {
  let h: u64 = 0xcbf29ce484222325;
  for (let o = P_FLAGS; o < HDR; o += 4) {
    if (o != P_VERSION) h = (h ^ <u64>load<u32>(p + o)) * 0x100000001b3;
  }
  // The body in four lanes (32 bytes a step: pageSize and HDR are multiples of 32).
  let h1 = h, h2 = ~h, h3 = h + 1, h4 = h + 2;
  for (let o = HDR; o < <usize>pageSize; o += 32) {
    h1 = (h1 ^ load<u64>(p + o)) * 0x100000001b3;
    h2 = (h2 ^ load<u64>(p + o, 8)) * 0x100000001b3;
    h3 = (h3 ^ load<u64>(p + o, 16)) * 0x100000001b3;
    h4 = (h4 ^ load<u64>(p + o, 24)) * 0x100000001b3;
  }
  h = h1 ^ rotl<u64>(h2, 16) ^ rotl<u64>(h3, 32) ^ rotl<u64>(h4, 48);
  return <u32>(h ^ (h >> 32));
}

/** Unsigned bytewise comparison: <0, 0, >0. Compares 8 bytes at a time as big-endian words. */
export function keyCompare(a: usize, alen: i32, b: usize, blen: i32): i32 {
  const n = min(alen, blen);
  let i = 0;
  while (i + 8 <= n) {
    const x = load<u64>(a + <usize>i);
    const y = load<u64>(b + <usize>i);
    if (x != y) return bswap<u64>(x) < bswap<u64>(y) ? -1 : 1;
    i += 8;
  }
  while (i < n) {
    const x = load<u8>(a + <usize>i);
    const y = load<u8>(b + <usize>i);
    if (x != y) return <i32>x - <i32>y;
    i++;
  }
  return alen - blen;
}

/** Key >= page's high key? (false on the rightmost page, which has none) */
// @ts-ignore: decorator
@inline export function keyAtOrAboveHigh(p: usize, key: usize, klen: i32): bool {
  return pHasHigh(p) && keyCompare(key, klen, pHighKey(p), pHighLen(p)) >= 0;
}

/** Key > page's high key? (false on the rightmost page) */
// @ts-ignore: decorator
@inline export function keyAboveHigh(p: usize, key: usize, klen: i32): bool {
  return pHasHigh(p) && keyCompare(key, klen, pHighKey(p), pHighLen(p)) > 0;
}

/** Per thread: did the last pageSearchLeaf find the key exactly? */
export let searchFound: bool = false;

/** Leaf: index of the first item >= key; sets searchFound. */
export function pageSearchLeaf(p: usize, key: usize, klen: i32): i32 {
  let lo = 0;
  let hi = pCount(p);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = cellAddr(p, mid);
    const cmp = keyCompare(c + LEAF_CELL_HDR, <i32>load<u16>(c), key, klen);
    if (cmp < 0) lo = mid + 1;
    else if (cmp > 0) hi = mid;
    else { searchFound = true; return mid; }
  }
  searchFound = false;
  return lo;
}

/** Internal: index of the last item whose separator is <= key (item 0 is minus infinity). */
export function pageSearchInternal(p: usize, key: usize, klen: i32): i32 {
  let lo = 1;
  let hi = pCount(p);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = cellAddr(p, mid);
    if (keyCompare(c + INTERNAL_CELL_HDR, <i32>load<u16>(c), key, klen) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Internal: index of the last item whose separator is < key (descending for "strictly below"). */
export function pageSearchInternalBelow(p: usize, key: usize, klen: i32): i32 {
  let lo = 1;
  let hi = pCount(p);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = cellAddr(p, mid);
    if (keyCompare(c + INTERNAL_CELL_HDR, <i32>load<u16>(c), key, klen) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Internal: index of the item pointing at `child`, or -1. Starts at `hint` and scans both ways. */
export function pageFindChild(p: usize, child: u32, hint: i32): i32 {
  const n = pCount(p);
  if (hint >= 0 && hint < n && childAt(p, hint) == child) return hint;
  for (let i = 0; i < n; i++) if (childAt(p, i) == child) return i;
  return -1;
}

export function pageInit(p: usize, pgno: u32, level: i32, flags: u32, tree: u32): void {
  // Keep the latch word (the first word) and the recycle generation, and move the version on: a
  // stale reader may still wait on the latch of a page being recycled, and a cursor's read-ahead
  // compares versions. (The page is new or recycled and unreachable, so it is not latched: the
  // one change of a page that no latch release publishes, and none needs to.)
  const gen = load<u32>(p, P_GEN);
  const version = load<u32>(p, P_VERSION);
  memory.fill(p + P_FLAGS, 0, HDR - P_FLAGS);
  store<u32>(p, version + 1, P_VERSION);
  store<u32>(p, flags, P_FLAGS);
  store<u16>(p, <u16>level, P_LEVEL);
  store<u32>(p, pageSize, P_UPPER);
  store<u32>(p, tree, P_TREE);
  store<u32>(p, gen, P_GEN);
}

/** Contiguous free bytes between the slot array and the cell area. */
// @ts-ignore: decorator
@inline export function pageFreeSpace(p: usize): i32 {
  return <i32>load<u32>(p, P_UPPER) - <i32>(HDR + (<usize>pCount(p) << 1));
}
/** Free bytes after compaction. */
// @ts-ignore: decorator
@inline export function pageFreeTotal(p: usize): i32 { return pageFreeSpace(p) + <i32>load<u32>(p, P_GARBAGE); }

// @ts-ignore: decorator
@inline export function leafCellSize(klen: i32, vlen: i32): i32 { return <i32>LEAF_CELL_HDR + klen + vlen; }
// @ts-ignore: decorator
@inline export function internalCellSize(klen: i32): i32 { return <i32>INTERNAL_CELL_HDR + klen; }

/** Size of item i's cell. */
export function cellSize(p: usize, i: i32): i32 {
  const c = cellAddr(p, i);
  if (pIsLeaf(p)) return <i32>LEAF_CELL_HDR + <i32>load<u16>(c) + <i32>load<u16>(c, 2);
  return <i32>INTERNAL_CELL_HDR + <i32>load<u16>(c);
}

/** Carves `size` bytes from the cell area; the caller checked pageFreeSpace >= size + 2. */
function allocCell(p: usize, size: i32): usize {
  const upper = load<u32>(p, P_UPPER) - <u32>size;
  store<u32>(p, upper, P_UPPER);
  return p + <usize>upper;
}

function openSlot(p: usize, i: i32, off: usize): void {
  const n = pCount(p);
  const s = p + HDR + (<usize>i << 1);
  memory.copy(s + 2, s, <usize>(n - i) << 1);
  store<u16>(s, <u16>off);
  store<u16>(p, <u16>(n + 1), P_NSLOTS);
}

/** Inserts a leaf item at index i. Requires pageFreeSpace(p) >= leafCellSize + 2. */
export function pageInsertLeaf(p: usize, i: i32, key: usize, klen: i32, val: usize, vlen: i32): void {
  const c = allocCell(p, leafCellSize(klen, vlen));
  store<u16>(c, <u16>klen);
  store<u16>(c, <u16>vlen, 2);
  copyBytes(c + LEAF_CELL_HDR, key, <usize>klen);
  copyBytes(c + LEAF_CELL_HDR + <usize>klen, val, <usize>vlen);
  openSlot(p, i, c - p);
}

/** Inserts an internal item (separator, child) at index i. Requires room as for leaves. */
export function pageInsertInternal(p: usize, i: i32, key: usize, klen: i32, child: u32): void {
  const c = allocCell(p, internalCellSize(klen));
  store<u16>(c, <u16>klen);
  store<u16>(c, 0, 2);
  store<u32>(c, child, 4);
  memory.copy(c + INTERNAL_CELL_HDR, key, <usize>klen);
  openSlot(p, i, c - p);
}

/** Removes item i; its cell becomes garbage. */
export function pageDelete(p: usize, i: i32): void {
  const n = pCount(p);
  store<u32>(p, load<u32>(p, P_GARBAGE) + <u32>cellSize(p, i), P_GARBAGE);
  const s = p + HDR + (<usize>i << 1);
  memory.copy(s, s + 2, <usize>(n - 1 - i) << 1);
  store<u16>(p, <u16>(n - 1), P_NSLOTS);
}

/** Writes the high key (copies klen bytes from key). Requires room; the page has none yet. */
export function pageSetHigh(p: usize, key: usize, klen: i32): void {
  // A split's fit check that miscounts (splitFits) would write the high key over the slot array.
  if (!ASC_NO_ASSERT) assert(pageFreeSpace(p) >= 2 + klen, "page: no room for the high key");
  const c = allocCell(p, 2 + klen);
  store<u16>(c, <u16>klen);
  memory.copy(c + 2, key, <usize>klen);
  store<u16>(p, <u16>(c - p), P_HIGH);
}

/**
 * Rewrites the page's cells contiguously, dropping garbage. `tmp` is a page-sized staging area
 * private to this thread. Slot order, high key and header are kept.
 */
export function pageCompact(p: usize, tmp: usize): void {
  const n = pCount(p);
  let upper = pageSize;
  for (let i = 0; i < n; i++) {
    const sz = <u32>cellSize(p, i);
    upper -= sz;
    memory.copy(tmp + <usize>upper, cellAddr(p, i), <usize>sz);
    store<u16>(tmp + HDR + (<usize>i << 1), <u16>upper);
  }
  if (pHasHigh(p)) {
    const sz = <u32>(2 + pHighLen(p));
    upper -= sz;
    memory.copy(tmp + <usize>upper, p + <usize>load<u16>(p, P_HIGH), <usize>sz);
    store<u16>(p, <u16>upper, P_HIGH);
  }
  memory.copy(p + HDR, tmp + HDR, <usize>n << 1);
  memory.copy(p + <usize>upper, tmp + <usize>upper, <usize>(pageSize - upper));
  store<u32>(p, upper, P_UPPER);
  store<u32>(p, 0, P_GARBAGE);
}

/** Ensures `need` contiguous bytes, compacting if the garbage makes up the difference. */
export function pageMakeRoom(p: usize, need: i32, tmp: usize): bool {
  if (pageFreeSpace(p) >= need) return true;
  if (pageFreeTotal(p) < need) return false;
  pageCompact(p, tmp);
  return true;
}
