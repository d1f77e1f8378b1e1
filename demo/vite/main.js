// A tiny app that uses latchkey through a bundler: `import ... from 'latchkey'` resolves the
// package's browser entry; Vite emits the .wasm (new URL(..., import.meta.url)) and the worker.
import { open, renderTreeSvg } from 'latchkey';

async function run() {
  const conn = await open({ pageSize: 4096, cacheSize: '64MB' });
  const s = conn.openSession();
  s.create('table:v', { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor('table:v');
  for (let i = 0; i < 1000; i++) c.put(`k${String(i).padStart(4, '0')}`, `v${i}`);
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const fromWorker = await new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(conn.share());
  });
  worker.terminate();
  const svg = renderTreeSvg(s.treeShape('table:v'));
  const result = { fromWorker, mainSees: c.get('from-worker'), entries: s.stats('table:v').entries, svg: svg.length };
  await conn.close();
  return result;
}

window.result = run().catch((e) => ({ error: `${e.code ?? ''} ${e.message}` }));
