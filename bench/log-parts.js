// Where a logged put's time goes, part by part, measured so that a busy shared machine still
// gives usable figures: parts that run on the putting thread are timed in ONE process, in
// alternating rounds (ABBA) against the same work with the log off, and summarized by their
// lower quartile and median (a neighbour's load only ever adds time). bench/log.js gives the
// end-to-end ratio; this says what it is made of. Nothing is asserted.
//
//   node bench/log-parts.js [--rounds 40] [--per 20000] [--writes 40] [--base <other dist/index.js>]
//
//   append    puts into a memory home with the log on against log: false (and, with --base, the
//             other build's log-on puts: an A/B of a core change), the log drained and published
//             OUTSIDE the timed part: what the core's record append costs a put (reserve, copy,
//             crc32, credit)
//   drain     the log writer's drain of one round's records (copy out of the ring, zeroing,
//             credit back), per put; next to it the same bytes copied into a fresh buffer (what
//             the drain does: its chunks are kept for incremental checkpoints) and into one
//             reused buffer: what fresh memory (page faults, the kernel zeroing it) adds
//   segment   one segment written to a directory home the way the log writes it (publish: a
//             temporary file, write, fsync, link, fsync of the directory), against a write in
//             place at the end of an open file + fdatasync: process CPU (user / sys) and wall time
//             per write, for segments of 64 KiB and 1 MiB

import { mkdtempSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../dist/index.js';
import { DirectoryPageStore } from '../dist/store-dir.js';
import { LOG_HEADER } from '../dist/abi.generated.js';
import { makeKeys, byteKeys, range } from './keys.js';
import { printTable } from './format.js';
import { benchArgs } from './args.js';

const args = benchArgs('log-parts.js', {
  rounds: { type: 'number', default: 40 },
  per: { type: 'number', default: 20_000 },
  writes: { type: 'number', default: 40 },
  base: { type: 'string', default: '' },
});
const { rounds, per } = args;
const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const q1 = (xs) => sorted(xs)[xs.length >> 2];
const median = (xs) => sorted(xs)[xs.length >> 1];

console.log(`\n## the log's cost, part by part: ${rounds} alternating rounds of ${per} random 8-byte puts; segments x${args.writes} in ${tmpdir()}`);
console.log(`command: node bench/log-parts.js --rounds ${rounds} --per ${per} --writes ${args.writes}${args.base ? ` --base ${args.base}` : ''}`);

// ---- append and drain ----
const keys = byteKeys(makeKeys(rounds * per), range(0, rounds * per));
const cases = [];
async function addCase(name, lib, log) {
  const conn = await lib.open({ cacheSize: '512MB', log });
  const s = conn.openSession();
  s.create('table:b');
  cases.push({ name, conn, c: s.openCursor('table:b'), log, put: [], drain: [] });
}
await addCase('log: false', { open }, false);
await addCase('log on', { open }, true);
if (args.base) await addCase('log on (--base)', await import(new URL(args.base, `file://${process.cwd()}/`).href), true);
for (let r = 0; r < rounds; r++) {
  for (const k of r & 1 ? [...cases].reverse() : cases) {
    if (k.log) await k.conn.flush(); // the last round's records out of the ring, untimed
    let t = performance.now();
    for (let j = r * per; j < (r + 1) * per; j++) k.c.put(keys[j], VALUE);
    k.put.push(((performance.now() - t) * 1e6) / per);
    if (k.log) {
      t = performance.now();
      k.conn.log.drain(); // the connection's log writer (bindings/log.ts)
      k.drain.push(((performance.now() - t) * 1e6) / per);
    }
  }
}
const off = cases[0];
printTable(['puts (ns per put)', 'lower quartile', 'median', 'log cost (lower quartile)', 'drain per put (median)'],
  cases.map((k) => [k.name, q1(k.put).toFixed(0), median(k.put).toFixed(0), k === off ? '' : `${(q1(k.put) - q1(off.put)).toFixed(0)} ns`,
    k.log ? `${median(k.drain).toFixed(1)} ns` : '']));
for (const k of cases) k.conn.core.unregister();
{
  // One round's record bytes (a header + 8-byte key + 8-byte value per put), copied as the drain does.
  const src = new Uint8Array(per * (LOG_HEADER + 16)).fill(1);
  const reused = new Uint8Array(src.length);
  const fresh = [];
  const again = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    new Uint8Array(src.length).set(src);
    fresh.push(((performance.now() - t) * 1e6) / per);
    t = performance.now();
    reused.set(src);
    again.push(((performance.now() - t) * 1e6) / per);
  }
  printTable([`a round's ${src.length} record bytes copied`, 'ns per put (median)'],
    [['into a fresh buffer', median(fresh).toFixed(1)], ['into one reused buffer', median(again).toFixed(1)]]);
}

// ---- segment writes ----
const rows = [];
for (const size of [64 << 10, 1 << 20]) {
  const home = mkdtempSync(join(tmpdir(), 'latchkey-bench-parts-'));
  const store = await DirectoryPageStore.open(home, true);
  const data = new Uint8Array(size).fill(7);
  const cpu = (what, write) => async () => {
    const u = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < args.writes; i++) await write(i);
    const d = process.cpuUsage(u);
    rows.push([`${size >> 10} KiB, ${what}`, `${(d.user / args.writes).toFixed(0)} / ${(d.system / args.writes).toFixed(0)} us`, `${((performance.now() - t) / args.writes).toFixed(2)} ms`]);
  };
  await cpu('publish (a file per segment)', (i) => store.publish(`wal-${String(i).padStart(16, '0')}`, data))();
  const fh = await openFile(join(home, 'in-place'), 'w');
  await cpu('write in place + fdatasync', async (i) => { await fh.write(data, 0, size, i * size); await fh.datasync(); })();
  await fh.close();
  rmSync(home, { recursive: true, force: true });
}
printTable(['segment write', 'CPU per write, user / sys', 'wall per write'], rows);
process.exit(0); // the log writers' timers
