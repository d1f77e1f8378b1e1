/**
 * session.tables(): the live table uris, sorted; dropped tables leave the list, a follower lists
 * the tables of the checkpoint it loaded (and a newer image's list replaces it).
 */
import { describe, it, expect } from 'vitest';
import { openTest } from './helpers.js';
import { LatchkeyError, MemoryPageStore } from '../dist/index.js';

describe('session.tables()', () => {
  it('lists created tables sorted, drops them, and names non-ASCII tables exactly', async () => {
    const conn = await openTest();
    try {
      const s = conn.openSession();
      expect(s.tables()).toEqual([]);
      s.create('table:zeta', { keyFormat: 'S', valueFormat: 'S' });
      s.create('table:alpha');
      s.create('table:\uFEFFbom-ünï');
      s.create('table:alpha'); // idempotent: still one entry
      expect(s.tables()).toEqual(['table:alpha', 'table:zeta', 'table:\uFEFFbom-ünï']);
      s.drop('table:zeta');
      expect(s.tables()).toEqual(['table:alpha', 'table:\uFEFFbom-ünï']);
      // Another session of the same connection sees the same catalog.
      expect(conn.openSession().tables()).toEqual(['table:alpha', 'table:\uFEFFbom-ünï']);
      s.close();
      expect(() => s.tables()).toThrow(LatchkeyError);
      expect(() => s.tables()).toThrow(expect.objectContaining({ code: 'ECLOSED', message: 'session is closed' }));
    } finally {
      await conn.close();
    }
  });

  it('a follower lists the tables of the checkpoint it loaded, then of a newer one', async () => {
    const store = new MemoryPageStore();
    const leader = await openTest({ home: store });
    const ls = leader.openSession();
    ls.create('table:a');
    ls.create('table:b', { keyFormat: 'S', valueFormat: 'u' });
    await ls.checkpoint();
    const follower = await openTest({ home: store, role: 'follower' });
    try {
      const fs = follower.openSession();
      expect(fs.tables()).toEqual(['table:a', 'table:b']);
      ls.drop('table:a');
      ls.create('table:c');
      await ls.checkpoint();
      expect(fs.tables()).toEqual(['table:a', 'table:b']);
      await follower.reconfigure({ checkpoint: 'latest' });
      expect(fs.tables()).toEqual(['table:b', 'table:c']);
    } finally {
      await follower.close();
      await leader.close();
    }
  });
});
