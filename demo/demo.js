// `npm start`: several workers share one tree; the main thread watches, then checks it.
import { Worker } from 'node:worker_threads';
import { open, MemoryPageStore } from '../dist/index.js';

const WORKERS = 4;
const SECONDS = Number(process.env.DEMO_SECONDS ?? 3);

// The page store both nodes of the last phase share (a directory works the same: home: '/path').
const store = new MemoryPageStore();
const conn = await open({ home: store, cacheSize: '256MB', pageSize: 8192 });
const session = conn.openSession();
session.create('table:demo', { keyFormat: 'S', valueFormat: 'S' });
console.log(`latchkey demo: ${WORKERS} workers on one B-link tree in shared WebAssembly memory, ${SECONDS}s`);

const stop = new Int32Array(new SharedArrayBuffer(4));
const workers = Array.from({ length: WORKERS }, (_, id) => new Worker(new URL('./worker.js', import.meta.url), {
  workerData: { handle: conn.share(), id, stop: stop.buffer, role: id === 0 ? 'scanner' : 'writer' },
}));
const reports = workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));

const start = performance.now();
const timer = setInterval(() => {
  const st = session.stats('table:demo');
  console.log(`  t=${((performance.now() - start) / 1000).toFixed(1)}s entries=${st.entries} depth=${st.depth} pages=${st.pages} splits=${st.splits}`);
}, 1000);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
Atomics.store(stop, 0, 1);
const results = await Promise.all(reports);
clearInterval(timer);
await Promise.all(workers.map((w) => w.terminate()));

for (const r of results) console.log(`  worker ${r.id} (${r.role}): ${r.summary}`);
const total = results.reduce((n, r) => n + r.ops, 0);
console.log(`  ${total} operations, ${Math.round(total / SECONDS)} ops/s over ${WORKERS} workers`);
const st = session.stats('table:demo');
console.log(`  tree: ${st.entries} entries, depth ${st.depth}, ${st.pages} pages (${st.leafPages} leaves), ${st.splits} splits, ${st.rootSplits} root splits`);
const report = session.verify('table:demo');
console.log(`  verify: ok (${report.pages} pages, ${report.levels} levels, every invariant checked, no page leaked)`);

// Page deletion: the writers now remove nine keys in ten; leaves they empty are deleted online
// (two-stage, PostgreSQL-style) while the others keep going, then compaction sweeps the rest.
console.log('page deletion: 3 workers remove 90% of the keys (in blocks) concurrently');
const before = session.stats('table:demo');
const removers = [1, 2, 3].map((id) => new Worker(new URL('./worker.js', import.meta.url), {
  workerData: { handle: conn.share(), id, stop: stop.buffer, role: 'remover', of: 3 },
}));
const removed = await Promise.all(removers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
await Promise.all(removers.map((w) => w.terminate()));
const during = session.stats('table:demo');
const compacted = session.compact('table:demo');
const after = session.stats('table:demo');
console.log(`  removed ${removed.reduce((n, r) => n + r.ops, 0)} keys; entries ${before.entries} -> ${after.entries}`);
console.log(`  pages ${before.pages} -> ${during.pages} (deleted by the removers themselves: ${during.deletions})`);
console.log(`  compact: ${compacted.pagesDeleted} more pages deleted, ${compacted.pagesRecycled} recycled; now ${after.pages} pages, depth ${after.depth}, ${after.freePages} free for reuse`);
const again = session.verify('table:demo');
console.log(`  verify: ok (${again.pages} pages, ${again.levels} levels)`);

// Roles: a leader (this connection) and a standby follower on the same page store. Three workers
// write numbered keys to the leader; it checkpoints, then steps down while they write. The standby
// steps up and must hold every write that was acknowledged before the step-down resolved.
console.log('roles: a leader and a standby follower on one page store; 3 workers keep writing');
const standby = await open({ home: store, role: 'follower' });
const acked = new Int32Array(new SharedArrayBuffer(4 * 16));
Atomics.store(stop, 0, 0);
const sequencers = [1, 2, 3].map((id) => new Worker(new URL('./worker.js', import.meta.url), {
  workerData: { handle: conn.share(), id, stop: stop.buffer, role: 'sequencer', acked: acked.buffer },
}));
const seqDone = sequencers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ackedNow = () => [1, 2, 3].map((id) => Atomics.load(acked, id));
await sleep(300);
let t = performance.now();
await session.checkpoint();
console.log(`  checkpoint: ${(performance.now() - t).toFixed(1)} ms for ${session.stats('table:demo').entries} entries (writers wait only while the leaves are copied out)`);
await sleep(300);
t = performance.now();
await conn.reconfigure({ role: 'follower' });
const atStepDown = ackedNow();
console.log(`  step-down: ${(performance.now() - t).toFixed(1)} ms (stop writes, drain, final checkpoint); role is now ${conn.role}`);
console.log(`    writes acknowledged before it resolved: ${atStepDown.join(', ')} (per worker)`);
await sleep(300);
const refusedSoFar = [1, 2, 3].map((id) => Atomics.load(acked, 8 + id));
console.log(`    300 ms later: acknowledged ${ackedNow().join(', ')} (unchanged), refused with ENOTLEADER ${refusedSoFar.join(', ')}`);
t = performance.now();
await standby.reconfigure({ role: 'leader' });
console.log(`  the standby steps up: ${(performance.now() - t).toFixed(1)} ms, term ${standby.term} (the old leader had term ${conn.term})`);
const ss = standby.openSession();
const sc = ss.openCursor('table:demo');
const found = [1, 2, 3].map((id) => [...sc.range({ gte: `seq:${id}:`, lt: `seq:${id};` })].length);
const lost = found.some((f, i) => f < atStepDown[i]);
console.log(`    it holds ${found.join(', ')} of the workers' keys: ${lost ? 'ACKNOWLEDGED WRITES LOST' : 'every acknowledged write'}`);
sc.put('written by', 'the new leader');
console.log(`    verify on the new leader: ${ss.verify('table:demo').ok ? 'ok' : 'FAILED'}`);
try { await session.checkpoint(); } catch (e) { console.log(`  the old leader's checkpoint: ${e.code} (${e.message.split(';')[0]})`); }
Atomics.store(stop, 0, 1);
for (const r of await Promise.all(seqDone)) console.log(`  worker ${r.id}: ${r.summary}`);
await Promise.all(sequencers.map((w) => w.terminate()));
await standby.close();
await conn.close();
if (lost) process.exit(1);
