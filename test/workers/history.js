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
 * A history being recorded: performs single-key operations on cursor `c`, stamping each
 * invocation and response from the shared clock, in the checker's columnar form.
 */
class Recorder {
  constructor(c, ops, clock, wid) {
    this.c = c;
    this.wid = wid;
    this.n = 0;
    this.stamp = new Int32Array(clock);
    this.kb = new Uint8Array(8);
    this.chunk = {
      kind: new Uint8Array(ops), key: new Int32Array(ops), value: new Int32Array(ops),
      result: new Int32Array(ops), inv: new Float64Array(ops), res: new Float64Array(ops), length: ops,
    };
  }

  /** Performs `op` on key id `k` (writes carry a value unique to this worker and op) and records it. */
  record(op, k) {
    const { c, kb, chunk, stamp } = this;
    const i = this.n++;
    const v = this.wid * 1_000_000 + i + 1;
    keyBytes(k, kb);
    const writes = op === PUT || op === INSERT;
    const vb = writes ? valueBytes(v) : undefined;
    chunk.inv[i] = Atomics.add(stamp, 0, 1);
    let out = 0;
    if (op === GET) out = valueOf(c.get(kb));
    else if (op === PUT) c.put(kb, vb);
    else if (op === INSERT) out = c.insert(kb, vb) ? 1 : 0;
    else out = c.remove(kb) ? 1 : 0;
    chunk.res[i] = Atomics.add(stamp, 0, 1);
    chunk.kind[i] = op; chunk.key[i] = k; chunk.value[i] = writes ? v : 0; chunk.result[i] = out;
  }

  /**
   * Performs one batch call of `op` (GET: getMany, PUT: putMany) on key ids `ks` and records one
   * op per key, each with the whole call's interval: every key's lookup or write happened inside it.
   */
  recordMany(op, ks) {
    const { c, chunk, stamp } = this;
    const first = this.n;
    this.n += ks.length;
    const vs = ks.map((_, j) => this.wid * 1_000_000 + first + j + 1);
    const inv = Atomics.add(stamp, 0, 1);
    let got;
    if (op === GET) got = c.getMany(ks.map((k) => keyBytes(k)));
    else c.putMany(ks.map((k, j) => [keyBytes(k), valueBytes(vs[j])]));
    const res = Atomics.add(stamp, 0, 1);
    for (let j = 0; j < ks.length; j++) {
      const i = first + j;
      chunk.inv[i] = inv; chunk.res[i] = res;
      chunk.kind[i] = op; chunk.key[i] = ks[j]; chunk.value[i] = op === PUT ? vs[j] : 0;
      chunk.result[i] = op === GET ? valueOf(got[j]) : 0;
    }
  }
}

/**
 * args: { uri, wid, ops, keyBase, keySpace, stride?, mix: [get, put, insert, remove] weights, seed, clock, batch? }
 * Keys are keyBase + stride * (0..keySpace-1). With `batch` > 0, gets and puts go as getMany and
 * putMany calls of 1 to `batch` random keys (duplicates possible).
 * Returns the columnar chunk.
 */
export function runHistory(session, { uri, wid, ops, keyBase, keySpace, stride = 1, mix, seed, clock, batch = 0 }) {
  const c = session.openCursor(uri);
  const rec = new Recorder(c, ops, clock, wid);
  const next = rng(seed);
  const total = mix[0] + mix[1] + mix[2] + mix[3];
  while (rec.n < ops) {
    const k = keyBase + stride * (next() % keySpace);
    const r = next() % total;
    const op = r < mix[0] ? GET : r < mix[0] + mix[1] ? PUT : r < mix[0] + mix[1] + mix[2] ? INSERT : REMOVE;
    if (batch > 0 && (op === GET || op === PUT)) {
      const ks = [k];
      for (let n = Math.min(next() % batch, ops - rec.n - 1); n > 0; n--) ks.push(keyBase + stride * (next() % keySpace));
      rec.recordMany(op, ks);
    } else {
      rec.record(op, k);
    }
  }
  c.close();
  return rec.chunk;
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
  const rec = new Recorder(c, ops, clock, wid);
  const ends = new Int32Array(cursors); // [0] front, [1] back
  const next = rng(seed);
  let scans = 0;
  for (let i = 0; rec.n < ops; i++) {
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
    if (r < 3) rec.record(INSERT, Atomics.add(ends, 0, 1));
    else if (r < 6) {
      // Remove at the back, but never past the front minus the window.
      const b = Atomics.load(ends, 1);
      if (Atomics.load(ends, 0) - b <= window) rec.record(GET, b + (next() % window));
      else rec.record(REMOVE, Atomics.add(ends, 1, 1));
    } else if (r < 8) rec.record(GET, Atomics.load(ends, 1) + (next() % window));
    else rec.record(PUT, Atomics.load(ends, 1) + (next() % window));
  }
  c.close();
  return { ...rec.chunk, scans };
}
