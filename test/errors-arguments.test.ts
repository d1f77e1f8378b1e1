// Bad input, arguments: unknown tables and malformed table names, create options, range options
// and seek modes.
//
// Every refusal is a LatchkeyError with a stable code and a message naming what was wrong and
// what is accepted, and a refused call leaves the tree exactly as it was (same full scan, same
// page counts, verify passes; test/bad-input-fixture.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import {
  TU, TS, bytes, any, expectError, snapshot, expectUnchanged, conn, s, cu, cs, setup, refused,
} from './bad-input-fixture.js';

describe('table names and formats', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it("an unknown table is ENOENT naming it; a name without 'table:' is EINVAL", () => {
    refused(() => s.openCursor('table:nope'), 'ENOENT', 'no table table:nope', "session.create('table:nope')");
    refused(() => s.verify('table:nope'), 'ENOENT', 'table:nope');
    refused(() => s.stats('table:nope'), 'ENOENT', 'table:nope');
    refused(() => s.openCursor('nope'), 'EINVAL', "table uri 'nope'", "accepted: a string 'table:<name>'");
    refused(() => s.openCursor('table:'), 'EINVAL', "table uri 'table:'", "'table:<name>'");
    refused(() => s.openCursor(any(42)), 'EINVAL', 'table uri number', "'table:<name>'");
    refused(() => s.create('nope'), 'EINVAL', "table uri 'nope'");
    refused(() => s.create(`table:${'n'.repeat(241)}`), 'EINVAL', 'table name of 241 bytes', 'names of 1 to 240 UTF-8 bytes');
    // The refused creates made nothing.
    expectError(() => s.openCursor('table:nope'), 'ENOENT');
  });

  it('create of an existing table with other formats is EINVAL; with the same formats a no-op', () => {
    refused(() => s.create(TU, { keyFormat: 'S', valueFormat: 'u' }), 'EINVAL', `table ${TU} exists with other formats`, 'accepted: the formats it was created with');
    refused(() => s.create(TU, { keyFormat: 'u', valueFormat: 'S' }), 'EINVAL', 'exists with other formats');
    refused(() => s.create(TS), 'EINVAL', 'exists with other formats'); // defaults are 'u'
    const before = snapshot(s, TU);
    s.create(TU, { keyFormat: 'u', valueFormat: 'u' });
    s.create(TU);
    expectUnchanged(s, TU, before, 'after an idempotent create');
  });

  it('bad create options are EINVAL', () => {
    refused(() => s.create('table:new', any({ keyFormat: 'x' })), 'EINVAL', "keyFormat 'x'", "'u' (bytes), 'S' (string) or 'q' (integer)");
    refused(() => s.create('table:new', any({ valueFormat: 's' })), 'EINVAL', "valueFormat 's'");
    refused(() => s.create('table:new', any({ keyformat: 'u' })), 'EINVAL', "unknown option 'keyformat'", 'keyFormat, valueFormat');
    refused(() => s.create('table:new', any(null)), 'EINVAL', 'create options must be an object');
    expectError(() => s.openCursor('table:new'), 'ENOENT');
  });
});

describe('range and seek options', () => {
  beforeEach(() => setup());
  afterEach(() => conn.close());

  it('conflicting bounds, unknown options, bad limits and non-boolean reverse are EINVAL', () => {
    const a = bytes(1, 0x31);
    const b = bytes(1, 0x39);
    const cases: [Record<string, unknown> | null, (string | RegExp)[]][] = [
      [{ gt: a, gte: a }, ['range: both gt and gte given', 'accepted: at most one of gt, gte']],
      [{ lt: b, lte: b }, ['both lt and lte given', 'at most one of lt, lte']],
      [{ start: a }, ["range: unknown option 'start'", 'gt, gte, lt, lte, reverse, limit']],
      [{ gt: a, Reverse: true }, ["unknown option 'Reverse'"]],
      [{ limit: -1 }, ['range: limit -1', 'accepted: a non-negative integer']],
      [{ limit: 1.5 }, ['limit 1.5', 'non-negative integer']],
      [{ limit: Number.NaN }, ['limit NaN']],
      [{ limit: '3' }, ['limit 3', 'non-negative integer']],
      [{ reverse: 'yes' }, ['range: reverse must be a boolean', 'accepted: true or false']],
      [{ reverse: 1 }, ['reverse must be a boolean']],
      [null, ['range options must be an object']],
    ];
    for (const [opts, fragments] of cases) {
      refused(() => cu.range(any(opts)).next(), 'EINVAL', ...fragments);
      refused(() => cs.range(any(opts === null ? null : { ...opts, ...(opts.gt ? { gt: 'a' } : {}), ...(opts.gte ? { gte: 'a' } : {}), ...(opts.lt ? { lt: 'z' } : {}), ...(opts.lte ? { lte: 'z' } : {}) })).next(), 'EINVAL', ...fragments);
    }
    // Valid edge values are accepted.
    expect([...cu.range({ limit: 0 })]).toEqual([]);
    expect([...cu.range({ limit: 2, reverse: false })].length).toBe(2);
    expect([...cu.range({ gt: b, lt: a })]).toEqual([]);
  });

  it("seek with a mode other than 'ge' or 'le' is EINVAL and keeps the cursor's position", () => {
    expect(cu.seek(bytes(1, 0x35))).toBe(true);
    const at = cu.key!;
    for (const how of ['xx', 'GE', 'gt', '', null, 1]) {
      refused(() => cu.seek(bytes(1, 0x30), any(how)), 'EINVAL', 'seek:', "accepted: 'ge' or 'le'");
      expect(cu.key).toEqual(at);
    }
    refused(() => cu.seek(new Uint8Array(0)), 'EKEYSIZE');
    expect(cu.key).toEqual(at);
    // The position still works: next moves to the key after it.
    const after = [...cu.range({ gt: at, limit: 1 })][0]![0];
    expect(cu.next()).toBe(true);
    expect(cu.key).toEqual(after);
  });
});
