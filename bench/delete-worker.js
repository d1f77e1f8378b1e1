// One worker of bench/delete.js. Role 'churn': slides its own window of keys through the shared
// table (insert one key at the front, remove one at the back, repeat). Role 'compact': calls
// session.compact(uri) in a loop. Both warm up untimed, wait for the common start flag and run
// until the stop flag; then they report what they did and in how long.

import { parentPort } from 'node:worker_threads';
import { attach } from '../dist/index.js';

// Control words in the shared Int32Array (same layout as delete.js); word PROGRESS + id is
// churn worker id's count of chunks done (the watchdog's view, stored once per chunk).
const READY = 0;
const GO = 1;
const STOP = 2;
const PROGRESS = 4;

/** Window steps (one insert + one remove each) between two looks at the stop flag. */
const CHUNK = 128;
const VALUE = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);

parentPort.once('message', async ({ handle, uri, role, id, perWorker, warmupSteps, ctrl }) => {
  const conn = await attach(handle);
  const s = conn.openSession();

  if (role === 'compact') {
    let calls = 0;
    let pagesDeleted = 0;
    let halfDeadFinished = 0;
    let pagesRecycled = 0;
    s.compact(uri); // warm-up (the table is quiescent: nothing to do, or leftovers of the preload)
    Atomics.add(ctrl, READY, 1);
    Atomics.notify(ctrl, READY);
    Atomics.wait(ctrl, GO, 0);
    const t0 = performance.now();
    while (Atomics.load(ctrl, STOP) === 0) {
      const r = s.compact(uri);
      calls++;
      pagesDeleted += r.pagesDeleted;
      halfDeadFinished += r.halfDeadFinished;
      pagesRecycled += r.pagesRecycled;
    }
    const ms = performance.now() - t0;
    await conn.close();
    parentPort.postMessage({ role, calls, pagesDeleted, halfDeadFinished, pagesRecycled, ms });
    return;
  }

  // Keys: byte 0 = this worker's id, bytes 4..7 = a big-endian counter (bytes 1..3 zero), so each
  // worker owns a contiguous key range, and its window [back, front) holds the counters the
  // preload put there: 0 .. perWorker-1.
  const c = s.openCursor(uri);
  const key = new Uint8Array(8);
  const kv = new DataView(key.buffer);
  key[0] = id;
  let back = 0;
  let front = perWorker;
  let failed = 0;
  const step = (count) => {
    for (let j = 0; j < count; j++) {
      kv.setUint32(4, front++);
      if (!c.insert(key, VALUE)) failed++;
      kv.setUint32(4, back++);
      if (!c.remove(key)) failed++;
    }
  };

  step(warmupSteps);
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  Atomics.wait(ctrl, GO, 0);

  let steps = 0;
  const t0 = performance.now();
  while (Atomics.load(ctrl, STOP) === 0) {
    step(CHUNK);
    steps += CHUNK;
    Atomics.store(ctrl, PROGRESS + id, steps / CHUNK);
  }
  const ms = performance.now() - t0;
  await conn.close();
  // ops counts the inserts and the removes (two per step).
  parentPort.postMessage({ role, ops: 2 * steps, ms, failed, back, front });
});
