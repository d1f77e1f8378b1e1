// The page: a fixed-size slotted page of the B-link tree.
//
//   0 .. HDR      header: the fields of PageHeader below, in that order (offsets derived from it)
//   HDR ..        slots   [u16 cell offset][u32 head] x nslots (SLOT_SIZE bytes each), in key order
//   ... free space ...
//   upper .. end  cells
//
// Prefix and heads (LeanStore's BTreeNode). Every key on the page and its high key share their
// first `prefix` bytes (the page's prefix; internal item 0, minus infinity, is no key). A slot
// keeps the key's head: its 4 bytes after the prefix, big-endian (an unsigned u32 compare orders
// heads like the bytes), zero-padded when the key is shorter. A search compares the key's first
// `prefix` bytes once, binary-searches the heads in the slot array alone, and reads a cell only
// where heads are equal (the full compare then breaks the tie, lengths included: "ab" and "ab\0"
// have one head). The header keeps the high key's head too, so that the move-right check reads
// no cell either unless heads are equal. Keys are stored whole; the prefix only decides what a
// head holds. An insert of
// a key that does not share the prefix shrinks it and recomputes the heads (rare: keys inserted
// between the page's first key and its high key share it); a rewrite (split, compaction) sets it
// to the longest prefix the page's keys and high key share (pageResetPrefix). The invariant is
// about the keys actually on the page, not its key space, so page deletion (a leaf's key space
// passing to its right sibling) and moving right need nothing: a key arriving from the passed-on
// key space shrinks the prefix like any other.
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
import { PAGE_HEADER, PAGE_SLOT, MAX_KEY } from "./limits";
import { copyBytes } from "./bytes";

/**
 * The page header, declared once: every P_* offset below is offsetof this class, so a field
 * added, removed or resized moves the offsets after it, and the static checks below refuse a
 * header that outgrows PAGE_HEADER (limits.ts) or moves the latch word. Fields are laid out in
 * declaration order at their natural alignment (AssemblyScript's @unmanaged layout). Never allocated: pages live in the arena, and this class
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
  /** Bytes every key on the page and its high key share (the heads start after them). */
  prefix: u16;
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
  /** The prefix's first min(prefix, 4) bytes as stored (the rest zero): a search compares a short prefix here, reading no cell. */
  prefixHead: u32;
  /** On a page in limbo or on the free list: the next page of that list (assembly/arena.ts, epoch.ts). */
  nextFree: u32;
  /** The high key's head (as a slot's: its 4 bytes after the prefix); 0 without a high key. */
  highHead: u32;
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
export const P_PREFIX: usize = offsetof<PageHeader>("prefix");
export const P_PREFIX_HEAD: usize = offsetof<PageHeader>("prefixHead");
export const P_HIGH_HEAD: usize = offsetof<PageHeader>("highHead");
export const P_TREE: usize = offsetof<PageHeader>("tree");
export const P_GEN: usize = offsetof<PageHeader>("gen");
export const P_CHAIN: usize = offsetof<PageHeader>("chain");
export const P_VERSION: usize = offsetof<PageHeader>("version");
export const P_STAMP: usize = offsetof<PageHeader>("stamp");
export const P_NEXT_FREE: usize = offsetof<PageHeader>("nextFree");
/** Where the slot array starts: the header's reserved size (limits.ts), at least the declared header. */
export const HDR: usize = <usize>PAGE_HEADER;
/** Bytes of one slot: [u16 cell offset][u32 head] (limits.ts PAGE_SLOT; the head is loaded unaligned). */
export const SLOT_SIZE: usize = <usize>PAGE_SLOT;
/** Bytes of a key's head. */
const HEAD_BYTES: i32 = 4;

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
// A slot holds a u16 offset and a u32 head.
// @ts-ignore: compile-time diagnostic
if (SLOT_SIZE != 2 + <usize>HEAD_BYTES) ERROR("page.ts: PAGE_SLOT (limits.ts) must be 6: a u16 cell offset and a u32 head");

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
@inline function slotAddr(p: usize, i: i32): usize { return p + HDR + <usize>i * SLOT_SIZE; }
// @ts-ignore: decorator
@inline function slotOff(p: usize, i: i32): usize { return <usize>load<u16>(slotAddr(p, i)); }
/** Item i's head (the 4 key bytes after the prefix, big-endian, zero-padded). */
// @ts-ignore: decorator
@inline export function slotHead(p: usize, i: i32): u32 { return load<u32>(slotAddr(p, i), 2); }
/** The page's prefix length. */
// @ts-ignore: decorator
@inline export function pPrefix(p: usize): i32 { return <i32>load<u16>(p, P_PREFIX); }
/** Index of the page's first key (internal item 0 is minus infinity, no key). */
// @ts-ignore: decorator
@inline export function pFirstKey(p: usize): i32 { return pIsLeaf(p) ? 0 : 1; }
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


// ---- prefix and heads ----

/** The head of a key for prefix `pre`: bytes [pre, pre + 4) as a big-endian u32, zero-padded. */
export function keyHead(key: usize, klen: i32, pre: i32): u32 {
  const n = klen - pre;
  if (n >= HEAD_BYTES) return bswap<u32>(load<u32>(key + <usize>pre));
  let h: u32 = 0;
  for (let j = 0; j < HEAD_BYTES; j++) h = (h << 8) | (j < n ? <u32>load<u8>(key + <usize>(pre + j)) : 0);
  return h;
}

/**
 * The page's prefix length as a search may use it: at most MAX_KEY. The field is trusted on a
 * latched page; the bound matters to optimistic readers, whose reads may be garbage (addresses
 * must stay within the page plus 2 x 64 KiB: btree/search.ts, optimisticStep).
 */
// @ts-ignore: decorator
@inline function prefixLen(p: usize): i32 { return min(pPrefix(p), MAX_KEY); }

/** Slots a search may visit: nslots, bounded by what a page can hold (garbage-safe as above). */
// @ts-ignore: decorator
@inline function slotCount(p: usize): i32 {
  return min(pCount(p), (<i32>pageSize - <i32>HDR) / <i32>SLOT_SIZE);
}

/**
 * Where the page's `pre` prefix bytes can be read: the header's copy for a prefix of up to 4
 * bytes (no cell read), else the page's first key. A page without keys has prefix 0 (pageDelete
 * and pageResetPrefix see to it); on garbage the header is as good an answer as any.
 */
function prefixBytes(p: usize, pre: i32): usize {
  const first = pFirstKey(p);
  if (pre <= HEAD_BYTES || pCount(p) <= first) return p + P_PREFIX_HEAD;
  return keyAddr(p, first);
}

/**
 * The key's first `pre` bytes against the page's prefix: < 0 the key is below every key on the
 * page (a key shorter than the prefix that matches it is too), > 0 above every key, 0 it shares
 * the prefix.
 */
// @ts-ignore: decorator
@inline function prefixCompare(p: usize, pre: i32, key: usize, klen: i32): i32 {
  return pre == 0 ? 0 : keyCompare(key, min(klen, pre), prefixBytes(p, pre), pre);
}

/** The header's copy of a prefix: its first min(pre, 4) bytes at src, in memory order, the rest zero. */
export function prefixHeadOf(src: usize, pre: i32): u32 {
  let h: u32 = 0;
  for (let j = 0; j < min(pre, HEAD_BYTES); j++) h |= <u32>load<u8>(src + <usize>j) << (<u32>j << 3);
  return h;
}

/**
 * Sets the header's prefix, its copy of the first bytes (read from `src` before any store) and
 * the high key's head.
 */
function storePrefix(p: usize, src: usize, pre: i32): void {
  store<u32>(p, prefixHeadOf(src, pre), P_PREFIX_HEAD);
  store<u16>(p, <u16>pre, P_PREFIX);
  store<u32>(p, pHasHigh(p) ? keyHead(pHighKey(p), pHighLen(p), pre) : 0, P_HIGH_HEAD);
}

/** Sets the prefix to `pre` bytes of `src` and recomputes every slot's head. */
function setPrefix(p: usize, src: usize, pre: i32): void {
  storePrefix(p, src, pre);
  const n = pCount(p);
  for (let i = 0; i < n; i++) store<u32>(slotAddr(p, i), keyHead(keyAddr(p, i), keyLen(p, i), pre), 2);
}

/** Length of the common prefix of a and b, at most `limit`. */
function commonLength(a: usize, alen: i32, b: usize, blen: i32, limit: i32): i32 {
  const n = min(min(alen, blen), limit);
  let i = 0;
  while (i + 8 <= n && load<u64>(a + <usize>i) == load<u64>(b + <usize>i)) i += 8;
  while (i < n && load<u8>(a + <usize>i) == load<u8>(b + <usize>i)) i++;
  return i;
}

/**
 * Sets the prefix to the longest one the page's keys and high key share, and recomputes the
 * heads (after a rewrite: split halves, compaction). Keys are in order, so that is the common
 * prefix of the first key, the last key and the high key. A page without keys gets prefix 0.
 */
export function pageResetPrefix(p: usize): void {
  const first = pFirstKey(p);
  const n = pCount(p);
  if (n <= first) { storePrefix(p, 0, 0); return; }
  const a = keyAddr(p, first);
  const alen = keyLen(p, first);
  let pre = commonLength(a, alen, keyAddr(p, n - 1), keyLen(p, n - 1), alen);
  if (pHasHigh(p)) pre = commonLength(a, alen, pHighKey(p), pHighLen(p), pre);
  setPrefix(p, a, pre);
}

/** Before key goes on the page: shrinks the prefix to what the key shares with it (rare). */
function prefixAdmit(p: usize, key: usize, klen: i32): void {
  const pre = pPrefix(p);
  if (pre == 0) return;
  const src = prefixBytes(p, pre);
  const l = commonLength(key, klen, src, pre, pre);
  if (l < pre) setPrefix(p, src, l);
}

/** Per thread: did the last pageSearchLeaf find the key exactly? */
export let searchFound: bool = false;

// In-page search. The key's prefix part is compared once (prefixCompare); the binary search
// reads only heads, in the slot array; a cell is read only where the heads are equal, and
// then compared from the prefix on (both share it). Every loop is bounded by slotCount and every
// address by prefixLen and u16 offsets, so a search of a page changing under an optimistic
// reader ends, within the page plus 2 x 64 KiB, with a result the validation throws away.

// Interpolation on heads. A binary search over a page's slots loads a new cache line at each of
// its first probes, each load waiting for the one before: on a leaf that is not in cache, that
// chain of misses is most of a lookup. Heads grow with the slot index, so the head searched for
// places a guess between the first slot's head and the high key's (in the header, >= every
// head); two loads a window apart around the guess, issued together, then bound the binary
// search to the window. The bounds are only ever narrowed by what a head proves (a head below
// the searched one: its key is below; above: its key is above), so a bad guess, skewed keys or
// a page read optimistically cost probes, never a wrong result. (Interpolation search: Perl,
// Itai, Avni 1978; on B-tree pages: Van Sandt, Chronis, Patel, SIGMOD 2019.)

/** Pages with fewer slots than this are binary-searched from the start: few probes anyway. */
const INTERPOLATE_MIN: i32 = 48;
/** Slots each side of the guess: random keys land within it on about 19 of 20 searches. */
const INTERPOLATE_WINDOW: i32 = 12;

/** The bounds narrow() leaves for the binary search that follows: answer in [narrowLo, narrowHi]. */
let narrowLo: i32 = 0;
let narrowHi: i32 = 0;

/**
 * For head h, narrows [lo, hi] (the first index in it whose key is >= the key searched for, or
 * > for an internal page's search; hi if none) to what two heads around an interpolated guess
 * prove. hi - lo >= INTERPOLATE_MIN, lo <= hi <= slotCount.
 */
function narrow(p: usize, lo: i32, hi: i32, h: u32): void {
  narrowLo = lo;
  narrowHi = hi;
  const h0 = slotHead(p, lo);
  const h1 = pHasHigh(p) ? load<u32>(p, P_HIGH_HEAD) : slotHead(p, hi - 1);
  if (h < h0) { narrowHi = lo; return; } // below the first key (its head proves it)
  if (h == h0 || h1 <= h0) return;
  const span = hi - 1 - lo;
  let g = lo + <i32>((<u64>(min(h, h1) - h0) * <u64>span) / <u64>(h1 - h0));
  const a = max(g - INTERPOLATE_WINDOW, lo);
  const b = min(g + INTERPOLATE_WINDOW, hi - 1);
  const ha = slotHead(p, a);
  const hb = slotHead(p, b);
  if (ha < h) narrowLo = a + 1;
  else if (ha > h) narrowHi = a;
  if (hb < h) narrowLo = b + 1;
  else if (hb > h && b < narrowHi) narrowHi = b;
}

/** Leaf: index of the first item >= key; sets searchFound. */
export function pageSearchLeaf(p: usize, key: usize, klen: i32): i32 {
  const n = slotCount(p);
  const pre = prefixLen(p);
  const pc = prefixCompare(p, pre, key, klen);
  if (pc != 0) { searchFound = false; return pc < 0 ? 0 : n; }
  const h = keyHead(key, klen, pre);
  const ks = key + <usize>pre;
  const kl = klen - pre;
  let lo = 0;
  let hi = n;
  if (n >= INTERPOLATE_MIN) { narrow(p, 0, n, h); lo = narrowLo; hi = narrowHi; }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const sh = slotHead(p, mid);
    if (sh < h) { lo = mid + 1; continue; }
    if (sh > h) { hi = mid; continue; }
    const c = cellAddr(p, mid);
    const cmp = keyCompare(c + LEAF_CELL_HDR + <usize>pre, <i32>load<u16>(c) - pre, ks, kl);
    if (cmp < 0) lo = mid + 1;
    else if (cmp > 0) hi = mid;
    else { searchFound = true; return mid; }
  }
  searchFound = false;
  return lo;
}

/**
 * Internal: index of the last item whose separator is <= key (`strict`: < key); item 0 is minus
 * infinity.
 */
// @ts-ignore: decorator
@inline function searchInternal(p: usize, key: usize, klen: i32, strict: bool): i32 {
  const n = slotCount(p);
  const pre = prefixLen(p);
  const pc = prefixCompare(p, pre, key, klen);
  if (pc != 0) return pc < 0 || n == 0 ? 0 : n - 1;
  const h = keyHead(key, klen, pre);
  const ks = key + <usize>pre;
  const kl = klen - pre;
  let lo = 1;
  let hi = n;
  if (n - 1 >= INTERPOLATE_MIN) { narrow(p, 1, n, h); lo = narrowLo; hi = narrowHi; }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const sh = slotHead(p, mid);
    if (sh < h) { lo = mid + 1; continue; }
    if (sh > h) { hi = mid; continue; }
    const c = cellAddr(p, mid);
    const cmp = keyCompare(c + INTERNAL_CELL_HDR + <usize>pre, <i32>load<u16>(c) - pre, ks, kl);
    if (strict ? cmp < 0 : cmp <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Internal: index of the last item whose separator is <= key (item 0 is minus infinity). */
export function pageSearchInternal(p: usize, key: usize, klen: i32): i32 {
  return searchInternal(p, key, klen, false);
}

/** Internal: index of the last item whose separator is < key (descending for "strictly below"). */
export function pageSearchInternalBelow(p: usize, key: usize, klen: i32): i32 {
  return searchInternal(p, key, klen, true);
}

/**
 * The key against the page's high key (which shares the page's prefix): the prefix part, then the
 * high key's head in the header, and the high key's cell only where the heads are equal. The
 * caller checked that the page has a high key.
 */
function compareHigh(p: usize, key: usize, klen: i32): i32 {
  const pre = prefixLen(p);
  const pc = prefixCompare(p, pre, key, klen);
  if (pc != 0) return pc;
  const h = keyHead(key, klen, pre);
  const hh = load<u32>(p, P_HIGH_HEAD);
  if (h != hh) return h < hh ? -1 : 1;
  return keyCompare(key + <usize>pre, klen - pre, pHighKey(p) + <usize>pre, pHighLen(p) - pre);
}

/** Key >= page's high key? (false on the rightmost page, which has none) */
// @ts-ignore: decorator
@inline export function keyAtOrAboveHigh(p: usize, key: usize, klen: i32): bool {
  return pHasHigh(p) && compareHigh(p, key, klen) >= 0;
}

/** Key > page's high key? (false on the rightmost page) */
// @ts-ignore: decorator
@inline export function keyAboveHigh(p: usize, key: usize, klen: i32): bool {
  return pHasHigh(p) && compareHigh(p, key, klen) > 0;
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
  return <i32>load<u32>(p, P_UPPER) - <i32>(HDR + <usize>pCount(p) * SLOT_SIZE);
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

/** Carves `size` bytes from the cell area; the caller checked pageFreeSpace >= size + SLOT_SIZE. */
function allocCell(p: usize, size: i32): usize {
  const upper = load<u32>(p, P_UPPER) - <u32>size;
  store<u32>(p, upper, P_UPPER);
  return p + <usize>upper;
}

/** Opens slot i for the cell at `off` holding `key`; the key shares the page's prefix (prefixAdmit). */
function openSlot(p: usize, i: i32, off: usize, key: usize, klen: i32): void {
  const n = pCount(p);
  const s = slotAddr(p, i);
  memory.copy(s + SLOT_SIZE, s, <usize>(n - i) * SLOT_SIZE);
  store<u16>(s, <u16>off);
  store<u32>(s, keyHead(key, klen, pPrefix(p)), 2);
  store<u16>(p, <u16>(n + 1), P_NSLOTS);
}

/** Inserts a leaf item at index i. Requires pageFreeSpace(p) >= leafCellSize + SLOT_SIZE. */
export function pageInsertLeaf(p: usize, i: i32, key: usize, klen: i32, val: usize, vlen: i32): void {
  prefixAdmit(p, key, klen);
  const c = allocCell(p, leafCellSize(klen, vlen));
  store<u16>(c, <u16>klen);
  store<u16>(c, <u16>vlen, 2);
  copyBytes(c + LEAF_CELL_HDR, key, <usize>klen);
  copyBytes(c + LEAF_CELL_HDR + <usize>klen, val, <usize>vlen);
  openSlot(p, i, c - p, key, klen);
}

/** Inserts an internal item (separator, child) at index i. Requires room as for leaves. */
export function pageInsertInternal(p: usize, i: i32, key: usize, klen: i32, child: u32): void {
  // Item 0 is minus infinity (klen 0, head 0): it has no key to share the prefix.
  if (i > 0) prefixAdmit(p, key, klen);
  const c = allocCell(p, internalCellSize(klen));
  store<u16>(c, <u16>klen);
  store<u16>(c, 0, 2);
  store<u32>(c, child, 4);
  memory.copy(c + INTERNAL_CELL_HDR, key, <usize>klen);
  openSlot(p, i, c - p, key, klen);
}

/** Removes item i; its cell becomes garbage. A page left without keys gets prefix 0. */
export function pageDelete(p: usize, i: i32): void {
  const n = pCount(p);
  store<u32>(p, load<u32>(p, P_GARBAGE) + <u32>cellSize(p, i), P_GARBAGE);
  const s = slotAddr(p, i);
  memory.copy(s, s + SLOT_SIZE, <usize>(n - 1 - i) * SLOT_SIZE);
  store<u16>(p, <u16>(n - 1), P_NSLOTS);
  if (n - 1 <= pFirstKey(p)) storePrefix(p, 0, 0);
}

/** Writes the high key (copies klen bytes from key). Requires room; the page has none yet. */
export function pageSetHigh(p: usize, key: usize, klen: i32): void {
  // A split's fit check that miscounts (splitFits) would write the high key over the slot array.
  if (!ASC_NO_ASSERT) assert(pageFreeSpace(p) >= 2 + klen, "page: no room for the high key");
  const c = allocCell(p, 2 + klen);
  store<u16>(c, <u16>klen);
  memory.copy(c + 2, key, <usize>klen);
  store<u16>(p, <u16>(c - p), P_HIGH);
  // Its head, for the prefix as it stands (a split sets the prefix anew after: pageResetPrefix).
  store<u32>(p, keyHead(c + 2, klen, pPrefix(p)), P_HIGH_HEAD);
}

/**
 * Rewrites the page's cells contiguously, dropping garbage. `tmp` is a page-sized staging area
 * private to this thread. Slot order, high key and header are kept; the prefix is set anew
 * (pageResetPrefix: it may have shrunk since the last rewrite, and may grow back).
 */
export function pageCompact(p: usize, tmp: usize): void {
  const n = pCount(p);
  let upper = pageSize;
  for (let i = 0; i < n; i++) {
    const sz = <u32>cellSize(p, i);
    upper -= sz;
    memory.copy(tmp + <usize>upper, cellAddr(p, i), <usize>sz);
    store<u16>(slotAddr(tmp, i), <u16>upper);
    store<u32>(slotAddr(tmp, i), slotHead(p, i), 2);
  }
  if (pHasHigh(p)) {
    const sz = <u32>(2 + pHighLen(p));
    upper -= sz;
    memory.copy(tmp + <usize>upper, p + <usize>load<u16>(p, P_HIGH), <usize>sz);
    store<u16>(p, <u16>upper, P_HIGH);
  }
  memory.copy(p + HDR, tmp + HDR, <usize>n * SLOT_SIZE);
  memory.copy(p + <usize>upper, tmp + <usize>upper, <usize>(pageSize - upper));
  store<u32>(p, upper, P_UPPER);
  store<u32>(p, 0, P_GARBAGE);
  pageResetPrefix(p);
}

/** Ensures `need` contiguous bytes, compacting if the garbage makes up the difference. */
export function pageMakeRoom(p: usize, need: i32, tmp: usize): bool {
  if (pageFreeSpace(p) >= need) return true;
  if (pageFreeTotal(p) < need) return false;
  pageCompact(p, tmp);
  return true;
}
