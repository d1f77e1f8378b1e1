// The deterministic key sets of the browser correctness check, shared by the page and its
// workers: worker (or main thread) w owns keys `w<w>:<i>` for i < n; it inserts all, removes
// every third (i % 3 == 0) and overwrites the next (i % 3 == 1) with a second value.

export const keyOf = (w, i) => `w${w}:${String(i).padStart(6, '0')}`;
export const valueOf = (w, i, round) => `value-${w}-${i}-${round}-${'x'.repeat(i % 17)}`;

/** [key, value] pairs present after owner w's run, in key order. */
export function expectedKeys(w, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) continue;
    out.push([keyOf(w, i), valueOf(w, i, i % 3 === 1 ? 1 : 0)]);
  }
  return out;
}

/** FNV-1a over the UTF-16 code units of a string, continuing from h. */
export function fnv(h, s) {
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h;
}
export const FNV_START = 0x811c9dc5;

/** Count and FNV checksum of [key, value] pairs (in the order given: a scan's, or a sorted model's). */
export function checksumOf(pairs) {
  let count = 0, checksum = FNV_START;
  for (const [k, v] of pairs) { count++; checksum = fnv(fnv(checksum, k), v); }
  return { count, checksum };
}
