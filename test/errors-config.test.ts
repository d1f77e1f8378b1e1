// Bad input, configuration: what open() refuses, in the object and the string form, and that the
// same settings are accepted when valid.
//
// Every refusal is a LatchkeyError with a stable code and a message naming what was wrong and
// what is accepted, and a refused call leaves the tree exactly as it was (same full scan, same
// page counts, verify passes; test/bad-input-fixture.ts).
import { describe, it, expect } from 'vitest';
import { open } from '../dist/index.js';
import { MIN_CACHE_SIZE } from '../dist/config.js';
import { TU, bytes, any, expectRejection } from './bad-input-fixture.js';

describe('bad configuration to open()', () => {
  const cases: [string, unknown, (string | RegExp)[]][] = [
    ['pageSize 3000', { pageSize: 3000 }, ['pageSize 3000 is not a power of two', 'accepted: a power of two from 4096 to 32768']],
    ['pageSize 2048', { pageSize: 2048 }, ['pageSize 2048 is out of range', 'from 4096 to 32768']],
    ["cacheSize 'lots'", { cacheSize: 'lots' }, ['cacheSize "lots" is not a size', 'accepted:', 'e.g. "512MB"']],
    ['cacheSize below the minimum', { cacheSize: MIN_CACHE_SIZE - 1 }, [`cacheSize ${MIN_CACHE_SIZE - 1} is below the minimum of 16MiB`]],
    ['unknown key', { pages: 4 }, ['unknown key "pages"', 'accepted: the keys home, create, cacheSize, pageSize, role, refreshInterval, debug']],
    ['misspelled key', { page_size: 4096 }, ['unknown key "page_size"', 'did you mean pageSize?']],
    ["role 'boss'", { role: 'boss' }, ['role "boss" is not a role', 'accepted: leader or follower']],
    ['debug as a string', { debug: 'yes' }, ['debug "yes" is not a boolean', 'true or false']],
    ['not an object', 42, ['config 42 is not an object or a string']],
    ['string: page_size=3000', 'page_size=3000', ['page_size 3000 is not a power of two', 'from 4096 to 32768']],
    ['string: cache_size=lots', 'cache_size=lots', ['cache_size "lots" is not a size']],
    ['string: unknown key', 'page_size=4096,pages=4', ['unknown key "pages"', 'page_size']],
    ['string: role=boss', 'disaggregated=(role=boss)', ['disaggregated.role "boss" is not a role', 'leader or follower']],
    ['string: camelCase key', 'cacheSize=32MB', ['unknown key "cacheSize"', 'did you mean cache_size?']],
    ['string: syntax', 'page_size=(4096', ['config string: at position', "')'"]],
  ];
  for (const [name, config, fragments] of cases) {
    it(`${name} -> EINVAL`, async () => {
      await expectRejection(open(any(config)), 'EINVAL', ...fragments);
    });
  }

  it('a refresh interval that is not a whole number of milliseconds -> EINVAL', async () => {
    await expectRejection(open({ refreshInterval: -1 }), 'EINVAL', 'refreshInterval -1 is not a refresh interval', 'from 0 (off)');
    await expectRejection(open('disaggregated=(refresh_interval=1.5)'), 'EINVAL', 'disaggregated.refresh_interval');
  });

  it('the same settings are accepted when valid, in both forms', async () => {
    for (const config of [{ pageSize: 4096, cacheSize: MIN_CACHE_SIZE, role: 'leader' as const }, `page_size=4096,cache_size=${MIN_CACHE_SIZE},disaggregated=(role=leader)`]) {
      const c = await open(config);
      const ss = c.openSession();
      ss.create(TU);
      ss.openCursor(TU).put(bytes(1), bytes(1));
      expect(ss.stats(TU).pageSize).toBe(4096);
      await c.close();
    }
  });
});
