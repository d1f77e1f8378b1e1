// A short smoke test of the built package (dist/) for runtimes other than Node's test suite runs
// on (Bun, Deno; it runs on Node too): open a connection on a directory home, create a table,
// put, get, range, attach a worker_threads worker that writes into the same shared memory,
// verify, flush the log, checkpoint, close, reopen from the directory and read everything back.
//
//   bun test/runtimes/smoke.mjs          deno run -A test/runtimes/smoke.mjs
//
// Prints one line per step and `smoke: ok (<runtime>)` at the end; any failure exits non-zero.
// `--no-worker` skips the worker step (for a runtime documented as unable to run it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { open, LatchkeyError } from '../../dist/index.js';

const runtime = globalThis.Bun ? `bun ${Bun.version}` : globalThis.Deno ? `deno ${Deno.version.deno}` : `node ${process.versions.node}`;
const withWorker = !process.argv.includes('--no-worker');
const N = 1000, WORKER_N = 500;
const key = (p, i) => `${p}:${String(i).padStart(6, '0')}`;
function check(cond, what) {
  if (!cond) throw new Error(`smoke (${runtime}): ${what}`);
  console.log(`  ok  ${what}`);
}

const home = mkdtempSync(join(tmpdir(), 'latchkey-smoke-'));
try {
  console.log(`smoke: ${runtime}, home ${home}`);
  const conn = await open({ home });
  const s = conn.openSession();
  s.create('table:smoke', { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor('table:smoke');
  for (let i = N - 1; i >= 0; i--) c.put(key('k', i), `value ${i}`);
  check(c.get(key('k', 7)) === 'value 7' && c.get('absent') === undefined, `put ${N} keys, get`);
  const got = [...c.range({ gte: key('k', 10), lt: key('k', 20) })];
  check(got.length === 10 && got[0][0] === key('k', 10) && got[9][1] === 'value 19', 'range [k:10, k:20) in order');
  let bad;
  try { c.put('', 'x'); } catch (e) { bad = e; }
  check(bad instanceof LatchkeyError && bad.code === 'EKEYSIZE', 'an empty key is EKEYSIZE');

  if (withWorker) {
    const worker = new Worker(new URL('./smoke-worker.mjs', import.meta.url), { workerData: { handle: conn.share(), n: WORKER_N } });
    const reply = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the worker exited (code ${code}) before replying`)));
    });
    await worker.terminate();
    check(reply.wrote === WORKER_N && reply.sawMain === 'value 0', 'a worker attached, read the main thread\'s key, wrote its own');
    check(c.get(key('w', WORKER_N - 1)) === `worker ${WORKER_N - 1}`, 'the main thread reads the worker\'s keys');
  }
  const total = N + (withWorker ? WORKER_N : 0);
  check([...c.range({})].length === total, `${total} entries in one scan`);
  s.verify('table:smoke');
  check(true, 'verify passes');
  await s.flush();
  check(conn.core.x.lk_log_position(2) === conn.core.x.lk_log_position(0), 'flush: the log is durable up to its end');
  await s.checkpoint();
  await conn.close();
  check(true, 'checkpoint, close');

  const again = await open({ home });
  const c2 = again.openSession().openCursor('table:smoke');
  check([...c2.range({})].length === total && c2.get(key('k', N - 1)) === `value ${N - 1}`, 'reopened from the directory: every entry is back');
  await again.close();
  console.log(`smoke: ok (${runtime}${withWorker ? '' : ', without the worker step'})`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
