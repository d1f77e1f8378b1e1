// A demo worker: writers insert, overwrite, read and remove keys; the scanner checks order.
import { workerData, parentPort } from 'node:worker_threads';
import { attach } from '../dist/index.js';

const { handle, id, stop, role } = workerData;
const conn = await attach(handle);
const c = conn.openSession().openCursor('table:demo');
const halt = new Int32Array(stop);
let ops = 0;
let x = 0x9e3779b9 ^ (id * 7919);
const rand = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
const key = (n) => `user:${String(n).padStart(8, '0')}`;

if (role === 'remover') {
  // Removes nine blocks of 2000 consecutive keys in ten (only empty leaves are deleted, as in
  // PostgreSQL), split by worker.
  let removed = 0;
  for (let n = workerData.id - 1; n < 200_000; n += workerData.of) if (Math.floor(n / 2000) % 10 !== 0 && c.remove(key(n))) removed++;
  parentPort.postMessage({ id, role, ops: removed, summary: `${removed} removes` });
} else if (role === 'sequencer') {
  // Writes its own keys seq:<id>:<n>, n = 1, 2, ... in order, publishing the last one acknowledged;
  // after a step-down its writes fail with ENOTLEADER, which it counts (and it keeps trying).
  const acked = new Int32Array(workerData.acked);
  const session = conn.openSession();
  let cur = session.openCursor('table:demo');
  let n = 0, refused = 0;
  while (!Atomics.load(halt, 0)) {
    try {
      cur.put(`seq:${id}:${String(n + 1).padStart(8, '0')}`, 'acknowledged');
      n++;
      Atomics.store(acked, id, n);
    } catch (e) {
      if (e.code !== 'ENOTLEADER') throw e;
      refused++;
      Atomics.store(acked, 8 + id, refused);
      cur.close();
      cur = session.openCursor('table:demo');
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  parentPort.postMessage({ id, role, ops: n, summary: `${n} writes acknowledged, ${refused} refused with ENOTLEADER` });
} else if (role === 'scanner') {
  let scans = 0, seen = 0;
  while (!Atomics.load(halt, 0)) {
    let prev = '';
    for (const [k] of c.range({ gte: key(0), limit: 5000 })) {
      if (k <= prev) throw new Error(`scan out of order: ${k} after ${prev}`);
      prev = k; seen++;
    }
    scans++; ops++;
  }
  parentPort.postMessage({ id, role, ops, summary: `${scans} ordered scans, ${seen} entries read, all in order` });
} else {
  let puts = 0, gets = 0, removes = 0;
  while (!Atomics.load(halt, 0)) {
    for (let i = 0; i < 1000; i++) {
      const k = key(rand() % 200_000);
      const r = rand() % 10;
      if (r < 6) { c.put(k, `written by worker ${id}`); puts++; }
      else if (r < 9) { c.get(k); gets++; }
      else { c.remove(k); removes++; }
    }
    ops += 1000;
  }
  parentPort.postMessage({ id, role, ops, summary: `${puts} puts, ${gets} gets, ${removes} removes` });
}
await conn.close();
