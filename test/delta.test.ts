// Incremental checkpoints' index of changes (bindings/delta.ts, Changes): the last record of each
// key among every record since the last checkpoint, checked against a plain model.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Changes, keyHash, HASH_MASK } from '../dist/delta.js';
import { LOG_HEADER, LOG_R_LEN, LOG_R_TYPE, LOG_R_TREE, LOG_R_KLEN, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP } from '../dist/abi.generated.js';
import { recordSize } from '../dist/log.js';

interface Rec { type: number; tree: number; key: Uint8Array; value: Uint8Array }

/** One log record's bytes (assembly/log/log.ts: the header, the key, the value, padded to 8). */
function encode(r: Rec): Uint8Array {
  const len = LOG_HEADER + r.key.length + r.value.length;
  const b = new Uint8Array(recordSize(len));
  const dv = new DataView(b.buffer);
  dv.setUint32(LOG_R_LEN, len, true);
  b[LOG_R_TYPE] = r.type;
  dv.setUint16(LOG_R_TREE, r.tree, true);
  dv.setUint16(LOG_R_KLEN, r.key.length, true);
  b.set(r.key, LOG_HEADER);
  b.set(r.value, LOG_HEADER + r.key.length);
  return b;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The records cut into runs at `cuts` (record indexes), each run a buffer of its own, as the history gives them. */
function runs(recs: Uint8Array[], cuts: number[]): { bytes: Uint8Array; start: number }[] {
  const out: { bytes: Uint8Array; start: number }[] = [];
  let pos = 0;
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < recs.length), recs.length])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = recs.slice(bounds[i], bounds[i + 1]);
    const bytes = new Uint8Array(part.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of part) { bytes.set(r, at); at += r.length; }
    out.push({ bytes, start: pos });
    pos += bytes.length;
  }
  return out;
}

interface Want { tables: Map<number, { reset: boolean; last: Map<string, string>; bytes: number }>; bytes: number; over: boolean }

/** What Changes should hold after the records at positions [from, to), stopping once the bytes pass `budget`. */
function model(recs: Uint8Array[], from: number, to: number, budget: number): Want {
  const w: Want = { tables: new Map(), bytes: 0, over: false };
  let pos = 0;
  for (const b of recs) {
    const at = pos;
    pos += b.length;
    if (at < from) continue;
    if (at >= to) break;
    const dv = new DataView(b.buffer);
    const type = b[LOG_R_TYPE];
    const tree = dv.getUint16(LOG_R_TREE, true);
    if (type === LOG_CREATE || type === LOG_DROP) {
      w.bytes -= w.tables.get(tree)?.bytes ?? 0;
      w.tables.set(tree, { reset: true, last: new Map(), bytes: 0 });
      continue;
    }
    if (!w.tables.has(tree)) w.tables.set(tree, { reset: false, last: new Map(), bytes: 0 });
    const t = w.tables.get(tree)!;
    const key = hex(b.subarray(LOG_HEADER, LOG_HEADER + dv.getUint16(LOG_R_KLEN, true)));
    const grew = b.length - (t.last.get(key)?.length ?? 0) / 2;
    t.last.set(key, hex(b));
    t.bytes += grew;
    w.bytes += grew;
    if (w.bytes > budget) { w.over = true; break; }
  }
  return w;
}

/** Feeds the records to a Changes in runs (until it says stop) and checks it against the model. */
function check(recs: Rec[], cuts: number[], opts: { from?: number; to?: number; budget?: number; mask?: number } = {}): void {
  const bytes = recs.map(encode);
  const end = bytes.reduce((n, r) => n + r.length, 0);
  const { from = 0, to = end, budget = Infinity, mask = HASH_MASK } = opts;
  const ch = new Changes(from, to, budget, mask);
  let went = true;
  for (const r of runs(bytes, cuts)) if (went) went = ch.add(r.bytes, r.start);
  const want = model(bytes, from, to, budget);
  expect(went).toBe(!want.over);
  expect(ch.over).toBe(want.over);
  expect([...ch.tables.keys()].sort()).toEqual([...want.tables.keys()].sort());
  const runsKept = new Set<ArrayBufferLike>();
  for (const [tree, w] of want.tables) {
    const t = ch.tables.get(tree)!;
    expect(t.reset).toBe(w.reset);
    expect(t.count).toBe(w.last.size);
    const got = ch.records(t);
    for (const r of got) runsKept.add(r.buffer);
    expect(got.map(hex).sort()).toEqual([...w.last.values()].sort());
    expect(t.bytes).toBe(w.bytes);
  }
  expect(ch.bytes).toBe(want.bytes);
  // A run that holds no key's last record is let go of (each run is a buffer of its own here).
  if (!want.over) expect(ch.runsHeld).toBe(runsKept.size);
}

const recArb = fc.record({
  type: fc.constantFrom(LOG_PUT, LOG_PUT, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP),
  tree: fc.integer({ min: 1, max: 3 }),
  // few distinct keys, of lengths 1 to 9: keys that are others' prefixes, zero bytes
  key: fc.uint8Array({ minLength: 1, maxLength: 9 }).map((k) => k.map((x) => x & 3)),
  value: fc.uint8Array({ maxLength: 12 }),
}).map((r) => (r.type === LOG_PUT ? r : { ...r, value: new Uint8Array(0) }));

describe('the changes since a checkpoint (Changes)', () => {
  it('hold the last record of each key of each table, whatever the keys, the runs, the creates and drops and the hash, and only the runs those are in', () => {
    fc.assert(fc.property(fc.array(recArb, { maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 6 }),
      // the hash's bits: none (every key in one chain) to all
      fc.constantFrom(0, 1, 7, HASH_MASK), (recs, cuts, mask) => {
        check(recs, cuts, { mask });
      }), { numRuns: 400 });
  });

  it('take only the records from `from` to `to`, and stop once the changes pass the budget', () => {
    fc.assert(fc.property(fc.array(recArb, { minLength: 1, maxLength: 120 }), fc.array(fc.nat(120), { maxLength: 4 }),
      fc.nat(120), fc.nat(120), fc.option(fc.nat(2000)), fc.constantFrom(0, 3, HASH_MASK), (recs, cuts, a, b, budget, mask) => {
        // from and to at record boundaries
        const starts = [0];
        for (const r of recs) starts.push(starts[starts.length - 1] + encode(r).length);
        const [i, j] = [a % starts.length, b % starts.length].sort((x, y) => x - y);
        check(recs, cuts, { from: starts[i], to: starts[j], budget: budget ?? Infinity, mask });
      }), { numRuns: 400 });
  });

  it('hold thousands of changed keys (the slots grow) across many runs', () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 12_000; i++) {
      const k = (i * 7919) % 5000;
      recs.push({ type: i % 11 === 0 ? LOG_REMOVE : LOG_PUT, tree: 1 + (k % 2), key: Uint8Array.of(k & 255, k >> 8, 1), value: i % 11 === 0 ? new Uint8Array(0) : Uint8Array.of(i & 255, i >> 8) });
    }
    const cuts = Array.from({ length: 30 }, (_, i) => 400 * (i + 1));
    check(recs, cuts);
    check(recs, cuts, { mask: 255 });
  });

  it('tell apart keys whose hashes are equal', () => {
    // Two 8-byte keys with one hash (of this process's seed), found by trying (the hash has 30 bits).
    const seen = new Map<number, Uint8Array>();
    let pair: [Uint8Array, Uint8Array] | undefined;
    const probe = new Uint8Array(LOG_HEADER + 8);
    for (let i = 0; !pair; i++) {
      const k = new Uint8Array(8);
      new DataView(k.buffer).setUint32(0, i, true);
      new DataView(k.buffer).setUint32(4, Math.imul(i, 0x9e3779b1), true);
      probe.set(k, LOG_HEADER);
      const h = keyHash(probe, 0, 8);
      const other = seen.get(h);
      if (other) pair = [other, k];
      else seen.set(h, k);
    }
    const [a, b] = pair;
    const v = (x: number) => Uint8Array.of(x);
    check([
      { type: LOG_PUT, tree: 1, key: a, value: v(1) },
      { type: LOG_PUT, tree: 1, key: b, value: v(2) },
      { type: LOG_PUT, tree: 1, key: a, value: v(3) },
      { type: LOG_REMOVE, tree: 1, key: b, value: new Uint8Array(0) },
      { type: LOG_PUT, tree: 1, key: a, value: v(4) },
    ], [2, 3]);
  });
});
