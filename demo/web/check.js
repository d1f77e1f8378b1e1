// The checks test/browser.test.ts runs in Chromium (window.check.*), on demo/web/check.html.
// Each returns plain data; the test asserts on it.

import { open, attach, OpfsPageStore, LatchkeyError } from '../../dist/browser.js';
import '../../dist/debug.js'; // open({ debug: true }) below: the debug build is its own entry
import { WorkerPool } from './pool.js';
import { keyOf, valueOf, expectedKeys, fnv, FNV_START } from './model.js';

const URI = 'table:check';

/** Count and checksum of a whole-table scan, and how many keys were out of order. */
function scanAll(c) {
  let count = 0, order = 0, h = FNV_START, prev = '';
  for (const [k, v] of c.range()) {
    if (k <= prev) order++;
    prev = k;
    count++;
    h = fnv(fnv(h, k), v);
  }
  return { count, order, checksum: h };
}

/** The model's count and checksum for owners 0..owners-1 (their key sets sort in owner order). */
function model(owners, n) {
  let count = 0, h = FNV_START;
  for (let w = 0; w < owners; w++) for (const [k, v] of expectedKeys(w, n)) { count++; h = fnv(fnv(h, k), v); }
  return { count, checksum: h };
}

/**
 * `workers` Web Workers (owners 0..workers-1) and the main thread (owner `workers`) insert,
 * remove, overwrite, read and scan their own deterministic key sets at once on one table; the
 * main thread also scans the whole table while the workers run. Then the whole table is scanned
 * and compared with the model, and verified.
 */
async function concurrent({ workers = 4, n = 20000 } = {}) {
  const conn = await open({ pageSize: 4096, cacheSize: '128MB', debug: true });
  const s = conn.openSession();
  s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
  const pool = new WorkerPool(conn, workers);
  const attached = await pool.ready;
  let done = false;
  const running = pool.all('check', (w) => ({ uri: URI, w, n })).finally(() => { done = true; });
  // The main thread's own part, interleaved with the workers (it spins on latches, never blocks).
  const me = workers;
  const c = s.openCursor(URI);
  let inserted = 0, removed = 0, hits = 0, wrong = 0;
  for (let i = 0; i < n; i++) if (c.insert(keyOf(me, i), valueOf(me, i, 0))) inserted++;
  for (let i = 0; i < n; i += 3) if (c.remove(keyOf(me, i))) removed++;
  for (let i = 1; i < n; i += 3) c.put(keyOf(me, i), valueOf(me, i, 1));
  for (const [k, v] of expectedKeys(me, n)) { if (c.get(k) === v) hits++; else wrong++; }
  // Whole-table scans while workers write: each must be strictly increasing.
  let scansDuringRun = 0, scanOrderErrors = 0;
  while (!done) {
    scanOrderErrors += scanAll(c).order;
    scansDuringRun++;
    await new Promise((r) => setTimeout(r, 0));
  }
  const perWorker = await running;
  const final = scanAll(c);
  const expected = model(workers + 1, n);
  const verify = s.verify(URI);
  const stats = s.stats(URI);
  c.close();
  await pool.close();
  const threads = conn.threadsAttached;
  await conn.close();
  return {
    attached, mainCanBlock: conn.core.canBlock, perWorker,
    main: { inserted, removed, hits, wrong },
    expectedPerOwner: { inserted: n, removed: Math.ceil(n / 3), present: expectedKeys(0, n).length },
    scansDuringRun, scanOrderErrors, final, expected, verify, entries: stats.entries, threadsAfterClose: threads,
  };
}

/** What open() says on this page (the test loads it without the isolation headers too). */
async function openError() {
  const env = { crossOriginIsolated: globalThis.crossOriginIsolated, sharedArrayBuffer: typeof SharedArrayBuffer };
  try {
    const conn = await open();
    await conn.close();
    return { ...env, opened: true };
  } catch (e) {
    return { ...env, opened: false, isLatchkeyError: e instanceof LatchkeyError, code: e.code, message: e.message };
  }
}

const bytes = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const same = (a, b) => a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
const codeOf = (p) => p.then(() => 'resolved', (e) => `${e instanceof LatchkeyError ? 'LatchkeyError ' : ''}${e.code}`);

/** OpfsPageStore: the PageStore contract, publish races between two store objects, bad names. */
async function opfs() {
  const a = new OpfsPageStore('basics');
  const b = new OpfsPageStore('basics');
  const r = {};
  await a.write('blob-1', bytes(100_000, 1));
  r.readBack = same(await a.read('blob-1'), bytes(100_000, 1));
  await a.write('blob-1', bytes(10, 2));                 // replaces, shorter
  r.replaced = same(await b.read('blob-1'), bytes(10, 2));
  r.absent = (await a.read('nothing.here')) === undefined;
  const shared = new Uint8Array(new SharedArrayBuffer(64)).fill(7);
  await a.write('from-shared', shared);
  r.fromShared = same(await a.read('from-shared'), shared);
  r.publishFirst = await a.publish('img.0001', bytes(1000, 3));
  r.publishAgain = await b.publish('img.0001', bytes(1000, 4));
  r.publishKept = same(await a.read('img.0001'), bytes(1000, 3));
  const races = [];
  for (let i = 0; i < 10; i++) {
    const name = `race-${i}`;
    const [x, y] = await Promise.all([a.publish(name, bytes(500, 10)), b.publish(name, bytes(700, 20))]);
    const got = await a.read(name);
    races.push({ x, y, winnerData: x ? same(got, bytes(500, 10)) : same(got, bytes(700, 20)) });
  }
  r.races = races;
  r.listImg = await b.list('img');
  r.listAll = await a.list();
  await a.remove('img.0001');
  await a.remove('img.0001');                            // absent: no error
  r.afterRemove = await a.list('img');
  r.badName = await codeOf(a.write('a/b', bytes(1, 0)));
  r.badStore = (() => { try { new OpfsPageStore('../x'); return 'constructed'; } catch (e) { return e.code; } })();
  // close(): a call made after it is refused and not carried out; one made before finishes.
  const before = a.write('before-close', bytes(2_000_000, 5));
  const closing = a.close();
  r.afterCloseWrite = await codeOf(a.publish('after-close', bytes(10, 6)));
  r.beforeClose = await codeOf(before);
  await closing;
  r.afterClose = await codeOf(a.read('blob-1'));
  r.afterCloseNotDone = (await b.read('after-close')) === undefined;
  r.beforeCloseDone = same(await b.read('before-close'), bytes(2_000_000, 5));
  await b.close();
  // A publish's temporary file left by a page that died is removed when a store opens.
  const d = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('latchkey')).getDirectoryHandle('basics');
  await d.getFileHandle('~img.0002~dead~1', { create: true });
  const c = new OpfsPageStore('basics');
  await c.list();
  const raw = [];
  for await (const n of d.keys()) raw.push(n);
  r.leftoverRemoved = !raw.includes('~img.0002~dead~1');
  await c.close();
  return r;
}

/** Writes a blob (phase 'write') or reads it back after a page reload (phase 'read'). */
async function opfsPersist(phase) {
  const s = new OpfsPageStore('persist');
  try {
    if (phase === 'write') { await s.write('blob', bytes(4096, 9)); return { written: true }; }
    return { same: same(await s.read('blob'), bytes(4096, 9)) };
  } finally {
    await s.close();
  }
}

// ---- roles, checkpoints, page stores ----

/** Workers write; a step-down from the page makes their writes fail with ENOTLEADER; a step-up ends it. */
async function stepDown({ workers = 4, count = 300 } = {}) {
  const conn = await open({ home: new OpfsPageStore('stepdown'), pageSize: 4096 });
  const s = conn.openSession();
  s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
  const pool = new WorkerPool(conn, workers);
  await pool.ready;
  const before = await pool.all('writes', () => ({ uri: URI, count, tag: 'a' }));
  await conn.reconfigure({ role: 'follower' });
  const role = conn.role;
  const after = await pool.all('writes', () => ({ uri: URI, count, tag: 'b' }));
  let mainWrite;
  try { s.openCursor(URI).put('main', 'x'); mainWrite = 'ok'; } catch (e) { mainWrite = e.code; }
  await conn.reconfigure({ role: 'leader' });
  const again = await pool.all('writes', () => ({ uri: URI, count, tag: 'c' }));
  await pool.close();
  await conn.close();
  return { before, role, after, mainWrite, roleAfterStepUp: conn.role, again };
}

/** Phase 'write': a table in OPFS store 't1', checkpointed. Phase 'read' (after a reload): its contents. */
async function checkpointReload(phase, n = 3000) {
  const conn = await open({ home: new OpfsPageStore('t1'), pageSize: 4096 });
  const s = conn.openSession();
  try {
    if (phase === 'write') {
      s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor(URI);
      for (let i = 0; i < n; i++) c.put(keyOf(0, i), valueOf(0, i, 0));
      await s.checkpoint();
      return scanAll(c);
    }
    return scanAll(s.openCursor(URI));
  } finally {
    await conn.close();
  }
}

/**
 * The log on OPFS: 'write' puts n keys and flushes the log, then leaves the page without a
 * checkpoint or a close (the reload ends it); 'read' opens the home again: the log is replayed.
 */
async function logReload(phase, n = 2000) {
  if (phase === 'write') {
    const conn = await open({ home: new OpfsPageStore('wal'), pageSize: 4096 });
    const s = conn.openSession();
    s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
    const c = s.openCursor(URI);
    for (let i = 0; i < n; i++) c.put(keyOf(0, i), valueOf(0, i, 0));
    c.remove(keyOf(0, 0));
    await s.flush();
    const segments = (await new OpfsPageStore('wal').list('wal-')).length;
    return { ...scanAll(c), segments, checkpoints: (await new OpfsPageStore('wal').list('ckpt-')).length };
  }
  const conn = await open({ home: new OpfsPageStore('wal'), pageSize: 4096, role: 'follower' });
  try {
    return scanAll(conn.openSession().openCursor(URI));
  } finally {
    await conn.close();
  }
}

// ---- thread slots ----

/**
 * 100 Web Workers attach and are terminated without closing (assembly/arena.ts, "Thread slots of
 * threads that end"), while one more stays alive in a loop that never yields; then the page
 * attaches until the table is full. Returns which slots were used and what the table held.
 */
async function threadSlots({ workers = 100 } = {}) {
  const conn = await open({ pageSize: 4096, debug: true });
  const s = conn.openSession();
  s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
  const start = (id, busy) => new Promise((resolve, reject) => {
    const w = new Worker(new URL('./slot-worker.js', import.meta.url), { type: 'module' });
    w.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve({ w, slot: data.slot }));
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ handle: conn.share(), uri: URI, id, busy });
  });
  const busy = await start('busy', true);
  const slots = new Set();
  let attached = 0, error;
  try {
    for (; attached < workers; attached++) {
      const { w, slot } = await start(attached, false);
      slots.add(slot);
      w.terminate();
    }
  } catch (e) {
    error = String(e.message);
  }
  const more = [];
  let full;
  try {
    for (let i = 0; i < 70; i++) more.push(await attach(conn.share()));
  } catch (e) {
    full = e.code;
  }
  const result = {
    attached, error, distinctSlots: slots.size, busySlotReused: slots.has(busy.slot), rows: scanAll(s.openCursor(URI)).count,
    verified: s.verify(URI).ok, moreAttached: more.length, full, threadsAttached: conn.threadsAttached,
  };
  for (const m of more) await m.close();
  busy.w.terminate();
  await conn.close();
  return result;
}

window.check = { concurrent, openError, opfs, opfsPersist, stepDown, checkpointReload, logReload, attach, threadSlots };
window.checkReady = true;
