// Thread slots of threads that ended without closing their connection (assembly/arena.ts,
// "Thread slots of threads that end"): a worker that ends while idle gives its slot back as it
// ends; one that dies inside an operation keeps it, announced, for good.
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { attach, type Connection } from '../dist/index.js';
import { openTest, enc } from './helpers.js';

const IDLE = new URL('./workers/idle.js', import.meta.url);
const COMMANDS = new URL('./workers/worker.js', import.meta.url);
const MAX_THREADS = 64;
const URI = 'table:slots';

/** Starts an idle worker (test/workers/idle.js); resolves with it and its slot once it has written its keys. */
function idleWorker(conn: Connection, id: number, puts: number, end?: string): Promise<{ w: Worker; slot: number }> {
  const w = new Worker(IDLE, { workerData: { handle: conn.share(), uri: URI, id, puts, end } });
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('message', (m) => (m.error ? reject(Object.assign(new Error(m.error.message), { code: m.error.code })) : resolve({ w, slot: m.slot })));
  });
}

const exited = (w: Worker) => new Promise<number>((resolve) => w.once('exit', resolve));

describe('thread slots of threads that end without closing', () => {
  it('100 workers that end while idle (terminated, crashed, exited, returned) leave no slot behind: attach still works and the tree is whole (formerly the 64th attach was EBUSY)', async () => {
    const conn = await openTest();
    const s = conn.openSession();
    s.create(URI);
    const ends = ['terminate', 'terminate', 'throw', 'terminate', 'exit', 'terminate', 'return', 'terminate'];
    const slots = new Set<number>();
    for (let id = 0; id < 100; id += 4) {
      // Four at a time: each one's slot is taken while the others hold theirs.
      const batch = await Promise.all([0, 1, 2, 3].map((j) => {
        const end = ends[(id + j) % ends.length];
        return idleWorker(conn, id + j, 20, end).then(async ({ w, slot }) => {
          slots.add(slot);
          if (end === 'terminate') {
            const e = exited(w);
            await w.terminate();
            await e;
          } else {
            w.removeAllListeners('error');
            w.on('error', () => {}); // the 'throw' worker's uncaught exception, expected
            const e = exited(w);
            w.postMessage('end');
            await e;
          }
        });
      }));
      expect(batch.length).toBe(4);
      // Ended threads' slots count until a full table makes an attach reclaim them.
      expect(conn.threadsAttached).toBeLessThanOrEqual(MAX_THREADS);
    }
    expect(slots.size).toBe(MAX_THREADS - 1); // every slot but the opener's, reclaimed and reused
    // Every worker's keys are there, and the tree (with the pages of 100 stashes) verifies.
    const c = s.openCursor<Uint8Array, Uint8Array>(URI);
    expect([...c.range()].length).toBe(100 * 20);
    expect(new TextDecoder().decode(c.get(enc('w099-019')))).toBe('v99.19');
    expect(s.verify(URI).ok).toBe(true);
    // The whole table is still there to attach to: up to the limit, from this thread.
    const more: Connection[] = [];
    for (let i = 1; i < MAX_THREADS; i++) more.push(await attach(conn.share()));
    expect(conn.threadsAttached).toBe(MAX_THREADS);
    for (const m of more) await m.close();
    expect(conn.threadsAttached).toBe(1);
    await conn.close();
  });

  it('a worker terminated while parked inside a put keeps its slot (its write and epoch stay announced); the others go on', async () => {
    const conn = await openTest();
    const s = conn.openSession();
    s.create(URI);
    const c = s.openCursor<Uint8Array, Uint8Array>(URI);
    for (let i = 0; i < 500; i++) c.put(enc(`k${String(i).padStart(4, '0')}`), enc(`v${i}`));
    const before = s.stats(URI).entries;

    const w = new Worker(COMMANDS, { workerData: { handle: conn.share() } });
    await new Promise<void>((resolve, reject) => { w.once('error', reject); w.once('message', () => resolve()); });
    // The worker's slot: the one other slot with an owner.
    const mine = conn.core.x.lk_thread_slot();
    const owned = () => Array.from({ length: MAX_THREADS }, (_, i) => i).filter((i) => i !== mine && conn.core.x.lk_thread_owner(i) !== 0);
    expect(owned().length).toBe(1);
    const [workerSlot] = owned();
    const workerOwner = conn.core.x.lk_thread_owner(workerSlot);
    expect(conn.threadsAttached).toBe(2);
    const point = conn.inject('btree-insert-before-leaf-latch').arm('wait', { count: 1 });
    w.postMessage({ id: 1, cmd: 'put', args: { uri: URI, key: enc('k0250x'), value: enc('never') } });
    point.awaitArrived(1);
    point.disarm();
    const e = exited(w);
    await w.terminate();
    await e;

    // It died inside an operation: its slot stays taken, and stays announced.
    expect(conn.threadsAttached).toBe(2);
    expect(conn.core.x.lk_thread_owner(workerSlot)).toBe(workerOwner);
    // The others read and write on (the put had latched nothing yet), and the tree verifies.
    c.put(enc('k0250y'), enc('after'));
    expect(new TextDecoder().decode(c.get(enc('k0250y')))).toBe('after');
    expect(c.get(enc('k0250x'))).toBeUndefined();
    expect(s.stats(URI).entries).toBe(before + 1);
    expect(s.verify(URI).ok).toBe(true);
    // The slot is never handed out again: the table is full one attach earlier.
    const more: Connection[] = [];
    for (let i = 2; i < MAX_THREADS; i++) more.push(await attach(conn.share()));
    expect(conn.threadsAttached).toBe(MAX_THREADS);
    let refused: unknown;
    try {
      more.push(await attach(conn.share()));
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string })?.code, String(refused)).toBe('EBUSY');
    expect(String(refused)).toContain(`at most ${MAX_THREADS} threads`);
    // The attach that found the table full tried to reclaim, and left the dead writer's slot alone.
    expect(conn.core.x.lk_thread_owner(workerSlot)).toBe(workerOwner);
    for (const m of more) await m.close();
    expect(conn.threadsAttached).toBe(2);
    // Not closed: a close would take no checkpoint here (no home), but the dead writer's
    // announcement is for good, so nothing that drains writes (a role change) may run.
    conn.core.unregister();
  });
});
