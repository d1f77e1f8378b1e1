// A worker of the role stress test (test/roles-stress.test.ts): opens, writes, closes and reopens
// tables while the main thread flips the connection's role, and checks in shared memory that no
// write succeeds while a step-down has resolved and no step-up has started.
//
// Shared words (Int32Array over workerData.words):
//   [0] stop flag   [1] phase: (generation << 1) | 1 once a step-down has resolved, | 0 once a
//   step-up starts   [ACKED + id] the last value this worker had acknowledged (values 1, 2, ...
//   are written in order; value v goes to key `w<id>-<v % 64>` of table `t<v % 4>`, so each key's
//   value only grows)   [OK + id] writes acknowledged   [REFUSED + id] ENOTLEADER refusals
//   [VIOLATION + id] writes acknowledged inside a resolved step-down   [ERROR + id] other errors
//   [KEPT + id] writes acknowledged through a cursor opened before the latest role change
// Odd workers keep their cursors across role changes (a cursor's next operation after one moves
// it to a dhandle of the current role word: assembly/conn/README.md); even ones reopen them.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../dist/index.js';

export const ACKED = 8, OK = 16, REFUSED = 24, VIOLATION = 32, ERROR = 40, KEPT = 48;
const { handle, words, id } = workerData;
const st = new Int32Array(words);
const conn = await attach(handle);
let session = conn.openSession();
let seed = id * 7919 + 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
let acked = 0;
let lastError = '';
const keep = id % 2 === 1;
/** uri -> { c: cursor, phase: the phase word when it was opened }. */
let cursors = new Map();

while (Atomics.load(st, 0) === 0) {
  for (let j = 0; j < 16; j++) {
    const v = acked + 1;
    const uri = `table:t${v % 4}`;
    try {
      let k = cursors.get(uri);
      if (!k) { k = { c: session.openCursor(uri), phase: Atomics.load(st, 1) }; cursors.set(uri, k); }
      const before = Atomics.load(st, 1);
      k.c.put(`w${id}-${v % 64}`, String(v));
      const after = Atomics.load(st, 1);
      if ((before & 1) === 1 && after === before) Atomics.add(st, VIOLATION + id, 1);
      if ((k.phase >> 1) < (before >> 1)) Atomics.add(st, KEPT + id, 1);
      acked = v;
      Atomics.store(st, ACKED + id, v);
      Atomics.add(st, OK + id, 1);
    } catch (e) {
      if (e.code === 'ENOTLEADER') Atomics.add(st, REFUSED + id, 1);
      else { Atomics.add(st, ERROR + id, 1); lastError = String(e.message ?? e); }
      break;
    }
  }
  if (!keep) {
    for (const k of cursors.values()) k.c.close();
    cursors = new Map();
  }
  if (rand() < 0.2) { session.close(); session = conn.openSession(); cursors = new Map(); }
  await new Promise((r) => setImmediate(r));
}
session.close();
await conn.close();
parentPort.postMessage({ done: true, lastError });
