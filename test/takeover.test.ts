/**
 * No silent takeover of a home (bindings/leader.ts): open() as leader on a home with a live leader
 * is EBUSY naming it, unless takeover: true; a crashed leader does not block; two racing opens
 * never both lead; a fenced connection's close() and next checkpoint() give ESTALE with the count
 * of tables whose changes were lost; a step-up that loses a fight retries, and one that fails
 * claims nothing. Other processes are test/workers/leader-child.js, killed by pid.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Connection, LatchkeyError, MemoryPageStore } from '../dist/index.js';
import { decodeRecord, encodeRecord } from '../dist/checkpoint.js';

const CHILD = new URL('./workers/leader-child.js', import.meta.url).pathname;
const S = { keyFormat: 'S', valueFormat: 'S' } as const;
/** How long a child may take to answer one command (the machine is shared and slow). */
const ANSWER_MS = 30_000;

const dirs: string[] = [];
const children: ChildProcess[] = [];
const conns: Connection[] = [];
afterEach(async () => {
  for (const p of children.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const c of conns.splice(0)) await c.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempHome(): string {
  const d = mkdtempSync(join(tmpdir(), 'latchkey-takeover-'));
  dirs.push(d);
  return d;
}

async function keep(p: Promise<Connection>): Promise<Connection> {
  const c = await p;
  conns.push(c);
  return c;
}

/** A leader-child.js process: send a command, await its answer line; kill -9 it and await its exit. */
class Child {
  readonly p: ChildProcess;
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private err = '';
  readonly exited: Promise<void>;

  /** `mode`: leader-child.js's (race: open on a "go" line; quiet: no background flushes). */
  constructor(home: string, mode?: 'race' | 'quiet') {
    this.p = spawn(process.execPath, [CHILD, home, ...(mode ? [mode] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(this.p);
    let buf = '';
    this.p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        this.waiter?.();
      }
    });
    this.p.stderr!.on('data', (d: Buffer) => { this.err += d.toString(); });
    this.exited = new Promise((resolve) => this.p.once('exit', () => { this.waiter?.(); resolve(); }));
  }

  get pid(): number {
    return this.p.pid!;
  }

  /** The next line it prints (bounded in time). */
  async line(): Promise<string> {
    const deadline = Date.now() + ANSWER_MS;
    while (this.lines.length === 0) {
      if (this.p.exitCode !== null || this.p.signalCode !== null) throw new Error(`child ${this.pid} exited: ${this.err}`);
      if (Date.now() > deadline) throw new Error(`child ${this.pid} did not answer in ${ANSWER_MS} ms: ${this.err}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.lines.shift()!;
  }

  async send(cmd: string): Promise<string> {
    this.p.stdin!.write(`${cmd}\n`);
    return this.line();
  }

  async kill9(): Promise<void> {
    this.p.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts a child leading `home` with table:t = { k: v }, checkpointed; returns it and its term. */
async function leadingChild(home: string, mode?: 'quiet'): Promise<{ child: Child; term: number }> {
  const child = new Child(home, mode);
  const first = await child.line();
  expect(first).toMatch(/^leader \d+$/);
  expect(await child.send('put t k v')).toBe('ok');
  expect(await child.send('checkpoint')).toBe('ok');
  return { child, term: Number(first.split(' ')[1]) };
}

async function rejection(p: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LatchkeyError);
    return e as LatchkeyError;
  }
  throw new Error('expected a rejection, got success');
}

describe('open() as leader on a home with a live leader', () => {
  it('is EBUSY naming the holder (pid, host, term) and the ways out; a follower opens beside it', async () => {
    const home = tempHome();
    const { child, term } = await leadingChild(home);
    const e = await rejection(open({ home }));
    expect(e.code).toBe('EBUSY');
    for (const part of [`pid ${child.pid}`, `host ${hostname()}`, `term ${term}`, "role: 'follower'", 'takeover: true', 'takeover=true']) {
      expect(e.message).toContain(part);
    }
    expect((await rejection(open(`home=${home}`))).code).toBe('EBUSY');
    const f = await keep(open({ home, role: 'follower' }));
    expect(f.openSession().openCursor<string, string>('table:t').get('k')).toBe('v');
    // The refused open changed nothing: the child still leads and checkpoints.
    expect(await child.send('put t k v2')).toBe('ok');
    expect(await child.send('checkpoint')).toBe('ok');
  });

  it('a leader killed with kill -9 does not block the next open', async () => {
    const home = tempHome();
    const { child, term } = await leadingChild(home);
    expect((await rejection(open({ home }))).code).toBe('EBUSY');
    await child.kill9();
    const c = await keep(open({ home }));
    expect(c.term).toBe(term + 1);
    expect(c.openSession().openCursor<string, string>('table:t').get('k')).toBe('v');
  });

  it('a leader that closed (its process still running) has let go', async () => {
    const home = tempHome();
    const { child } = await leadingChild(home);
    expect(await child.send('close')).toBe('ok');
    const c = await keep(open({ home }));
    expect(c.role).toBe('leader');
  });

  it('a reused pid is not taken for the holder: the recorded start time must match', async () => {
    const home = tempHome();
    const { child } = await leadingChild(home);
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(sleeper);
    await child.kill9();
    // Rewrite the newest record (valid checksum) as if the live `sleep` process held it.
    const name = readdirSync(home).filter((f) => f.startsWith('log-')).sort().pop()!;
    const rec = decodeRecord(name, new Uint8Array(readFileSync(join(home, name))));
    const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'latin1');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const forge = (s: string) => writeFileSync(join(home, name), encodeRecord({ ...rec, holder: { id: 'x', pid: sleeper.pid!, host: hostname(), thread: 0, start: s } }));
    forge(start);
    expect((await rejection(open({ home }))).message).toContain(`pid ${sleeper.pid}`);
    forge(String(Number(start) + 1)); // the same pid, started at another time: a different process
    const c = await keep(open({ home }));
    expect(c.role).toBe('leader');
  });

  it('two processes racing to open as leader: exactly one leads, the other is EBUSY', async () => {
    const home = tempHome();
    await (await leadingChild(home)).child.kill9(); // a home with a checkpoint and a dead holder
    for (let round = 0; round < 4; round++) {
      const racers = [new Child(home, 'race'), new Child(home, 'race')];
      for (const r of racers) r.p.stdin!.write('go\n');
      const answers = await Promise.all(racers.map((r) => r.line()));
      expect(answers.filter((a) => a.startsWith('leader ')).length, answers.join(' | ')).toBe(1);
      expect(answers.filter((a) => a.startsWith('EBUSY ')).length, answers.join(' | ')).toBe(1);
      for (const r of racers) await r.kill9();
    }
  });

  it('two opens racing in one thread, both past the liveness check before either claims: one leads, one is EBUSY', async () => {
    const mem = new MemoryPageStore();
    // Both opens read the newest record (no holder) before either publishes its term record.
    let arrived = 0;
    let release!: () => void;
    const both = new Promise<void>((r) => { release = r; });
    const store = {
      read: (n: string) => mem.read(n), write: (n: string, d: Uint8Array) => mem.write(n, d),
      remove: (n: string) => mem.remove(n), list: (p?: string) => mem.list(p),
      publish: async (n: string, d: Uint8Array) => {
        if (++arrived === 2) release();
        if (arrived <= 2) await both;
        return mem.publish(n, d);
      },
    };
    const results = await Promise.allSettled([open({ home: store }), open({ home: store })]);
    const ok = results.filter((r): r is PromiseFulfilledResult<Connection> => r.status === 'fulfilled');
    for (const r of ok) conns.push(r.value);
    expect(arrived).toBeGreaterThanOrEqual(2);
    expect(ok.length).toBe(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({ code: 'EBUSY', message: expect.stringContaining('a connection of this thread') });
  });

  it('an open racing in one thread with a leader whose publish has committed but not yet resolved (a directory store syncing): EBUSY, never two leaders', async () => {
    const mem = new MemoryPageStore();
    // A's term record is the newest record while A's open still waits for its publish (the
    // directory store links, then unlinks and fsyncs): B opens in that gap.
    let b: Promise<Connection> | undefined;
    const store = {
      read: (n: string) => mem.read(n), write: (n: string, d: Uint8Array) => mem.write(n, d),
      remove: (n: string) => mem.remove(n), list: (p?: string) => mem.list(p),
      publish: async (n: string, d: Uint8Array) => {
        const ok = await mem.publish(n, d);
        if (!b) {
          b = open({ home: store });
          await b.then(() => undefined, () => undefined);
        }
        return ok;
      },
    };
    const a = await Promise.allSettled([open({ home: store })]);
    const results = [...a, ...(await Promise.allSettled([b!]))];
    const ok = results.filter((r): r is PromiseFulfilledResult<Connection> => r.status === 'fulfilled');
    for (const r of ok) conns.push(r.value);
    expect(ok.length).toBe(1);
    expect(results[0].status).toBe('fulfilled');
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'EBUSY', message: expect.stringContaining('a connection of this thread') });
  });

  it('in one thread: followers hold nothing; EBUSY while another connection leads; a step-down or close lets go; reconfigure() to leader is the deliberate fencing', async () => {
    const store = new MemoryPageStore();
    await keep(open({ home: store, role: 'follower' })); // a follower never holds the lock
    const a = await keep(open({ home: store }));
    await expect(open({ home: store })).rejects.toMatchObject({ code: 'EBUSY' });
    await a.reconfigure({ role: 'follower' });
    const b = await keep(open({ home: store }));
    await expect(open({ home: store })).rejects.toMatchObject({ code: 'EBUSY' });
    await a.reconfigure({ role: 'leader' }); // fences b, deliberately
    await expect(b.openSession().checkpoint()).rejects.toMatchObject({ code: 'ESTALE' });
    await a.close();
    const c = await keep(open({ home: store }));
    expect(c.role).toBe('leader');
  });
});

describe('takeover: true', () => {
  it('fences the live leader of another process: its next checkpoint and its close fail with ESTALE counting the lost tables', async () => {
    const home = tempHome();
    // Quiet: no background flush of the old leader's log may find the fence between its puts
    // below (with its 10 ms flusher, one did, on a loaded machine: the second put was ENOTLEADER).
    const { child, term } = await leadingChild(home, 'quiet');
    const c = await keep(open({ home, takeover: true }));
    expect(c.term).toBe(term + 1);
    expect(c.openSession().openCursor<string, string>('table:t').get('k')).toBe('v');
    // The old leader does not know yet: its writes pass, and are then refused at its checkpoint.
    expect(await child.send('put t k lost')).toBe('ok');
    expect(await child.send('put u k lost')).toBe('ok');
    expect(await child.send('checkpoint')).toMatch(/^ESTALE .*2 of its 2 tables had changes .* not published/);
    expect(await child.send('checkpoint')).toMatch(/^ESTALE .*2 of its 2 tables/);
    expect(await child.send('close')).toMatch(/^ESTALE .*close: .*2 of its 2 tables/);
    await c.close();
    const f = await keep(open({ home, role: 'follower' }));
    expect(f.openSession().openCursor<string, string>('table:t').get('k')).toBe('v');
  });

  it('in the string form too, in one process; the fenced leader\'s close() alone reports the loss', async () => {
    const home = tempHome();
    const a = await open({ home });
    const s = a.openSession();
    for (const t of ['a', 'b', 'c']) s.create(`table:${t}`, S);
    s.openCursor<string, string>('table:a').put('k', '1');
    await s.checkpoint();
    await expect(open(`home=${home}`)).rejects.toMatchObject({ code: 'EBUSY' });
    const b = await keep(open(`home=${home},takeover=true`));
    s.openCursor<string, string>('table:a').put('k', '2');
    s.drop('table:c');
    const e = await rejection(a.close());
    expect(e.code).toBe('ESTALE');
    expect(e.message).toContain('2 of its 2 tables had changes');
    expect(b.openSession().openCursor<string, string>('table:a').get('k')).toBe('1');
  });
});

describe('a fenced connection never reports lost work as saved', () => {
  it('close() of a leader fenced by a step-up rejects with ESTALE; a fenced node\'s checkpoints keep giving ESTALE', async () => {
    const store = new MemoryPageStore();
    const a = await open({ home: store });
    const s = a.openSession();
    s.create('table:t', S);
    s.create('table:u', S);
    s.openCursor<string, string>('table:t').put('k', 'saved');
    await s.checkpoint();
    const b = await keep(open({ home: store, role: 'follower' }));
    await b.reconfigure({ role: 'leader' });
    s.openCursor<string, string>('table:t').put('k', 'lost');
    await expect(s.checkpoint()).rejects.toMatchObject({ code: 'ESTALE', message: expect.stringContaining('1 of its 2 tables had changes') });
    await expect(s.checkpoint()).rejects.toMatchObject({ code: 'ESTALE', message: expect.stringContaining('1 of its 2 tables') });
    await expect(a.close()).rejects.toMatchObject({ code: 'ESTALE', message: expect.stringContaining('1 of its 2 tables') });
    expect(b.openSession().openCursor<string, string>('table:t').get('k')).toBe('saved');
  });

  it('close() finding the fence itself rejects with ESTALE', async () => {
    const store = new MemoryPageStore();
    const a = await open({ home: store });
    const s = a.openSession();
    s.create('table:t', S);
    await s.checkpoint();
    const b = await keep(open({ home: store, role: 'follower' }));
    await b.reconfigure({ role: 'leader' });
    s.openCursor<string, string>('table:t').put('k', 'lost');
    await expect(a.close()).rejects.toMatchObject({ code: 'ESTALE', message: expect.stringContaining('1 of its 1 table had changes') });
  });
});

describe('step-up', () => {
  /** A leader with table:t = { k: v1 } checkpointed, and a follower over `wrap(mem)`. */
  async function pair(wrap: (mem: MemoryPageStore) => object, followerCache?: string) {
    const mem = new MemoryPageStore();
    const leader = await keep(open({ home: mem }));
    const ls = leader.openSession();
    ls.create('table:t', S);
    ls.openCursor<string, string>('table:t').put('k', 'v1');
    await ls.checkpoint();
    const follower = await keep(open({ home: wrap(mem), role: 'follower', ...(followerCache ? { cacheSize: followerCache } : {}) }));
    return { mem, leader, ls, follower };
  }

  it('that loses a fight (its image pruned while it reads it) starts again from the newest record', async () => {
    let hook: (() => Promise<void>) | undefined;
    const { mem, leader, ls, follower } = await pair((mem) => ({
      write: (n: string, d: Uint8Array) => mem.write(n, d), publish: (n: string, d: Uint8Array) => mem.publish(n, d),
      remove: (n: string) => mem.remove(n), list: (p?: string) => mem.list(p),
      read: async (n: string) => {
        if (n.startsWith('ckpt-') && hook) { const h = hook; hook = undefined; await h(); }
        return mem.read(n);
      },
    }));
    ls.openCursor<string, string>('table:t').put('k', 'v2');
    await ls.checkpoint(); // the follower's step-up has an image to load
    // While the follower reads that image, a third node steps up and checkpoints twice: the image is pruned.
    const third = await keep(open({ home: mem, role: 'follower' }));
    hook = async () => {
      await third.reconfigure({ role: 'leader' });
      const ts = third.openSession();
      ts.openCursor<string, string>('table:t').put('k', 'v3');
      await ts.checkpoint();
      ts.openCursor<string, string>('table:t').put('k', 'v4');
      await ts.checkpoint();
    };
    await follower.reconfigure({ role: 'leader' });
    expect(hook).toBeUndefined();
    expect(follower.role).toBe('leader');
    expect(follower.term).toBeGreaterThan(third.term);
    expect(follower.openSession().openCursor<string, string>('table:t').get('k')).toBe('v4');
    await expect(third.openSession().checkpoint()).rejects.toMatchObject({ code: 'ESTALE' });
    await expect(ls.checkpoint()).rejects.toMatchObject({ code: 'ESTALE' });
    await follower.openSession().checkpoint();
    void leader;
  });

  it('that fails while loading (EIO) claims nothing: the leader keeps leading', async () => {
    let failReads = false;
    const { mem, leader, ls, follower } = await pair((mem) => ({
      write: (n: string, d: Uint8Array) => mem.write(n, d), publish: (n: string, d: Uint8Array) => mem.publish(n, d),
      remove: (n: string) => mem.remove(n), list: (p?: string) => mem.list(p),
      read: async (n: string) => {
        if (failReads && n.startsWith('ckpt-')) throw new LatchkeyError('EIO', `simulated: cannot read ${n}`);
        return mem.read(n);
      },
    }));
    ls.openCursor<string, string>('table:t').put('k', 'v2');
    await ls.checkpoint();
    const before = await mem.list('log-');
    failReads = true;
    await expect(follower.reconfigure({ role: 'leader' })).rejects.toMatchObject({ code: 'EIO' });
    expect(follower.role).toBe('follower');
    expect(await mem.list('log-')).toEqual(before); // no term record claimed
    ls.openCursor<string, string>('table:t').put('k', 'v3');
    await ls.checkpoint(); // not ESTALE: still the leader
    expect(leader.role).toBe('leader');
    failReads = false;
    await follower.reconfigure({ role: 'leader' });
    expect(follower.openSession().openCursor<string, string>('table:t').get('k')).toBe('v3');
  });

  it('that runs out of memory while loading (a tiny cache) claims nothing: the leader keeps leading', async () => {
    const { mem, leader, ls, follower } = await pair((mem) => mem, '16MB');
    const c = ls.openCursor<string, string>('table:t');
    const value = 'x'.repeat(2000);
    for (let i = 0; i < 12_000; i++) c.put(`k${String(i).padStart(6, '0')}`, value); // ~24 MB
    await ls.checkpoint();
    const before = await mem.list('log-');
    const e = await rejection(follower.reconfigure({ role: 'leader' }));
    expect(e.code).toBe('ENOMEM');
    expect(follower.role).toBe('follower');
    expect(await mem.list('log-')).toEqual(before);
    c.put('after', 'the failed step-up');
    await ls.checkpoint(); // not ESTALE
    expect(leader.role).toBe('leader');
  });
});
