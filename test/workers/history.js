// Runs a random single-key workload and records its history for the linearizability checker
// (test/lin/checker.js, columnar form). Invocation and response stamps come from one shared
// atomic counter, so real-time order across workers is captured exactly.
import { GET, PUT, INSERT, REMOVE } from '../lin/checker.js';

/** xorshift32: deterministic per worker. */
export function rng(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/** Key id -> 8 bytes, big-endian, so byte order is numeric order. */
export function keyBytes(k, into = new Uint8Array(8)) {
  new DataView(into.buffer, into.byteOffset, 8).setBigUint64(0, BigInt(k));
  return into;
}

/** Unique value -> 4..20 bytes (first 4 = the value), so overwrites change lengths too. */
function valueBytes(v) {
  const b = new Uint8Array(4 + (v % 3) * 8);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}

function valueOf(bytes) {
  return bytes === undefined ? 0 : new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

/**
 * args: { uri, wid, ops, keyBase, keySpace, stride?, mix: [get, put, insert, remove] weights, seed, clock }
 * Keys are keyBase + stride * (0..keySpace-1).
 * Returns the columnar chunk.
 */
export function runHistory(session, { uri, wid, ops, keyBase, keySpace, stride = 1, mix, seed, clock }) {
  const c = session.openCursor(uri);
  const kind = new Uint8Array(ops);
  const key = new Int32Array(ops);
  const value = new Int32Array(ops);
  const result = new Int32Array(ops);
  const inv = new Float64Array(ops);
  const res = new Float64Array(ops);
  const stamp = new Int32Array(clock);
  const next = rng(seed);
  const total = mix[0] + mix[1] + mix[2] + mix[3];
  const kb = new Uint8Array(8);
  for (let i = 0; i < ops; i++) {
    const k = keyBase + stride * (next() % keySpace);
    const r = next() % total;
    const op = r < mix[0] ? GET : r < mix[0] + mix[1] ? PUT : r < mix[0] + mix[1] + mix[2] ? INSERT : REMOVE;
    const v = wid * 1_000_000 + i + 1;
    keyBytes(k, kb);
    const vb = op === PUT || op === INSERT ? valueBytes(v) : undefined;
    inv[i] = Atomics.add(stamp, 0, 1);
    let out = 0;
    if (op === GET) out = valueOf(c.get(kb));
    else if (op === PUT) c.put(kb, vb);
    else if (op === INSERT) out = c.insert(kb, vb) ? 1 : 0;
    else out = c.remove(kb) ? 1 : 0;
    res[i] = Atomics.add(stamp, 0, 1);
    kind[i] = op; key[i] = k; value[i] = op === PUT || op === INSERT ? v : 0; result[i] = out;
  }
  c.close();
  return { kind, key, value, result, inv, res, length: ops };
}

/**
 * Churn over a sliding window (page deletion stress): the window [back, front) of key ids moves
 * right. Each worker claims ids at the front (insert) and at the back (remove) from shared
 * counters, and mixes in gets and puts at random ids inside the window; every `scanEvery`-th op
 * is a short range scan checked for order. Records the single-key ops like runHistory.
 * args: { uri, wid, ops, window, clock, front, back (SharedArrayBuffers), seed, scanEvery }
 */
export function runChurn(session, { uri, wid, ops, window, clock, cursors, seed, scanEvery }) {
  const c = session.openCursor(uri);
  const kind = new Uint8Array(ops);
  const key = new Int32Array(ops);
  const value = new Int32Array(ops);
  const result = new Int32Array(ops);
  const inv = new Float64Array(ops);
  const res = new Float64Array(ops);
  const stamp = new Int32Array(clock);
  const ends = new Int32Array(cursors); // [0] front, [1] back
  const next = rng(seed);
  const kb = new Uint8Array(8);
  let n = 0;
  let scans = 0;
  for (let i = 0; n < ops; i++) {
    if (scanEvery > 0 && i % scanEvery === scanEvery - 1) {
      const lo = Atomics.load(ends, 1);
      let prev = -1;
      for (const [k] of c.range({ gte: keyBytes(lo), limit: 200 })) {
        const id = Number(new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0));
        if (id <= prev) throw new Error(`scan out of order: ${id} after ${prev}`);
        prev = id;
      }
      scans++;
      continue;
    }
    const r = next() % 10;
    let op;
    let k;
    if (r < 3) { op = INSERT; k = Atomics.add(ends, 0, 1); }
    else if (r < 6) {
      // Remove at the back, but never past the front minus the window.
      const b = Atomics.load(ends, 1);
      if (Atomics.load(ends, 0) - b <= window) { op = GET; k = b + (next() % window); }
      else { op = REMOVE; k = Atomics.add(ends, 1, 1); }
    } else if (r < 8) { op = GET; k = Atomics.load(ends, 1) + (next() % window); }
    else { op = PUT; k = Atomics.load(ends, 1) + (next() % window); }
    const v = wid * 1_000_000 + n + 1;
    keyBytes(k, kb);
    const vb = op === PUT || op === INSERT ? valueBytes(v) : undefined;
    inv[n] = Atomics.add(stamp, 0, 1);
    let out = 0;
    if (op === GET) out = valueOf(c.get(kb));
    else if (op === PUT) c.put(kb, vb);
    else if (op === INSERT) out = c.insert(kb, vb) ? 1 : 0;
    else out = c.remove(kb) ? 1 : 0;
    res[n] = Atomics.add(stamp, 0, 1);
    kind[n] = op; key[n] = k; value[n] = op === PUT || op === INSERT ? v : 0; result[n] = out;
    n++;
  }
  c.close();
  return { kind, key, value, result, inv, res, length: ops, scans };
}
