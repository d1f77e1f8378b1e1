// A test worker: attaches to a shared connection and runs commands posted by the test.
// Plain JS (Node loads worker files without a transform); imports the built package.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../dist/index.js';
import { runHistory, runChurn } from './history.js';

const conn = await attach(workerData.handle);
const session = conn.openSession();
const core = conn.core;
const enc = new TextEncoder();
let iter;
// Cursors kept open across commands (role tests): id -> cursor.
const cursors = new Map();
let cursorIds = 0;

const commands = {
  get: ({ uri, key }) => session.openCursor(uri).get(key),
  put: ({ uri, key, value }) => session.openCursor(uri).put(key, value),
  insert: ({ uri, key, value }) => session.openCursor(uri).insert(key, value),
  putMany: ({ uri, keys, value }) => {
    const c = session.openCursor(uri);
    for (const k of keys) c.put(k, value);
    return keys.length;
  },
  scan: ({ uri, opts }) => [...session.openCursor(uri).range(opts)].map(([k]) => k),
  // The keys of cursor.batches(opts), each batch's columns cut into keys.
  scanBatches: ({ uri, opts }) => {
    const keys = [];
    for (const b of session.openCursor(uri).batches(opts)) {
      for (let i = 0; i < b.count; i++) keys.push(b.keys.slice(i ? b.keyEnds[i - 1] : 0, b.keyEnds[i]));
    }
    return keys;
  },
  remove: ({ uri, key }) => session.openCursor(uri).remove(key),
  removeMany: ({ uri, keys }) => {
    const c = session.openCursor(uri);
    let n = 0;
    for (const k of keys) if (c.remove(k)) n++;
    return n;
  },
  compact: ({ uri }) => session.compact(uri),
  verify: ({ uri, concurrent }) => session.verify(uri, { concurrent }),
  // A range iterator paused between batches: start it (first key), later run it to the end.
  iterStart: ({ uri }) => { iter = session.openCursor(uri).range(); return iter.next().value[0]; },
  iterRest: () => { const keys = []; for (let r = iter.next(); !r.done; r = iter.next()) keys.push(r.value[0]); return keys; },
  churn: (args) => runChurn(session, args),
  history: (args) => runHistory(session, args),
  latchWriter: ({ n }) => core.x.lk_test_writer(core.x.lk_test_area(), n),
  latchReader: ({ n }) => core.x.lk_test_reader(core.x.lk_test_area(), n),
  alloc: ({ n, k }) => core.x.lk_test_alloc(n, k, core.OUT),
  slot: () => core.x.lk_thread_slot(),
  // Kept cursors, roles and checkpoints (test/roles.test.ts).
  cursorOpen: ({ uri }) => { cursors.set(++cursorIds, session.openCursor(uri)); return cursorIds; },
  cursorPut: ({ cid, key, value }) => { cursors.get(cid).put(key, value); return true; },
  cursorGet: ({ cid, key }) => cursors.get(cid).get(key),
  cursorClose: ({ cid }) => { cursors.get(cid).close(); cursors.delete(cid); return true; },
  reconfigure: async ({ options }) => { await conn.reconfigure(options); return conn.role; },
  checkpoint: async () => { await session.checkpoint(); return true; },
  // The log (test/log.test.ts): puts then a flush from this thread; a batch.
  putFlush: async ({ uri, keys, value }) => {
    const c = session.openCursor(uri);
    for (const k of keys) c.put(k, value);
    await session.flush();
    return keys.length;
  },
  batch: ({ ops }) => { session.batch(ops); return ops.length; },
  role: () => conn.role,
  close: async () => { await conn.close(); return true; },
};

parentPort.on('message', async ({ id, cmd, args }) => {
  try {
    const result = await commands[cmd](args ?? {});
    parentPort.postMessage({ id, result });
  } catch (e) {
    parentPort.postMessage({ id, error: { code: e.code ?? 'EUNKNOWN', message: String(e.message ?? e) } });
  }
});
parentPort.postMessage({ ready: true });
void enc;
