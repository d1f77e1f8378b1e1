// @ts-check
/**
 * Per-key linearizability checker for recorded concurrent histories of an
 * ordered key-value map (latchkey).
 *
 * Plain ESM + JSDoc so that worker threads and vitest can load it without a
 * build step.
 *
 * ---------------------------------------------------------------------------
 * WHAT IS CHECKED
 * ---------------------------------------------------------------------------
 * A history is a set of completed operations, each with an invocation and a
 * response timestamp taken from one shared atomic counter. Op A precedes op B
 * in real time iff A.res < B.inv; otherwise they overlap. The history is
 * linearizable iff there is a total order of all ops that (1) respects that
 * real-time order and (2) is a legal sequential execution of the map, i.e.
 * every op returns what the sequential model says it returns.
 *
 * Sequential model, per key, state v (0 = absent):
 *   get        -> result must equal v
 *   put(x)     -> v = x                                  (result ignored)
 *   insert(x)  -> v == 0 ? (result must be 1, v = x) : (result must be 0)
 *   remove     -> v != 0 ? (result must be 1, v = 0) : (result must be 0)
 *
 * ---------------------------------------------------------------------------
 * WHY CHECKING EACH KEY SEPARATELY IS SOUND (P-compositionality)
 * ---------------------------------------------------------------------------
 * Every operation above touches exactly one key, and the map is just the
 * product of independent per-key registers. Herlihy & Wing's locality theorem
 * (linearizability is a *local* property) says a history over a collection of
 * objects is linearizable iff each object's sub-history is linearizable; the
 * same argument applies to the keys of a map whose ops each touch one key
 * (Horn & Kroening call this P-compositionality). Sketch of the non-trivial
 * direction: given a linearization of each key's sub-history, pick for each
 * op a linearization point inside its [inv, res] interval consistent with
 * its key's order (possible because each per-key order respects real time);
 * sorting all ops by those points gives a global order that respects real
 * time and, restricted to each key, is that key's legal order. So we split
 * the history by key and check every key on its own, which turns one huge
 * exponential search into many small ones.
 *
 * NOTE: this is only sound while every operation is single-key. If range
 * scans / multi-key ops are ever recorded they need a different checker.
 *
 * ---------------------------------------------------------------------------
 * PER-KEY ALGORITHM: Wing & Gong / Lowe (WGL) search with memoization
 * ---------------------------------------------------------------------------
 * (Wing & Gong 1993; Lowe, "Testing for linearizability", 2017; the same
 * scheme as porcupine.)  The key's ops are turned into 2m events (call and
 * return of each op), sorted by time, in a doubly linked list. Ties are
 * broken "call before return", which treats ops with A.res == B.inv as
 * overlapping, matching "A precedes B iff A.res < B.inv".
 *
 * Depth-first search state: the set S of already-linearized ops (removed,
 * "lifted", from the list) and the model state v. Scanning the list from its
 * head, every call event seen before the first return event belongs to an op
 * that is *minimal*: it was invoked before the earliest response among the
 * not-yet-linearized ops, so it may legally be linearized next. For each such
 * op, apply it to the model; if the result matches and (S + op, v') was never
 * visited before, lift it, push it on an explicit stack and restart from the
 * head. Reaching a return event means no remaining minimal op works: pop the
 * last op, unlift it, restore v, and continue the scan just after it. An
 * empty list means every op was linearized: success. An empty stack when
 * backtracking means no linearization exists: failure.
 *
 * Memoization: a configuration (S, v) fully determines the rest of the
 * search, so once visited (and, since we are still searching, failed) it
 * never needs exploring again. This is what makes long per-key histories with
 * low concurrency tractable: the number of distinct configurations is about
 * m * 2^(concurrency) * (#plausible values) instead of exponential in m.
 *
 * Representation details, chosen for speed on 10^6-op histories:
 *  - Ops are bucketed by key with a counting sort, then each bucket is
 *    sorted by invocation; the DFS itself never looks at timestamps again.
 *  - Values are renamed to small per-key state ids (0 = absent), so the
 *    model step is a couple of integer compares.
 *  - S is a bitset over the key's ops in invocation order. It is stored in
 *    the memo table in a *canonical compact form*: p = the first op not in S
 *    (every op before p is in S; p is simply the op at the head of the
 *    list) and hi = the largest op in S (tracked on the stack); only bitset
 *    words p>>5 .. hi>>5 are stored. With low concurrency that is 1-2 words,
 *    independent of m, so hashing and storing a configuration is O(1).
 *  - The memo table is an open-addressing hash table over a pooled
 *    Int32Array, compared exactly (no false "already visited" due to hash
 *    collisions, so no spurious failures).
 *  - The search is iterative (explicit stack), so per-key histories of any
 *    length are fine.
 *
 * If a key's search visits more than `maxStatesPerKey` configurations the
 * result is { ok: false, reason: 'search limit exceeded ...' } - an
 * inconclusive result is never reported as a pass.
 *
 * Malformed input (unknown kind, inv >= res, non-integer key, put/insert
 * value <= 0, insert/remove result not 0/1, ...) throws a TypeError: that is
 * a recorder bug, not a linearizability verdict.
 */

/** @typedef {'get'|'put'|'insert'|'remove'} OpKind */

/**
 * One recorded operation (object form).
 * @typedef {object} Op
 * @property {OpKind} kind
 * @property {number} key     integer key id
 * @property {number} value   put/insert: value written (positive, unique); ignored for get/remove
 * @property {number} result  get: value read (0 = absent); insert/remove: 1 = changed, 0 = no-op; put: ignored
 * @property {number} inv     invocation timestamp
 * @property {number} res     response timestamp (inv < res)
 */

/**
 * One worker's history in columnar form. Only the first `length` entries of
 * each array are used. kind: 0=get, 1=put, 2=insert, 3=remove.
 * @typedef {object} ColumnarChunk
 * @property {Uint8Array} kind
 * @property {Int32Array} key
 * @property {Int32Array} value
 * @property {Int32Array} result
 * @property {Float64Array} inv
 * @property {Float64Array} res
 * @property {number} length
 */

/**
 * @typedef {object} CheckOptions
 * @property {Map<number, number>} [initial]  initial value per key (absent / 0 = key absent)
 * @property {number} [maxStatesPerKey]       memo-table size at which one key's search gives up (default 2e6)
 */

/**
 * @typedef {{ ok: true, keys: number, ops: number }
 *         | { ok: false, key: number, reason: string, ops: Op[] }} CheckResult
 * On failure `ops` is an excerpt of the failing key's sub-history around the
 * point where the search got stuck (sorted by inv), not the whole history.
 */

export const GET = 0;
export const PUT = 1;
export const INSERT = 2;
export const REMOVE = 3;

/** @type {readonly OpKind[]} */
export const KIND_NAMES = Object.freeze(/** @type {OpKind[]} */ (['get', 'put', 'insert', 'remove']));

/** @param {unknown} k @returns {number} kind code, or -1 if unknown */
function kindCode(k) {
  switch (k) {
    case 'get': return GET;
    case 'put': return PUT;
    case 'insert': return INSERT;
    case 'remove': return REMOVE;
    default: return -1;
  }
}

export const DEFAULT_MAX_STATES_PER_KEY = 2e6;

/** Hard cap on the memo pool (Int32 words, ~512 MiB) regardless of maxStatesPerKey. */
const MAX_POOL_WORDS = 128 * 1024 * 1024;

/** Max number of ops (besides the essential ones) in a failure excerpt. */
const EXCERPT_LIMIT = 40;

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/**
 * Check a history given as an array (or any iterable) of op objects.
 * @param {Iterable<Op>} ops
 * @param {CheckOptions} [options]
 * @returns {CheckResult}
 */
export function checkHistory(ops, options = {}) {
  const arr = Array.isArray(ops) ? ops : Array.from(ops);
  const n = arr.length;
  const flat = allocFlat(n);
  for (let i = 0; i < n; i++) {
    const op = arr[i];
    if (op === null || typeof op !== 'object') throw new TypeError(`op #${i} is not an object`);
    const code = kindCode(op.kind);
    if (code < 0) throw new TypeError(`op #${i}: unknown kind ${JSON.stringify(op.kind)}`);
    flat.kind[i] = code;
    flat.key[i] = op.key;
    flat.value[i] = code === PUT || code === INSERT ? op.value : 0;
    flat.result[i] = code === PUT ? 0 : op.result;
    flat.inv[i] = op.inv;
    flat.res[i] = op.res;
  }
  return checkFlat(flat, options, (i) => arr[i]);
}

/**
 * Check the combined history of several columnar chunks (typically one per
 * worker). A single chunk (not wrapped in an array) is accepted too.
 * @param {ColumnarChunk[] | ColumnarChunk} chunks
 * @param {CheckOptions} [options]
 * @returns {CheckResult}
 */
export function checkColumnar(chunks, options = {}) {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  let n = 0;
  for (let c = 0; c < list.length; c++) {
    const ch = list[c];
    const len = ch.length;
    if (!Number.isSafeInteger(len) || len < 0) throw new TypeError(`chunk #${c}: bad length ${len}`);
    for (const col of /** @type {const} */ (['kind', 'key', 'value', 'result', 'inv', 'res'])) {
      if (!ch[col] || ch[col].length < len) throw new TypeError(`chunk #${c}: column ${col} shorter than length ${len}`);
    }
    n += len;
  }
  const flat = allocFlat(n);
  let at = 0;
  for (const ch of list) {
    const len = ch.length;
    flat.kind.set(ch.kind.subarray(0, len), at);
    flat.key.set(ch.key.subarray(0, len), at);
    flat.value.set(ch.value.subarray(0, len), at);
    flat.result.set(ch.result.subarray(0, len), at);
    flat.inv.set(ch.inv.subarray(0, len), at);
    flat.res.set(ch.res.subarray(0, len), at);
    at += len;
  }
  for (let i = 0; i < n; i++) {
    const k = flat.kind[i];
    if (k > REMOVE) throw new TypeError(`op #${i}: unknown kind code ${k}`);
    if (k === PUT) flat.result[i] = 0; // ignored for put
    else if (k !== INSERT) flat.value[i] = 0; // ignored for get/remove
  }
  return checkFlat(flat, options, (i) => ({
    kind: KIND_NAMES[flat.kind[i]],
    key: flat.key[i],
    value: flat.value[i],
    result: flat.result[i],
    inv: flat.inv[i],
    res: flat.res[i],
  }));
}

/**
 * Convert op objects to one columnar chunk (handy for recorders and tests).
 * @param {Op[]} ops
 * @returns {ColumnarChunk}
 */
export function toColumnar(ops) {
  const n = ops.length;
  /** @type {ColumnarChunk} */
  const ch = {
    kind: new Uint8Array(n),
    key: new Int32Array(n),
    value: new Int32Array(n),
    result: new Int32Array(n),
    inv: new Float64Array(n),
    res: new Float64Array(n),
    length: n,
  };
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    const code = kindCode(op.kind);
    if (code < 0) throw new TypeError(`op #${i}: unknown kind ${JSON.stringify(op.kind)}`);
    ch.kind[i] = code;
    ch.key[i] = op.key;
    ch.value[i] = op.value ?? 0;
    ch.result[i] = op.result ?? 0;
    ch.inv[i] = op.inv;
    ch.res[i] = op.res;
  }
  return ch;
}

/**
 * Human-readable one-line description of an op, e.g. "get(7)->12 " followed by its "[inv,res]" interval.
 * @param {Op} op
 * @returns {string}
 */
export function describeOp(op) {
  const t = `@[${op.inv},${op.res}]`;
  switch (op.kind) {
    case 'get':
      return `get(${op.key})->${op.result === 0 ? 'absent' : op.result} ${t}`;
    case 'put':
      return `put(${op.key},${op.value}) ${t}`;
    case 'insert':
      return `insert(${op.key},${op.value})->${op.result === 1 ? 'inserted' : 'existed'} ${t}`;
    case 'remove':
      return `remove(${op.key})->${op.result === 1 ? 'removed' : 'absent'} ${t}`;
    default:
      return JSON.stringify(op);
  }
}

// ---------------------------------------------------------------------------
// Flat (struct-of-arrays) representation shared by both entry points
// ---------------------------------------------------------------------------

/**
 * @typedef {object} Flat
 * @property {Uint8Array} kind
 * @property {Float64Array} key
 * @property {Float64Array} value
 * @property {Float64Array} result
 * @property {Float64Array} inv
 * @property {Float64Array} res
 * @property {number} length
 */

/** @param {number} n @returns {Flat} */
function allocFlat(n) {
  return {
    kind: new Uint8Array(n),
    key: new Float64Array(n),
    value: new Float64Array(n),
    result: new Float64Array(n),
    inv: new Float64Array(n),
    res: new Float64Array(n),
    length: n,
  };
}

/**
 * Validate, bucket by key, and check each key in ascending key order.
 * @param {Flat} flat
 * @param {CheckOptions} options
 * @param {(i: number) => Op} opAt  reconstructs / returns the i-th op for reports
 * @returns {CheckResult}
 */
function checkFlat(flat, options, opAt) {
  const n = flat.length;
  const { kind, key, value, result, inv, res } = flat;
  const initial = options.initial;
  const maxStates = options.maxStatesPerKey ?? DEFAULT_MAX_STATES_PER_KEY;
  if (!(maxStates > 0)) throw new TypeError(`maxStatesPerKey must be positive, got ${maxStates}`);

  // 1. Validate and assign dense key ids.
  /** @type {Map<number, number>} */
  const keyId = new Map();
  /** @type {number[]} */
  const keys = [];
  /** @type {number[]} */
  const counts = [];
  const kid = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = key[i];
    const kd = kind[i];
    if (!Number.isSafeInteger(k)) throw new TypeError(`op #${i}: key ${k} is not an integer`);
    if (!(inv[i] < res[i]) || !Number.isFinite(inv[i]) || !Number.isFinite(res[i])) {
      throw new TypeError(`op #${i}: need finite inv < res, got inv=${inv[i]} res=${res[i]}`);
    }
    if (kd === PUT || kd === INSERT) {
      const v = value[i];
      if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`op #${i}: ${KIND_NAMES[kd]} value must be a positive integer, got ${v}`);
    }
    const r = result[i];
    if (kd === GET) {
      if (!Number.isSafeInteger(r) || r < 0) throw new TypeError(`op #${i}: get result must be a non-negative integer, got ${r}`);
    } else if (kd === INSERT || kd === REMOVE) {
      if (r !== 0 && r !== 1) throw new TypeError(`op #${i}: ${KIND_NAMES[kd]} result must be 0 or 1, got ${r}`);
    }
    let id = keyId.get(k);
    if (id === undefined) {
      id = keys.length;
      keyId.set(k, id);
      keys.push(k);
      counts.push(0);
    }
    kid[i] = id;
    counts[id]++;
  }
  if (initial) {
    for (const [k, v] of initial) {
      if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`initial value for key ${k} must be a non-negative integer, got ${v}`);
    }
  }

  // 2. Counting sort of op indices by key id.
  const nk = keys.length;
  const start = new Int32Array(nk + 1);
  let maxM = 0;
  for (let id = 0; id < nk; id++) {
    start[id + 1] = start[id] + counts[id];
    if (counts[id] > maxM) maxM = counts[id];
  }
  const fill = start.slice(0, nk);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[kid[i]]++] = i;

  // 3. Check keys in ascending key order (deterministic first failure).
  const ids = Array.from({ length: nk }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const scratch = new Scratch(maxM);
  const byInv = (/** @type {number} */ a, /** @type {number} */ b) => inv[a] - inv[b] || a - b;
  for (const id of ids) {
    const sub = order.subarray(start[id], start[id + 1]);
    sub.sort(byInv);
    const k = keys[id];
    const init = initial?.get(k) ?? 0;
    const fail = checkKey(k, sub, flat, init, maxStates, scratch);
    if (fail) {
      return { ok: false, key: k, reason: fail.reason, ops: fail.excerpt.map((i) => opAt(i)) };
    }
  }
  return { ok: true, keys: nk, ops: n };
}

// ---------------------------------------------------------------------------
// Per-key search
// ---------------------------------------------------------------------------

/** Reusable buffers, sized for the largest per-key history. */
class Scratch {
  /** @param {number} maxM */
  constructor(maxM) {
    const m = Math.max(1, maxM);
    const words = (m >> 5) + 2;
    this.kind = new Uint8Array(m); // op kind
    this.arg = new Int32Array(m); // put/insert: state id written; get: state id expected (-1 = never written)
    this.rslt = new Uint8Array(m); // insert/remove: 0/1
    this.inv = new Float64Array(m);
    this.res = new Float64Array(m);
    this.retOrder = new Int32Array(m);
    this.next = new Int32Array(2 * m + 1); // linked list of events; call i = i, return i = m + i, head = 2m
    this.prev = new Int32Array(2 * m + 1);
    this.bits = new Int32Array(words); // S as a bitset over local op indices
    this.bestWords = new Int32Array(words);
    this.stackOp = new Int32Array(m);
    this.stackState = new Int32Array(m);
    this.stackHi = new Int32Array(m);
    this.table = new Int32Array(1024); // memo hash table: pool offset + 1, 0 = empty
    this.tableHash = new Int32Array(1024);
    this.pool = new Int32Array(1 << 16); // memo entries: [state, p, nw, word...]
  }
}

/**
 * Check one key's sub-history, in four steps: rename its values to small state ids, build the
 * event list, search for a linearization (WGL with a memo table), and, if there is none, report
 * the deepest point the search reached.
 * @param {number} key
 * @param {Int32Array} sub      global op indices of this key, sorted by inv
 * @param {Flat} flat
 * @param {number} initValue
 * @param {number} maxStates
 * @param {Scratch} s
 * @returns {null | { reason: string, excerpt: number[] }}
 */
function checkKey(key, sub, flat, initValue, maxStates, s) {
  const m = sub.length;
  const states = renameValues(key, sub, flat, initValue, s);
  if ('reason' in states) return states;
  const head = buildEventList(m, s);
  const memo = createMemo(m, s);
  const found = searchLinearization(m, head, states.initState, memo, maxStates, s);
  if (found === null) return null;
  return failureReport(key, sub, flat, m, states.valueOf, found, memo.poolFull(), maxStates, s);
}

/**
 * Step 1: copies the key's ops into the scratch arrays (kind, inv, res, results) and renames the
 * values written and read to small state ids (0 = absent). A get that read a value never written
 * to the key (nor its initial value) fails at once, with a precise report.
 * @param {number} key @param {Int32Array} sub @param {Flat} flat @param {number} initValue
 * @param {Scratch} s
 * @returns {{ initState: number, valueOf: number[] } | { reason: string, excerpt: number[] }}
 */
function renameValues(key, sub, flat, initValue, s) {
  const m = sub.length;
  const { kind: lkind, arg, rslt, inv: linv, res: lres } = s;
  /** @type {Map<number, number>} */
  const stateOf = new Map();
  /** @type {number[]} */
  const valueOf = [0];
  /** @param {number} v */
  const idOf = (v) => {
    let id = stateOf.get(v);
    if (id === undefined) {
      id = valueOf.length;
      stateOf.set(v, id);
      valueOf.push(v);
    }
    return id;
  };
  const initState = initValue === 0 ? 0 : idOf(initValue);
  for (let i = 0; i < m; i++) {
    const g = sub[i];
    const kd = flat.kind[g];
    lkind[i] = kd;
    linv[i] = flat.inv[g];
    lres[i] = flat.res[g];
    rslt[i] = kd === INSERT || kd === REMOVE ? flat.result[g] : 0;
    if (kd === PUT || kd === INSERT) arg[i] = idOf(flat.value[g]);
  }
  for (let i = 0; i < m; i++) {
    if (lkind[i] !== GET) continue;
    const r = flat.result[sub[i]];
    if (r === 0) arg[i] = 0;
    else {
      const id = stateOf.get(r);
      if (id === undefined) {
        // Fast, precise diagnosis of the most common failure.
        return {
          reason: `key ${key}: ${describeLocal(flat, sub[i])} read a value that was never written to key ${key}` +
            (initValue !== 0 ? ` (initial value ${initValue})` : ' (and is not its initial value)'),
          excerpt: [sub[i]],
        };
      }
      arg[i] = id;
    }
  }
  return { initState, valueOf };
}

/**
 * Step 2: the event list, calls in inv order merged with returns in res order, doubly linked in
 * s.next / s.prev (call i = i, return i = m + i). Returns the head (2m), which links to the first
 * event and is linked from the last.
 * @param {number} m @param {Scratch} s @returns {number}
 */
function buildEventList(m, s) {
  const { inv: linv, res: lres, next, prev } = s;
  const retOrder = s.retOrder.subarray(0, m);
  for (let i = 0; i < m; i++) retOrder[i] = i;
  retOrder.sort((a, b) => lres[a] - lres[b] || a - b);
  const head = 2 * m;
  let last = head;
  for (let ci = 0, ri = 0; ci < m || ri < m; ) {
    let e;
    // "<=": at equal timestamps the call comes first, i.e. the ops overlap.
    if (ci < m && (ri === m || linv[ci] <= lres[retOrder[ri]])) e = ci++;
    else e = m + retOrder[ri++];
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = head;
  prev[head] = last;
  return head;
}

/**
 * @typedef {object} Memo
 * @property {(st: number, p: number, hi: number) => boolean} add
 *   Insert configuration (st, S) where S is given canonically by p (first op not in S) and hi
 *   (largest op in S) plus s.bits. Returns false if it was already present (true also when the
 *   pool is full: the caller then checks poolFull()).
 * @property {() => number} count  configurations stored
 * @property {() => boolean} poolFull  whether a configuration did not fit in MAX_POOL_WORDS
 */

/**
 * Step 3a: the memo table of visited configurations (open addressing, exact comparison), in the
 * scratch buffers, emptied for this key.
 * @param {number} m @param {Scratch} s @returns {Memo}
 */
function createMemo(m, s) {
  const { bits } = s;
  let cap = 1024;
  while (cap < 4 * m) cap <<= 1;
  if (s.table.length < cap) {
    s.table = new Int32Array(cap);
    s.tableHash = new Int32Array(cap);
  } else {
    s.table.fill(0, 0, cap);
  }
  let table = s.table;
  let tableHash = s.tableHash;
  let mask = cap - 1;
  let pool = s.pool;
  let poolLen = 0;
  let count = 0;
  let poolFull = false;

  /** @param {number} st @param {number} p @param {number} hi */
  const memoAdd = (st, p, hi) => {
    const w0 = p >> 5;
    const nw = hi >= p ? (hi >> 5) - w0 + 1 : 0;
    let h = Math.imul(st ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(p + 0x27d4eb2f, 0x85ebca6b);
    for (let w = 0; w < nw; w++) {
      h = Math.imul(h ^ bits[w0 + w], 0xc2b2ae35);
      h ^= h >>> 15;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    let slot = h & mask;
    for (;;) {
      const off1 = table[slot];
      if (off1 === 0) break;
      if (tableHash[slot] === h) {
        const off = off1 - 1;
        if (pool[off] === st && pool[off + 1] === p && pool[off + 2] === nw) {
          let same = true;
          for (let w = 0; w < nw; w++) {
            if (pool[off + 3 + w] !== bits[w0 + w]) {
              same = false;
              break;
            }
          }
          if (same) return false;
        }
      }
      slot = (slot + 1) & mask;
    }
    // New configuration.
    if (poolLen + 3 + nw > pool.length) {
      if (poolLen + 3 + nw > MAX_POOL_WORDS) {
        poolFull = true;
        return true; // caller stops on poolFull
      }
      const bigger = new Int32Array(Math.min(MAX_POOL_WORDS, Math.max(pool.length * 2, poolLen + 3 + nw)));
      bigger.set(pool.subarray(0, poolLen));
      pool = s.pool = bigger;
    }
    const off = poolLen;
    pool[off] = st;
    pool[off + 1] = p;
    pool[off + 2] = nw;
    for (let w = 0; w < nw; w++) pool[off + 3 + w] = bits[w0 + w];
    poolLen += 3 + nw;
    table[slot] = off + 1;
    tableHash[slot] = h;
    count++;
    if (count * 2 > cap) {
      // Grow and rehash using the stored hashes.
      const ncap = cap * 2;
      const nt = new Int32Array(ncap);
      const nh = new Int32Array(ncap);
      const nmask = ncap - 1;
      for (let i = 0; i < cap; i++) {
        const o = table[i];
        if (o === 0) continue;
        let j = tableHash[i] & nmask;
        while (nt[j] !== 0) j = (j + 1) & nmask;
        nt[j] = o;
        nh[j] = tableHash[i];
      }
      cap = ncap;
      mask = nmask;
      table = s.table = nt;
      tableHash = s.tableHash = nh;
    }
    return true;
  };
  return { add: memoAdd, count: () => count, poolFull: () => poolFull };
}

/**
 * @typedef {object} Deepest  where a failed search got furthest (its set S in s.bestWords)
 * @property {number} depth  ops linearized
 * @property {number} p      first op not in S
 * @property {number} hi     largest op in S
 * @property {number} state  the key's state there
 * @property {boolean} limitHit  the search stopped at maxStates or a full pool (inconclusive)
 */

/**
 * Step 3b: the depth-first search (WGL, see the header). Returns null if every op was
 * linearized; otherwise the deepest configuration reached.
 * @param {number} m @param {number} head @param {number} initState @param {Memo} memo
 * @param {number} maxStates @param {Scratch} s
 * @returns {null | Deepest}
 */
function searchLinearization(m, head, initState, memo, maxStates, s) {
  const { kind: lkind, arg, rslt, next, prev, bits } = s;
  const memoAdd = memo.add;
  const nWords = (m >> 5) + 1;
  bits.fill(0, 0, nWords + 1);
  const { stackOp, stackState, stackHi, bestWords } = s;
  let depth = 0; // == |S|
  let state = initState;
  let hi = -1; // largest op index in S
  // Deepest configuration reached, for the failure report.
  let bestDepth = 0;
  let bestP = 0;
  let bestHi = -1;
  let bestState = initState;
  let limitHit = false;

  if (m === 0) return null;
  let e = next[head];
  for (;;) {
    if (e < m) {
      // Call event of a minimal op: try to linearize op e next.
      const i = e;
      let ok = false;
      let ns = state;
      switch (lkind[i]) {
        case GET:
          ok = arg[i] === state;
          break;
        case PUT:
          ok = true;
          ns = arg[i];
          break;
        case INSERT:
          if (state === 0) {
            ok = rslt[i] === 1;
            ns = arg[i];
          } else ok = rslt[i] === 0;
          break;
        default: // REMOVE
          if (state !== 0) {
            ok = rslt[i] === 1;
            ns = 0;
          } else ok = rslt[i] === 0;
      }
      if (ok) {
        // Lift the call and return events of op i.
        const r = m + i;
        next[prev[i]] = next[i];
        prev[next[i]] = prev[i];
        next[prev[r]] = next[r];
        prev[next[r]] = prev[r];
        if (next[head] === head) return null; // all ops linearized
        bits[i >> 5] |= 1 << (i & 31);
        const nhi = i > hi ? i : hi;
        const p = next[head]; // head is always a call event: the first op not in S
        if (memoAdd(ns, p, nhi)) {
          if (memo.poolFull() || memo.count() > maxStates) {
            limitHit = true;
            break;
          }
          stackOp[depth] = i;
          stackState[depth] = state;
          stackHi[depth] = hi;
          depth++;
          state = ns;
          hi = nhi;
          if (depth > bestDepth) {
            bestDepth = depth;
            bestP = p;
            bestHi = hi;
            bestState = state;
            const w0 = p >> 5;
            for (let w = w0, w1 = hi >> 5; w <= w1; w++) bestWords[w - w0] = bits[w];
          }
          e = p;
          continue;
        }
        // Already explored (S + i, ns): undo.
        bits[i >> 5] &= ~(1 << (i & 31));
        next[prev[r]] = r;
        prev[next[r]] = r;
        next[prev[i]] = i;
        prev[next[i]] = i;
      }
      e = next[e];
    } else {
      // Return event: no remaining minimal op can be linearized here.
      if (depth === 0) break;
      depth--;
      const i = stackOp[depth];
      state = stackState[depth];
      hi = stackHi[depth];
      bits[i >> 5] &= ~(1 << (i & 31));
      const r = m + i;
      next[prev[r]] = r;
      prev[next[r]] = r;
      next[prev[i]] = i;
      prev[next[i]] = i;
      e = next[i];
    }
  }
  return { depth: bestDepth, p: bestP, hi: bestHi, state: bestState, limitHit };
}

/**
 * Step 4: the failure report: where the search got furthest, the ops that could have come next
 * there, and an excerpt of the history around them.
 * @param {number} key @param {Int32Array} sub @param {Flat} flat @param {number} m
 * @param {number[]} valueOf  state id -> value @param {Deepest} best @param {boolean} poolFull
 * @param {number} maxStates @param {Scratch} s
 * @returns {{ reason: string, excerpt: number[] }}
 */
function failureReport(key, sub, flat, m, valueOf, best, poolFull, maxStates, s) {
  const { kind: lkind, arg, inv: linv, res: lres, bestWords } = s;
  const { depth: bestDepth, p: bestP, hi: bestHi, state: bestState, limitHit } = best;
  /** @param {number} i */
  const inBest = (i) =>
    i < bestP || (i <= bestHi && ((bestWords[(i >> 5) - (bestP >> 5)] >>> (i & 31)) & 1) === 1);
  // Minimal pending ops at the deepest configuration.
  let minRes = Infinity;
  for (let i = bestP; i < m && linv[i] <= minRes; i++) if (!inBest(i) && lres[i] < minRes) minRes = lres[i];
  /** @type {number[]} */
  const cands = [];
  for (let i = bestP; i < m && linv[i] <= minRes; i++) if (!inBest(i)) cands.push(i);
  const lo = Math.min(...cands.map((i) => linv[i]));

  // Excerpt: the pending minimal ops, the writers of the current value and of
  // the values they read, and every op overlapping that window.
  /** @type {Set<number>} */
  const must = new Set(cands);
  /** @param {number} st */
  const addWriter = (st) => {
    if (st <= 0) return;
    for (let i = 0; i < m; i++) if ((lkind[i] === PUT || lkind[i] === INSERT) && arg[i] === st) must.add(i);
  };
  addWriter(bestState);
  for (const i of cands) if (lkind[i] === GET) addWriter(arg[i]);
  /** @type {number[]} */
  const around = [];
  for (let i = 0; i < m && linv[i] <= minRes; i++) if (!must.has(i) && lres[i] >= lo) around.push(i);
  // Also a few ops right before the window, for context.
  for (let i = Math.max(0, bestP - 3); i < bestP; i++) if (!must.has(i) && lres[i] < lo) around.push(i);
  around.sort((a, b) => linv[b] - linv[a]); // keep the latest ones if capped
  const excerptLocal = [...must, ...around.slice(0, EXCERPT_LIMIT)].sort((a, b) => linv[a] - linv[b]);

  const v = valueOf[bestState];
  const where =
    `after linearizing ${bestDepth} of ${m} ops (deepest point reached) the key is ` +
    `${v === 0 ? 'absent' : `holding ${v}`}`;
  let reason;
  if (limitHit) {
    reason =
      `search limit exceeded for key ${key}: more than ${poolFull ? `${MAX_POOL_WORDS} memo words` : `${maxStates} states`} ` +
      `visited (${m} ops); inconclusive, treated as failure; ${where}`;
  } else {
    reason =
      `key ${key}: history is not linearizable; ${where}, and none of the ` +
      `${cands.length} op(s) that may come next is consistent with that: ` +
      cands.map((i) => describeLocal(flat, sub[i])).join('; ');
  }
  return { reason, excerpt: excerptLocal.map((i) => sub[i]) };
}

/** @param {Flat} flat @param {number} g */
function describeLocal(flat, g) {
  return describeOp({
    kind: KIND_NAMES[flat.kind[g]],
    key: flat.key[g],
    value: flat.value[g],
    result: flat.result[g],
    inv: flat.inv[g],
    res: flat.res[g],
  });
}
