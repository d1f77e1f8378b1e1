// The bad-input suites' fixture (test/errors-*.test.ts, test/bad-input.test.ts): a debug connection
// with a populated bytes table and a populated strings table, and the checks that a refused call
// is a LatchkeyError with its code and fragments and left both tables exactly as they were.
import { expect } from 'vitest';
import { open, LatchkeyError, type Connection, type Cursor, type Session, type LatchkeyErrorCode } from '../dist/index.js';

export const PAGE_SIZE = 4096;
export const MAX_KEY = 1024;
/** A quarter page: the largest value for short keys. */
export const MAX_VALUE = PAGE_SIZE / 4;
/**
 * Largest key + value on 4096-byte pages (assembly/limits.ts leafItemMax): two maximal items and a
 * 1024-byte high key must fit in one page, so a 1024-byte key takes values up to 469 bytes.
 */
export const ITEM_MAX = 1493;
export const valueLimit = (klen: number) => Math.min(MAX_VALUE, ITEM_MAX - klen);
export const TU = 'table:bytes';
export const TS = 'table:strings';

export const utf8 = new TextEncoder();
export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);

/** Lets tests pass deliberately ill-typed input, as JavaScript callers can. */
export const any = (v: unknown) => v as never;

/** Runs fn, which must throw a LatchkeyError with `code` whose message contains every fragment. */
export function expectError(fn: () => unknown, code: LatchkeyErrorCode, ...fragments: (string | RegExp)[]): LatchkeyError {
  let caught: unknown;
  let returned: unknown;
  try {
    returned = fn();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) expect.fail(`expected ${code}, but the call returned ${String(returned)}`);
  expect(caught, String(caught)).toBeInstanceOf(LatchkeyError);
  const err = caught as LatchkeyError;
  expect(err.code, err.message).toBe(code);
  expect(err.name).toBe('LatchkeyError');
  expect(err.message.startsWith(code), err.message).toBe(false); // the code is err.code, not in the message
  for (const f of fragments) {
    if (typeof f === 'string') expect(err.message).toContain(f);
    else expect(err.message).toMatch(f);
  }
  return err;
}

export async function expectRejection(p: Promise<unknown>, code: LatchkeyErrorCode, ...fragments: (string | RegExp)[]): Promise<LatchkeyError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  return expectError(() => {
    if (caught !== undefined) throw caught;
    return 'a resolved promise';
  }, code, ...fragments);
}

// ---------------------------------------------------------------------------------------------
// Snapshots: a refused call must leave the table exactly as it was
// ---------------------------------------------------------------------------------------------

export interface Snapshot {
  scan: string[];
  reverse: string[];
  stats: { entries: number; depth: number; pages: number; splits: number; rootSplits: number };
}

export function show(k: unknown, v: unknown): string {
  const f = (x: unknown) => (x instanceof Uint8Array ? `u:${hex(x)}` : `S:${String(x)}`);
  return `${f(k)}=${f(v)}`;
}

export function snapshot(s: Session, uri: string): Snapshot {
  const c = s.openCursor(uri);
  try {
    const st = s.stats(uri);
    return {
      scan: [...c.range()].map(([k, v]) => show(k, v)),
      reverse: [...c.range({ reverse: true })].map(([k, v]) => show(k, v)),
      stats: { entries: st.entries, depth: st.depth, pages: st.pages, splits: st.splits, rootSplits: st.rootSplits },
    };
  } finally {
    c.close();
  }
}

export function expectUnchanged(s: Session, uri: string, before: Snapshot, what: string): void {
  expect(s.verify(uri).ok, `${what}: verify`).toBe(true);
  const after = snapshot(s, uri);
  expect(after.stats, `${what}: stats`).toEqual(before.stats);
  expect(after.scan, `${what}: forward scan`).toEqual(before.scan);
  expect(after.reverse, `${what}: reverse scan`).toEqual(before.reverse);
}

// ---------------------------------------------------------------------------------------------
// Fixture: a debug connection with a populated bytes table and a populated strings table
// ---------------------------------------------------------------------------------------------

/** Keys up to 700 bytes with values up to the limit for their key. */
export function populate(s: Session): void {
  s.create(TU, { keyFormat: 'u', valueFormat: 'u' });
  s.create(TS, { keyFormat: 'S', valueFormat: 'S' });
  const cu = s.openCursor<Uint8Array, Uint8Array>(TU);
  const cs = s.openCursor<string, string>(TS);
  for (let i = 0; i < 240; i++) {
    const klen = 1 + ((i * 131) % 700);
    const k = bytes(klen, 0x30 + (i % 40));
    k[klen - 1] = i & 0xff;
    cu.put(k, bytes((i * 37) % (valueLimit(klen) + 1), i & 0xff));
    cs.put(`${'\u00e9\u20ac\u{1f600}'.repeat(1 + (i % 50))}#${i}`, `v${i}:${'\u00ff'.repeat(i % 200)}`);
  }
  cu.close();
  cs.close();
}

export let conn: Connection;
export let s: Session;
export let cu: Cursor<Uint8Array, Uint8Array>;
export let cs: Cursor<string, string>;

export async function setup(debug = true): Promise<void> {
  conn = await open({ pageSize: PAGE_SIZE, cacheSize: '32MB', debug });
  s = conn.openSession();
  populate(s);
  cu = s.openCursor(TU);
  cs = s.openCursor(TS);
}

/** Expects fn to be refused with code and fragments, with both tables unchanged. */
export function refused(fn: () => unknown, code: LatchkeyErrorCode, ...fragments: (string | RegExp)[]): LatchkeyError {
  const bu = snapshot(s, TU);
  const bs = snapshot(s, TS);
  const err = expectError(fn, code, ...fragments);
  expectUnchanged(s, TU, bu, `after ${err.message}`);
  expectUnchanged(s, TS, bs, `after ${err.message}`);
  return err;
}

