// `npm run bench`: builds (via the npm script), then runs every benchmark, each in its own Node
// process so that one benchmark's heap, JIT state and shared memory do not colour the next.
//
//   node bench/run.js            the full run (about 3 minutes on a 2-core machine)
//   node bench/run.js --quick    smaller N and shorter runs (about 1 minute), for a smoke test
//
// Benchmarks only print; nothing here asserts on a timing.

import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const unknown = process.argv.slice(2).filter((a) => a !== '--quick');
if (unknown.length) throw new Error(`run.js: unknown arguments ${unknown.join(' ')} (accepted: --quick)`);

const STEPS = quick
  ? [
    ['micro.js', '--n', '20000', '--time', '150'],
    ['micro.js', '--n', '100000', '--time', '150', '--page-sizes'],
    ['throughput.js', '--n', '100000', '--seconds', '1', '--rounds', '1'],
  ]
  : [
    ['micro.js', '--n', '100000', '--rounds', '2'],
    ['micro.js', '--n', '1000000', '--rounds', '2', '--page-sizes'],
    ['throughput.js', '--n', '1000000', '--workers', '1,2,4', '--seconds', '2', '--rounds', '2'],
  ];

console.log(`# latchkey benchmarks${quick ? ' (--quick)' : ''}`);
console.log(`${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} cores ` +
  `(${cpus()[0]?.model ?? 'unknown cpu'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

if (loadavg()[0] > 0.5 * availableParallelism()) {
  console.log('note: the machine is busy (1-minute load average above half its cores): expect noisy figures');
}

const t0 = performance.now();
for (const [script, ...args] of STEPS) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  // --expose-gc lets micro.js collect between engines, so each starts from a clean heap.
  const r = spawnSync(process.execPath, ['--expose-gc', file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench/${script} ${args.join(' ')} failed (${r.signal ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s, load average now ` +
  `${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
