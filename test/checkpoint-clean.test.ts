// A connection that changed nothing writes nothing: a checkpoint equal to the newest image in the
// page store is skipped, and a close() that changed nothing leaves a directory home as it was.
// Writes from any thread mark the trees changed (assembly/conn/role.ts, imageStale), and a write
// that lands while a checkpoint is publishing is never taken to be in it.

import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { withWorkers, testHomes } from './helpers.js';
import { type Connection, MemoryPageStore } from '../dist/index.js';

const T = 'table:t';
const key = (i: number) => `k${String(i).padStart(6, '0')}`;
const { tempHome, connect, close: closeConn } = testHomes('clean');

/** Every file of the home: name -> size, mtime and a digest of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    const st = statSync(join(dir, f));
    out[f] = `${st.size} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}`;
  }
  return out;
}

const bytes = (snap: Record<string, string>) => Object.values(snap).reduce((n, v) => n + Number(v.split(' ')[0]), 0);
const images = (snap: Record<string, string>) => Object.keys(snap).filter((f) => f.startsWith('ckpt-'));
const records = (snap: Record<string, string>) => Object.keys(snap).filter((f) => f.startsWith('log-'));

/** A home whose checkpoint holds T with n keys (written and closed by a leader). */
async function homeWithKeys(n: number, home = tempHome()): Promise<string> {
  const c = await connect({ home, create: true });
  const s = c.openSession();
  s.create(T, { keyFormat: 'S', valueFormat: 'S' });
  const cur = s.openCursor<string, string>(T);
  for (let i = 0; i < n; i++) cur.put(key(i), `value-${i}`);
  await closeConn(c);
  return home;
}

/** A leader on `home` and its session, with a checkpoint of its own term taken, and the home's files after it. */
async function leaderCheckpointed(home: string) {
  const conn = await connect({ home });
  const s = conn.openSession();
  s.openCursor<string, string>(T).put('opened', 'again');
  await s.checkpoint();
  return { conn, s, before: snapshot(home) };
}

/** The newest log record's name (records are zero-padded: the last in order is the newest). */
const newest = (home: string) => records(snapshot(home)).pop();

describe('a connection that changed nothing writes nothing', () => {
  it('open, read, close leaves the home byte for byte as it was (names, sizes, mtimes, contents)', async () => {
    const home = await homeWithKeys(20_000);
    const before = snapshot(home);
    expect(images(before).length).toBeGreaterThan(0);
    for (let round = 0; round < 3; round++) {
      const c = await connect({ home });
      expect(c.role).toBe('leader');
      const s = c.openSession();
      expect(s.openCursor<string, string>(T).get(key(12_345))).toBe('value-12345');
      await closeConn(c);
      expect(snapshot(home)).toEqual(before);
    }
    expect(bytes(snapshot(home))).toBe(bytes(before));
    // The lock was let go: a leader opens it (not EBUSY) and finds every key.
    const c = await connect({ home });
    expect([...c.openSession().openCursor<string, string>(T).range()].length).toBe(20_000);
  });

  it('a second checkpoint with no write between writes nothing; a put (here or in a worker) makes the next one write', async () => {
    const home = await homeWithKeys(1000);
    const { conn, s, before } = await leaderCheckpointed(home);
    await s.checkpoint();
    await s.checkpoint();
    expect(snapshot(home)).toEqual(before);

    s.openCursor<string, string>(T).put('main', 'thread');
    await s.checkpoint();
    const afterMain = snapshot(home);
    expect(newest(home)! > records(before).pop()!).toBe(true);
    expect(images(afterMain)).not.toEqual(images(before));
    await s.checkpoint();
    expect(snapshot(home)).toEqual(afterMain);

    await withWorkers(conn, 1, async ([w]) => {
      await w.call('put', { uri: T, key: 'worker', value: 'thread' });
      await w.call('checkpoint'); // the worker's own checkpoint (a directory home) writes it
      const afterWorker = snapshot(home);
      expect(afterWorker).not.toEqual(afterMain);
      await w.call('checkpoint');
      await s.checkpoint();
      expect(snapshot(home)).toEqual(afterWorker);
      await w.call('put', { uri: T, key: 'worker2', value: 'thread' });
    });
    const beforeLast = snapshot(home);
    await s.checkpoint(); // the main thread's checkpoint sees the worker's write
    expect(snapshot(home)).not.toEqual(beforeLast);
    await closeConn(conn);
    const r = await connect({ home, role: 'follower' });
    const rc = r.openSession().openCursor<string, string>(T);
    expect([rc.get('main'), rc.get('worker'), rc.get('worker2')]).toEqual(['thread', 'thread', 'thread']);
  });

  it('remove, removeMany, putMany, create and drop each make the next checkpoint write; a compact (same image) does not', async () => {
    const home = await homeWithKeys(5000);
    const { conn, s } = await leaderCheckpointed(home);
    const cur = s.openCursor<string, string>(T);
    const writes: [string, () => unknown][] = [
      ['remove', () => cur.remove(key(1))],
      ['removeMany', () => cur.removeMany([key(2), key(3)])],
      ['putMany', () => cur.putMany([[key(2), 'again']])],
      ['create', () => s.create('table:other', { keyFormat: 'S', valueFormat: 'S' })],
      ['drop', () => s.drop('table:other')],
      ['a remove of an absent key', () => cur.remove('absent')],
    ];
    for (const [what, write] of writes) {
      const before = snapshot(home);
      write();
      await s.checkpoint();
      expect(snapshot(home), what).not.toEqual(before);
      const after = snapshot(home);
      await s.checkpoint();
      expect(snapshot(home), `${what}, then a second checkpoint`).toEqual(after);
    }

    // Compaction changes pages, not entries: the image it would write is the one already there.
    // (The removes' own page deletion refused, so that the emptied leaves are left to compact.)
    const refuse = conn.inject('pagedel-after-parent-check').arm('error');
    try {
      for (let i = 100; i < 4900; i++) cur.remove(key(i));
    } finally {
      refuse.disarm();
    }
    await s.checkpoint();
    const before = snapshot(home);
    expect(s.compact(T).pagesDeleted).toBeGreaterThan(0);
    await s.checkpoint();
    expect(snapshot(home)).toEqual(before);
    await closeConn(conn);
    const r = await connect({ home, role: 'follower' });
    const got = [...r.openSession().openCursor<string, string>(T).range()];
    expect(got.length).toBe(5000 + 1 - 3 + 1 - 4800); // + 'opened', - k1..k3, + k2 again
    expect(Object.fromEntries(got)[key(2)]).toBe('again');
  });

  it('close after a checkpoint with no write since publishes only a small release record, no image', async () => {
    const home = await homeWithKeys(5000);
    const { conn, s, before } = await leaderCheckpointed(home);
    s.openCursor<string, string>(T).get(key(7));
    await closeConn(conn);
    const after = snapshot(home);
    expect(images(after)).toEqual(images(before));
    for (const f of images(before)) expect(after[f]).toBe(before[f]);
    expect(records(after).length).toBe(records(before).length + 1);
    expect(bytes(after) - bytes(before)).toBeLessThan(1024);
    const c = await connect({ home }); // released: opens as leader
    expect(c.openSession().openCursor<string, string>(T).get(key(7))).toBe('value-7');
  });

  it('a close that changed nothing keeps its term record where removing it would undo a takeover or strand a worker', async () => {
    const home = await homeWithKeys(100);
    const a = await connect({ home });
    const b = await connect({ home, takeover: true }); // fences a, which still leads in its memory
    const claimed = newest(home)!;
    await closeConn(b);
    expect(records(snapshot(home))).toContain(claimed);
    expect(newest(home)! > claimed).toBe(true); // a holderless record after it lets go
    a.openSession().openCursor<string, string>(T).put('a', 'fenced');
    await expect(a.openSession().checkpoint()).rejects.toMatchObject({ code: 'ESTALE' });

    const c = await connect({ home });
    await withWorkers(c, 1, async ([w]) => {
      expect(await w.call('get', { uri: T, key: key(5) })).toBe('value-5');
      const before = newest(home)!;
      await closeConn(c); // the worker is still attached
      expect(records(snapshot(home))).toContain(before);
      expect(newest(home)! > before).toBe(true);
    });
    const d = await connect({ home }); // let go all the same
    expect(d.role).toBe('leader');
  });

  it('a step-down that changed nothing writes no image; its follower steps up again without loading', async () => {
    const home = await homeWithKeys(5000);
    const { conn, before } = await leaderCheckpointed(home);
    await conn.reconfigure({ role: 'follower' });
    const after = snapshot(home);
    expect(images(after)).toEqual(images(before));
    expect(bytes(after) - bytes(before)).toBeLessThan(1024);
    // Released: another node opens as leader, writes, and the step-down's node finds it there.
    const other = await connect({ home });
    other.openSession().openCursor<string, string>(T).put('other', 'leader');
    await closeConn(other);
    await conn.reconfigure({ role: 'leader' });
    expect(conn.openSession().openCursor<string, string>(T).get('other')).toBe('leader');
    // A step-down after a write does write an image.
    conn.openSession().openCursor<string, string>(T).put('x', 'y');
    const mid = snapshot(home);
    await conn.reconfigure({ role: 'follower' });
    expect(images(snapshot(home))).not.toEqual(images(mid));
  });
});

/** A MemoryPageStore whose next publish of a checkpoint record waits until `release()`. */
class HeldStore extends MemoryPageStore {
  private hold: { reached: () => void; go: Promise<void> } | undefined;
  /** Records published (checkpoints and term records). */
  publishes = 0;

  /** Arms the hold; resolves once a checkpoint has copied its image and reached its publish. */
  holdNextCheckpoint(): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const go = new Promise<void>((r) => { release = r; });
    const at = new Promise<void>((r) => { reached = r; });
    this.hold = { reached, go };
    return { reached: at, release };
  }

  async publish(name: string, data: Uint8Array): Promise<boolean> {
    if (name.startsWith('log-')) this.publishes++; // records only: a checkpoint also flushes the log (wal-)
    const h = this.hold;
    if (h && new TextDecoder().decode(data.subarray(8)).includes('"kind":"checkpoint"')) {
      this.hold = undefined;
      h.reached();
      await h.go;
    }
    return super.publish(name, data);
  }
}

describe('writes racing a checkpoint', () => {
  for (const where of ['the main thread', 'a worker']) {
    it(`a write from ${where} while a checkpoint publishes is written by the next checkpoint`, async () => {
      const store = new HeldStore();
      const conn = await connect({ home: store, create: true });
      const s = conn.openSession();
      s.create(T, { keyFormat: 'S', valueFormat: 'S' });
      const cur = s.openCursor<string, string>(T);
      for (let i = 0; i < 100; i++) cur.put(key(i), 'before');
      await s.checkpoint();

      cur.put('during', 'pending'); // a change, so the next checkpoint copies an image
      const { reached, release } = store.holdNextCheckpoint();
      const ckpt = s.checkpoint();
      await reached; // copied, gate open again, its record not yet published
      if (where === 'a worker') {
        await withWorkers(conn, 1, async ([w]) => { await w.call('put', { uri: T, key: 'late', value: 'write' }); });
      } else {
        cur.put('late', 'write');
      }
      release();
      await ckpt;

      const n = store.publishes;
      await s.checkpoint();
      expect(store.publishes, 'the checkpoint after the late write publishes').toBe(n + 1);
      await s.checkpoint();
      expect(store.publishes, 'and the one after that has nothing to write').toBe(n + 1);
      await closeConn(conn);
      const r = await connect({ home: store, role: 'follower' });
      const rc = r.openSession().openCursor<string, string>(T);
      expect([rc.get('during'), rc.get('late')]).toEqual(['pending', 'write']);
    });
  }

  it('a worker writing while the main thread checkpoints in a loop: every acknowledged write is in the home after close', async () => {
    const home = await homeWithKeys(10);
    const conn = await connect({ home });
    const s = conn.openSession();
    let acked = 0;
    await withWorkers(conn, 1, async ([w]) => {
      let done = false;
      const writer = (async () => {
        for (let i = 0; i < 400; i++) {
          await w.call('put', { uri: T, key: `w${String(i).padStart(4, '0')}`, value: `${i}` });
          acked = i + 1;
        }
        done = true;
      })();
      while (!done) {
        await s.checkpoint();
        await new Promise((r) => setTimeout(r, 0));
      }
      await writer;
    });
    await closeConn(conn);
    const r = await connect({ home, role: 'follower' });
    const rc = r.openSession().openCursor<string, string>(T);
    expect(acked).toBe(400);
    for (let i = 0; i < 400; i++) expect(rc.get(`w${String(i).padStart(4, '0')}`)).toBe(`${i}`);
  });
});
