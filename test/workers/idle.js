// A worker that attaches, writes its keys, reports its thread slot and then idles (its port keeps
// it alive) until the test terminates it, or posts 'end': then it ends the way workerData.end
// says: 'throw' (an uncaught exception while idle), 'exit' (process.exit), 'return' (nothing left
// to do). It never closes its connection (test/thread-slots.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../dist/index.js';

const { handle, uri, id, puts, end } = workerData;
try {
  const conn = await attach(handle);
  const c = conn.openSession().openCursor(uri);
  const enc = new TextEncoder();
  for (let i = 0; i < puts; i++) c.put(enc.encode(`w${String(id).padStart(3, '0')}-${String(i).padStart(3, '0')}`), enc.encode(`v${id}.${i}`));
  parentPort.postMessage({ ready: true, slot: conn.core.x.lk_thread_slot() });
  parentPort.on('message', (m) => {
    if (m !== 'end') return;
    if (end === 'throw') setTimeout(() => { throw new Error('worker crashed while idle'); }, 1);
    else if (end === 'exit') process.exit(3);
    else parentPort.close(); // 'return': nothing keeps the thread alive any more
  });
} catch (e) {
  parentPort.postMessage({ error: { code: e.code ?? 'EUNKNOWN', message: String(e.message ?? e) } });
}
