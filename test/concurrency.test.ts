/**
 * Real concurrency: several node:worker_threads attached to one shared memory, operating on one
 * tree at once. Every operation's invocation and response are stamped from one shared atomic
 * counter; the recorded history is checked for per-key linearizability (test/lin/checker.js),
 * and the tree is verified afterwards.
 *
 * `npm test` runs 1M operations in total; `npm run stress` (LATCHKEY_STRESS=1) runs 10x that.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { checkColumnar, GET } from './lin/checker.js';
import { keyBytes } from './workers/history.js';
import { openTest, withWorkers } from './helpers.js';
import type { Connection } from '../dist/index.js';

const STRESS = process.env.LATCHKEY_STRESS === '1';
const SCALE = STRESS ? 10 : 1;
const WORKERS = 4;

let conn: Connection | undefined;
afterEach(async () => { await conn?.close(); conn = undefined; });

interface Chunk { kind: Uint8Array; key: Int32Array; value: Int32Array; result: Int32Array; inv: Float64Array; res: Float64Array; length: number }

/** Reads every key of [base, base+space) once more after the run: the final state joins the history. */
function finalReads(c: ReturnType<ReturnType<Connection['openSession']>['openCursor']>, base: number, space: number, clock: Int32Array): Chunk {
  const n = space;
  const ch: Chunk = { kind: new Uint8Array(n), key: new Int32Array(n), value: new Int32Array(n), result: new Int32Array(n), inv: new Float64Array(n), res: new Float64Array(n), length: n };
  for (let i = 0; i < n; i++) {
    const k = base + i;
    ch.inv[i] = Atomics.add(clock, 0, 1);
    const v = c.get(keyBytes(k) as never) as Uint8Array | undefined;
    ch.res[i] = Atomics.add(clock, 0, 1);
    ch.kind[i] = GET; ch.key[i] = k;
    ch.result[i] = v === undefined ? 0 : new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
  }
  return ch;
}

async function runMix(name: string, mix: number[], keySpace: number, opsPerWorker: number, batch = 0) {
  conn = await openTest({ cacheSize: '512MB' });
  const s = conn.openSession();
  const uri = `table:${name}`;
  s.create(uri);
  const clockBuf = new SharedArrayBuffer(4);
  const clock = new Int32Array(clockBuf);
  const chunks: Chunk[] = await withWorkers(conn, WORKERS, (ws) => Promise.all(ws.map((w, wid) =>
    w.call<Chunk>('history', { uri, wid: wid + 1, ops: opsPerWorker, keyBase: 1000, keySpace, mix, seed: 0x1234 + wid * 7919, clock: clockBuf, batch }))));
  const c = s.openCursor(uri);
  chunks.push(finalReads(c, 1000, keySpace, clock));
  const verdict = checkColumnar(chunks);
  expect(verdict, JSON.stringify(verdict).slice(0, 2000)).toMatchObject({ ok: true });
  expect(s.verify(uri).ok).toBe(true);
  return s.stats(uri);
}

describe('workers on one tree', () => {
  it(`insert-heavy: ${WORKERS} workers, ${500_000 * SCALE} ops, many splits and root splits, linearizable`, async () => {
    const st = await runMix('inserts', [10, 45, 35, 10], 200_000 * SCALE, 125_000 * SCALE);
    expect(st.depth).toBeGreaterThanOrEqual(3);
    expect(st.rootSplits).toBeGreaterThanOrEqual(2);
    expect(st.splits).toBeGreaterThan(1000);
  });

  it(`mixed: ${WORKERS} workers, ${500_000 * SCALE} ops on 4k hot keys, linearizable`, async () => {
    const st = await runMix('mixed', [25, 25, 25, 25], 4_000, 125_000 * SCALE);
    expect(st.entries).toBeGreaterThan(0);
  });

  it(`getMany and putMany batches of up to 16 keys among single-key writers: ${WORKERS} workers, ${200_000 * SCALE} ops on 2k hot keys, linearizable per key`, async () => {
    const st = await runMix('batches', [35, 35, 15, 15], 2_000, 50_000 * SCALE, 16);
    expect(st.entries).toBeGreaterThan(0);
  });

  it.each([['range()', 'scan'], ['batches()', 'scanBatches']])('%s under concurrent writers returns stable keys once each, in order, both directions', async (_, cmd) => {
    conn = await openTest();
    const s = conn.openSession();
    const uri = 'table:scan';
    s.create(uri);
    const c = s.openCursor(uri);
    // Stable keys (odd ids) are present for the whole test; writers churn the even ids between them.
    const STABLE = 3000;
    for (let i = 0; i < STABLE; i++) c.put(keyBytes(2 * i + 1) as never, new Uint8Array(40) as never);
    const clockBuf = new SharedArrayBuffer(4);
    await withWorkers(conn, 3, async (ws) => {
      // Writers churn only the even ids, between the stable odd ones.
      const writers = ws.slice(0, 2).map((w, wid) => w.call('history', {
        uri, wid: wid + 1, ops: 60_000 * SCALE, keyBase: 0, keySpace: STABLE, stride: 2, mix: [0, 50, 0, 50],
        seed: 99 + wid, clock: clockBuf,
      }));
      const scans: Promise<Uint8Array[]>[] = [];
      for (let r = 0; r < 6; r++) scans.push(ws[2].call(cmd, { uri, opts: { reverse: r % 2 === 1 } }));
      await Promise.all(writers);
      for (const [r, keys] of (await Promise.all(scans)).entries()) {
        const ids = keys.map((k) => Number(new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0)));
        const asc = r % 2 === 1 ? [...ids].reverse() : ids;
        for (let i = 1; i < asc.length; i++) expect(asc[i]).toBeGreaterThan(asc[i - 1]);
        const odd = asc.filter((id) => id % 2 === 1);
        expect(odd.length).toBe(STABLE);
        expect(odd[0]).toBe(1);
        expect(odd[STABLE - 1]).toBe(2 * STABLE - 1);
      }
    });
    expect(s.verify(uri).ok).toBe(true);
  });
});
