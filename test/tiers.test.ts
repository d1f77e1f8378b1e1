/**
 * The release build under each of V8's compilers. Node 20's baseline compiler (Liftoff) ran the
 * core differently from the optimizing one: with wait/notify instructions inlined into the core,
 * a delete-heavy workload next to splits hung in 6 of 6 runs under --liftoff-only (a split linked
 * a page to itself). The core now sleeps and wakes through host calls (assembly/futex.ts). This
 * test runs that workload in child processes with each compiler forced, and in the default mix.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./workers/adjacent.js', import.meta.url));

describe('release build under each V8 compiler', () => {
  for (const flags of [['--liftoff-only'], ['--no-liftoff'], []]) {
    it(`splits next to page deletion, two workers: ${flags.join(' ') || 'default tiering'}`, () => {
      const r = spawnSync(process.execPath, [...flags, SCRIPT], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: true, entries: 200_000 });
    }, 70_000);
  }
});
