// Compiled by test/types.test.ts with `tsc --noEmit` (never run): a cursor's key and value types
// follow its table's formats. Every `@ts-expect-error` line must be an error, or tsc fails.
// Imports the package by its name (its package.json exports and types), as a user would.
import { open, MemoryPageStore, type Cursor, type Format, type FormatType, type Key, type Table, type Value } from 'latchkey';
import { INJECTION_POINTS, type InjectionPoint, type InjectionPointName } from 'latchkey/testing';
// @ts-expect-error the test hooks are latchkey/testing's, not the main entry's
import { InjectionPoint as NotInMainEntry } from 'latchkey';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | undefined { return undefined; }

export async function formats(): Promise<void> {
  const conn = await open();
  const s = conn.openSession();

  // 'S' / 'S': strings both ways, no generics written.
  const users = s.create('table:users', { keyFormat: 'S', valueFormat: 'S' });
  assertType<Equal<typeof users, Table<'S', 'S'>>>();
  const c = s.openCursor(users);
  assertType<Equal<typeof c, Cursor<string, string>>>();
  c.put('alice', 'admin');
  const v: string | undefined = c.get('alice');
  for (const [k, val] of c.range({ gte: 'a' })) { const both: string = k + val; void both; }
  // @ts-expect-error a Uint8Array key on a string table
  c.put(new Uint8Array(1), 'x');
  // @ts-expect-error a Uint8Array value on a string table
  c.put('k', new Uint8Array(1));
  // @ts-expect-error get returns a string, not bytes
  const wrong: Uint8Array | undefined = c.get('alice');
  // @ts-expect-error a range bound of the wrong type
  c.range({ gt: new Uint8Array(1) });
  // The batch calls follow the formats too; batches() are bytes in every format.
  const many: (string | undefined)[] = c.getMany(['alice', 'bob']);
  c.putMany([['a', '1'], ['b', '2']]);
  c.putMany(new Map([['c', '3']]));
  const gone: number = c.removeMany(new Set(['a']));
  for (const batch of c.batches({ gte: 'a', limit: 10 })) { const cols: [Uint8Array, Uint32Array] = [batch.keys, batch.valueEnds]; void cols; }
  // @ts-expect-error a Uint8Array key in a batch on a string table
  c.getMany([new Uint8Array(1)]);
  // @ts-expect-error a Uint8Array value in a batch on a string table
  c.putMany([['k', new Uint8Array(1)]]);
  void many; void gone;

  // The defaults are 'u' / 'u': bytes both ways.
  const blobs = s.create('table:blobs');
  const b = s.openCursor(blobs);
  assertType<Equal<typeof b, Cursor<Uint8Array, Uint8Array>>>();
  b.put(new Uint8Array(1), new Uint8Array(2));
  // @ts-expect-error a string key on a bytes table
  b.put('k', new Uint8Array(1));

  // Mixed formats.
  const idx = s.create('table:idx', { keyFormat: 'S' });
  const i = s.openCursor(idx);
  assertType<Equal<typeof i, Cursor<string, Uint8Array>>>();
  const bytes: Uint8Array | undefined = i.get('k');
  // @ts-expect-error a string value on a 'u' value format
  i.insert('k', 'v');

  // 'q' / 'q': numbers both ways (integers; the range and the fraction are checked at run time).
  const counts = s.create('table:counts', { keyFormat: 'q', valueFormat: 'q' });
  const n = s.openCursor(counts);
  assertType<Equal<typeof n, Cursor<number, number>>>();
  n.put(1, 2);
  const total: number | undefined = n.get(1);
  const ns: (number | undefined)[] = n.getMany([1, 2]);
  n.putMany([[3, 4]]);
  for (const [k, val] of n.range({ gte: -5, lt: 10 })) { const sum: number = k + val; void sum; }
  // @ts-expect-error a string key on an integer table
  n.put('1', 2);
  // @ts-expect-error a Uint8Array value on an integer table
  n.put(1, new Uint8Array(1));
  // @ts-expect-error a bigint is not a 'q' key
  n.get(1n);
  assertType<Equal<FormatType<'q'>, number>>();
  void total; void ns;

  // A table token is still its uri: every uri-taking method takes it, and it is a string.
  s.verify(users);
  s.stats(users);
  const uri: string = users;
  // @ts-expect-error a 'u' table's token is not an 'S' table's
  const asStrings: Table<'S', 'S'> = blobs;
  // @ts-expect-error formats are 'u', 'S' or 'q'
  s.create('table:bad', { keyFormat: 'x' });

  // A plain uri string keeps working: written generics, or the Key / Value union.
  const plain = s.openCursor('table:users');
  assertType<Equal<typeof plain, Cursor<Key, Value>>>();
  const written = s.openCursor<string, string>('table:users');
  assertType<Equal<typeof written, Cursor<string, string>>>();

  // Format values that are only known at run time give the union types.
  const f = (Math.random() < 0.5 ? 'u' : Math.random() < 0.5 ? 'S' : 'q') as Format;
  const dyn = s.openCursor(s.create('table:dyn', { keyFormat: f, valueFormat: f }));
  assertType<Equal<typeof dyn, Cursor<Key, Value>>>();
  assertType<Equal<FormatType<'S'>, string>>();
  assertType<Equal<FormatType<'u'>, Uint8Array>>();
  // @ts-expect-error assertType itself rejects what is not true
  assertType<Equal<FormatType<'u'>, string>>();

  // The test hooks: conn.inject gives latchkey/testing's InjectionPoint.
  const point: InjectionPoint = conn.inject(INJECTION_POINTS[0]);
  const pointName: InjectionPointName = point.name;

  void v; void wrong; void bytes; void uri; void asStrings; void pointName;
  await conn.close();
}

// home is a directory path or a PageStore, nothing else.
export async function homes(): Promise<void> {
  await (await open({ home: new MemoryPageStore() })).close();
  await (await open({ home: '/data/db' })).close();
  // @ts-expect-error an object without the PageStore methods
  await open({ home: {} });
  // @ts-expect-error not a path or a store
  await open({ home: 42 });
}
