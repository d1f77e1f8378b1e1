/**
 * The PageStore contract (bindings/store.ts), written once for every store: call it inside a
 * describe with a factory for fresh, empty stores. test/store.test.ts holds the memory and
 * directory stores to it, test/nats.test.ts the NATS store (against a real server).
 */
import { it, expect } from 'vitest';
import type { PageStore } from '../dist/index.js';

export interface ContractOptions {
  /** A fresh, empty store; `done` is called when the test is over (close it, remove it). */
  make(): Promise<{ store: PageStore; done(): Promise<void> }>;
  /** Does the store refuse names outside `[A-Za-z0-9][A-Za-z0-9._-]*` (EINVAL)? */
  refusesBadNames: boolean;
  /** The size of a large blob to round-trip (default 3 MiB: a checkpoint image's order). */
  largeBytes?: number;
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** `got` holds exactly `want`'s bytes (compared natively: a deep equality of MiBs is slow). */
function same(got: Uint8Array | undefined, want: Uint8Array, what = ''): void {
  expect(got, what).toBeInstanceOf(Uint8Array);
  expect(got!.length, what).toBe(want.length);
  expect(Buffer.compare(got!, want), what).toBe(0);
}

export function pageStoreContract(o: ContractOptions): void {
  const withStore = (fn: (s: PageStore) => Promise<void>) => async () => {
    const { store, done } = await o.make();
    try {
      await fn(store);
    } finally {
      await done();
    }
  };

  it('read of an absent name is undefined; write then read gives the bytes back, small, empty and large; write replaces', withStore(async (s) => {
    expect(await s.read('absent')).toBeUndefined();
    await s.write('small-1', bytes(100, 1));
    same(await s.read('small-1'), bytes(100, 1));
    await s.write('empty-1', new Uint8Array(0));
    same(await s.read('empty-1'), new Uint8Array(0));
    const large = o.largeBytes ?? 3 << 20;
    await s.write('ckpt-0000000001-t1-0', bytes(large, 2));
    same(await s.read('ckpt-0000000001-t1-0'), bytes(large, 2));
    // Replaced: large by small, small by large.
    await s.write('ckpt-0000000001-t1-0', bytes(10, 3));
    same(await s.read('ckpt-0000000001-t1-0'), bytes(10, 3));
    await s.write('small-1', bytes(large, 4));
    same(await s.read('small-1'), bytes(large, 4));
    expect(await s.list()).toEqual(['ckpt-0000000001-t1-0', 'empty-1', 'small-1']);
  }));

  it('publish creates an absent name (true) and refuses an existing one (false), leaving it as it was', withStore(async (s) => {
    expect(await s.publish('log-0000000001', bytes(40, 1))).toBe(true);
    expect(await s.publish('log-0000000001', bytes(40, 2))).toBe(false);
    same(await s.read('log-0000000001'), bytes(40, 1));
    const large = o.largeBytes ?? 3 << 20;
    expect(await s.publish('ckpt-0000000002-t1-0', bytes(large, 3))).toBe(true);
    expect(await s.publish('ckpt-0000000002-t1-0', bytes(large, 4))).toBe(false);
    same(await s.read('ckpt-0000000002-t1-0'), bytes(large, 3));
    await s.write('w-1', bytes(5, 5));
    expect(await s.publish('w-1', bytes(5, 6))).toBe(false);
    same(await s.read('w-1'), bytes(5, 5));
  }));

  // A publish whose answer was lost after it landed is retried with the same bytes by its writer
  // (the log's unsettled segment, settle()'s checkpoint record): it must not read as a lost race
  // (bindings/store.ts, SAME_BYTES). Bytes that differ anywhere, or in length, still lose.
  it('publish of a name that holds exactly the same bytes is true, and changes nothing', withStore(async (s) => {
    const large = o.largeBytes ?? 3 << 20;
    for (const [name, data] of [['log-0000000003', bytes(40, 7)], ['ckpt-0000000004-t1-0', bytes(large, 8)], ['e-1', new Uint8Array(0)]] as const) {
      expect(await s.publish(name, data)).toBe(true);
      expect(await s.publish(name, data.slice())).toBe(true);
      same(await s.read(name), data);
      if (data.length === 0) continue;
      const flipped = data.slice();
      flipped[data.length - 1] ^= 1;
      expect(await s.publish(name, flipped)).toBe(false);
      expect(await s.publish(name, data.subarray(0, data.length - 1))).toBe(false);
      same(await s.read(name), data);
    }
  }));

  it('20 racing publishes of one name: exactly one wins, and the name holds its bytes', withStore(async (s) => {
    for (const name of ['wal-0000000000004096', 'log-0000000007']) {
      const won = await Promise.all(Array.from({ length: 20 }, (_, i) => s.publish(name, bytes(64, i))));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await s.read(name)).toEqual(bytes(64, won.indexOf(true)));
    }
  }));

  it('remove makes a name absent (and may be published again); removing an absent name is no error', withStore(async (s) => {
    await s.write('a-1', bytes(10, 1));
    await s.write('big-1', bytes(o.largeBytes ?? 3 << 20, 1));
    await s.remove('a-1');
    await s.remove('big-1');
    await s.remove('never-1');
    expect(await s.read('a-1')).toBeUndefined();
    expect(await s.read('big-1')).toBeUndefined();
    expect(await s.list()).toEqual([]);
    expect(await s.publish('a-1', bytes(3, 9))).toBe(true);
    same(await s.read('a-1'), bytes(3, 9));
  }));

  it('list(prefix) gives exactly the names starting with prefix, sorted as strings', withStore(async (s) => {
    const names = [
      'wal-0000000000000042', 'wal-0000000000000007', 'log-0000000010', 'log-0000000002', 'ckpt-0000000002-t1-0',
      'ckpt-0000000002-t1-1', 'logx', 'log', 'a.b-c.d', 'a_b-', 'a-', 'a--b', 'Z-9', 'wal-', 'walrus-1',
    ];
    for (const n of names) await s.write(n, bytes(4, n.length));
    const sorted = [...names].sort();
    expect(await s.list()).toEqual(sorted);
    expect(await s.list('')).toEqual(sorted);
    for (const p of ['wal-', 'log-', 'ckpt-0000000002-', 'log', 'a', 'a-', 'a.b-c', 'w', 'none-', 'Z-9']) {
      expect(await s.list(p), p).toEqual(sorted.filter((n) => n.startsWith(p)));
    }
    for (const n of names) same(await s.read(n), bytes(4, n.length), n);
  }));

  if (o.refusesBadNames) {
    it('names outside letters, digits, ".", "_" and "-" are EINVAL', withStore(async (s) => {
      for (const bad of ['', '.hidden', '-x', 'a/b', 'a b', 'a*', 'a>', 'é']) {
        await expect(s.write(bad, bytes(1, 1)), bad).rejects.toMatchObject({ code: 'EINVAL' });
        await expect(s.publish(bad, bytes(1, 1)), bad).rejects.toMatchObject({ code: 'EINVAL' });
        await expect(s.read(bad), bad).rejects.toMatchObject({ code: 'EINVAL' });
      }
    }));
  }
}
