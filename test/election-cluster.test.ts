/**
 * Elections over a 3-member etcd cluster (test/servers.ts, startEtcd({ members: 3 })), on a
 * `nats://` home (one nats-server): two connections campaign with every member as an endpoint;
 * the member that is etcd's Raft leader is SIGKILLed while the latchkey leader writes. The
 * election goes on working on the two members left: for 3 lease TTLs after the kill, at every
 * sample (each millisecond) at most one connection leads, one leads at the end (the same, its
 * lease kept alive through another member, or the other, elected), and writes keep being
 * accepted; every write reported flushed (before or after the kill) is on the leader; then the
 * leader's close() resigns and the other leads at once (well within a TTL of close() resolving),
 * holding all of them.
 *
 * Without etcd or nats-server on PATH this is SKIPPED (reported as skipped, never as passed)
 * with the reason printed, unless LATCHKEY_REQUIRE_ETCD=1 (CI sets it): then a failure.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { open, LatchkeyError, type Connection, type Session } from '../dist/index.js';
import { onPath, startNats, startEtcd, type NatsCluster, type EtcdCluster } from './servers.js';

const hasEtcd = onPath('etcd') && onPath('nats-server');
const REQUIRE = process.env.LATCHKEY_REQUIRE_ETCD === '1';
const HOW = 'etcd (or nats-server) is not on PATH: elections over an etcd cluster were NOT tested. Install them with `apt-get install -y etcd-server nats-server` (Debian/Ubuntu; etcd 3.4 or newer).';
if (!hasEtcd) console.warn(`test/election-cluster.test.ts: ${HOW}`);

/** The lease of this test: etcd's shortest. */
const TTL = 2;

/** Resolves once `cond` holds, polling; rejects after `ms` naming `what`. */
async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('elections over a 3-member etcd cluster', () => {
  // Registered only where it must fail, so that a run with etcd counts no skipped test.
  if (!hasEtcd && REQUIRE) {
    it('etcd and nats-server are installed (LATCHKEY_REQUIRE_ETCD=1)', () => {
      expect.fail(HOW);
    });
  }

  describe.skipIf(!hasEtcd)('with servers', () => {
    let nats: NatsCluster;
    let etcd: EtcdCluster;
    const conns: Connection[] = [];
    beforeAll(async () => { [nats, etcd] = await Promise.all([startNats({ nodes: 1 }), startEtcd({ members: 3 })]); });
    afterAll(async () => {
      for (const c of conns) await c.close().catch(() => {});
      await Promise.all([nats?.stop(), etcd?.stop()]);
    });

    it('the etcd leader member SIGKILLed: at most one connection leads at any time, writes go on, every flushed write survives; then a resign hands over', { timeout: 60_000 }, async () => {
      const name = `cluster-${process.pid}`;
      const cfg = { home: nats.url(name), election: etcd.url(name), electionTtl: TTL, cacheSize: '32MB' };
      const a = await open(cfg);
      conns.push(a);
      const b = await open(cfg);
      conns.push(b);
      expect([a.role, b.role]).toEqual(['leader', 'follower']);
      const setup = a.openSession();
      setup.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      await setup.flush();

      // Both roles sampled each millisecond: never two leaders at once.
      let samples = 0;
      let overlaps = 0;
      const sampler = setInterval(() => {
        samples++;
        if (a.role === 'leader' && b.role === 'leader') overlaps++;
      }, 1);
      // Whoever leads writes one key and flushes, again and again; a key is reported once its flush resolved.
      const reported: string[] = [];
      const refused: string[] = [];
      const sessions = new Map<Connection, Session>();
      let stop = false;
      const writer = (async () => {
        for (let n = 0; !stop; n++) {
          const leader = [a, b].find((c) => c.role === 'leader');
          if (!leader) { await new Promise((r) => setTimeout(r, 5)); continue; }
          const s = sessions.get(leader) ?? sessions.set(leader, leader.openSession()).get(leader)!;
          const key = `k${String(n).padStart(6, '0')}`;
          try {
            s.openCursor<string, string>('table:t').put(key, key);
            await s.flush();
            reported.push(key);
          } catch (e) {
            refused.push((e as { code?: string }).code ?? String(e)); // a role change under the write
          }
        }
      })();
      try {
        await until('100 writes before the kill', () => reported.length >= 100);
        const killed = await etcd.leader();
        const before = reported.length;
        const t0 = Date.now();
        await etcd.kill(killed);
        // Three lease TTLs: a lease no surviving member renewed would have lapsed twice over.
        await until(`3 TTLs after the kill, and 100 writes accepted since`, () => Date.now() - t0 >= 3 * TTL * 1000 && reported.length >= before + 100);
        const now = await etcd.leader();
        expect(now).not.toBe(killed);
        const leader = [a, b].filter((c) => c.role === 'leader');
        expect(leader, 'exactly one leads after the kill').toHaveLength(1);
        console.log(`test/election-cluster.test.ts: etcd member e${killed + 1} (the Raft leader) killed; e${now + 1} leads etcd now; latchkey: ${leader[0] === a ? 'the same connection kept leading' : 'the other connection was elected'}; ${reported.length - before} writes accepted in the ${Date.now() - t0} ms after the kill, ${refused.length} refused during role changes (${[...new Set(refused)].join(', ') || 'none'})`);
      } finally {
        stop = true;
        await writer;
        clearInterval(sampler);
      }
      expect(samples).toBeGreaterThan(1000);
      expect(overlaps, 'samples with both connections leading').toBe(0);

      const first = a.role === 'leader' ? a : b;
      const second = first === a ? b : a;
      const keysOf = (c: Connection) => new Set([...c.openSession().openCursor<string, string>('table:t').range()].map(([k]) => k));
      const have = keysOf(first);
      expect(reported.filter((k) => !have.has(k)), 'reported flushed but missing on the leader').toEqual([]);
      // A resign (close()) hands over at once, through the two members left.
      // close() resigns after its final checkpoint (which removes the log segments it no longer
      // needs, one a write here): timed from its end, a lease running out would take about a TTL.
      const t1 = Date.now();
      // On a loaded machine the lease can lapse during close() (a 2 s TTL, keepalives late): the
      // other is then elected first and close()'s final checkpoint is fenced (ESTALE, as close()
      // documents); nothing reported is lost either way (checked below), but no resign was timed.
      const fenced = await first.close().then(() => undefined, (e: unknown) => e as LatchkeyError);
      const closed = Date.now();
      conns.splice(conns.indexOf(first), 1);
      if (fenced) {
        expect(fenced).toBeInstanceOf(LatchkeyError);
        expect(fenced.code, fenced.message).toBe('ESTALE');
        expect(second.role, 'fenced at close: the other leads already').toBe('leader');
        console.log(`test/election-cluster.test.ts: the lease lapsed during close() (${closed - t1} ms): the other was elected first and close() was fenced; no resign timed in this run`);
      } else {
        await until('the other elected after the resign', () => second.role === 'leader', 2 * TTL * 1000);
        const handover = Date.now() - closed;
        console.log(`test/election-cluster.test.ts: resign over 2 of 3 members: close() took ${closed - t1} ms, then the other led after ${handover} ms`);
        expect(handover).toBeLessThan(TTL * 1000 / 2); // a resign, not a lease running out
      }
      const after = keysOf(second);
      expect(reported.filter((k) => !after.has(k)), 'reported flushed but missing after the resign').toEqual([]);
      const c = second.openSession().openCursor<string, string>('table:t');
      c.put('after', 'x'); // the new leader accepts writes
      await second.flush();
    });
  });
});
