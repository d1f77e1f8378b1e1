// What the file system costs a log segment's publish, in steady state: the cycle DirectoryPageStore
// runs (a temporary file written and fsynced, linked to its name, the temporary name removed, the
// directory fsynced), with the oldest of `--keep` published names removed after each publish, as
// the log's truncation removes segments. `fresh` is DirectoryPageStore's publish and remove
// themselves; `recycle` is the same cycle written out here with one change: a removed name is
// renamed into a pool and the next segment is written over a pooled file in place (truncated to
// its size), as PostgreSQL recycles WAL files.
// Process CPU (user / system) and wall time per 200 MB published, segment sizes 60-100% of
// --mb. Run in the system's temp directory. Nothing is asserted.
//
//   node bench/segment-files.js [--mb 5] [--keep 12] [--rounds 2]

import { open, rename, link, unlink, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DirectoryPageStore } from '../dist/store-dir.js';
import { printTable } from './format.js';
import { benchArgs } from './args.js';

const args = benchArgs('segment-files.js', {
  mb: { type: 'number', default: 5 },
  keep: { type: 'number', default: 12 },
  rounds: { type: 'number', default: 2 },
});
const TOTAL = 200 << 20;

async function cycle(mode) {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-bench-segments-'));
  const data = new Uint8Array(args.mb << 20).fill(7);
  const pool = [];
  const live = [];
  let seq = 0;
  const store = await DirectoryPageStore.open(dir, false);
  const syncDir = async () => { const fh = await open(dir, 'r'); await fh.sync(); await fh.close(); };
  const recycled = async (name, bytes) => {
    const tmp = join(dir, `.tmp-${randomUUID()}`);
    const reuse = pool.shift();
    if (reuse) await rename(reuse, tmp);
    const fh = await open(tmp, reuse ? 'r+' : 'wx');
    for (let at = 0; at < bytes.length;) at += (await fh.write(bytes, at, bytes.length - at, at)).bytesWritten;
    if (reuse && (await fh.stat()).size > bytes.length) await fh.truncate(bytes.length);
    await fh.sync();
    await fh.close();
    await link(tmp, join(dir, name));
    await unlink(tmp);
    await syncDir();
  };
  const publish = (name, bytes) => (mode === 'recycle' ? recycled(name, bytes) : store.publish(name, bytes));
  const remove = async (name) => {
    if (mode !== 'recycle') return store.remove(name);
    const to = join(dir, `.free-${randomUUID()}`);
    await rename(join(dir, name), to);
    pool.push(to);
  };
  let bytes = 0;
  const step = async () => {
    const len = Math.floor(data.length * (0.6 + 0.4 * Math.random())) & ~7;
    const name = `wal-${String(seq++).padStart(16, '0')}`;
    await publish(name, data.subarray(0, len));
    bytes += len;
    live.push(name);
    if (live.length > args.keep) await remove(live.shift());
  };
  for (let i = 0; i < 2 * args.keep; i++) await step(); // the pool fills: steady state
  bytes = 0;
  const cpu = process.cpuUsage();
  const t = performance.now();
  while (bytes < TOTAL) await step();
  const used = process.cpuUsage(cpu);
  const scale = TOTAL / bytes;
  await rm(dir, { recursive: true, force: true });
  return { wall: (performance.now() - t) * scale, user: (used.user / 1000) * scale, sys: (used.system / 1000) * scale };
}

const rows = [];
for (let r = 0; r < args.rounds; r++) {
  for (const mode of r % 2 === 0 ? ['fresh', 'recycle'] : ['recycle', 'fresh']) {
    const x = await cycle(mode);
    rows.push([`${mode} (round ${r + 1})`, `${x.wall.toFixed(0)} ms`, `${x.user.toFixed(0)} ms`, `${x.sys.toFixed(0)} ms`]);
  }
}
console.log(`\n## segment files: publish cycle in ${tmpdir()}, segments of ${args.mb} MiB at most, ${args.keep} kept`);
console.log(`command: node bench/segment-files.js --mb ${args.mb} --keep ${args.keep} --rounds ${args.rounds}`);
printTable(['per 200 MB published', 'wall', 'user CPU', 'system CPU'], rows);
