// A child process of test/store.test.ts: writes a directory home and checkpoints it, then exits
// without closing, or stops at a point of a checkpoint and waits there to be killed (kill -9).
//
//   node ckpt-child.js <home> write <n> <version>   open as leader, table:t keys 0..n-1 = <version>,
//                                                   checkpoint, print "done", exit (no close)
//   node ckpt-child.js <home> pause <point> <n> <version> <log|nolog>
//                                                   as write, but the checkpoint stops at <point>
//                                                   (after-first-blob, before-publish, after-publish):
//                                                   prints "at <point>" and waits to be killed;
//                                                   nolog: with log: false (the image protocol alone)
//   node ckpt-child.js <home> loop <n>              checkpoints versions v1, v2, ... forever,
//                                                   printing "ckpt <k>" after each one is published
import { open, DirectoryPageStore } from '../../dist/index.js';
import { waitToBeKilled } from './wait-killed.js';

const [home, mode, ...args] = process.argv.slice(2);
const key = (i) => `k${String(i).padStart(6, '0')}`;

function fill(conn, n, version) {
  const s = conn.openSession();
  s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor('table:t');
  for (let i = 0; i < n; i++) c.put(key(i), `${version}:${i}`);
  c.close();
  return s;
}

/** The directory store, stopping (forever) at one point of the checkpoint protocol. */
function pausing(store, point) {
  const stop = (at) => { process.stdout.write(`at ${at}\n`); return waitToBeKilled(); };
  return {
    read: (n) => store.read(n),
    list: (p) => store.list(p),
    remove: (n) => store.remove(n),
    async write(name, data) {
      await store.write(name, data);
      if (point === 'after-first-blob' && name.startsWith('ckpt-')) await stop(point);
    },
    async publish(name, data) {
      const isCheckpoint = name.startsWith('log-') && new TextDecoder().decode(data.subarray(8)).includes('"kind":"checkpoint"');
      if (point === 'before-publish' && isCheckpoint) await stop(point);
      const ok = await store.publish(name, data);
      if (point === 'after-publish' && isCheckpoint) await stop(point);
      return ok;
    },
  };
}

if (mode === 'write') {
  const conn = await open({ home });
  await fill(conn, Number(args[0]), args[1]).checkpoint();
  process.stdout.write('done\n');
  process.exit(0);
} else if (mode === 'pause') {
  const [point, n, version, log] = args;
  const conn = await open({ home: pausing(await DirectoryPageStore.open(home, false), point), log: log === 'log' });
  await fill(conn, Number(n), version).checkpoint();
  process.stdout.write('not stopped\n');
  process.exit(3);
} else if (mode === 'loop') {
  const conn = await open({ home });
  const n = Number(args[0]);
  for (let k = 1; ; k++) {
    const s = fill(conn, n, `v${k}`);
    await s.checkpoint();
    s.close();
    process.stdout.write(`ckpt ${k}\n`);
  }
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
