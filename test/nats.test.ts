/**
 * The NATS page store (bindings/store-nats.ts) against real nats-server processes
 * (test/servers.ts): the PageStore contract on one node; a latchkey leader, follower and fencing
 * on a `nats://` home; a 3-node R3 cluster losing a node while a leader writes.
 *
 * Without nats-server on PATH these tests are SKIPPED (reported as skipped, never as passed) with
 * the reason printed, unless LATCHKEY_REQUIRE_NATS=1 (CI sets it), which makes that a failure.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { createServer, type Server } from 'node:net';
import { open, type Connection, LatchkeyError } from '../dist/index.js';
import { NatsPageStore, natsKey, natsName, checkNatsServer, parseNatsHome } from '../dist/store-nats.js';
import { pageStoreContract } from './store-contract.js';
import { onPath, startNats, type NatsCluster } from './servers.js';

const hasNats = onPath('nats-server');
const REQUIRE = process.env.LATCHKEY_REQUIRE_NATS === '1';
const HOW = 'nats-server is not on PATH: the NATS page store was NOT tested. Install it with `apt-get install -y nats-server` (Debian/Ubuntu; 2.9 or newer).';

if (!hasNats) console.warn(`test/nats.test.ts: ${HOW}`);

let homes = 0;
/** A name no other test of this run uses. */
const fresh = (tag: string) => `${tag}-${process.pid}-${++homes}`;

const opened: Connection[] = [];
async function connect(opts: Record<string, unknown>): Promise<Connection> {
  const c = await open(opts);
  opened.push(c);
  return c;
}
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close().catch(() => {});
});

/** Rejects with a LatchkeyError of `code` whose message holds every fragment. */
async function expectError(p: Promise<unknown>, code: string, ...fragments: string[]): Promise<LatchkeyError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(LatchkeyError);
  expect((e as LatchkeyError).code, (e as Error).message).toBe(code);
  for (const f of fragments) expect((e as LatchkeyError).message).toContain(f);
  return e as LatchkeyError;
}

describe('NATS page store', () => {
  // Registered only where it must fail, so that a run with nats-server counts no skipped test.
  if (!hasNats && REQUIRE) {
    it('nats-server is installed (LATCHKEY_REQUIRE_NATS=1)', () => {
      expect.fail(HOW);
    });
  }

  it('names map one to one onto KV keys, the log\'s as NATS subjects; home strings are parsed or refused with EINVAL', () => {
    expect(natsKey('wal-0000000000000042')).toBe('wal.0000000000000042');
    expect(natsKey('log-0000000003')).toBe('log.0000000003');
    expect(natsKey('ckpt-0000000002-t1-0')).toBe('ckpt.0000000002-t1-0');
    expect(natsKey('a.b-c.d')).toBe('a=b.c=d');
    expect(natsKey('a-')).toBe('a./');
    for (const n of ['wal-0000000000000042', 'a.b-c.d', 'a-', 'a--b', 'log', 'x_y-z']) expect(natsName(natsKey(n))).toBe(n);
    for (const k of ['a.b.c', 'a..b', '.a', 'a/', 'b.x/y', '_INBOX.x']) expect(natsName(k)).toBeUndefined();
    expect(parseNatsHome('nats://127.0.0.1:4222,h2:4223/db1?replicas=3&timeout=2000'))
      .toEqual({ servers: ['127.0.0.1:4222', 'h2:4223'], name: 'db1', replicas: 3, timeout: 2000 });
    for (const bad of ['nats://127.0.0.1:4222', 'nats://127.0.0.1/db', 'nats://h:1/db?replicas=2', 'nats://h:1/db?x=1', 'nats://h:1/a.b', 'nats://h:1/db/x']) {
      expect(() => parseNatsHome(bad), bad).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    // The version check that open() applies to the server it reached.
    expect(() => checkNatsServer('2.8.4', 'h:1')).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('nats-server 2.9.0 or newer') }));
    expect(() => checkNatsServer('2.9.10', 'h:1')).not.toThrow();
    expect(() => checkNatsServer('2.10.0', 'h:1')).not.toThrow();
  });

  it('an unreachable server is EIO naming it, within the timeout: refused at once, or silent', async () => {
    // A port no one listens on.
    const closed = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
    let t = Date.now();
    await expectError(open({ home: `nats://127.0.0.1:${closed}/db?timeout=1000` }), 'EIO', `127.0.0.1:${closed}`, 'cannot connect');
    expect(Date.now() - t).toBeLessThan(5000);
    // A peer that accepts and never speaks (the server half of a cut network).
    const silent: Server = await new Promise((resolve) => { const s = createServer(() => {}).listen(0, '127.0.0.1', () => resolve(s)); });
    const port = (silent.address() as { port: number }).port;
    try {
      t = Date.now();
      await expectError(open({ home: `nats://127.0.0.1:${port}/db?timeout=1500` }), 'EIO', `127.0.0.1:${port}`, 'within 1500 ms');
      expect(Date.now() - t).toBeLessThan(6000);
    } finally {
      silent.close();
    }
  });

  describe.skipIf(!hasNats)('one node', () => {
    let one: NatsCluster;
    beforeAll(async () => { one = await startNats({ nodes: 1 }); });
    afterAll(async () => { await one?.stop(); });

    describe('the PageStore contract (test/store-contract.ts)', () => {
      pageStoreContract({
        refusesBadNames: true,
        make: async () => {
          const store = await NatsPageStore.open({ servers: [`127.0.0.1:${one.nodes[0].port}`], name: fresh('contract') });
          return { store, done: () => store.close() };
        },
      });
    });

    it('a leader on a nats:// home: puts, flush, close; reopened, the data is there (a large image went through the Object Store)', async () => {
      const home = one.url(fresh('db'));
      const a = await connect({ home });
      const s = a.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>('table:t');
      for (let i = 0; i < 4000; i++) c.put(`k${String(i).padStart(5, '0')}`, `v${i}`.padEnd(100, '.'));
      await s.flush();
      await a.close();
      opened.splice(opened.indexOf(a), 1);
      const b = await connect({ home });
      const bc = b.openSession().openCursor<string, string>('table:t');
      expect([...bc.range()]).toHaveLength(4000);
      expect(bc.get('k03999')).toBe('v3999'.padEnd(100, '.'));
      // The close's checkpoint image is larger than the inline limit: an object holds it.
      const raw = await NatsPageStore.open(home);
      try {
        const images = await raw.list('ckpt-');
        expect(images.length).toBeGreaterThan(0);
        const sizes = await Promise.all(images.map(async (n) => (await raw.read(n))!.length));
        expect(Math.max(...sizes)).toBeGreaterThan(256 * 1024);
      } finally {
        await raw.close();
      }
    });

    it("a follower on the same home sees the leader's flushed writes (from the log) and its checkpoints", async () => {
      const home = one.url(fresh('roles'));
      const leader = await connect({ home });
      const s = leader.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>('table:t');
      c.put('a', '1');
      await s.flush();
      const follower = await connect({ home, role: 'follower' });
      const fc = () => follower.openSession().openCursor<string, string>('table:t');
      expect(fc().get('a')).toBe('1');
      expect(() => fc().put('x', '1')).toThrow(expect.objectContaining({ code: 'ENOTLEADER' }));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 50; i++) c.put(`r${round}-${i}`, `${round}`);
        if (round === 1) await s.checkpoint();
        else await s.flush();
        await follower.reconfigure({ checkpoint: 'latest' });
        expect([...fc().range()]).toHaveLength(1 + 50 * (round + 1));
      }
      // A second leader while this one lives: EBUSY naming it.
      await expectError(open({ home }), 'EBUSY', 'has a live leader');
    });

    it("takeover: a second leader on the same home fences the first: its next flush is ESTALE and it becomes a follower; nothing it flushed is lost", async () => {
      const home = one.url(fresh('fence'));
      const a = await connect({ home });
      const s = a.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      s.openCursor('table:t').put('before', '1');
      await s.flush();
      const b = await connect({ home, takeover: true });
      s.openCursor('table:t').put('lost', '1');
      await expectError(s.flush(), 'ESTALE', 'refused: the page store already has it, written by a newer leader');
      expect(a.role).toBe('follower');
      expect(b.role).toBe('leader');
      const bt = b.openSession().openCursor<string, string>('table:t');
      expect(bt.get('before')).toBe('1');
      expect(bt.get('lost')).toBeUndefined();
      bt.put('after', '2');
      await b.openSession().flush();
      await expectError(a.close(), 'ESTALE');
      opened.splice(opened.indexOf(a), 1);
    });

    it('create: false on a home that does not exist is ENOENT; a server without JetStream is EINVAL naming -js', async () => {
      await expectError(open({ home: one.url(fresh('none')), create: false }), 'ENOENT', 'does not exist');
      const plain = await startNats({ nodes: 1, jetstream: false });
      try {
        await expectError(open({ home: plain.url('db') }), 'EINVAL', 'JetStream off', '-js');
      } finally {
        await plain.stop();
      }
    });
  });

  describe.skipIf(!hasNats)('three nodes, R3', () => {
    let three: NatsCluster;
    beforeAll(async () => { three = await startNats({ nodes: 3 }); });
    afterAll(async () => { await three?.stop(); });

    /** The server name leading stream `stream` (from a live node's monitoring port). */
    async function streamLeader(stream: string): Promise<string | undefined> {
      for (const n of three.nodes.filter((x) => x.alive)) {
        const r = await fetch(`http://127.0.0.1:${n.monitorPort}/jsz?accounts=true&streams=true`).then((x) => x.json()).catch(() => undefined);
        for (const acc of (r?.account_details ?? []) as { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[]) {
          const leader = acc.stream_detail?.find((d) => d.name === stream)?.cluster?.leader;
          if (leader) return leader;
        }
      }
      return undefined;
    }

    it('killing the node that leads the KV stream while a leader writes: writes pause a few seconds at most, nothing acknowledged is lost', async () => {
      const name = fresh('r3');
      const home = three.url(name, 'replicas=3');
      const leader = await connect({ home });
      const s = leader.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>('table:t');
      const acked: number[] = [];
      let i = 0;
      let longest = 0;
      let failures = 0;
      /** Writes and flushes until `count` more writes are acknowledged or `ms` pass. */
      const write = async (count: number, ms: number) => {
        const until = acked.length + count;
        const deadline = Date.now() + ms;
        while (acked.length < until && Date.now() < deadline) {
          const k = i++;
          c.put(`k${String(k).padStart(6, '0')}`, `v${k}`);
          const t = Date.now();
          try {
            await s.flush();
            acked.push(k);
          } catch (e) {
            expect((e as LatchkeyError).code).toBe('EIO'); // bounded, typed; the next flush carries the write
            failures++;
          }
          longest = Math.max(longest, Date.now() - t);
        }
      };
      await write(50, 10_000);
      expect(acked).toHaveLength(50);
      const victim = await streamLeader(`KV_latchkey-${name}`);
      expect(victim).toMatch(/^n[123]$/);
      longest = 0;
      await three.kill(three.nodes.findIndex((n) => n.name === victim));
      const killedAt = Date.now();
      await write(100, 20_000);
      expect(acked).toHaveLength(150);
      console.log(`test/nats.test.ts: R3, the KV stream leader ${victim} killed: the longest flush took ${longest} ms, ${failures} flushes failed with EIO, 100 more writes acknowledged ${Date.now() - killedAt} ms after the kill`);
      expect(longest).toBeLessThan(15_000);
      await leader.close();
      opened.splice(opened.indexOf(leader), 1);
      // Every acknowledged write is there, read through the two nodes left.
      const alive = three.nodes.map((n, j) => (n.alive ? j : -1)).filter((j) => j >= 0);
      const f = await connect({ home: three.url(name, 'replicas=3', alive), role: 'follower' });
      const fc = f.openSession().openCursor<string, string>('table:t');
      const missing = acked.filter((k) => fc.get(`k${String(k).padStart(6, '0')}`) !== `v${k}`);
      expect(missing).toEqual([]);
    });
  });
});
