/**
 * Followers fed by a NATS home's watch (bindings/store-nats.ts, WATCH; bindings/connection.ts,
 * startFeed) against a real nats-server (test/servers.ts): no refreshInterval, no reconfigure:
 * what a follower holds comes from the watch alone. While 4 worker threads write on the leader,
 * the follower matches a model at every flushed point and its lag is 0 once it does; after the
 * server restarts, the watch is made again and the follower resumes from where it stood.
 *
 * Without nats-server on PATH these tests are SKIPPED (reported, never passed), unless
 * LATCHKEY_REQUIRE_NATS=1, which makes that a failure (as test/nats.test.ts).
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { open, type Connection, canWatch, MemoryPageStore } from '../dist/index.js';
import { NatsPageStore, parseNatsHome } from '../dist/store-nats.js';
import { onPath, startNats, type NatsCluster } from './servers.js';
import { withWorkers, waitFor } from './helpers.js';

const hasNats = onPath('nats-server');
const REQUIRE = process.env.LATCHKEY_REQUIRE_NATS === '1';
const HOW = 'nats-server is not on PATH: followers fed by a NATS watch were NOT tested. Install it with `apt-get install -y nats-server` (Debian/Ubuntu; 2.9 or newer).';
if (!hasNats) console.warn(`test/nats-follower.test.ts: ${HOW}`);

let homes = 0;
const fresh = (tag: string) => `${tag}-${process.pid}-${++homes}`;
const pad = (n: number) => String(n).padStart(6, '0');
const byKey = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0);

const opened: Connection[] = [];
async function connect(opts: Record<string, unknown>): Promise<Connection> {
  const c = await open({ pageSize: 4096, cacheSize: '128MB', ...opts });
  opened.push(c);
  return c;
}
afterEach(async () => {
  for (const c of opened.splice(0).reverse()) await c.close().catch(() => {});
});

/** The follower's table as sorted entries ([] before the table reached it). */
function entries(c: Connection, uri: string): [string, string][] {
  try {
    return [...c.openSession().openCursor<string, string>(uri).range()] as [string, string][];
  } catch {
    return [];
  }
}

const same = (a: [string, string][], b: [string, string][]) => a.length === b.length && a.every(([k, v], i) => b[i][0] === k && b[i][1] === v);

describe('followers fed by a NATS watch', () => {
  if (!hasNats && REQUIRE) {
    it('nats-server is installed (LATCHKEY_REQUIRE_NATS=1)', () => {
      expect.fail(HOW);
    });
  }

  it('canWatch tells a watching store from one that is polled', () => {
    expect(canWatch(new MemoryPageStore())).toBe(false);
    expect(typeof NatsPageStore.prototype.watch).toBe('function');
  });

  it('ws:// and wss:// homes parse as NATS over WebSocket; where the runtime has no WebSocket, opening one is EINVAL saying what is needed', async () => {
    expect(parseNatsHome('ws://127.0.0.1:8080/db1')).toEqual({ servers: ['127.0.0.1:8080'], name: 'db1', transport: 'ws' });
    expect(parseNatsHome('wss://h1:443,h2:443/db1?timeout=2000')).toEqual({ servers: ['h1:443', 'h2:443'], name: 'db1', transport: 'wss', timeout: 2000 });
    for (const bad of ['ws://127.0.0.1:8080', 'http://127.0.0.1:8080/db', 'ws://h/db']) {
      expect(() => parseNatsHome(bad), bad).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    await expect(NatsPageStore.open({ servers: 'h:1', name: 'db', transport: 'udp' as never })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining("'tcp', 'ws' or 'wss'") });
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
      await expect(open({ home: 'ws://127.0.0.1:1/db' })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('needs a WebSocket') });
    } else {
      await expect(open({ home: 'ws://127.0.0.1:1/db?timeout=1000' })).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('127.0.0.1:1') });
    }
  });

  describe.skipIf(!hasNats)('one node', () => {
    let one: NatsCluster;
    beforeAll(async () => { one = await startNats({ nodes: 1 }); });
    afterAll(async () => { await one?.stop(); });

    it('the watch reports names as they are created, with their bytes, and only under its prefix; bad arguments are EINVAL', async () => {
      const store = await NatsPageStore.open(one.url(fresh('watch')));
      try {
        const seen: string[] = [];
        const stop = store.watch('wal-', (c) => { if (!c.resync) seen.push(`${c.name}=${new TextDecoder().decode(c.data)}`); });
        // A name created after the watch started is reported: published until one is seen
        // (the watch's consumer may not be in place when watch() returns).
        for (let i = 0; seen.length === 0 && i < 200; i++) {
          await store.publish(`wal-${pad(i)}`, new TextEncoder().encode(`s${i}`));
          await store.publish(`log-${pad(i)}`, new TextEncoder().encode(`r${i}`));
          await new Promise((r) => setTimeout(r, 5));
        }
        const first = Number(seen[0].slice(4, 10));
        await store.publish('wal-999999', new TextEncoder().encode('last'));
        await waitFor(() => seen.includes('wal-999999=last'), 'the watch reports wal-999999', 5000);
        // Every name from the first seen on, in order, and no log- name.
        const expected = [];
        for (let i = first; i < 200 && expected.length < seen.length - 1; i++) expected.push(`wal-${pad(i)}=s${i}`);
        expect(seen.slice(0, -1)).toEqual(expected);
        stop();
        expect(() => store.watch(1 as never, () => {})).toThrow(expect.objectContaining({ code: 'EINVAL' }));
        expect(() => store.watch('wal-', 1 as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      } finally {
        await store.close();
      }
    });

    it('while 4 workers write on the leader, a follower fed by the watch alone matches a model at every flushed point, and its lag is then 0', async () => {
      const home = one.url(fresh('feed'));
      const leader = await connect({ home });
      leader.openSession().create('table:w', { keyFormat: 'S', valueFormat: 'S' });
      await leader.flush();
      const follower = await connect({ home, role: 'follower' }); // refreshInterval 0: no polling
      expect(follower.lag).toEqual({ bytes: 0, ms: 0 });
      const model = new Map<string, string>();
      const waits: number[] = [];
      await withWorkers(leader, 4, async (ws) => {
        for (let round = 0; round < 12; round++) {
          // Each worker overwrites the keys of the round before and adds its own, then flushes.
          await Promise.all(ws.map((w, i) => {
            const keys = Array.from({ length: 120 }, (_, j) => `w${i}-${pad(round * 100 + j)}`);
            for (const k of keys) model.set(k, `${round}`);
            return w.call('putFlush', { uri: 'table:w', keys, value: `${round}` });
          }));
          const want = [...model].sort(byKey);
          const t = performance.now();
          await waitFor(() => same(entries(follower, 'table:w'), want), `the follower holds round ${round}'s flushed state`, 10_000);
          waits.push(performance.now() - t);
          expect(follower.refreshError).toBeUndefined();
        }
      });
      // Nothing more is coming: once the follower has applied all it heard of, its lag is 0.
      await waitFor(() => follower.lag.bytes === 0, 'the lag is 0 after the last flush', 5000);
      expect(follower.lag).toEqual({ bytes: 0, ms: 0 });
      expect(entries(follower, 'table:w')).toEqual([...model].sort(byKey));
      expect(leader.lag).toEqual({ bytes: 0, ms: 0 });
      waits.sort((a, b) => a - b);
      console.log(`follower caught up after the 4 workers' flushes: median ${waits[waits.length >> 1].toFixed(1)} ms, max ${waits[waits.length - 1].toFixed(1)} ms (12 rounds)`);
    });

    it('the NATS server restarts: the watch is made again and the follower resumes from its last applied position', async () => {
      const srv = await startNats({ nodes: 1 });
      try {
        const home = srv.url(fresh('resume'));
        const leader = await connect({ home });
        const s = leader.openSession();
        s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
        const c = s.openCursor<string, string>('table:t');
        for (let i = 0; i < 100; i++) c.put(`a${pad(i)}`, 'before');
        await s.flush();
        const follower = await connect({ home, role: 'follower' });
        expect(entries(follower, 'table:t')).toHaveLength(100);
        await srv.restart(0);
        for (let i = 0; i < 100; i++) c.put(`b${pad(i)}`, 'after');
        await s.flush(); // the leader's client reconnects; bounded by the store's timeout
        await waitFor(() => entries(follower, 'table:t').length === 200, 'the follower holds the writes flushed after the restart', 15_000);
        const got = entries(follower, 'table:t');
        expect(got.filter(([, v]) => v === 'after')).toHaveLength(100);
        expect(got.filter(([, v]) => v === 'before')).toHaveLength(100);
        // And it goes on being fed after the reconnect.
        c.put('c', 'later');
        await s.flush();
        await waitFor(() => follower.openSession().openCursor<string, string>('table:t').get('c') === 'later', 'the follower sees a write after the reconnect', 10_000);
        await waitFor(() => follower.lag.bytes === 0, 'the lag is 0', 5000);
      } finally {
        for (const c of opened.splice(0).reverse()) await c.close().catch(() => {});
        await srv.stop();
      }
    }, 60_000);
  });
});
