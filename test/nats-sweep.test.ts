/**
 * NatsPageStore's sweep (bindings/store-nats.ts, SWEEP) against a real nats-server
 * (test/servers.ts): leftovers in the home's Object Store that no KV entry points at are made by
 * hand with the NATS client, as a writer that died would leave them: an object uploaded whose
 * entry was never created, an older object of a name whose entry points at a newer one, and
 * chunks of an upload cut off before its object existed. sweep() removes them once older than
 * the grace (and chunks, at least 2 timeouts), never a live object and never an upload of this
 * store whose entry is still on its way (its KV create parked by a hook); a leader sweeps at its
 * step-up and after a checkpoint (pruneStore).
 *
 * Shown to fail without the sweep: with pruneStore's `if (canSweep(store)) await store.sweep()`
 * removed (dist/checkpoint.js, by hand) the last test failed with "the orphan is removed at the
 * step-up: expected [ Array(1) ] to deeply equal []"; with the upload mark removed
 * (`this.uploaded.set(object, ...)` in encode, dist/store-nats.js) the in-flight test failed with
 * "an upload whose entry is on its way is kept: expected 1 to be +0".
 *
 * Without nats-server on PATH these tests are SKIPPED (reported as skipped, never as passed) with
 * the reason printed, unless LATCHKEY_REQUIRE_NATS=1 (CI sets it), which makes that a failure.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { open, type Connection } from '../dist/index.js';
import { NatsPageStore, natsKey } from '../dist/store-nats.js';
import { onPath, startNats, type NatsCluster } from './servers.js';

const hasNats = onPath('nats-server');
const REQUIRE = process.env.LATCHKEY_REQUIRE_NATS === '1';
const HOW = 'nats-server is not on PATH: the NATS page store\'s sweep was NOT tested. Install it with `apt-get install -y nats-server` (Debian/Ubuntu; 2.9 or newer).';
if (!hasNats) console.warn(`test/nats-sweep.test.ts: ${HOW}`);

let homes = 0;
const fresh = (tag: string) => `${tag}-${process.pid}-${++homes}`;
/** A blob too large for a KV entry (above the 256 KiB inline bound): it goes to the Object Store. */
const big = (seed: number) => new Uint8Array(300 * 1024).map((_, i) => (i * 7 + seed) & 0xff);

const closing: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close().catch(() => {});
});

describe('NATS page store: the sweep of leftover objects', () => {
  // Registered only where it must fail, so that a run with nats-server counts no skipped test.
  if (!hasNats && REQUIRE) {
    it('nats-server is installed (LATCHKEY_REQUIRE_NATS=1)', () => {
      expect.fail(HOW);
    });
  }

  it('orphanGrace: milliseconds from 0 to 86400000, else EINVAL naming it and what is accepted (before connecting)', async () => {
    for (const bad of [-1, 1.5, 86_400_001, '5']) {
      const e = await NatsPageStore.open({ servers: ['127.0.0.1:1'], name: 'x', orphanGrace: bad as number }).then(() => undefined, (err: unknown) => err);
      expect(e, String(bad)).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('orphanGrace') });
      expect((e as Error).message).toContain('an integer from 0 to 86400000');
    }
  });

  describe.skipIf(!hasNats)('with a server', () => {
    let nats: NatsCluster;
    let nc: NatsConnection;
    beforeAll(async () => {
      nats = await startNats({ nodes: 1 });
      nc = await connect({ servers: `127.0.0.1:${nats.nodes[0].port}` });
    });
    afterAll(async () => {
      await nc?.close();
      await nats?.stop();
    });

    const servers = () => [`127.0.0.1:${nats.nodes[0].port}`];
    async function store(name: string, orphanGrace: number): Promise<NatsPageStore> {
      const s = await NatsPageStore.open({ servers: servers(), name, orphanGrace, timeout: 1000 });
      closing.push(s);
      return s;
    }
    /** The home's Object Store, through the client itself (what a dead writer left is made here). */
    const objectsOf = (name: string): Promise<ObjectStore> => new Objm(jetstream(nc)).open(`latchkey-${name}-blobs`);
    const names = async (os: ObjectStore) => (await os.list()).map((i) => i.name).sort();
    /** Chunk subjects of the home's Object Store (with or without an object). */
    async function chunkSubjects(name: string): Promise<string[]> {
      const info = await (await jetstreamManager(nc)).streams.info(`OBJ_latchkey-${name}-blobs`, { subjects_filter: `$O.latchkey-${name}-blobs.C.>` });
      return Object.keys(info.state.subjects ?? {}).sort();
    }

    it('removes objects no entry points at and cut-off chunks once past the grace; never a live object', async () => {
      const name = fresh('orphans');
      const young = await store(name, 60_000);
      await young.write('ckpt-0000000001-1-0', big(1)); // live, through its entry
      await young.write('ckpt-0000000001-1-0', big(2)); // replaced: the first object removed by write itself
      expect(await young.publish('wal-0000000000000001', big(3))).toBe(true); // live
      const os = await objectsOf(name);
      const live = await names(os);
      expect(live).toHaveLength(2);
      // Left by writers that died: an upload without its entry, an older object of a name whose
      // entry points at a newer one, chunks of an upload cut off before its object.
      const noEntry = `${natsKey('ckpt-0000000002-1-0')}.${randomUUID()}`;
      const replaced = `${natsKey('ckpt-0000000001-1-0')}.${randomUUID()}`;
      for (const o of [noEntry, replaced]) await os.putBlob({ name: o }, big(4));
      const chunks = `$O.latchkey-${name}-blobs.C.${randomUUID().replace(/-/g, '')}`;
      await jetstream(nc).publish(chunks, big(5));
      const chunked = Date.now();
      expect(await names(os)).toEqual([...live, noEntry, replaced].sort());
      expect(await chunkSubjects(name)).toHaveLength(5); // one per object, and the cut-off upload's

      expect(await young.sweep(), 'everything is younger than a 60 s grace').toBe(0);
      const sweeper = await store(name, 0);
      expect(await sweeper.sweep(), 'the two objects nothing points at').toBe(2);
      expect(await names(os)).toEqual(live);
      expect(await chunkSubjects(name), 'chunks are left at least 2 timeouts').toContain(chunks);
      await new Promise((r) => setTimeout(r, Math.max(0, chunked + 2 * 1000 + 50 - Date.now()))); // the chunks' age, not a race
      expect(await sweeper.sweep(), 'the cut-off chunks').toBe(1);
      expect(await chunkSubjects(name)).not.toContain(chunks);
      expect(await chunkSubjects(name)).toHaveLength(2);
      // The live blobs read back whole.
      expect(await sweeper.read('ckpt-0000000001-1-0')).toEqual(big(2));
      expect(await sweeper.read('wal-0000000000000001')).toEqual(big(3));
      expect(await sweeper.sweep()).toBe(0);
    });

    it('never removes an upload of this store whose entry is still on its way', async () => {
      const name = fresh('inflight');
      const s = await store(name, 0);
      // A hook on the KV create of the publish: parked after its upload, before its entry.
      const kv = (s as unknown as { kv: { create: (k: string, v: Uint8Array) => Promise<number> } }).kv;
      const create = kv.create.bind(kv);
      let parked!: () => void;
      const reached = new Promise<void>((r) => {
        kv.create = async (k, v) => { r(); await new Promise<void>((go) => { parked = go; }); return create(k, v); };
      });
      const publishing = s.publish('wal-0000000000000001', big(6));
      await reached;
      const os = await objectsOf(name);
      expect(await names(os)).toHaveLength(1); // uploaded, no entry yet
      expect(await s.sweep(), 'an upload whose entry is on its way is kept').toBe(0);
      parked();
      expect(await publishing).toBe(true);
      expect(await s.read('wal-0000000000000001')).toEqual(big(6));
      expect(await names(os)).toHaveLength(1);
    });

    it('a leader sweeps at its step-up and after each checkpoint', async () => {
      const name = fresh('leader');
      const os = async () => objectsOf(name);
      const orphan = async (seq: number) => {
        const o = `${natsKey(`ckpt-000000000${seq}-9-0`)}.${randomUUID()}`;
        await (await os()).putBlob({ name: o }, big(seq));
        return o;
      };
      // A home with a large table (its image in the Object Store), then an orphan.
      const first = await open({ home: await store(name, 0), cacheSize: '64MB', log: false });
      closing.push(first);
      const s1 = first.openSession();
      s1.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const c1 = s1.openCursor<string, string>('table:t');
      for (let i = 0; i < 5000; i++) c1.put(`k${String(i).padStart(5, '0')}`, 'v'.repeat(100));
      await s1.checkpoint();
      await first.close();
      closing.splice(closing.indexOf(first), 1);
      const a = await orphan(2);
      expect(await names(await os())).toContain(a);
      const leader = await open({ home: await store(name, 0), cacheSize: '64MB', log: false });
      closing.push(leader);
      expect(leader.role).toBe('leader');
      expect((await names(await os())).filter((n) => n === a), 'the orphan is removed at the step-up').toEqual([]);
      const b = await orphan(3);
      const s = leader.openSession();
      s.openCursor<string, string>('table:t').put('k', 'changed');
      await s.checkpoint();
      expect((await names(await os())).filter((n) => n === b), 'the orphan is removed after a checkpoint').toEqual([]);
      // What the leader published is whole: a follower loads it.
      const follower = await open({ home: await store(name, 0), role: 'follower', cacheSize: '64MB', log: false }) as Connection;
      closing.push(follower);
      const fc = follower.openSession().openCursor<string, string>('table:t');
      expect(fc.get('k')).toBe('changed');
      expect([...fc.range()]).toHaveLength(5001);
    });
  });
});
