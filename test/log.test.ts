// The write-ahead log (bindings/log.ts, assembly/log/log.ts): durability across SIGKILL, atomic
// batches, recovery from torn and damaged segments, fenced appends, followers fed by the log,
// flushes from workers, and `log: false`.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryPageStore, type PageStore, type Connection } from '../dist/index.js';
import { LOG_RING_SIZE, LOG_HEADER, LOG_R_TYPE, LOG_R_KLEN, LOG_CREATE } from '../dist/abi.generated.js';
import { crc32 } from '../dist/checkpoint.js';
import { CHECKPOINT_SEGMENTS, KEEP_RECORDS } from '../dist/log.js';
import { decodeDelta } from '../dist/delta.js';
import { testHomes, openTest, rng, TEST_DEBUG, withWorkers, levelInfo, latchWord, waitFor, LATCH_WAITERS } from './helpers.js';

/** Log bytes of a put record of these key and value lengths (assembly/log/log.ts: header, key, value, padded to 8). */
const logBytes = (klen: number, vlen: number) => (LOG_HEADER + klen + vlen + 7) & ~7;

const { tempHome, connect, close } = testHomes('log');
const WRITER = new URL('./workers/log-writer.js', import.meta.url).pathname;
const STRESS = process.env.LATCHKEY_STRESS === '1';
const pad = (n: number) => String(n).padStart(8, '0');
const segments = (home: string) => readdirSync(home).filter((n) => n.startsWith('wal-')).sort();

/**
 * Runs the log writer on `home` from step `first`; SIGKILLs it `ms` after it reported its home
 * open (timed from then, not from the spawn: on a loaded machine the start alone can take longer
 * than `ms`, and the kill would then never land among the writes); the last step it reported durable.
 */
function runAndKill(home: string, first: number, ms: number): Promise<{ acked: number; opened: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [WRITER, home, String(first), TEST_DEBUG ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = -1;
    let opened = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        if (l === 'open') { opened = true; timer ??= setTimeout(() => p.kill('SIGKILL'), ms); }
        else if (l.startsWith('acked ')) acked = Number(l.slice(6));
      }
    });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`log writer exited (${code}) before it was killed: ${err}`));
      else resolve({ acked, opened });
    });
  });
}

/**
 * Checks a home after a kill against what the writer acknowledged: every step up to `acked` is
 * there; the steps present are a prefix (the log is durable as a prefix); each batch is whole.
 * As a leader, a step-up after the kill. Returns the next step to write.
 */
async function checkHome(home: string, acked: number, role: 'follower' | 'leader'): Promise<number> {
  const conn = await openTest({ home, role });
  try {
    const s = conn.openSession();
    if (!s.tables().includes('table:k')) { expect(acked).toBe(-1); return 0; }
    const keys = [...s.openCursor<string, string>('table:k').range()].map(([k]) => Number(k.slice(1)));
    keys.forEach((k, i) => expect(k).toBe(i)); // a prefix of the steps
    expect(keys.length).toBeGreaterThan(acked); // every acknowledged step
    const ab = new Map([...s.openCursor<string, string>('table:ab').range()]);
    for (let n = 0; n < keys.length; n += 3) {
      // A batch of a step that is there is there whole; a batch of a step after the last is not.
      const a = ab.has(`a${pad(n)}`);
      expect(ab.has(`b${pad(n)}`)).toBe(a);
      if (n < keys.length - 1) expect(a).toBe(true);
    }
    for (const k of ab.keys()) expect(Number(k.slice(1))).toBeLessThan(keys.length);
    expect(s.verify('table:k').ok).toBe(true);
    return keys.length;
  } finally {
    await conn.close();
  }
}

describe('durability across SIGKILL', () => {
  it(`a writer killed ${STRESS ? 120 : 12} times at random points keeps every flushed write, a prefix of its writes and whole batches`, async () => {
    const home = tempHome();
    const r = rng(12);
    let next = 0;
    const kills = STRESS ? 120 : 12;
    let acks = 0;
    for (let i = 0; i < kills; i++) {
      const { acked } = await runAndKill(home, next, 150 + Math.floor(r() * 450));
      if (acked >= 0) acks++;
      // Every third check steps up (replays to the end of the log, claims a term; its close checkpoints).
      next = await checkHome(home, acked, i % 3 === 2 ? 'leader' : 'follower');
      expect(next).toBeGreaterThan(acked);
    }
    expect(acks).toBeGreaterThan(kills / 2); // most runs got as far as flushing
    expect(next).toBeGreaterThan(0);
  }, STRESS ? 600_000 : 120_000);
});

/**
 * A page store that loses power at its `crashAt`-th call: `image` is then what the medium holds.
 * Its guarantees are the directory store's: a call's effect is durable once its promise resolves;
 * a publish in flight is there whole or not at all (temporary file, fsync, link); a write in
 * flight is there whole, torn (a prefix) or not at all; a remove in flight happened or not.
 */
class PowerLossStore implements PageStore {
  private readonly visible = new Map<string, Uint8Array>();
  private readonly durable = new Map<string, Uint8Array>();
  private readonly inflight = new Map<string, { kind: 'write' | 'publish' | 'remove'; data?: Uint8Array }>();
  private calls = 0;
  image: MemoryPageStore | undefined;
  constructor(private readonly r: () => number, private readonly crashAt: number) {}

  private async call(name: string, kind: 'write' | 'publish' | 'remove', data?: Uint8Array): Promise<void> {
    if (++this.calls === this.crashAt) this.powerLoss();
    this.inflight.set(name, { kind, data });
    await new Promise((res) => setImmediate(res)); // the device's latency: a window for other calls
    if (kind === 'remove') this.durable.delete(name); else this.durable.set(name, data!);
    this.inflight.delete(name);
  }

  private powerLoss(): void {
    const m = new MemoryPageStore();
    const r = this.r;
    const survivors = new Map(this.durable);
    for (const [name, op] of this.inflight) {
      if (op.kind === 'remove') { if (r() < 0.5) survivors.delete(name); } else if (op.kind === 'publish') { if (r() < 0.5) survivors.set(name, op.data!); } else {
        const x = r();
        if (x < 0.33) survivors.set(name, op.data!);
        else if (x < 0.66) survivors.set(name, op.data!.slice(0, Math.floor(r() * op.data!.length)));
      }
    }
    for (const [name, data] of survivors) void m.write(name, data);
    this.image = m;
  }

  async read(name: string) { return this.visible.get(name)?.slice(); }
  async write(name: string, data: Uint8Array) { this.visible.set(name, data.slice()); await this.call(name, 'write', data.slice()); }
  async publish(name: string, data: Uint8Array) {
    if (this.visible.has(name)) return false;
    this.visible.set(name, data.slice());
    await this.call(name, 'publish', data.slice());
    return true;
  }
  async remove(name: string) { this.visible.delete(name); await this.call(name, 'remove'); }
  async list(prefix = '') { return [...this.visible.keys()].filter((k) => k.startsWith(prefix)).sort(); }
}

describe('power loss', () => {
  it(`at ${STRESS ? 200 : 30} random points of a workload with flushes, batches and checkpoints: every flushed write, a prefix, whole batches`, async () => {
    for (let run = 0; run < (STRESS ? 200 : 30); run++) {
      const r = rng(1000 + run);
      const store = new PowerLossStore(r, 5 + Math.floor(r() * 120));
      const c = await openTest({ home: store, takeover: true, log: { checkpointSize: '64KB' } });
      const s = c.openSession();
      s.create('table:k', { keyFormat: 'S', valueFormat: 'S' });
      s.create('table:ab', { keyFormat: 'S', valueFormat: 'S' });
      const k = s.openCursor('table:k');
      let acked = -1;
      for (let n = 0; !store.image && n < 100_000; n++) {
        k.put(`k${pad(n)}`, 'v'.repeat(20));
        if (n % 3 === 0) {
          s.batch([{ type: 'put', uri: 'table:ab', key: `a${pad(n)}`, value: 'x' }, { type: 'put', uri: 'table:ab', key: `b${pad(n)}`, value: 'x' }]);
        }
        if (n % 5 === 0) { await s.flush(); if (!store.image) acked = n; }
        if (n % 37 === 0) await s.checkpoint();
      }
      expect(store.image, `run ${run}: the power loss happened`).toBeDefined();
      const f = await openTest({ home: store.image!, role: 'follower' });
      const fs = f.openSession();
      const keys = fs.tables().includes('table:k') ? [...fs.openCursor<string, string>('table:k').range()].map(([key]) => Number(key.slice(1))) : [];
      keys.forEach((key, i) => expect(key, `run ${run}: a prefix`).toBe(i));
      expect(keys.length, `run ${run}: every flushed write`).toBeGreaterThan(acked);
      const ab = fs.tables().includes('table:ab') ? new Set([...fs.openCursor<string, string>('table:ab').range()].map(([key]) => key)) : new Set<string>();
      for (let n = 0; n < keys.length; n += 3) {
        expect(ab.has(`b${pad(n)}`), `run ${run}: batch ${n} whole`).toBe(ab.has(`a${pad(n)}`));
        if (n < keys.length - 1) expect(ab.has(`a${pad(n)}`), `run ${run}: batch ${n} before the last write`).toBe(true);
      }
      await f.close();
      await c.close().catch(() => {});
    }
  }, STRESS ? 600_000 : 120_000);
});

describe('recovery', () => {
  /** A home with `n` keys written and flushed in `rounds` flushes, the process gone without close. */
  async function crashedHome(rounds: number, per: number): Promise<string> {
    const home = tempHome();
    const c = await openTest({ home });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const cur = s.openCursor('table:t');
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < per; i++) cur.put(`k${pad(r * per + i)}`, `v${r}`);
      await s.flush();
    }
    // Abandoned without close: only the log holds the writes (no checkpoint was taken).
    c.core.unregister();
    return home;
  }

  async function keysOf(home: string): Promise<string[]> {
    const c = await openTest({ home, role: 'follower' });
    try {
      return [...c.openSession().openCursor<string, string>('table:t').range()].map(([k]) => k);
    } finally {
      await c.close();
    }
  }

  it('replays the log after the latest checkpoint: flushed writes survive a process that never closed', async () => {
    const home = await crashedHome(3, 100);
    expect(segments(home).length).toBeGreaterThanOrEqual(4); // the term's start and three flushes
    expect(await keysOf(home)).toHaveLength(300);
  });

  it('a torn last segment ends replay at its last whole record, silently', async () => {
    const home = await crashedHome(3, 100);
    const last = join(home, segments(home).at(-1)!);
    truncateSync(last, statSync(last).size - 20); // cuts the last record short
    const keys = await keysOf(home);
    expect(keys).toHaveLength(299);
    expect(keys.at(-1)).toBe(`k${pad(298)}`);
  });

  it('a flipped byte in the last segment also ends replay before the damaged record', async () => {
    const home = await crashedHome(3, 100);
    const last = join(home, segments(home).at(-1)!);
    const b = readFileSync(last);
    const record = logBytes(9, 2); // each record: a 9-byte key k00000nnn, value v2
    b[b.length - record - 12] ^= 0x10; // inside the second-last record
    writeFileSync(last, b);
    expect((await keysOf(home)).length).toBe(298);
  });

  /** A crashed home whose segment `index` `damage` changed in place; opening it must be ECORRUPT matching `why` (given the segment's name). */
  async function damaged(index: number, damage: (b: Buffer) => void, why: (name: string) => string): Promise<void> {
    const home = await crashedHome(3, 100);
    const name = segments(home).at(index)!;
    const file = join(home, name);
    const b = readFileSync(file);
    damage(b);
    writeFileSync(file, b);
    await expect(openTest({ home, role: 'follower' })).rejects.toMatchObject({ code: 'ECORRUPT', message: expect.stringMatching(new RegExp(why(name))) });
  }
  const checksumAt = (name: string) => `segment ${name}, log position ${Number(name.slice(4))}: record checksum mismatch`;

  it('damage before the last segment is ECORRUPT naming the segment and the log position', async () => {
    // The first record's key (after the segment's 32-byte header).
    await damaged(2, (b) => { b[32 + LOG_HEADER + 2] ^= 0x01; }, checksumAt);
  });

  it('a record moved to another position fails its checksum (the crc covers the position the record does not store)', async () => {
    // The first two records swapped: each is whole, its bytes unchanged, and in the wrong place.
    const record = logBytes(9, 2);
    await damaged(2, (b) => {
      const first = Buffer.from(b.subarray(32, 32 + record));
      b.copy(b, 32, 32 + record, 32 + 2 * record);
      first.copy(b, 32 + record);
    }, checksumAt);
  });

  it('a segment of the first log format is refused by name, not as damage of an unknown kind, also as the last segment (not a torn tail)', async () => {
    const firstFormat = (name: string) => `segment ${name}, .*first log format \\("LKLG"`;
    await damaged(1, (b) => { b.write('LKLG', 0, 'latin1'); }, firstFormat);
    await damaged(-1, (b) => { b.write('LKLG', 0, 'latin1'); }, firstFormat);
  });

  it('a record length past the segment (a flipped high bit) ends replay there at once, as a torn tail', async () => {
    const home = await crashedHome(3, 100);
    const last = join(home, segments(home).at(-1)!);
    const b = readFileSync(last);
    b.writeUInt32LE(0xffff_fff0, 32); // the last segment's first record's length
    writeFileSync(last, b);
    expect((await keysOf(home)).length).toBe(200);
  });

  it('a create record whose checksum is good but whose name takes its two format bytes is ECORRUPT, not a table of a made-up format', async () => {
    const home = await crashedHome(3, 100);
    // The create of table:t: its key (the name) is made 2 bytes longer, over the format bytes,
    // and its checksum computed again (over its position, then bytes 8..len), so only the
    // lengths are wrong.
    let found = '';
    for (const name of segments(home)) {
      const b = readFileSync(join(home, name));
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let at = 32; at < b.length; at += (dv.getUint32(at, true) + 7) & ~7) {
        if (b[at + LOG_R_TYPE] !== LOG_CREATE) continue;
        dv.setUint16(at + LOG_R_KLEN, dv.getUint16(at + LOG_R_KLEN, true) + 2, true);
        const lsn = new Uint8Array(8);
        new DataView(lsn.buffer).setUint32(0, Number(name.slice(4)) + at - 32, true);
        dv.setUint32(at + 4, crc32(b, at + 8, at + dv.getUint32(at, true), crc32(lsn)), true);
        writeFileSync(join(home, name), b);
        found = name;
        break;
      }
      if (found) break;
    }
    expect(found).not.toBe('');
    await expect(openTest({ home, role: 'follower' })).rejects.toMatchObject({
      code: 'ECORRUPT', message: expect.stringMatching(new RegExp(`segment ${found}, log position \\d+: a create without its two format bytes`)),
    });
  });

  it('a delta blob of the first format is refused by name', () => {
    const blob = new Uint8Array(12);
    blob.set([0x4c, 0x4b, 0x44, 0x4c]); // "LKDL"
    expect(() => decodeDelta('table:t delta', blob, 0)).toThrow(/first log format \("LKDL"/);
  });

  it('a segment missing from the middle of the log is ECORRUPT naming where the log breaks', async () => {
    const home = await crashedHome(3, 100);
    const gone = segments(home)[2];
    const { rmSync } = await import('node:fs');
    rmSync(join(home, gone));
    await expect(openTest({ home, role: 'follower' })).rejects.toMatchObject({
      code: 'ECORRUPT', message: expect.stringContaining(`segment ${gone} (log position ${Number(gone.slice(4))}) is missing`),
    });
  });

  it('a batch whose commit record is past a torn tail is not there at all; one before it is whole', async () => {
    const home = tempHome();
    const c = await openTest({ home });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    s.batch([{ type: 'put', uri: 'table:t', key: 'a1', value: '1' }, { type: 'put', uri: 'table:t', key: 'b1', value: '1' }]);
    await s.flush();
    s.batch([
      { type: 'put', uri: 'table:t', key: 'a2', value: '2' },
      { type: 'remove', uri: 'table:t', key: 'a1' },
      { type: 'put', uri: 'table:t', key: 'b2', value: '2' },
    ]);
    await s.flush();
    c.core.unregister();
    // The last segment: begin, put a2, remove a1, put b2, commit (32-byte records, keys padded):
    // cut it after the remove, so the history ends inside the batch.
    const last = join(home, segments(home).at(-1)!);
    const size = statSync(last).size;
    truncateSync(last, size - 2 * 40 + 8); // the put of b2 cut short, no commit
    expect(await keysOf(home)).toEqual(['a1', 'b1']);
  });

  it('replay is idempotent: recovering twice, or after a checkpoint of the recovered trees, gives the same trees', async () => {
    const home = await crashedHome(2, 50);
    expect(await keysOf(home)).toHaveLength(100);
    expect(await keysOf(home)).toHaveLength(100);
    const c = await openTest({ home, takeover: true }); // the abandoned connection still counts as live in this thread
    await c.close(); // recovered as leader: a checkpoint of the recovered trees
    expect(await keysOf(home)).toHaveLength(100);
  });
});

/** A page store whose segment publishes wait for `gate` (a deterministic ordering between two leaders). */
class GatedStore implements PageStore {
  gate: Promise<void> | undefined;
  constructor(private readonly inner: PageStore) {}
  read(n: string) { return this.inner.read(n); }
  write(n: string, d: Uint8Array) { return this.inner.write(n, d); }
  async publish(n: string, d: Uint8Array) {
    if (n.startsWith('wal-') && this.gate) await this.gate;
    return this.inner.publish(n, d);
  }
  remove(n: string) { return this.inner.remove(n); }
  list(p?: string) { return this.inner.list(p); }
}

describe('fenced appends', () => {
  async function twoLeaders(): Promise<{ a: Connection; gated: GatedStore; store: MemoryPageStore; release: () => void }> {
    const store = new MemoryPageStore();
    const gated = new GatedStore(store);
    const a = await connect({ home: gated });
    const s = a.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    s.openCursor('table:t').put('before', '1');
    await s.flush();
    let release!: () => void;
    gated.gate = new Promise((r) => { release = r; });
    return { a, gated, store, release };
  }

  it("a deposed leader's next flush is ESTALE when the new leader's term took its segment's position first, and it becomes a follower", async () => {
    const { a, store, release } = await twoLeaders();
    a.openSession().openCursor('table:t').put('lost', '1');
    const flushed = a.flush(); // its publish waits at the gate
    const b = await connect({ home: store, takeover: true }); // replays, starts its term at a's end
    release();
    await expect(flushed).rejects.toMatchObject({ code: 'ESTALE', message: expect.stringContaining('refused: the page store already has it, written by a newer leader') });
    expect(a.role).toBe('follower');
    const bt = b.openSession().openCursor<string, string>('table:t');
    expect(bt.get('before')).toBe('1');
    expect(bt.get('lost')).toBeUndefined();
    expect(() => a.openSession().openCursor('table:t').put('x', '1')).toThrow(expect.objectContaining({ code: 'ENOTLEADER' }));
  });

  it('when the old leader publishes first, the new leader replays that segment before its term starts: the flushed write survives', async () => {
    const { a, gated, store, release } = await twoLeaders();
    a.openSession().openCursor('table:t').put('kept', '1');
    const flushed = a.flush();
    // The new leader's own segment publishes wait too, behind a's (the gate is one promise).
    const b = connect({ home: gated, takeover: true });
    release();
    await flushed;
    const bt = (await b).openSession().openCursor<string, string>('table:t');
    expect(bt.get('kept')).toBe('1');
    await expect(a.flush().then(() => a.openSession().openCursor('table:t').put('late', '1')).then(() => a.flush()))
      .rejects.toMatchObject({ code: expect.stringMatching(/ESTALE|ENOTLEADER/) });
    void store;
  });
});

describe('followers fed by the log', () => {
  it('a follower picks up flushed writes from the log without a checkpoint; its refresh replays only what is new', async () => {
    const home = tempHome();
    const leader = await connect({ home });
    const s = leader.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const cur = s.openCursor('table:t');
    const follower = await connect({ home, role: 'follower' });
    const fc = () => follower.openSession().openCursor<string, string>('table:t');
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) cur.put(`r${round}-${i}`, `${round}`);
      if (round === 2) cur.remove('r0-0');
      await s.flush();
      await follower.reconfigure({ checkpoint: 'latest' });
      const keys = [...fc().range()].map(([k]) => k);
      expect(keys).toHaveLength(20 * (round + 1) - (round >= 2 ? 1 : 0));
    }
    expect(readdirSync(home).filter((n) => n.startsWith('ckpt-'))).toHaveLength(0); // no image was ever written
  });

  it('while 4 workers write on the leader, a follower fed by the log matches a model at every flushed point', async () => {
    const home = tempHome();
    const leader = await connect({ home });
    leader.openSession().create('table:w', { keyFormat: 'S', valueFormat: 'S' });
    const follower = await connect({ home, role: 'follower' });
    const model = new Map<string, string>();
    await withWorkers(leader, 4, async (ws) => {
      for (let round = 0; round < 4; round++) {
        // Each worker overwrites the keys of the round before and adds its own, then flushes.
        await Promise.all(ws.map((w, i) => {
          const keys = Array.from({ length: 150 }, (_, j) => `w${i}-${pad(round * 100 + j)}`);
          for (const k of keys) model.set(k, `${round}`);
          return w.call('putFlush', { uri: 'table:w', keys, value: `${round}` });
        }));
        await follower.reconfigure({ checkpoint: 'latest' });
        const f = [...follower.openSession().openCursor<string, string>('table:w').range()];
        expect(f).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    });
    expect(readdirSync(home).filter((n) => n.startsWith('ckpt-'))).toHaveLength(0); // the log alone fed it
  });
});

describe('flush', () => {
  it('a worker flush resolves once its writes are durable: a process that never closes keeps them', async () => {
    const home = tempHome();
    const leader = await openTest({ home });
    leader.openSession().create('table:w', { keyFormat: 'S', valueFormat: 'S' });
    await withWorkers(leader, 2, async (ws) => {
      await Promise.all(ws.map((w, i) => w.call('putFlush', { uri: 'table:w', keys: [`a${i}`, `b${i}`], value: 'x' })));
    });
    leader.core.unregister(); // no close: no checkpoint
    const c = await connect({ home, role: 'follower' });
    expect([...c.openSession().openCursor<string, string>('table:w').range()].map(([k]) => k)).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  it('flushes of several sessions wait on one shared segment write (group commit)', async () => {
    const home = tempHome();
    const c = await connect({ home });
    const s = c.openSession();
    s.create('table:t');
    const before = segments(home).length;
    const sessions = Array.from({ length: 8 }, () => c.openSession());
    sessions.forEach((x, i) => x.openCursor('table:t').put(new Uint8Array([i + 1]), new Uint8Array([i])));
    await Promise.all(sessions.map((x) => x.flush()));
    expect(segments(home).length - before).toBe(1);
  });

  it('with log: false nothing is logged; flush() is a checkpoint, and writes not checkpointed are lost with the process', async () => {
    const home = tempHome();
    const c = await openTest({ home, log: false });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    s.openCursor('table:t').put('flushed', '1');
    await s.flush();
    s.openCursor('table:t').put('lost', '1');
    const segs = segments(home);
    c.core.unregister();
    expect(segs).toHaveLength(1); // only the term's start: it fences older leaders' logs
    const r = await connect({ home, role: 'follower' });
    const cur = r.openSession().openCursor<string, string>('table:t');
    expect(cur.get('flushed')).toBe('1');
    expect(cur.get('lost')).toBeUndefined();
  });

  it('the background flusher makes writes durable within flushInterval without a flush', async () => {
    const home = tempHome();
    const c = await openTest({ home, log: { flushInterval: 5 } });
    c.openSession().create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    c.openSession().openCursor('table:t').put('k', 'v');
    const until = Date.now() + 5000;
    while (c.core.x.lk_log_position(2) < c.core.x.lk_log_position(0) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    c.core.unregister();
    const r = await connect({ home, role: 'follower' });
    expect(r.openSession().openCursor<string, string>('table:t').get('k')).toBe('v');
  });
});

describe('session.batch refuses bad input before applying anything', () => {
  it('names the op and what was wrong (a value, a revoked Proxy, a throwing getter), and leaves the tables as they were', async () => {
    const c = await connect({});
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getter = { type: 'put', uri: 'table:t', get key(): string { throw new Error('boom'); }, value: 'v' };
    const cases: [unknown, RegExp][] = [
      [[{ type: 'put', uri: 'table:t', key: 'a', value: 5 }], /^batch: op 0: value must be a string for format 'S'/],
      [[{ type: 'put', uri: 'table:t', key: 'a', value: 'v' }, proxy], /^batch: op 1 threw TypeError/],
      [[{ type: 'put', uri: 'table:t', key: 'a', value: 'v' }, getter], /^batch: op 1 threw Error: boom/],
      [[{ type: 'drop', uri: 'table:t', key: 'a' }], /^batch: op 0: type "drop"/],
      [[{ type: 'put', uri: 'table:t', key: 'a', value: 'x'.repeat(5000) }], /^batch: op 0: value of 5000 UTF-8 bytes exceeds the limit of 1024 bytes/],
      [proxy, /^batch: /],
    ];
    for (const [ops, msg] of cases) {
      let caught: unknown;
      try { s.batch(ops as never); } catch (e) { caught = e; }
      expect((caught as Error).constructor.name, String(msg)).toBe('LatchkeyError');
      expect((caught as Error).message).toMatch(msg);
    }
    expect([...s.openCursor('table:t').range()]).toEqual([]);
  });
});

describe('record order', () => {
  // Two workers overwrite one key. The first changes its leaf and parks just before reserving its
  // record (log-before-append). Reserved under the leaf's latch, its record must come before the
  // second writer's change: the second waits on the latch. Reserved after the latch is released,
  // the second writer's record would come first, and replay would end with the first's value.
  it("a change's record is reserved before any later change of its key: replay gives the tree's value", async () => {
    const home = tempHome();
    const leader = await connect({ home });
    const s = leader.openSession();
    s.create('table:o', { keyFormat: 'S', valueFormat: 'S' });
    const cur = s.openCursor<string, string>('table:o');
    cur.put('x', '0');
    const [leaf] = levelInfo(leader, 0, 0);
    const latch = latchWord(leader, leaf.page);
    const park = leader.inject('log-before-append').arm('wait', { count: 1 });
    await withWorkers(leader, 2, async ([a, b]) => {
      const first = a.call('put', { uri: 'table:o', key: 'x', value: '1' });
      park.awaitArrived(1); // x is '1' in the leaf, whose latch a holds; a's record not reserved
      let done = false;
      const second = b.call('put', { uri: 'table:o', key: 'x', value: '2' }).then(() => { done = true; });
      await waitFor(() => done || (latch() & LATCH_WAITERS) !== 0, 'the second writer finishes or waits on the leaf');
      park.wake();
      await first;
      await second;
    });
    park.disarm();
    expect(cur.get('x')).toBe('2');
    await s.flush();
    const f = await connect({ home, role: 'follower' }); // the log replayed from its start
    expect(f.openSession().openCursor<string, string>('table:o').get('x')).toBe('2');
  });
});

describe('a full log buffer', () => {
  const value = 'v'.repeat(60);

  it('a worker writing more than the buffer holds waits for drains; every write is durable', async () => {
    const home = tempHome();
    const leader = await openTest({ home });
    leader.openSession().create('table:w', { keyFormat: 'S', valueFormat: 'S' });
    const n = Math.ceil((2 * LOG_RING_SIZE) / logBytes(9, value.length)); // twice the buffer
    await withWorkers(leader, 1, async ([w]) => {
      expect(await w.call('putFlush', { uri: 'table:w', keys: Array.from({ length: n }, (_, i) => `k${pad(i)}`), value })).toBe(n);
      expect(leader.core.x.lk_log_unaccounted()).toBe(0);
    });
    leader.core.unregister();
    const c = await connect({ home, role: 'follower' });
    const all = [...c.openSession().openCursor<string, string>('table:w').range()];
    expect(all).toHaveLength(n);
    expect(all.every(([, v]) => v === value)).toBe(true);
  });

  it('credit that worker threads keep across a step-down and a step-up is void in the new log: no ring byte lost or counted twice', async () => {
    const home = tempHome();
    const leader = await openTest({ home });
    leader.openSession().create('table:w', { keyFormat: 'S', valueFormat: 'S' });
    const keys = (w: number, from: number) => Array.from({ length: 500 }, (_, i) => `w${w}-${pad(from + i)}`);
    await withWorkers(leader, 2, async (ws) => {
      await Promise.all(ws.map((w, i) => w.call('putFlush', { uri: 'table:w', keys: keys(i, 0), value })));
      // A batch admits more than its records take (a bound): the rest goes back, past 2 grains to the ring.
      await ws[0].call('batch', { ops: Array.from({ length: 300 }, (_, i) => ({ type: 'put', uri: 'table:w', key: `b-${pad(i)}`, value })) });
      expect(leader.core.x.lk_log_unaccounted()).toBe(0);
      await leader.reconfigure({ role: 'follower' });
      await leader.reconfigure({ role: 'leader' });
      expect(leader.core.x.lk_log_unaccounted()).toBe(0);
      // The workers' slots still hold credit of the first start: their next writes must take new credit.
      await Promise.all(ws.map((w, i) => w.call('putFlush', { uri: 'table:w', keys: keys(i, 500), value })));
      expect(leader.core.x.lk_log_unaccounted()).toBe(0);
    });
    leader.core.unregister();
    const c = await connect({ home, role: 'follower' });
    expect([...c.openSession().openCursor<string, string>('table:w').range()]).toHaveLength(2300);
  });

  it('a batch larger than the buffer: the main thread drains inside it, and after a crash it is all there', async () => {
    const home = tempHome();
    const c = await openTest({ home });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const n = Math.ceil((1.5 * LOG_RING_SIZE) / logBytes(9, value.length));
    s.batch(Array.from({ length: n }, (_, i) => ({ type: 'put' as const, uri: 'table:t', key: `k${pad(i)}`, value })));
    await s.flush();
    c.core.unregister();
    const r = await connect({ home, role: 'follower' });
    expect([...r.openSession().openCursor<string, string>('table:t').range()]).toHaveLength(n);
  });
});

/** A MemoryPageStore counting the bytes of blobs written (checkpoint images and deltas). */
/** A MemoryPageStore that counts reads of log segments. */
class ReadCountingStore extends MemoryPageStore {
  walReads = 0;
  async read(name: string): Promise<Uint8Array | undefined> {
    if (name.startsWith('wal-')) this.walReads++;
    return super.read(name);
  }
}

class CountingStore extends MemoryPageStore {
  blobBytes = 0;
  async write(name: string, data: Uint8Array): Promise<void> {
    if (name.startsWith('ckpt-')) this.blobBytes += data.length;
    return super.write(name, data);
  }
}

describe('incremental checkpoints', () => {
  const dump = (c: Connection, uri: string) => [...c.openSession().openCursor<string, string>(uri).range()];
  /** A leader on `store` with a table 'table:t' of strings, and a cursor on it. */
  const leaderOn = async (store: PageStore) => {
    const c = await connect({ home: store });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    return { c, s, cur: s.openCursor('table:t') };
  };
  /** The newest checkpoint record of `store`, parsed. */
  const latestRecord = async (store: PageStore) => JSON.parse(new TextDecoder().decode((await store.read((await store.list('log-')).at(-1)!))!.subarray(8)));

  it('a checkpoint after changing 10 keys of 20000 writes under 1% of the full image; a reader loads the chain', async () => {
    const store = new CountingStore();
    const c = await connect({ home: store });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const cur = s.openCursor('table:t');
    for (let i = 0; i < 20_000; i++) cur.put(`k${pad(i)}`, `value ${i}`);
    await s.checkpoint();
    const full = store.blobBytes;
    for (let i = 0; i < 10; i++) cur.put(`k${pad(i * 1999)}`, 'changed');
    store.blobBytes = 0;
    await s.checkpoint();
    expect(store.blobBytes).toBeGreaterThan(0);
    expect(store.blobBytes / full).toBeLessThan(0.01);
    const r = await connect({ home: store, role: 'follower' });
    expect(dump(r, 'table:t')).toEqual(dump(c, 'table:t'));
  });

  it('a chain of deltas with puts, removes, creates, drops and a recreated table loads to the leader\'s trees, after a crash too', async () => {
    const home = tempHome();
    const c = await openTest({ home });
    const s = c.openSession();
    const S = { keyFormat: 'S', valueFormat: 'S' } as const;
    s.create('table:a', S);
    s.create('table:b', S);
    const a = s.openCursor('table:a');
    for (let i = 0; i < 3000; i++) a.put(`a${pad(i)}`, 'base');
    await s.checkpoint(); // full
    const r = rng(5);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        const k = `a${pad(Math.floor(r() * 3000))}`;
        if (r() < 0.3) a.remove(k); else a.put(k, `r${round}`);
      }
      const putC = (k: string, v: string) => { const cc = s.openCursor('table:c'); cc.put(k, v); cc.close(); };
      if (round === 1) { s.create('table:c', S); putC('c1', 'x'); }
      if (round === 2) { s.drop('table:b'); }
      if (round === 3) { s.drop('table:c'); s.create('table:c', S); putC('c2', 'y'); }
      s.batch([{ type: 'put', uri: 'table:a', key: `batch${round}`, value: 'b' }]);
      await s.checkpoint(); // deltas
    }
    const last = JSON.parse(new TextDecoder().decode(readFileSync(join(home, readdirSync(home).filter((n) => n.startsWith('log-')).sort().at(-1)!)).subarray(8)));
    expect(last.chain.length).toBe(6); // the full image and five deltas
    const want = { a: dump(c, 'table:a'), c: dump(c, 'table:c'), tables: s.tables() };
    c.core.unregister(); // a crash: the next open loads the chain (and replays nothing after it)
    const f = await connect({ home, role: 'follower' });
    expect(f.openSession().tables()).toEqual(want.tables);
    expect(dump(f, 'table:a')).toEqual(want.a);
    expect(dump(f, 'table:c')).toEqual([['c2', 'y']]);
  });

  it('a damaged delta is ECORRUPT naming the checkpoint, the table and its blob', async () => {
    const store = new MemoryPageStore();
    const { s, cur } = await leaderOn(store);
    for (let i = 0; i < 1000; i++) cur.put(`k${pad(i)}`, 'v');
    await s.checkpoint();
    cur.put('k00000001', 'w');
    await s.checkpoint();
    const blobs = await store.list('ckpt-');
    const delta = blobs.at(-1)!;
    store.raw(delta)![20] ^= 1;
    // A reader with nothing loaded must load the chain (the log before the delta is truncated or not: it starts at the image).
    await expect(connect({ home: store, role: 'follower' })).rejects.toMatchObject({
      code: 'ECORRUPT', message: expect.stringMatching(new RegExp(`checkpoint \\d+, table 't' \\(${delta}\\): checksum mismatch`)),
    });
  });

  // A delta's records come from the segments since the last checkpoint (LogWriter.history): a
  // segment of at most KEEP_RECORDS record bytes keeps a copy, a larger one is read back from the
  // store and checked as replay checks it; one that does not check makes the checkpoint a full
  // image. Shown to fail without the check (readBack returning the stored bytes unparsed): the
  // damaged record went into a delta and the checkpoint's record named a chain ("AssertionError:
  // expected [ 2, 3, 4 ] to be undefined").
  it('a delta over segments too large to keep reads them back from the store; a damaged one gives a full image, never a wrong delta', async () => {
    const store = new ReadCountingStore();
    const { c, s, cur } = await leaderOn(store);
    for (let i = 0; i < 10_000; i++) cur.put(`k${pad(i)}`, 'base');
    await s.checkpoint(); // full
    const latest = () => latestRecord(store);
    /** Enough changes of the same 100 keys for a segment past KEEP_RECORDS, flushed; then a small one. */
    const change = async (v: string) => {
      for (let i = 0; i < (2 * KEEP_RECORDS) / logBytes(9, 6); i++) cur.put(`k${pad((i * 7) % 100)}`, `${v}${i}`);
      await s.flush();
      cur.put('k00009999', v);
      await s.flush();
    };
    await change('a');
    store.walReads = 0;
    await s.checkpoint();
    expect(store.walReads).toBeGreaterThan(0); // read back
    expect((await latest()).chain).toHaveLength(2); // a delta
    const f = await connect({ home: store, role: 'follower' });
    expect(dump(f, 'table:t')).toEqual(dump(c, 'table:t'));
    await change('b');
    const big = (await store.list('wal-')).map((n) => [n, store.raw(n)!] as const).filter(([, b]) => b.length > KEEP_RECORDS).at(-1)!;
    big[1][big[1].length - 3] ^= 1; // a value byte of its last record
    await s.checkpoint();
    expect((await latest()).chain).toBeUndefined(); // a full image
    await f.reconfigure({ checkpoint: 'latest' });
    expect(dump(f, 'table:t')).toEqual(dump(c, 'table:t'));
  });

  it('when the changes pass a quarter of the full image, the checkpoint writes a full image again (the merge)', async () => {
    const store = new CountingStore();
    const { s, cur } = await leaderOn(store);
    for (let i = 0; i < 4000; i++) cur.put(`k${pad(i)}`, 'v');
    await s.checkpoint();
    for (let i = 0; i < 4000; i++) cur.put(`k${pad(i)}`, 'w'); // every key changed
    await s.checkpoint();
    const rec = await latestRecord(store);
    expect(rec.chain).toBeUndefined();
    expect(rec.prev).toBeUndefined();
  });

  // The changes are indexed a segment at a time, and the walk stops once they pass the quarter:
  // a checkpoint after a long log of distinct changes does not read back and index all of it to
  // find that a full image is due (a 1M-key leader under writes spent about 1 s of its writer's
  // thread there per checkpoint, while writers waited for the log's ring). Shown to fail with
  // the walk unbounded (Changes' budget ignored): every segment read back ("expected 7 to be
  // less than or equal to 2").
  it('changes that pass the quarter early stop the walk there: the rest of the log is not read back', async () => {
    const store = new ReadCountingStore();
    const { s, cur } = await leaderOn(store);
    const N = 20_000;
    for (let i = 0; i < N; i++) cur.put(`k${pad(i)}`, 'v');
    await s.checkpoint();
    const perSegment = Math.ceil((2 * KEEP_RECORDS) / logBytes(9, 1)); // past KEEP_RECORDS: read back
    for (let i = 0; i < N; i++) {
      cur.put(`k${pad(i)}`, 'w');
      if ((i + 1) % perSegment === 0) await s.flush();
    }
    await s.flush();
    const big = (await store.list('wal-')).filter((n) => store.raw(n)!.length > KEEP_RECORDS).length;
    expect(big).toBeGreaterThanOrEqual(6);
    store.walReads = 0;
    await s.checkpoint();
    expect((await latestRecord(store)).chain).toBeUndefined(); // a full image
    expect(store.walReads).toBeLessThanOrEqual(2);
  });
});

describe('log.checkpointSize', () => {
  it('the leader checkpoints by itself once the log passes it, and truncates the log behind the older checkpoint kept', async () => {
    const home = tempHome();
    const c = await connect({ home, log: { checkpointSize: '64KB' } });
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const cur = s.openCursor('table:t');
    const images = () => new Set(readdirSync(home).filter((n) => n.startsWith('ckpt-')).map((n) => n.split('-')[1]));
    for (let round = 0; images().size < 3 && round < 200; round++) {
      for (let i = 0; i < 500; i++) cur.put(`k${pad(round * 500 + i)}`, 'v'.repeat(40)); // about 44 KB of log
      await s.flush();
      await waitFor(() => !(c as unknown as { autoCheckpointing: boolean }).autoCheckpointing, 'the checkpoint ends');
    }
    expect(c.checkpointError).toBeUndefined();
    expect(images().size).toBeGreaterThanOrEqual(2); // pruning keeps the two newest
    // Segments are gone up to the older kept checkpoint's position (term starts excepted).
    const starts = segments(home).map((n) => Number(n.slice(4)));
    expect(starts.length).toBeLessThan(10);
    c.core.unregister();
    const r = await connect({ home, role: 'follower' });
    expect(r.openSession().stats('table:t').entries).toBeGreaterThan(1000);
  });
});

describe('CHECKPOINT_SEGMENTS', () => {
  it('a leader that flushes small writes often checkpoints by itself after CHECKPOINT_SEGMENTS segments, far below checkpointSize', async () => {
    const home = tempHome();
    const c = await connect({ home }); // the default checkpointSize (64 MiB): never reached here
    const s = c.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const cur = s.openCursor('table:t');
    const images = () => readdirSync(home).filter((n) => n.startsWith('ckpt-')).length;
    const before = images();
    let flushes = 0;
    for (; flushes < CHECKPOINT_SEGMENTS + 50 && images() === before; flushes++) {
      cur.put(`k${pad(flushes)}`, 'v');
      await s.flush(); // one segment each: nothing else writes
    }
    await waitFor(() => images() > before && !(c as unknown as { autoCheckpointing: boolean }).autoCheckpointing, 'the checkpoint ends');
    expect(c.checkpointError).toBeUndefined();
    expect(flushes).toBeGreaterThan(CHECKPOINT_SEGMENTS - 10);
    expect(flushes).toBeLessThan(CHECKPOINT_SEGMENTS + 50);
    // An open replays from the newest checkpoint's log position: only a short tail of segments.
    const latest = readdirSync(home).filter((n) => n.startsWith('log-')).sort().at(-1)!;
    const rec = JSON.parse(new TextDecoder().decode(readFileSync(join(home, latest)).subarray(8)));
    const after = segments(home).filter((n) => Number(n.slice(4)) >= rec.lsn);
    expect(segments(home).length).toBeGreaterThan(CHECKPOINT_SEGMENTS - 10); // (the older checkpoint's log is kept)
    expect(after.length).toBeLessThan(60);
    c.core.unregister();
    const r = await connect({ home, role: 'follower' });
    expect(r.openSession().stats('table:t').entries).toBe(flushes);
  });
});

describe('open, read, close with the log on', () => {
  it('leaves a directory home byte for byte as it was', async () => {
    const home = tempHome();
    const c = await openTest({ home });
    c.openSession().create('table:t');
    c.openSession().openCursor('table:t').put(new Uint8Array([1]), new Uint8Array([2]));
    await close(c);
    const snapshot = () => readdirSync(home).sort().map((n) => [n, readFileSync(join(home, n)).toString('base64')]);
    const before = snapshot();
    const r = await openTest({ home });
    expect(r.openSession().openCursor('table:t').get(new Uint8Array([1]))).toEqual(new Uint8Array([2]));
    await r.close();
    expect(snapshot()).toEqual(before);
  });
});
