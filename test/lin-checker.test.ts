// Tests for the per-key linearizability checker in ./lin/checker.js.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { checkHistory, checkColumnar, toColumnar } from './lin/checker.js';
import { rng } from './helpers.js';

type Kind = 'get' | 'put' | 'insert' | 'remove';
interface Op {
  kind: Kind;
  key: number;
  value: number;
  result: number;
  inv: number;
  res: number;
}

// --- helpers -----------------------------------------------------------------

/** Shorthand constructors: (key, ..., inv, res). */
const get = (key: number, result: number, inv: number, res: number): Op => ({ kind: 'get', key, value: 0, result, inv, res });
const put = (key: number, value: number, inv: number, res: number): Op => ({ kind: 'put', key, value, result: 0, inv, res });
const ins = (key: number, value: number, result: number, inv: number, res: number): Op => ({ kind: 'insert', key, value, result, inv, res });
const rem = (key: number, result: number, inv: number, res: number): Op => ({ kind: 'remove', key, value: 0, result, inv, res });


/** Apply one op to a real Map at its linearization point; returns the result. */
function applyReal(map: Map<number, number>, kind: Kind, key: number, value: number): number {
  const cur = map.get(key) ?? 0;
  switch (kind) {
    case 'get':
      return cur;
    case 'put':
      map.set(key, value);
      return 0;
    case 'insert':
      if (cur !== 0) return 0;
      map.set(key, value);
      return 1;
    case 'remove':
      if (cur === 0) return 0;
      map.delete(key);
      return 1;
  }
}

const KINDS: Kind[] = ['get', 'put', 'insert', 'remove'];

/**
 * Simulate `threads` threads running against a real (atomic) Map. Each step
 * picks a random thread and advances it one stage: idle -> invoked (inv) ->
 * linearized (applied to the real map) -> responded (res). Timestamps come
 * from one counter, so the history is valid by construction and overlaps are
 * random. Returns ops grouped per thread (in each thread's program order).
 */
function simulate(opts: { seed: number; threads: number; keys: number; ops: number }): Op[][] {
  const r = rng(opts.seed);
  const map = new Map<number, number>();
  const perThread: Op[][] = Array.from({ length: opts.threads }, () => []);
  type T = { stage: 0 | 1 | 2; op: Op };
  const th: T[] = Array.from({ length: opts.threads }, () => ({ stage: 0, op: null as unknown as Op }));
  let t = 1;
  let nextValue = 1;
  let started = 0;
  let done = 0;
  while (done < opts.ops) {
    const x = th[Math.floor(r() * opts.threads)];
    if (x.stage === 0) {
      if (started === opts.ops) continue;
      started++;
      const kind = KINDS[Math.floor(r() * 4)];
      const key = Math.floor(r() * opts.keys);
      const value = kind === 'put' || kind === 'insert' ? nextValue++ : 0;
      x.op = { kind, key, value, result: 0, inv: t++, res: 0 };
      x.stage = 1;
    } else if (x.stage === 1) {
      x.op.result = applyReal(map, x.op.kind, x.op.key, x.op.value);
      x.stage = 2;
    } else {
      x.op.res = t++;
      perThread[th.indexOf(x)].push(x.op);
      x.stage = 0;
      done++;
    }
  }
  return perThread;
}

/** Rename all timestamps to distinct consecutive integers, preserving order (ties broken arbitrarily). */
function renumber(ops: Op[]): void {
  const ev: { t: number; op: Op; isRes: boolean }[] = [];
  for (const op of ops) {
    ev.push({ t: op.inv, op, isRes: false }, { t: op.res, op, isRes: true });
  }
  ev.sort((a, b) => a.t - b.t);
  ev.forEach((e, i) => {
    if (e.isRes) e.op.res = i + 1;
    else e.op.inv = i + 1;
  });
}

const NEVER_WRITTEN = 2_000_000_000;

// --- sequential histories -------------------------------------------------------

describe('sequential histories', () => {
  it('accepts a simple sequential history', () => {
    const h = [put(1, 10, 1, 2), get(1, 10, 3, 4), put(2, 20, 5, 6), get(1, 10, 7, 8), rem(1, 1, 9, 10), get(1, 0, 11, 12), get(2, 20, 13, 14)];
    expect(checkHistory(h)).toEqual({ ok: true, keys: 2, ops: 7 });
  });

  it('accepts an empty history', () => {
    expect(checkHistory([])).toEqual({ ok: true, keys: 0, ops: 0 });
    expect(checkColumnar([])).toEqual({ ok: true, keys: 0, ops: 0 });
  });

  it('rejects a wrong read and names the key', () => {
    const h = [put(1, 10, 1, 2), put(7, 70, 3, 4), put(7, 71, 5, 6), get(1, 10, 7, 8), get(7, 70, 9, 10)];
    const r = checkHistory(h);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.key).toBe(7);
    expect(r.reason).toContain('key 7');
    // The excerpt contains the offending read.
    expect(r.ops).toContainEqual(get(7, 70, 9, 10));
  });

  it('rejects a read of a value never written, naming the key', () => {
    const r = checkHistory([put(3, 10, 1, 2), get(3, 11, 3, 4)]);
    expect(r).toMatchObject({ ok: false, key: 3 });
  });

  it('rejects a read of absent after a put', () => {
    expect(checkHistory([put(1, 10, 1, 2), get(1, 0, 3, 4)])).toMatchObject({ ok: false, key: 1 });
  });

  it('respects options.initial', () => {
    const h = [get(5, 50, 1, 2), ins(5, 51, 0, 3, 4), rem(5, 1, 5, 6), ins(5, 52, 1, 7, 8)];
    expect(checkHistory(h).ok).toBe(false);
    expect(checkHistory(h, { initial: new Map([[5, 50]]) }).ok).toBe(true);
    // A read of the initial value after it was overwritten is still stale.
    expect(checkHistory([put(5, 60, 1, 2), get(5, 50, 3, 4)], { initial: new Map([[5, 50]]) }).ok).toBe(false);
  });
});

// --- concurrency ------------------------------------------------------------------

describe('concurrent overlap', () => {
  it('a read overlapping a write may return the old value', () => {
    expect(checkHistory([put(1, 10, 1, 4), get(1, 0, 2, 5)]).ok).toBe(true);
    expect(checkHistory([put(1, 10, 2, 5), get(1, 0, 1, 4)]).ok).toBe(true);
  });

  it('a read overlapping a write may return the new value', () => {
    expect(checkHistory([put(1, 10, 1, 4), get(1, 10, 2, 5)]).ok).toBe(true);
    expect(checkHistory([put(1, 10, 2, 5), get(1, 10, 1, 4)]).ok).toBe(true);
  });

  it('a read strictly after a write completes must not return the old value', () => {
    const r = checkHistory([put(1, 9, 1, 2), put(1, 10, 3, 4), get(1, 9, 5, 6)]);
    expect(r).toMatchObject({ ok: false, key: 1 });
  });

  it('a read strictly before a write is invoked must not return the new value', () => {
    expect(checkHistory([get(1, 10, 1, 2), put(1, 10, 3, 4)])).toMatchObject({ ok: false, key: 1 });
  });

  it('rejects a new-old inversion between two sequential reads overlapping one write', () => {
    //  put(10):  [1 ............ 10]
    //  get->10:     [2, 3]
    //  get->0:             [4, 5]
    const r = checkHistory([put(1, 10, 1, 10), get(1, 10, 2, 3), get(1, 0, 4, 5)]);
    expect(r).toMatchObject({ ok: false, key: 1 });
    // Old-then-new is fine.
    expect(checkHistory([put(1, 10, 1, 10), get(1, 0, 2, 3), get(1, 10, 4, 5)]).ok).toBe(true);
  });

  it('two overlapping reads may disagree in either direction', () => {
    expect(checkHistory([put(1, 10, 1, 10), get(1, 10, 2, 5), get(1, 0, 3, 6)]).ok).toBe(true);
  });

  it('treats equal timestamps (A.res == B.inv) as overlapping', () => {
    // Not strictly distinct timestamps, but must not be rejected: the put may linearize after the get.
    expect(checkHistory([put(1, 10, 1, 3), get(1, 0, 3, 4)]).ok).toBe(true);
  });

  it('orders concurrent writes consistently with later reads', () => {
    // Two overlapping puts, then two sequential reads: the later read can't flip back.
    const base = [put(1, 10, 1, 5), put(1, 11, 2, 6)];
    expect(checkHistory([...base, get(1, 10, 7, 8), get(1, 10, 9, 10)]).ok).toBe(true);
    expect(checkHistory([...base, get(1, 11, 7, 8), get(1, 11, 9, 10)]).ok).toBe(true);
    expect(checkHistory([...base, get(1, 10, 7, 8), get(1, 11, 9, 10)]).ok).toBe(false);
    expect(checkHistory([...base, get(1, 11, 7, 8), get(1, 10, 9, 10)]).ok).toBe(false);
  });
});

describe('insert / remove semantics', () => {
  it('two concurrent inserts of the same key cannot both succeed', () => {
    expect(checkHistory([ins(1, 10, 1, 1, 4), ins(1, 11, 1, 2, 5)])).toMatchObject({ ok: false, key: 1 });
  });

  it('exactly one of two concurrent inserts succeeding is fine', () => {
    expect(checkHistory([ins(1, 10, 1, 1, 4), ins(1, 11, 0, 2, 5)]).ok).toBe(true);
    expect(checkHistory([ins(1, 10, 0, 1, 4), ins(1, 11, 1, 2, 5)]).ok).toBe(true);
  });

  it('the losing insert does not change the value', () => {
    const h = [ins(1, 10, 1, 1, 4), ins(1, 11, 0, 2, 5)];
    expect(checkHistory([...h, get(1, 10, 6, 7)]).ok).toBe(true);
    expect(checkHistory([...h, get(1, 11, 6, 7)]).ok).toBe(false);
  });

  it('both concurrent inserts failing needs the key to exist', () => {
    expect(checkHistory([ins(1, 10, 0, 1, 4), ins(1, 11, 0, 2, 5)]).ok).toBe(false);
    expect(checkHistory([put(1, 9, 1, 3), ins(1, 10, 0, 2, 5), ins(1, 11, 0, 4, 6)]).ok).toBe(true);
  });

  it('remove of an absent key must report 0', () => {
    expect(checkHistory([rem(1, 0, 1, 2)]).ok).toBe(true);
    expect(checkHistory([rem(1, 1, 1, 2)])).toMatchObject({ ok: false, key: 1 });
  });

  it('two concurrent removes of one present key cannot both succeed', () => {
    expect(checkHistory([put(1, 10, 1, 2), rem(1, 1, 3, 6), rem(1, 1, 4, 7)]).ok).toBe(false);
    expect(checkHistory([put(1, 10, 1, 2), rem(1, 1, 3, 6), rem(1, 0, 4, 7)]).ok).toBe(true);
  });

  it('remove then insert then read', () => {
    const h = [put(1, 10, 1, 2), rem(1, 1, 3, 4), ins(1, 11, 1, 5, 6), get(1, 11, 7, 8)];
    expect(checkHistory(h).ok).toBe(true);
    expect(checkHistory([...h.slice(0, 3), get(1, 10, 7, 8)]).ok).toBe(false);
  });
});

describe('input handling', () => {
  it('throws on malformed ops instead of giving a verdict', () => {
    expect(() => checkHistory([{ ...get(1, 0, 1, 2), kind: 'scan' as Kind }])).toThrow(TypeError);
    expect(() => checkHistory([get(1, 0, 2, 2)])).toThrow(TypeError);
    expect(() => checkHistory([put(1, 0, 1, 2)])).toThrow(TypeError);
    expect(() => checkHistory([ins(1, 5, 2, 1, 2)])).toThrow(TypeError);
    expect(() => checkHistory([get(1.5, 0, 1, 2)])).toThrow(TypeError);
  });

  it('reports a search limit as failure, never as a silent pass', () => {
    const h: Op[] = [];
    for (let i = 0; i < 20; i++) h.push(put(1, i + 1, 2 * i + 1, 2 * i + 2));
    expect(checkHistory(h).ok).toBe(true);
    const r = checkHistory(h, { maxStatesPerKey: 5 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.key).toBe(1);
      expect(r.reason).toMatch(/search limit/);
    }
  });
});

// --- property tests -------------------------------------------------------------------

const cmdArb = fc.record({
  kind: fc.constantFrom<Kind>(...KINDS),
  key: fc.integer({ min: 0, max: 3 }),
  widenL: fc.nat({ max: 40 }),
  widenR: fc.nat({ max: 40 }),
});

/**
 * Run commands sequentially against a real Map: op i linearizes at time
 * L_i = 10 * (i + 1). If `widen`, its interval is extended randomly around
 * L_i (up to ~4 neighbours each side) while still containing L_i; otherwise it
 * is [L_i - 1, L_i + 1] (strictly sequential). Timestamps are then renumbered
 * to distinct integers. Always valid by construction.
 */
function buildHistory(cmds: { kind: Kind; key: number; widenL: number; widenR: number }[], widen: boolean): Op[] {
  const map = new Map<number, number>();
  let nextValue = 1;
  const ops = cmds.map((c, i) => {
    const L = 10 * (i + 1);
    const value = c.kind === 'put' || c.kind === 'insert' ? nextValue++ : 0;
    const result = applyReal(map, c.kind, c.key, value);
    return {
      kind: c.kind,
      key: c.key,
      value,
      result: c.kind === 'put' ? 0 : result,
      inv: L - 1 - (widen ? c.widenL : 0),
      res: L + 1 + (widen ? c.widenR : 0),
    };
  });
  renumber(ops);
  return ops;
}

describe('property: histories generated from a real Map', () => {
  it('valid histories with widened intervals pass; a get reading an unexplainable value fails', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 60 }), fc.nat(), (cmds, pick) => {
        const ops = buildHistory(cmds, true);
        const r = checkHistory(ops);
        expect(r).toEqual({ ok: true, keys: new Set(ops.map((o) => o.key)).size, ops: ops.length });
        expect(checkColumnar([toColumnar(ops)])).toEqual(r);

        const gets = ops.map((o, i) => i).filter((i) => ops[i].kind === 'get');
        fc.pre(gets.length > 0);
        const g = gets[pick % gets.length];
        const bad = ops.map((o) => ({ ...o }));
        bad[g].result = NEVER_WRITTEN;
        const rb = checkHistory(bad);
        expect(rb).toMatchObject({ ok: false, key: bad[g].key });
        expect(checkColumnar([toColumnar(bad)])).toEqual(rb);
      }),
      { numRuns: 300 },
    );
  });

  it('strictly sequential histories pass, and changing any non-put result makes them fail', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 60 }), fc.nat(), fc.nat(), (cmds, pick, alt) => {
        const ops = buildHistory(cmds, false);
        expect(checkHistory(ops).ok).toBe(true);

        const cand = ops.map((o, i) => i).filter((i) => ops[i].kind !== 'put');
        fc.pre(cand.length > 0);
        const j = cand[pick % cand.length];
        const bad = ops.map((o) => ({ ...o }));
        const op = bad[j];
        if (op.kind === 'get') {
          // Any other value: absent, some other written value, or garbage.
          const written = ops.filter((o) => o.value > 0).map((o) => o.value);
          const choices = [0, NEVER_WRITTEN, ...written].filter((v) => v !== op.result);
          op.result = choices[alt % choices.length];
        } else {
          op.result = 1 - op.result;
        }
        // A sequential history has exactly one order, so any wrong result is caught.
        expect(checkHistory(bad)).toMatchObject({ ok: false, key: op.key });
      }),
      { numRuns: 300 },
    );
  });

  it('simulated concurrent threads on few hot keys pass, columnar agrees, stale mutations fail', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 2, max: 8 }), (seed, threads) => {
        const per = simulate({ seed, threads, keys: 3, ops: 300 });
        const all = per.flat();
        const r = checkHistory(all);
        expect(r.ok).toBe(true);
        expect(checkColumnar(per.map(toColumnar))).toEqual(r);
        // Turn a get that read a value into one that read a value overwritten
        // before the get was even invoked: must fail.
        const writes = all.filter((o) => o.kind === 'put' || (o.kind === 'insert' && o.result === 1));
        for (const g of all) {
          if (g.kind !== 'get') continue;
          // w1 then w2 (same key) both complete before g starts, w1 before w2 in real time.
          const before = writes.filter((w) => w.key === g.key && w.res < g.inv);
          const w1 = before.find((a) => before.some((b) => a.res < b.inv && b.res < g.inv));
          if (!w1) continue;
          const bad = all.map((o) => (o === g ? { ...o, result: w1.value } : o));
          // Only a real mutation if no later write could have re-set w1's value (values are unique).
          if (g.result === w1.value) continue;
          const rb = checkHistory(bad);
          expect(rb).toMatchObject({ ok: false, key: g.key });
          expect(checkColumnar([toColumnar(bad)])).toEqual(rb);
          break;
        }
      }),
      { numRuns: 100 },
    );
  });
});

// --- columnar form ---------------------------------------------------------------------

describe('columnar form', () => {
  it('gives the same answers as the object form on hand-written cases', () => {
    const cases: Op[][] = [
      [put(1, 10, 1, 2), get(1, 10, 3, 4)],
      [put(1, 10, 1, 10), get(1, 10, 2, 3), get(1, 0, 4, 5)],
      [ins(1, 10, 1, 1, 4), ins(1, 11, 1, 2, 5)],
      [ins(1, 10, 1, 1, 4), ins(1, 11, 0, 2, 5), put(2, 5, 1, 3), get(2, 0, 4, 5)],
      [rem(4, 1, 1, 2)],
    ];
    for (const h of cases) {
      const obj = checkHistory(h);
      // Split across several chunks, in a scrambled order.
      const chunks = [toColumnar(h.filter((_, i) => i % 2 === 1)), toColumnar(h.filter((_, i) => i % 2 === 0))];
      expect(checkColumnar(chunks)).toEqual(obj);
    }
  });

  it('only reads the first `length` entries of each chunk', () => {
    const c = toColumnar([put(1, 10, 1, 2), get(1, 10, 3, 4), get(1, 999, 5, 6)]);
    expect(checkColumnar([c]).ok).toBe(false);
    expect(checkColumnar([{ ...c, length: 2 }])).toEqual({ ok: true, keys: 1, ops: 2 });
  });

  it('ignores value for get/remove and result for put, like the object form', () => {
    const h = [{ ...put(1, 10, 1, 2), result: 77 }, { ...get(1, 10, 3, 4), value: 5 }, { ...rem(1, 1, 5, 6), value: 9 }];
    expect(checkHistory(h).ok).toBe(true);
    expect(checkColumnar([toColumnar(h)]).ok).toBe(true);
  });
});

// --- scale -------------------------------------------------------------------------------

describe('performance sanity', () => {
  it('checks 200k concurrent ops over 2k keys (4 threads)', () => {
    const per = simulate({ seed: 12345, threads: 4, keys: 2000, ops: 200_000 });
    const all = per.flat();
    expect(all.length).toBe(200_000);
    const t0 = performance.now();
    const r = checkHistory(all);
    const t1 = performance.now();
    const rc = checkColumnar(per.map(toColumnar));
    const t2 = performance.now();
    console.log(`lin-checker: 200k ops / 2k keys: object ${(t1 - t0).toFixed(0)} ms, columnar ${(t2 - t1).toFixed(0)} ms`);
    expect(r).toEqual({ ok: true, keys: 2000, ops: 200_000 });
    expect(rc).toEqual(r);
  }, 20_000);

  it('handles one long, highly concurrent per-key history (8 threads, 1 key) without recursion limits', () => {
    const per = simulate({ seed: 99, threads: 8, keys: 1, ops: 50_000 });
    const all = per.flat();
    expect(checkHistory(all)).toEqual({ ok: true, keys: 1, ops: 50_000 });
    // And a single stale read at the end is found.
    const last = all.reduce((a, b) => (b.inv > a.inv ? b : a));
    const firstPut = all.filter((o) => o.kind === 'put').reduce((a, b) => (b.inv < a.inv ? b : a));
    const stale = { kind: 'get' as const, key: last.key, value: 0, result: firstPut.value, inv: last.res + 1, res: last.res + 2 };
    expect(checkHistory([...all, stale])).toMatchObject({ ok: false, key: 0 });
  }, 20_000);

  it('handles a stalled op spanning the whole per-key history', () => {
    // 20k sequential puts; one get that spans all of them reads a value from the middle.
    const h: Op[] = [];
    for (let i = 0; i < 20_000; i++) h.push(put(1, i + 1, 10 * i + 2, 10 * i + 3));
    h.push(get(1, 10_000, 1, 10 * 20_000 + 5));
    expect(checkHistory(h)).toEqual({ ok: true, keys: 1, ops: 20_001 });
    h[h.length - 1] = get(1, 0, 5, 10 * 20_000 + 5); // absent is only possible before the first put, which precedes it
    expect(checkHistory(h)).toMatchObject({ ok: false, key: 1 });
  }, 20_000);
});

// --- differential test against brute force ------------------------------------------------

/** Exhaustive linearizability check over whole-history orders (no per-key split): tiny inputs only. */
function bruteForce(ops: Op[], initial = new Map<number, number>()): boolean {
  const n = ops.length;
  const used = new Array<boolean>(n).fill(false);
  const map = new Map(initial);
  const rec = (done: number): boolean => {
    if (done === n) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      // i may go next only if no other pending op finished before i was invoked.
      if (ops.some((o, j) => !used[j] && j !== i && o.res < ops[i].inv)) continue;
      const saved = map.get(ops[i].key);
      const r = applyReal(map, ops[i].kind, ops[i].key, ops[i].value);
      if (ops[i].kind === 'put' || r === ops[i].result) {
        used[i] = true;
        if (rec(done + 1)) return true;
        used[i] = false;
      }
      if (saved === undefined) map.delete(ops[i].key);
      else map.set(ops[i].key, saved);
    }
    return false;
  };
  return rec(0);
}

describe('differential: agrees with brute force on small random histories', () => {
  it('valid and randomly corrupted histories', () => {
    let fails = 0;
    let passes = 0;
    fc.assert(
      fc.property(
        fc.array(cmdArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        (cmds, [pick, alt, wide], corrupt, init) => {
          const ops = buildHistory(cmds, wide % 2 === 0);
          const initial = new Map<number, number>(init === undefined ? [] : [[0, 1000 + init]]);
          if (corrupt) {
            const op = ops[pick % ops.length];
            if (op.kind === 'get') {
              const choices = [0, 1000 + (init ?? 0), ...ops.filter((o) => o.value > 0).map((o) => o.value)];
              op.result = choices[alt % choices.length];
            } else op.result = 1 - op.result;
          }
          const expected = bruteForce(ops, initial);
          if (expected) passes++;
          else fails++;
          const r = checkHistory(ops, { initial });
          expect(r.ok).toBe(expected);
          expect(checkColumnar([toColumnar(ops)], { initial }).ok).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
    // Make sure both verdicts were actually exercised.
    expect(passes).toBeGreaterThan(100);
    expect(fails).toBeGreaterThan(100);
  });
});
