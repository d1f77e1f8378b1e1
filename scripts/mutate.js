#!/usr/bin/env node
// npm run mutate [-- [--only] NAME-SUBSTRING]: applies each mutation of scripts/mutations.js to a scratch
// copy of the repository, one at a time, rebuilds the core (release + debug Wasm), runs the tests
// that should catch it with a timeout, and prints a table: mutation, caught by which test, how
// (assertion, trap, hang). Exit status 1 if any mutation survives or an anchor is not found
// exactly once. Not part of npm test (each mutation costs a rebuild and a test run).
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATIONS } from './mutations.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_S = Number(process.env.LATCHKEY_MUTATE_TIMEOUT ?? 300);
// `--only SUBSTRING` (or the substring alone) runs just the mutations whose name contains it.
const args = process.argv.slice(2);
const only = args.indexOf('--only');
const filter = only >= 0 ? args[only + 1] : args[0];
if (only >= 0 && !filter) {
  console.error('mutate: --only needs a substring of a mutation name');
  process.exit(2);
}
const list = MUTATIONS.filter((m) => !filter || m.name.includes(filter));
if (list.length === 0) {
  console.error(`mutate: no mutation's name contains "${filter}"; the names are:\n${MUTATIONS.map((m) => `  ${m.name}`).join('\n')}`);
  process.exit(2);
}

// Every anchor must occur exactly once in today's tree: a mutation that no longer applies is an
// error, not a pass.
for (const m of list) {
  const text = readFileSync(join(ROOT, m.file), 'utf8');
  const n = text.split(m.find).length - 1;
  if (n !== 1) {
    console.error(`mutate: anchor of "${m.name}" occurs ${n} times in ${m.file} (must be exactly once)`);
    process.exit(2);
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'latchkey-mutate-'));
const LOGS = mkdtempSync(join(tmpdir(), 'latchkey-mutate-logs-'));
console.log(`test output of each mutation: ${LOGS}/N.log`);
const SKIP = new Set(['node_modules', '.git']);
cpSync(ROOT, scratch, { recursive: true, filter: (src) => !SKIP.has(src.slice(ROOT.length + 1).split('/')[0]) });
symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'));

function run(cmd, args, timeoutS) {
  // Its own process group: the timeout's kill reaches only the child, so the group is killed
  // after it (vitest's fork pool would otherwise live on, spinning in a hung test's loop).
  const r = spawnSync(cmd, args, { cwd: scratch, encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 256 << 20, killSignal: 'SIGKILL', detached: true });
  try { if (r.pid) process.kill(-r.pid, 'SIGKILL'); } catch { /* the group has ended */ }
  return { status: r.status, timedOut: r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL', out: `${r.stdout ?? ''}\n${r.stderr ?? ''}` };
}

// eslint-disable-next-line no-control-regex
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

const rows = [];
let failed = false;
for (const m of list) {
  const path = join(scratch, m.file);
  const original = readFileSync(path, 'utf8');
  writeFileSync(path, original.replace(m.find, m.replace));
  process.stdout.write(`-- ${m.name} (${m.file}) ... `);
  try {
    // The core's build, or the bindings' (tsc) for a mutation of bindings/.
    const build = run('npm', ['run', m.file.startsWith('bindings/') ? 'build:ts' : 'build:wasm'], 600);
    if (build.status !== 0) {
      rows.push({ name: m.name, by: '(build failed)', how: 'does not compile', seconds: 0 });
      console.log('does not compile');
      continue;
    }
    // Deterministic tests only: the churn and stress runs are excluded (a mutation that only they
    // catch is caught by chance, which the check reports as a survivor).
    // vitest itself (not through npx), so that the timeout's kill reaches it. --bail 1: the first
    // failed test is the catch; the tests after it would only wait out their own timeouts on
    // workers that trapped or injection points nobody reaches.
    const started = Date.now();
    const t = run(process.execPath, [join(scratch, 'node_modules/vitest/vitest.mjs'), 'run', '--bail', '1', '-t', '^(?!.*(churn|stress))', ...m.tests], TIMEOUT_S);
    const seconds = Math.round((Date.now() - started) / 1000);
    const out = plain(t.out);
    const failedTests = [...out.matchAll(/^\s*(?:×|✗|FAIL)\s+(.+?)(?:\s+\d+ms)?$/gm)].map((x) => x[1].trim())
      .filter((x) => !/^test\/[^ ]+\.test\.ts$/.test(x) || true);
    writeFileSync(join(LOGS, `${rows.length + 1}.log`), `${m.name}\n\n${out}`);
    const ways = [];
    if (/core assertion failed|RuntimeError: unreachable|wasm trap/.test(out)) ways.push('trap (core assertion)');
    if (/memory access out of bounds/.test(out)) ways.push('trap (out-of-bounds access)');
    if (/AssertionError/.test(out)) ways.push('assertion');
    const rules = [...new Set([...out.matchAll(/breaks rule ([A-Z_]+)/g)].map((x) => x[1]))];
    if (rules.length > 0) ways.push(`verify ECORRUPT (${rules.join(', ')})`);
    if (/Test timed out|timed out waiting|injection point .* arrived within/.test(out)) ways.push('hang (test timeout)');
    let how;
    if (t.timedOut) how = `hang (no result in ${TIMEOUT_S} s)`;
    else if (t.status === 0) how = 'SURVIVED';
    else how = ways.join(' + ') || 'test failure';
    const by = t.timedOut ? m.tests.join(', ') : (failedTests.filter((x) => x.includes(' > ')).slice(0, 2).join('; ') || failedTests.slice(0, 2).join('; ') || m.tests.join(', '));
    if (how === 'SURVIVED') failed = true;
    rows.push({ name: m.name, by: how === 'SURVIVED' ? `(none of ${m.tests.join(', ')})` : by, how, seconds });
    console.log(`${how} (${seconds} s)`);
  } finally {
    writeFileSync(path, original);
  }
}
rmSync(scratch, { recursive: true, force: true });

// seconds: the test run of that mutation (without the rebuild), the time it took to be caught.
console.log('\n| mutation | caught by | how | s |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.by.replace(/\|/g, '/')} | ${r.how} | ${r.seconds} |`);
const survived = rows.filter((r) => r.how === 'SURVIVED').length;
console.log(`\n${rows.length - survived} of ${rows.length} mutations caught${survived ? `; ${survived} SURVIVED: a test is missing` : ''}`);
process.exit(failed ? 1 : 0);
