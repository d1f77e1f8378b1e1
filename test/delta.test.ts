// Incremental checkpoints' index of changes (bindings/delta.ts, Changes): the last record of each
// key among every record since the last checkpoint, checked against a plain model.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Changes, keyHash } from '../dist/delta.js';
import { LOG_HEADER, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP } from '../dist/abi.generated.js';

interface Rec { type: number; tree: number; key: Uint8Array; value: Uint8Array }

/** One log record's bytes (assembly/log/log.ts: the header, the key, the value, padded to 8). */
function encode(r: Rec): Uint8Array {
  const len = LOG_HEADER + r.key.length + r.value.length;
  const b = new Uint8Array((len + 7) & ~7);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  b[8] = r.type;
  dv.setUint16(12, r.tree, true);
  dv.setUint16(14, r.key.length, true);
  b.set(r.key, LOG_HEADER);
  b.set(r.value, LOG_HEADER + r.key.length);
  return b;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The records cut into runs at `cuts` (record indexes), each run one buffer, as the history gives them. */
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

/** What Changes should hold: per tree, reset and the last record of each key (hex of its bytes). */
function model(recs: Rec[]): Map<number, { reset: boolean; last: Map<string, string> }> {
  const m = new Map<number, { reset: boolean; last: Map<string, string> }>();
  for (const r of recs) {
    if (r.type === LOG_CREATE || r.type === LOG_DROP) { m.set(r.tree, { reset: true, last: new Map() }); continue; }
    if (!m.has(r.tree)) m.set(r.tree, { reset: false, last: new Map() });
    m.get(r.tree)!.last.set(hex(r.key), hex(encode(r)));
  }
  return m;
}

function check(recs: Rec[], cuts: number[]): void {
  const bytes = recs.map(encode);
  const all = runs(bytes, cuts);
  const end = bytes.reduce((n, r) => n + r.length, 0);
  const ch = new Changes(0, end);
  for (const r of all) expect(ch.add(r.bytes, r.start)).toBe(true);
  const want = model(recs);
  expect([...ch.tables.keys()].sort()).toEqual([...want.keys()].sort());
  let total = 0;
  const runsKept = new Set<ArrayBufferLike>();
  for (const [tree, w] of want) {
    const t = ch.tables.get(tree)!;
    for (const r of ch.records(t)) runsKept.add(r.buffer);
    expect(t.reset).toBe(w.reset);
    expect(t.count).toBe(w.last.size);
    const got = ch.records(t).map(hex).sort();
    expect(got).toEqual([...w.last.values()].sort());
    const b = got.reduce((n, h) => n + h.length / 2, 0);
    expect(t.bytes).toBe(b);
    total += b;
  }
  expect(ch.bytes).toBe(total);
  // A run that holds no key's last record is let go of (each run is a buffer of its own here).
  expect(ch.runsHeld).toBe(runsKept.size);
}

describe('the changes since a checkpoint (Changes)', () => {
  it('hold the last record of each key of each table, whatever the keys, the runs and the creates and drops, and only the runs those are in', () => {
    const rec = fc.record({
      type: fc.constantFrom(LOG_PUT, LOG_PUT, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP),
      tree: fc.integer({ min: 1, max: 3 }),
      // few distinct keys, of lengths 1 to 9 (a key that is another's prefix, zero bytes)
      key: fc.uint8Array({ minLength: 1, maxLength: 9 }).map((k) => k.map((x) => x & 3)),
      value: fc.uint8Array({ maxLength: 12 }),
    });
    fc.assert(fc.property(fc.array(rec, { maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 6 }), (recs, cuts) => {
      check(recs.map((r) => (r.type === LOG_PUT ? r : { ...r, value: new Uint8Array(0) })), cuts);
    }), { numRuns: 300 });
  });

  it('tell apart keys whose hashes are equal', () => {
    // Two 8-byte keys with one hash, found by trying (the hash has 30 bits).
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
