// A standalone run (spawned by test/tiers.test.ts with V8 flags): two workers, each owning a key
// range; worker 0 appends at the end of range 0 (leaf splits) right next to where worker 1
// removes from the start of range 1 (page deletion), on the release build. Exits 0 after a full
// verify, 2 on an error, 3 if the workers hang.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { open, attach } from '../../dist/index.js';

const URI = 'table:adjacent';
const PER = 100_000;
const STEPS = 150_000;

if (isMainThread) {
  const conn = await open({ cacheSize: '512MB', pageSize: 8192 });
  const s = conn.openSession();
  s.create(URI);
  const c = s.openCursor(URI);
  const key = new Uint8Array(8);
  const kv = new DataView(key.buffer);
  const v = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  for (let w = 0; w < 2; w++) { key[0] = w; for (let i = 0; i < PER; i++) { kv.setUint32(4, i); c.put(key, v); } }
  const workers = [0, 1].map((id) => new Worker(new URL(import.meta.url), { workerData: { handle: conn.share(), id } }));
  const done = Promise.all(workers.map((w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); })));
  const hung = new Promise((res) => setTimeout(() => res('hung'), 30_000));
  const r = await Promise.race([done, hung]).catch((e) => { console.error(e); process.exit(2); });
  if (r === 'hung') { console.error('the workers hang'); process.exit(3); }
  const report = s.verify(URI);
  const st = s.stats(URI);
  console.log(JSON.stringify({ ok: report.ok, entries: st.entries, deletions: st.deletions }));
  if (st.entries !== 2 * PER || st.deletions === 0) process.exit(2);
  process.exit(0);
} else {
  const conn = await attach(workerData.handle);
  const c = conn.openSession().openCursor(URI);
  const key = new Uint8Array(8);
  const kv = new DataView(key.buffer);
  key[0] = workerData.id;
  const v = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
  for (let back = 0, front = PER; back < STEPS; back++, front++) {
    kv.setUint32(4, front);
    if (!c.insert(key, v)) throw new Error(`insert of ${front} found it present`);
    kv.setUint32(4, back);
    if (!c.remove(key)) throw new Error(`remove of ${back} found it absent`);
  }
  await conn.close();
  parentPort.postMessage('done');
}
