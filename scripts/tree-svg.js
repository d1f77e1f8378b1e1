// Draws docs/tree.svg (the picture in README.md) from a real tree: `node scripts/tree-svg.js`.
//
// A table of a few thousand keys on 4 KiB pages (a long common key prefix keeps separators long,
// so the tree has three levels), then: runs of keys removed (emptied leaves are deleted online);
// a worker parked inside a lookup holds its epoch, so pages deleted after that wait in limbo; an
// interrupted deletion (an error injected after stage 1) leaves a half-dead leaf; an error
// injected between a split's two steps leaves an incomplete split. The tree is verified, drawn
// with renderTreeSvg (bindings/svg.ts), and the worker released.
//
//   node scripts/tree-svg.js [--out docs/tree.svg] [--width 1200]

import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { open, attach, renderTreeSvg } from '../dist/index.js';

const PREFIX = 'p'.repeat(120);
const key = (i) => `${PREFIX}k${String(i).padStart(5, '0')}`;
const VALUE = 'v'.repeat(60);
const URI = 'table:picture';

if (!isMainThread) {
  // The parked reader: one lookup that stops at btree-search-before-child until woken.
  const conn = await attach(workerData.handle);
  const c = conn.openSession().openCursor(URI);
  parentPort.postMessage({ got: c.get(key(10)) !== undefined });
  await conn.close();
} else {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const out = opt('--out', new URL('../docs/tree.svg', import.meta.url).pathname);

  const conn = await open({ pageSize: 4096, cacheSize: '64MB', debug: true });
  const s = conn.openSession();
  s.create(URI, { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor(URI);
  const N = 4000;
  for (let i = 0; i < N; i++) c.put(key(i), VALUE);
  const removeRange = (from, to) => { for (let i = from; i < to; i++) c.remove(key(i)); };

  // 1. Runs of keys removed: their leaves are deleted online and recycled at once.
  removeRange(300, 700);
  removeRange(2000, 2300);

  // 2. A reader parked mid-lookup holds its epoch: pages deleted from now on wait in limbo.
  const parked = conn.inject('btree-search-before-child').arm('wait', { count: 1 });
  const worker = new Worker(new URL(import.meta.url), { workerData: { handle: conn.share() } });
  const reply = new Promise((res, rej) => { worker.once('message', res); worker.once('error', rej); });
  parked.awaitArrived(1);
  removeRange(3000, 3250);

  // 3. An interrupted deletion: leaves emptied with the removers' own deletions refused, then a
  //    compact that fails right after stage 1 leaves one half-dead leaf.
  const refuse = conn.inject('pagedel-after-parent-check').arm('error');
  removeRange(1200, 1320);
  refuse.disarm();
  const halt = conn.inject('pagedel-after-halfdead').arm('error', { count: 1 });
  try { s.compact(URI); } catch (e) { if (e.code !== 'EINJECTED') throw e; }
  halt.disarm();

  // 4. An incomplete split: the error strikes between a split's two steps.
  const split = conn.inject('btree-split-before-parent-insert').arm('error', { count: 1 });
  for (let i = 0; i < 400; i++) {
    try { c.put(`${key(3600)}-${String(i).padStart(3, '0')}`, VALUE); } catch (e) { if (e.code !== 'EINJECTED') throw e; break; }
  }
  split.disarm();

  s.verify(URI); // the interrupted states are legal ones
  const shape = s.treeShape(URI);
  const svg = renderTreeSvg(shape, { width: Number(opt('--width', '1200')) });
  writeFileSync(out, svg + '\n');
  const st = s.stats(URI);
  console.log(`${out}: ${shape.levels.length} levels, ${st.pages} pages, ${st.halfDead} half-dead, `
    + `${shape.deleted.length} deleted in limbo, ` +
    `${shape.levels.flatMap((l) => l.pages).filter((p) => p.flags.includes('INCOMPLETE_SPLIT')).length} incomplete split(s), ${st.entries} entries`);

  parked.disarm();
  parked.wake();
  await reply;
  await worker.terminate();
  await conn.close();
}
