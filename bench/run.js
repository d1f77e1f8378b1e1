// `npm run bench`: builds (via the npm script), then runs every benchmark, each in its own Node
// process so that one benchmark's heap, JIT state and shared memory do not colour the next.
//
//   node bench/run.js            the full run (about 6 minutes on a quiet 2-core machine, estimated,
//                                and level.js's 13 to 17 more, measured on a busy one, and
//                                nats.js failover's and image's about 4 each, measured on a busy one)
//   node bench/run.js --quick    smaller N and shorter runs (about 1 minute), for a smoke test
//   node bench/run.js --node node24   every step under another Node: node22 or node24 (the
//                                binaries test/runtimes installs: npm ci there), or a path
//   npm run bench -- --node node24    the same after the build
//
// The steps: the peer benchmark (peer.js: latchkey against sorted-btree, Map, lmdb, sqlite, each
// engine in a fresh process), latchkey's page sizes (micro.js), multi-worker throughput
// (throughput.js: 1, 2, 4 workers, read-only and 50/50), delete-heavy churn with compaction
// (delete.js), the epoch bookkeeping's cost (epoch.js), the disaggregated roles (roles.js) and
// the write-ahead log (log.js: its cost, flush latency, replay, follower lag, durable writes) and
// the level API (level.js: latchkey/level against memory-level and classic-level, and shared
// by worker threads), and a NATS home (nats.js, where nats-server is installed: flush latency
// and write rate against a directory home, follower lag, checkpoint image upload and download
// rates; and, where etcd is installed too, failover times of an elected leader).
//
// Benchmarks only print; nothing here asserts on a timing. A benchmark that fails, or hangs
// (delete.js has its own watchdog; every step is also killed after stepTimeout), is reported,
// the others still run, and the exit status is 1.

import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.js';
import { nodeBinary } from './node-binary.js';

const { quick, node } = benchArgs('run.js', { quick: { type: 'boolean' }, node: { type: 'string' } });
const exe = nodeBinary(node);
/**
 * Seconds after which a step still running is killed (a hang in the core, say). delete.js takes
 * about 25 s; a hang its watchdog cannot see (the main thread itself spinning in stats() or
 * verify() on a broken tree) would otherwise stall the whole run.
 */
const stepTimeout = (script) => (script === 'delete.js' ? 60 : script === 'peer.js' || script === 'level.js' ? 1800 : script === 'nats.js' ? 600 : 300);

const STEPS = quick
  ? [
    ['peer.js', '--sizes', '20000,100000', '--runs', '1', '--warmup', '5000'],
    ['micro.js', '--n', '100000', '--time', '150', '--page-sizes', '--no-engines'],
    ['throughput.js', '--n', '100000', '--seconds', '1', '--rounds', '1'],
    ['delete.js', '--n', '100000', '--seconds', '1', '--rounds', '1'],
    ['epoch.js', '--n', '100000', '--rounds', '4', '--gets', '200000'],
    ['epoch.js', '--variant', 'gate', '--n', '100000', '--rounds', '4', '--gets', '200000'],
    ['roles.js', '--sizes', '10000,100000'],
    ['log.js', '--n', '100000', '--rounds', '1', '--flushes', '100'],
    ['level.js', '--n', '20000', '--runs', '1'],
    ['nats.js', '--case', 'flush', '--flushes', '100'],
    ['nats.js', '--n', '200'],
    ['nats.js', '--case', 'failover', '--kills', '2', '--resigns', '1'],
    ['nats.js', '--case', 'image', '--sizes', '16', '--rounds', '1'],
  ]
  : [
    ['peer.js', '--sizes', '100000,1000000', '--runs', '3'],
    ['micro.js', '--n', '1000000', '--rounds', '1', '--page-sizes', '--no-engines'],
    ['throughput.js', '--n', '1000000', '--workers', '1,2,4', '--seconds', '2', '--rounds', '2'],
    ['throughput.js', '--n', '1000000', '--workers', '1,2,4', '--seconds', '2', '--rounds', '2', '--no-control', '--log'],
    ['delete.js', '--n', '200000', '--workers', '2', '--seconds', '3', '--rounds', '2'],
    ['epoch.js', '--n', '1000000', '--rounds', '6', '--gets', '500000'],
    ['epoch.js', '--variant', 'gate', '--n', '1000000', '--rounds', '6', '--gets', '500000'],
    ['roles.js', '--sizes', '100000,1000000'],
    ['log.js', '--n', '1000000', '--rounds', '3', '--flushes', '500'],
    ['level.js', '--n', '1000000', '--runs', '3'],
    ['nats.js', '--case', 'flush'],
    ['nats.js', '--n', '1000'],
    ['nats.js', '--case', 'failover', '--ttls', '2,5'],
    ['nats.js', '--case', 'image'],
  ];

console.log(`# latchkey benchmarks${quick ? ' (--quick)' : ''}`);
const version = spawnSync(exe, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '?';
console.log(`command: node bench/run.js ${process.argv.slice(2).join(' ')}`.trimEnd() + `; each step: ${exe} --expose-gc bench/STEP`);
console.log(`${new Date().toISOString()}, node ${version}, ${availableParallelism()} cores ` +
  `(${cpus()[0]?.model ?? 'unknown cpu'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

if (loadavg()[0] > 0.5 * availableParallelism()) {
  console.log('note: the machine is busy (1-minute load average above half its cores): expect noisy figures');
}

const t0 = performance.now();
const failed = [];
/** Steps that need server binaries: not run (and said so) where one is missing. */
const needs = (script, args) => (script !== 'nats.js' ? [] : args.includes('failover') ? ['nats-server', 'etcd'] : ['nats-server']);
const PACKAGE = { 'nats-server': 'nats-server', etcd: 'etcd-server' };
const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
for (const [script, ...args] of STEPS) {
  const missing = needs(script, args).filter((bin) => !onPath(bin));
  if (missing.length) {
    console.log(`\nbench/${script} ${args.join(' ')}: NOT RUN, ${missing.join(' and ')} not on PATH (apt-get install -y ${missing.map((b) => PACKAGE[b]).join(' ')})`);
    continue;
  }
  const file = fileURLToPath(new URL(script, import.meta.url));
  // --expose-gc lets micro.js collect between engines, so each starts from a clean heap.
  const r = spawnSync(exe, ['--expose-gc', file, ...args],
    { stdio: 'inherit', timeout: stepTimeout(script) * 1000, killSignal: 'SIGKILL' });
  if (r.status !== 0) {
    const why = r.error?.code === 'ETIMEDOUT' ? `killed after ${stepTimeout(script)} s` : (r.signal ?? `exit ${r.status}`);
    const what = `bench/${script} ${args.join(' ')} failed (${why})`;
    console.error(what);
    failed.push(what);
  }
}
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s, load average now ` +
  `${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (failed.length) {
  console.error(`${failed.length} benchmark(s) failed:\n  ${failed.join('\n  ')}`);
  process.exit(1);
}
