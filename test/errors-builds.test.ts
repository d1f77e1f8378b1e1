// Bad input, attach: debug and release builds cannot share a memory, and attach refuses things
// that are not connection handles.
//
// Every refusal is a LatchkeyError with a stable code and a message naming what was wrong and
// what is accepted, and a refused call leaves the tree exactly as it was (same full scan, same
// page counts, verify passes; test/bad-input-fixture.ts).
import { describe, it, expect } from 'vitest';
import { open, attach } from '../dist/index.js';
import { PAGE_SIZE, TU, bytes, any, expectRejection, snapshot, expectUnchanged } from './bad-input-fixture.js';

describe('debug and release builds cannot share a memory', () => {
  it('attach refuses a module of the other build with EINVAL naming the builds, and the owner goes on', async () => {
    const dbg = await open({ pageSize: PAGE_SIZE, cacheSize: '32MB', debug: true });
    const rel = await open({ pageSize: PAGE_SIZE, cacheSize: '32MB', debug: false });
    const ds = dbg.openSession();
    ds.create(TU);
    const dc = ds.openCursor<Uint8Array, Uint8Array>(TU);
    for (let i = 0; i < 50; i++) dc.put(bytes(1 + i, 0x41), bytes(i, i));
    const before = snapshot(ds, TU);
    const dh = dbg.share();
    const rh = rel.share();
    expect(dh.module).not.toBe(rh.module);
    expect(dbg.threadsAttached).toBe(1);

    // A release module over the debug build's memory, and the other way round.
    await expectRejection(attach({ ...dh, module: rh.module }), 'EINVAL', /laid out by core build \d+, this module is build \d+/,
      'debug and release builds cannot share a memory');
    await expectRejection(attach({ ...rh, module: dh.module }), 'EINVAL', 'build', 'debug and release builds cannot share a memory');

    // The refused attach took no thread slot and changed nothing.
    expect(dbg.threadsAttached).toBe(1);
    expect(rel.threadsAttached).toBe(1);
    expectUnchanged(ds, TU, before, 'after a refused attach');
    dc.put(bytes(200, 0x42), bytes(3));
    expect(dc.get(bytes(200, 0x42))).toEqual(bytes(3));

    // The matching build attaches and sees the same data.
    const same = await attach(dh);
    expect(dbg.threadsAttached).toBe(2);
    const c2 = same.openSession().openCursor<Uint8Array, Uint8Array>(TU);
    expect(c2.get(bytes(200, 0x42))).toEqual(bytes(3));
    await same.close();
    expect(dbg.threadsAttached).toBe(1);
    await dbg.close();
    await rel.close();
  });

  it('attach refuses things that are not connection handles with EINVAL', async () => {
    const conn1 = await open({ debug: true });
    const h = conn1.share();
    await expectRejection(attach(any({})), 'EINVAL', 'attach: not a connection handle', 'accepted: the object returned by conn.share()');
    await expectRejection(attach(any(null)), 'EINVAL', 'not a connection handle');
    await expectRejection(attach(any({ ...h, kind: 'other' })), 'EINVAL', 'not a connection handle');
    await expectRejection(attach(any({ ...h, module: {} })), 'EINVAL', 'not a connection handle');
    const blank = new WebAssembly.Memory({ initial: 16, maximum: 512, shared: true });
    await expectRejection(attach({ ...h, memory: blank }), 'EINVAL', 'no latchkey superblock', 'accepted: a handle from conn.share()');
    expect(conn1.threadsAttached).toBe(1);
    await conn1.close();
  });
});
