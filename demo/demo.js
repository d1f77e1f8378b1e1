// `npm start`: several workers share one tree; the main thread watches, then checks it.
import { Worker } from 'node:worker_threads';
import { open } from '../dist/index.js';

const WORKERS = 4;
const SECONDS = Number(process.env.DEMO_SECONDS ?? 3);

const conn = await open({ cacheSize: '256MB', pageSize: 8192 });
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
console.log('  not shown yet: a leader step-down, which arrives with roles and checkpoints (issue #4)');
await conn.close();
