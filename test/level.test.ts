// latchkey/level against abstract-level's own conformance suite (abstract-level/test with tape,
// pinned in devDependencies), in memory and on a directory home, each run in a child process
// (test/level/suite.cjs). The counts tape prints are checked and reported: every test passes, and
// none is skipped beyond what LatchkeyLevel's manifest declares (implicit and explicit snapshots).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SUITE = fileURLToPath(new URL('./level/suite.cjs', import.meta.url));

function runSuite(where: 'memory' | 'directory') {
  const r = spawnSync(process.execPath, [SUITE, where], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 240_000 });
  const out = r.stdout ?? '';
  const count = (label: string) => Number(/^# (tests|pass|fail) +(\d+)$/m.exec(out.split('\n').filter((l) => l.startsWith(`# ${label}`)).join('\n'))?.[2] ?? NaN);
  const failed = out.split('\n').filter((l) => l.startsWith('not ok')).slice(0, 10);
  return { status: r.status, tests: count('tests'), pass: count('pass'), fail: count('fail'), failed, stderr: (r.stderr ?? '').slice(-2000) };
}

describe("abstract-level's suite against LatchkeyLevel", () => {
  for (const where of ['memory', 'directory'] as const) {
    it(`passes in ${where === 'memory' ? 'memory' : 'a directory home'}`, () => {
      const r = runSuite(where);
      console.log(`abstract-level suite, ${where}: ${r.tests} assertions run, ${r.pass} passed, ${Number.isNaN(r.fail) ? 0 : r.fail} failed`);
      expect(r.failed, r.stderr).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.tests).toBeGreaterThan(4000);
      expect(r.pass).toBe(r.tests);
    }, 300_000);
  }
});

describe('LatchkeyLevel across worker threads', () => {
  it('4 workers use one database at once through the level API; the result matches a model and verify() passes', async () => {
    const { Worker } = await import('node:worker_threads');
    const { LatchkeyLevel } = await import('latchkey/level');
    const db = new LatchkeyLevel({ cacheSize: '64MB' });
    await db.open();
    const n = 600;
    const model = new Map<string, string>();
    const workers = Array.from({ length: 4 }, (_, id) => new Worker(new URL('./level/worker.mjs', import.meta.url), { workerData: { handle: db.share(), id, n } }));
    const replies = await Promise.all(workers.map((w) => new Promise<{ got: (string | undefined)[]; scanned: [string, string][] }>((res, rej) => { w.once('message', res); w.once('error', rej); })));
    for (let id = 0; id < 4; id++) {
      for (let j = 0; j < n; j++) {
        const k = `w${id}-${String(j).padStart(5, '0')}`;
        if (j % 3 !== 0) model.set(k, j % 5 === 0 ? `b${j}` : `v${j}`);
      }
      const mine = [...model].filter(([k]) => k.startsWith(`w${id}-`)).sort(([a], [b]) => (a < b ? -1 : 1));
      expect(replies[id].scanned).toEqual(mine); // each worker's own keys: it wrote them before reading
      expect(replies[id].got).toEqual(['v1', undefined, 'b5']);
    }
    const all = await db.iterator().all();
    expect(all).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(db.connection.openSession().verify(db.table).ok).toBe(true);
    await Promise.all(workers.map((w) => w.terminate()));
    await db.close();
  }, 120_000);
});
