// The log writer's reused segment buffers (bindings/log.ts, LogWriter.segment and spare): the
// writer drains records into a buffer with room for the segment's header in front and publishes
// it as it is; a round whose publish resolved keeps its buffer for a later round (fresh memory
// costs a put more than the copy: bench/log-parts.js). A store may still be reading a blob's
// bytes after its publish rejected (a call that timed out but runs on), so after a failed publish
// the writer drops that buffer. Segments here hold several drains each.
//
// Shown to fail without the drop: with `this.spare = buffer` added to the failed publish's
// `catch` (the buffer kept after a failure too), the test fails with "AssertionError: expected
// the refused segment's bytes unchanged: expected false to be true" (a later round's segment was
// drained into the bytes the failed call still held).
import { describe, expect, it } from 'vitest';
import { MemoryPageStore, type Connection } from '../dist/index.js';
import { openTest } from './helpers.js';

/** A MemoryPageStore whose next segment publish fails (EIO) while keeping a reference to its bytes, as a call still running would. */
class FailingStore extends MemoryPageStore {
  failNext = false;
  held: { view: Uint8Array; copy: Uint8Array } | undefined;
  async publish(name: string, data: Uint8Array): Promise<boolean> {
    if (this.failNext && name.startsWith('wal-')) {
      this.failNext = false;
      this.held = { view: data, copy: data.slice() };
      throw new Error('EIO: the store timed out (its call goes on)');
    }
    return super.publish(name, data);
  }
}

const drain = (c: Connection) => (c as unknown as { log: { drain(): void } }).log.drain();
const entries = (c: Connection) => [...c.openSession().openCursor<string, string>('table:t').range()];

describe('the log writer reuses its segment buffer', () => {
  it('segments of several chunks replay to the leader\'s state, and a failed publish\'s bytes are never written again', async () => {
    const store = new FailingStore();
    const c = await openTest({ home: store });
    try {
      const s = c.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const cur = s.openCursor('table:t');
      let n = 0;
      /** `count` puts in two drained chunks, then a flush: one segment of (at least) two chunks. */
      const round = async (count: number) => {
        for (let i = 0; i < count / 2; i++, n++) cur.put(`k${n}`, `v${n}`);
        drain(c);
        for (let i = 0; i < count / 2; i++, n++) cur.put(`k${n}`, `v${n}`);
        await c.flush();
      };
      await round(2000); // its segment's copy makes the buffer
      await round(200); // into the same buffer: it fits
      store.failNext = true;
      await expect(round(100)).rejects.toThrow(/EIO/);
      expect(store.held).toBeDefined();
      await round(100); // the retry: the refused records and these, a segment that would fit the buffer
      await round(100);
      const { view, copy } = store.held!;
      expect(view.every((b, i) => b === copy[i]), "expected the refused segment's bytes unchanged").toBe(true);
      const f = await openTest({ home: store, role: 'follower' });
      try {
        expect(entries(f)).toEqual(entries(c));
        expect(entries(f).length).toBe(n);
      } finally {
        await f.close();
      }
    } finally {
      await c.close();
    }
  });
});
