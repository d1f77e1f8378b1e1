// bench/nats.js --case image: checkpoint image upload and download rates on a directory home, a
// 1-node NATS home and a 3-node R3 one (servers from test/servers.ts), for databases of --sizes
// MiB of entries (--value byte values, 8-byte keys).
//
// The log is off (log: false) on both ends, so a checkpoint writes a full image and nothing else,
// and a follower's load reads only images. Each home is wrapped in a store that counts the bytes
// of the image blobs written (names ckpt-...) and of everything read. Per size and home, --rounds
// times: one key changed on the leader, then timed:
//   checkpoint     s.checkpoint() on the leader: the image built, uploaded, its record published,
//                  the older images pruned (MB/s: image bytes written / time)
//   follower open  open({ role: 'follower' }) of a fresh connection: it downloads and loads the newest
//                  image (MB/s: bytes read / time)
//   refresh        reconfigure({ checkpoint: 'latest' }) of a follower opened before the checkpoint
// Medians of the rounds. MB = 10^6 bytes. Nothing asserts on a timing; a follower whose entry count
// differs from the leader's exits 1.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, DirectoryPageStore } from '../dist/index.js';
import { NatsPageStore } from '../dist/store-nats.js';
import { printTable } from './format.js';

/** A page store passing every call to `inner`, counting image bytes written and all bytes read. */
class CountingStore {
  constructor(inner) {
    this.inner = inner;
    this.written = 0;
    this.readBytes = 0;
  }

  async read(name) {
    const b = await this.inner.read(name);
    if (b) this.readBytes += b.length;
    return b;
  }

  write(name, data) {
    if (name.startsWith('ckpt-')) this.written += data.length;
    return this.inner.write(name, data);
  }

  publish(name, data) { return this.inner.publish(name, data); }

  remove(name) { return this.inner.remove(name); }

  list(prefix) { return this.inner.list(prefix); }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MB = 1e6;

/** One size on one home (`store()` opens a fresh store of it): the row's cells. */
async function imageRun(store, mib, value, rounds) {
  const entries = Math.floor((mib * 1024 * 1024) / (value + 8));
  const cacheSize = `${Math.max(256, mib * 4)}MB`;
  const leaderStore = new CountingStore(await store());
  const leader = await open({ home: leaderStore, log: false, cacheSize });
  const opened = [leader];
  const stores = [leaderStore];
  try {
    const s = leader.openSession();
    s.create('table:img', { keyFormat: 'u', valueFormat: 'u' });
    const c = s.openCursor('table:img');
    const key = new Uint8Array(8);
    const view = new DataView(key.buffer);
    const v = new Uint8Array(value);
    for (let i = 0; i < entries; i++) {
      view.setUint32(4, i);
      for (let j = 0; j < 16; j++) v[j] = (i * 31 + j) & 0xff; // differs per entry
      c.put(key, v);
    }
    await s.checkpoint(); // the first image: not timed
    const followerStore = new CountingStore(await store());
    stores.push(followerStore);
    const follower = await open({ home: followerStore, role: 'follower', log: false, cacheSize });
    opened.push(follower);
    const ck = [];
    const op = [];
    const rf = [];
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      view.setUint32(4, r);
      c.put(key, v.map((b) => b ^ 0xff));
      const w0 = leaderStore.written;
      let t = performance.now();
      await s.checkpoint();
      ck.push({ ms: performance.now() - t, bytes: leaderStore.written - w0 });
      bytes = leaderStore.written - w0;
      const fresh = new CountingStore(await store());
      stores.push(fresh);
      t = performance.now();
      const f = await open({ home: fresh, role: 'follower', log: false, cacheSize });
      op.push({ ms: performance.now() - t, bytes: fresh.readBytes });
      opened.push(f);
      const got = f.openSession().stats('table:img').entries;
      if (got !== entries) throw new Error(`nats.js image: a follower opened ${got} entries, the leader has ${entries}`);
      await f.close();
      opened.pop();
      const r0 = followerStore.readBytes;
      t = performance.now();
      await follower.reconfigure({ checkpoint: 'latest' });
      rf.push({ ms: performance.now() - t, bytes: followerStore.readBytes - r0 });
    }
    const cell = (xs) => `${median(xs.map((x) => x.ms)).toFixed(0)} ms, ${median(xs.map((x) => x.bytes / MB / (x.ms / 1000))).toFixed(0)} MB/s`;
    return [`${mib} MiB`, `${(bytes / MB).toFixed(1)} MB`, cell(ck), cell(op), cell(rf)];
  } finally {
    for (const conn of opened) await conn.close().catch(() => {});
    for (const st of stores) await st.inner.close?.();
  }
}

/** --case image: one row per home and size. */
export async function imageCase({ startNats, sizes, value, rounds }) {
  console.log(`checkpoint images on each home: databases of ${sizes.join(', ')} MiB of entries (8-byte keys, ${value}-byte values), log off; medians of ${rounds} rounds (MB = 10^6 bytes)`);
  const rows = [];
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-image-'));
  try {
    for (const mib of sizes) {
      const path = join(dir, `d${mib}`);
      rows.push(['directory (fsync)', ...(await imageRun(() => DirectoryPageStore.open(path, true), mib, value, rounds))]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Fresh servers per size, each node with 4 GB of file store (test/servers.ts's default 1 GB
  // refused the third 256 MiB image: 'insufficient resources'; a home holds up to three images at
  // once, the two newest kept and the next one uploading, and removed ones' space is freed late).
  for (const [nodes, label, replicas] of [[1, 'NATS, 1 node', 1], [3, 'NATS, 3 nodes, R3', 3]]) {
    for (const mib of sizes) {
      const nats = await startNats({ nodes, maxFileStore: '4GB' });
      try {
        const o = { servers: nats.nodes.map((n) => `127.0.0.1:${n.port}`), name: `image-${process.pid}-${mib}`, replicas };
        rows.push([label, ...(await imageRun(() => NatsPageStore.open(o), mib, value, rounds))]);
      } finally {
        await nats.stop();
      }
    }
  }
  printTable(['home', 'database', 'image', 'checkpoint (upload)', 'follower open (download)', 'follower refresh (download)'], rows);
}
