/**
 * The spin models (models/README.md): models/run.sh checks both protocol models exhaustively and
 * makes spin reject each variant with a fix removed. Without spin on PATH the test is SKIPPED
 * (reported as skipped, never as passed) with the reason printed, unless LATCHKEY_REQUIRE_SPIN=1
 * (CI sets it), which makes a missing spin a failure.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../models/run.sh', import.meta.url));
const hasSpin = spawnSync('sh', ['-c', 'command -v spin'], { encoding: 'utf8' }).status === 0;
const REQUIRE = process.env.LATCHKEY_REQUIRE_SPIN === '1';
const HOW = 'spin is not on PATH: the protocol models were NOT checked. Install it with `apt-get install -y spin` (Debian/Ubuntu; gcc is needed too).';

if (!hasSpin) console.warn(`test/models.test.ts: ${HOW}`);

describe('protocol models (spin)', () => {
  // Registered only where it must fail, so that a run with spin counts no skipped test.
  if (!hasSpin && REQUIRE) {
    it('spin is installed (LATCHKEY_REQUIRE_SPIN=1)', () => {
      expect.fail(HOW);
    });
  }

  it.skipIf(!hasSpin)('every model passes exhaustively; every variant with a fix removed is rejected with a counterexample', { timeout: 900_000 }, () => {
    const r = spawnSync('bash', [RUN], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const out = `${r.stdout}\n${r.stderr}`;
    // The summary table: one row a configuration.
    const table = out.slice(out.lastIndexOf('model  '));
    expect(r.status, out.slice(-8000)).toBe(0);
    for (const name of ['pagedel-forward', 'pagedel-backward', 'roles']) {
      expect(table).toMatch(new RegExp(`^${name} +pass +passed \\(exhaustive\\)`, 'm'));
    }
    for (const name of ['pagedel-2013', 'roles-wt']) {
      expect(table).toMatch(new RegExp(`^${name} +fail +rejected \\(counterexample\\)`, 'm'));
    }
    // The counterexamples are printed in words, naming the property they break.
    expect(out).toMatch(/VARIANT_2013: releases the parent A after the check/);
    expect(out).toMatch(/VIOLATED P5/);
    expect(out).toMatch(/VIOLATED P4: after the role changes resolved/);
  });
});
