// Bad input, use after close: a closed cursor, session or connection refuses every call with
// ECLOSED naming it, and the others go on.
//
// Every refusal is a LatchkeyError with a stable code and a message naming what was wrong and
// what is accepted, and a refused call leaves the tree exactly as it was (same full scan, same
// page counts, verify passes; test/bad-input-fixture.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { type Cursor } from '../dist/index.js';
import {
  TU, TS, bytes, expectError, snapshot, expectUnchanged, conn, s, cu, cs, setup, refused,
} from './bad-input-fixture.js';

describe('use after close', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  function allCursorCalls(c: Cursor<Uint8Array, Uint8Array>): [string, () => unknown][] {
    const k = bytes(3);
    return [
      ['get', () => c.get(k)],
      ['put', () => c.put(k, k)],
      ['insert', () => c.insert(k, k)],
      ['remove', () => c.remove(k)],
      ['seek', () => c.seek(k)],
      ['next', () => c.next()],
      ['prev', () => c.prev()],
      ['range', () => c.range().next()],
    ];
  }

  it('cursor.close() then any cursor call -> ECLOSED naming the cursor; other cursors are unaffected', () => {
    expect(cu.seek(bytes(1, 0x30))).toBe(true);
    cu.close();
    expect(cu.key).toBeUndefined();
    for (const [name, fn] of allCursorCalls(cu)) {
      const e = refused(fn, 'ECLOSED', `cursor on ${TU} is closed`);
      expect(e.message, name).toBeTruthy();
    }
    cu.close(); // a second close is a no-op
    const other = s.openCursor<Uint8Array, Uint8Array>(TU);
    other.put(bytes(3), bytes(1, 7));
    expect(other.get(bytes(3))).toEqual(bytes(1, 7));
  });

  it('session.close() closes its cursors and refuses its own calls; other sessions go on', () => {
    const s2 = conn.openSession();
    const c2 = s2.openCursor<Uint8Array, Uint8Array>(TU);
    const before = snapshot(s2, TU);
    s.close();
    for (const [, fn] of allCursorCalls(cu)) expectError(fn, 'ECLOSED', 'closed');
    expectError(() => cs.get('x'), 'ECLOSED', 'closed');
    expectError(() => s.openCursor(TU), 'ECLOSED', 'session is closed');
    expectError(() => s.create('table:new'), 'ECLOSED', 'session is closed');
    expectError(() => s.verify(TU), 'ECLOSED', 'session is closed');
    expectError(() => s.stats(TU), 'ECLOSED', 'session is closed');
    s.close(); // no-op
    expectUnchanged(s2, TU, before, 'after session close');
    expect(c2.get(bytes(3))).toBeUndefined();
    c2.put(bytes(3), bytes(2));
    expect(c2.get(bytes(3))).toEqual(bytes(2));
    // The refused create did not create the table.
    expectError(() => s2.openCursor('table:new'), 'ENOENT', 'table:new');
  });

  it('conn.close() refuses sessions, cursors and the connection itself', async () => {
    const s2 = conn.openSession();
    const c2 = s2.openCursor(TS);
    await conn.close();
    for (const ss of [s, s2]) {
      expectError(() => ss.openCursor(TU), 'ECLOSED');
      expectError(() => ss.create('table:x'), 'ECLOSED');
      expectError(() => ss.verify(TU), 'ECLOSED');
      expectError(() => ss.stats(TU), 'ECLOSED');
    }
    for (const [, fn] of allCursorCalls(cu)) expectError(fn, 'ECLOSED');
    expectError(() => c2.get('a'), 'ECLOSED');
    expectError(() => conn.openSession(), 'ECLOSED', 'connection is closed');
    expectError(() => conn.share(), 'ECLOSED', 'connection is closed');
    await conn.close(); // no-op
  });
});
