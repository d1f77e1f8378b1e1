// What checkpoints and role changes cost, by table size: one table of N random 8-byte keys with
// 8-byte values on a MemoryPageStore (no disk: the image's copy, encoding and loading only).
//
//   node bench/roles.js [--sizes 100000,1000000] [--rounds 3]
//
//   checkpoint      leader: the image copied under the write gate, encoded, published
//   step-down       leader -> follower: stop and drain writes, final checkpoint
//   step-up, reuse  follower -> leader when its trees already equal the latest image
//   step-up, load   another connection on the same store becomes leader: loads the image
//   refresh         a follower picks up a newer checkpoint (loads it)
//   gate stall      the longest a put waited in a loop running during a checkpoint (another thread)
// The median of --rounds is printed. Nothing is asserted.

import { Worker } from 'node:worker_threads';
import { open, MemoryPageStore } from '../dist/index.js';
import { makeKeys, byteKeys, range } from './keys.js';
import { printTable } from './format.js';
import { benchArgs } from './args.js';

const { sizes, rounds } = benchArgs('roles.js', {
  sizes: { type: 'list', default: [100_000, 1_000_000] },
  rounds: { type: 'number', default: 3 },
});
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
async function time(fn) { const t = performance.now(); await fn(); return performance.now() - t; }

console.log(`\n## checkpoints and role changes, one table of N 8-byte keys, pageSize 8192, MemoryPageStore, median of ${rounds}`);
const rows = [];
for (const n of sizes) {
  const store = new MemoryPageStore();
  const a = await open({ home: store, cacheSize: '1GB' });
  const s = a.openSession();
  s.create('table:b');
  const c = s.openCursor('table:b');
  for (const k of byteKeys(makeKeys(n), range(0, n))) c.put(k, VALUE);
  const b = await open({ home: store, role: 'follower', cacheSize: '1GB' });
  const t = { checkpoint: [], down: [], upReuse: [], upLoad: [], refresh: [], stall: [] };
  for (let r = 0; r < rounds; r++) {
    // A writer thread timing its puts while the leader checkpoints.
    const stall = new Float64Array(new SharedArrayBuffer(16));
    const w = new Worker(new URL('./roles-worker.js', import.meta.url), { workerData: { handle: a.share(), stall: stall.buffer } });
    await new Promise((res) => w.once('message', res)); // writing
    t.checkpoint.push(await time(() => s.checkpoint()));
    Atomics.store(new Int32Array(stall.buffer), 2, 1);
    await new Promise((res) => w.once('message', res));
    t.stall.push(stall[0]);
    t.refresh.push(await time(() => b.reconfigure({ checkpoint: 'latest' })));
    t.down.push(await time(() => a.reconfigure({ role: 'follower' })));
    t.upReuse.push(await time(() => a.reconfigure({ role: 'leader' })));
    await a.reconfigure({ role: 'follower' });
    t.upLoad.push(await time(() => b.reconfigure({ role: 'leader' })));
    await b.reconfigure({ role: 'follower' });
    await a.reconfigure({ role: 'leader' });
  }
  rows.push([n.toLocaleString('en-US'), ...['checkpoint', 'stall', 'down', 'upReuse', 'upLoad', 'refresh'].map((k) => ms(median(t[k])))]);
  await b.close();
  await a.close();
}
printTable(['N', 'checkpoint', 'longest put during it', 'step-down', 'step-up, reuse', 'step-up, load', 'refresh'], rows);
