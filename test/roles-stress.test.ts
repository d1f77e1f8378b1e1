/**
 * Role stress: 4 workers open, write, close and reopen tables (test/workers/role-churn.js; two of
 * them keep their cursors across role changes) while
 * the main thread flips the role of their connection thousands of times, with checkpoints in
 * between, and now and then lets a second connection on the same page store lead for a while.
 * Checked continuously:
 *   - once a step-down has resolved, no write succeeds until the next step-up starts (each worker
 *     checks every acknowledged write against the phase word the main thread publishes);
 *   - every write acknowledged before a step-down resolved is in the state the next leader sees
 *     (compared exactly after every step-down, on this connection or on the other one);
 *   - verify() is clean at the end.
 * 2,000 flips in `npm test`; LATCHKEY_STRESS=1 (`npm run stress`) runs 20,000.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { openTest } from './helpers.js';
import { type Connection, MemoryPageStore } from '../dist/index.js';

const FLIPS = process.env.LATCHKEY_STRESS === '1' ? 20_000 : 2_000;
const WORKERS = 4;
const TABLES = 4;
const KEYS = 64;
const ACKED = 8, OK = 16, REFUSED = 24, VIOLATION = 32, ERROR = 40, KEPT = 48;

/** What worker `w`'s keys must hold once its values 1..a are in (role-churn.js's scheme). */
function expected(w: number, a: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let j = 0; j < KEYS; j++) {
    const v = a - ((((a - j) % KEYS) + KEYS) % KEYS);
    if (v >= 1) m.set(`t${j % TABLES}/w${w}-${j}`, String(v));
  }
  return m;
}

/** The workers' keys as `conn` sees them, by worker. */
function state(conn: Connection): Map<string, string>[] {
  const s = conn.openSession();
  const byWorker = Array.from({ length: WORKERS }, () => new Map<string, string>());
  for (let t = 0; t < TABLES; t++) {
    for (const [k, v] of s.openCursor<string, string>(`table:t${t}`).range({ gte: 'w' })) {
      byWorker[Number(k.slice(1, k.indexOf('-')))].set(`t${t}/${k}`, v);
    }
  }
  s.close();
  return byWorker;
}

const same = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...b].every(([k, v]) => a.get(k) === v);

/**
 * Each worker's keys hold exactly its acknowledged values 1..acked, or 1..acked+1: a put that
 * completed inside the core before the step-down's drain but whose worker has not yet recorded
 * the acknowledgement. (A put that succeeds after a step-down resolved is a violation the worker
 * itself counts.) So nothing acknowledged is missing, and nothing unacknowledged but that one.
 */
function checkState(got: Map<string, string>[], acked: number[], when: string): void {
  got.forEach((g, w) => {
    if (same(g, expected(w, acked[w])) || same(g, expected(w, acked[w] + 1))) return;
    const want = expected(w, acked[w]);
    const diff = [...want].filter(([k, v]) => g.get(k) !== v).slice(0, 3).map(([k, v]) => `${k}: want ${v}, got ${g.get(k)}`);
    expect.fail(`${when}: worker ${w} acknowledged 1..${acked[w]}; ${g.size} keys, want ${want.size}; ${diff.join('; ')}`);
  });
}

describe('role stress', () => {
  it(`${WORKERS} workers write through ${FLIPS} step-downs and step-ups without a write on a follower or a lost acknowledged write`, async () => {
    const store = new MemoryPageStore();
    const conn = await openTest({ home: store, cacheSize: '64MB' });
    const s = conn.openSession();
    for (let t = 0; t < TABLES; t++) s.create(`table:t${t}`, { keyFormat: 'S', valueFormat: 'S' });
    const first = s.openCursor<string, string>('table:t0');
    first.put('marker', '0');
    first.close();
    const other = await openTest({ home: store, role: 'follower', cacheSize: '64MB' });

    const words = new SharedArrayBuffer(4 * 64);
    const st = new Int32Array(words);
    const workers = Array.from({ length: WORKERS }, (_, id) =>
      new Worker(new URL('./workers/role-churn.js', import.meta.url), { workerData: { handle: conn.share(), words, id } }));
    const exits = workers.map((w) => new Promise<{ lastError: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const acked = () => Array.from({ length: WORKERS }, (_, w) => Atomics.load(st, ACKED + w));
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    let generation = 0;
    let handovers = 0;
    let checkpoints = 0;
    try {
      for (let flip = 1; flip <= FLIPS; flip++) {
        // Leading: let the workers write a little (or give up waiting after a few ms).
        const before = sum(acked());
        const t0 = Date.now();
        while (sum(acked()) < before + 8 && Date.now() - t0 < 20) await new Promise((r) => setImmediate(r));
        if (flip % 7 === 0) { await s.checkpoint(); checkpoints++; }

        await conn.reconfigure({ role: 'follower' });
        Atomics.store(st, 1, (++generation << 1) | 1); // resolved: from here no write may succeed
        const atStepDown = acked();
        checkState(state(conn), atStepDown, `flip ${flip}: the follower's view after the step-down`);
        // The final checkpoint itself, as a follower on the same store loads it.
        await other.reconfigure({ checkpoint: 'latest' });
        checkState(state(other), acked(), `flip ${flip}: the page store's latest checkpoint`);

        if (flip % 25 === 0) {
          // The next leader is the other connection: it must see every acknowledged write.
          await other.reconfigure({ role: 'leader' });
          checkState(state(other), acked(), `flip ${flip}: the other connection as leader`);
          const os = other.openSession();
          os.openCursor<string, string>('table:t0').put('marker', String(flip));
          os.close(); // an open cursor would keep this image's trees (256 at most) alive
          await other.reconfigure({ role: 'follower' });
          handovers++;
        }
        expect(Atomics.load(st, VIOLATION) + Atomics.load(st, VIOLATION + 1) + Atomics.load(st, VIOLATION + 2)
          + Atomics.load(st, VIOLATION + 3)).toBe(0);

        Atomics.store(st, 1, ++generation << 1); // a step-up starts: writes may succeed again
        await conn.reconfigure({ role: 'leader' });
        if (flip % 25 === 0) {
          const mc = s.openCursor<string, string>('table:t0');
          expect(mc.get('marker')).toBe(String(flip));
          mc.close(); // (an open cursor keeps its image's trees alive once another image replaces them)
        }
      }
    } finally {
      Atomics.store(st, 0, 1);
    }
    const results = await Promise.all(exits);
    const count = (base: number) => sum(Array.from({ length: WORKERS }, (_, w) => Atomics.load(st, base + w)));
    expect(count(VIOLATION)).toBe(0);
    expect(count(ERROR), results.map((r) => r.lastError).join(' | ')).toBe(0);
    expect(count(OK)).toBeGreaterThan(FLIPS); // the workers really wrote between flips
    expect(count(REFUSED)).toBeGreaterThan(0); // and really tried during step-downs
    expect(count(KEPT)).toBeGreaterThan(0); // and wrote through cursors kept across role changes
    expect(handovers).toBe(Math.floor(FLIPS / 25));
    expect(checkpoints).toBeGreaterThan(0);
    checkState(state(conn), acked(), 'the end, as leader');
    for (let t = 0; t < TABLES; t++) expect(s.verify(`table:t${t}`).ok).toBe(true);
    await other.close();
    await conn.close();
  }, 600_000);
});
