import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_CACHE_SIZE,
  DEFAULT_PAGE_SIZE,
  MAX_CACHE_SIZE,
  MIN_CACHE_SIZE,
  parseConfig,
  parseConfigString,
  parseReconfigure,
  parseSize,
  type ConnectionConfig,
  type ResolvedConfig,
} from '../bindings/config.js';
import { LatchkeyError } from '../bindings/errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const DEFAULTS: ResolvedConfig = {
  home: undefined,
  create: true,
  cacheSize: 256 * MiB,
  pageSize: 8192,
  pageSizeGiven: false,
  role: 'leader',
  refreshInterval: 0,
  debug: false,
  takeover: false,
  log: true,
  flushInterval: 10,
  checkpointSize: 64 * 1024 * 1024,
  election: undefined,
  electionTtl: 10,
};

/** Runs `fn`, which must throw a LatchkeyError EINVAL whose message contains every fragment. */
function expectEinval(fn: () => unknown, ...fragments: string[]): LatchkeyError {
  let caught: unknown = undefined;
  let returned: unknown = undefined;
  try {
    returned = fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a throw, got ${JSON.stringify(returned)}`).toBeInstanceOf(LatchkeyError);
  const error = caught as LatchkeyError;
  expect(error.code).toBe('EINVAL');
  expect(error.message.startsWith('EINVAL')).toBe(false); // the code is err.code, not in the message
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}

/** Lets tests pass deliberately ill-typed input, as JavaScript callers can. */
function untyped(value: unknown): ConnectionConfig {
  return value as ConnectionConfig;
}

describe('defaults', () => {
  it('undefined, null, {}, empty and blank strings all give the defaults', () => {
    expect(parseConfig()).toStrictEqual(DEFAULTS);
    expect(parseConfig(undefined)).toStrictEqual(DEFAULTS);
    expect(parseConfig(null)).toStrictEqual(DEFAULTS);
    expect(parseConfig({})).toStrictEqual(DEFAULTS);
    expect(parseConfig('')).toStrictEqual(DEFAULTS);
    expect(parseConfig('  \t ')).toStrictEqual(DEFAULTS);
  });

  it('exported constants match the documented values', () => {
    expect(DEFAULT_CACHE_SIZE).toBe(256 * MiB);
    expect(MIN_CACHE_SIZE).toBe(16 * MiB);
    expect(MAX_CACHE_SIZE).toBe(4 * GiB - 64 * KiB);
    expect(DEFAULT_PAGE_SIZE).toBe(8192);
  });

  it('an explicit undefined value is the same as leaving the key out', () => {
    expect(parseConfig({ cacheSize: undefined, role: undefined })).toStrictEqual(DEFAULTS);
  });

  it('returns a fresh object each call', () => {
    const a = parseConfig();
    a.pageSize = 4096;
    expect(parseConfig().pageSize).toBe(8192);
  });
});

describe('object form: home', () => {
  it('accepts a directory string', () => {
    expect(parseConfig({ home: '/data/db' }).home).toBe('/data/db');
  });

  it('accepts an object with the PageStore methods, returned as the same object', () => {
    const store = { read() {}, write() {}, publish() {}, remove() {}, list() {} };
    expect(parseConfig({ home: store }).home).toBe(store);
  });

  it('refuses an object without the PageStore methods, naming them', () => {
    expectEinval(() => parseConfig({ home: {} }), 'home', 'without the PageStore methods read, write, publish, remove and list');
    expectEinval(() => parseConfig({ home: { read() {}, write() {} } }), 'PageStore methods');
  });

  it('refuses an empty string, null, numbers, booleans and functions', () => {
    expectEinval(() => parseConfig({ home: '' }), 'home', 'empty');
    expectEinval(() => parseConfig(untyped({ home: null })), 'home', 'null');
    expectEinval(() => parseConfig(untyped({ home: 42 })), 'home', '42');
    expectEinval(() => parseConfig(untyped({ home: true })), 'home');
    expectEinval(() => parseConfig(untyped({ home: () => 0 })), 'home', 'function');
  });
});

describe('object form: create, debug and takeover', () => {
  it('accept booleans', () => {
    expect(parseConfig({ create: false }).create).toBe(false);
    expect(parseConfig({ create: true }).create).toBe(true);
    expect(parseConfig({ debug: true }).debug).toBe(true);
    expect(parseConfig({ debug: false }).debug).toBe(false);
    expect(parseConfig({ takeover: true }).takeover).toBe(true);
    expect(parseConfig({ takeover: false }).takeover).toBe(false);
    expect(parseConfig({}).takeover).toBe(false);
  });

  it.each([['yes'], [1], [0], ['true'], [null]])('refuse %j', (bad) => {
    expectEinval(() => parseConfig(untyped({ create: bad })), 'create', 'not a boolean', 'true or false');
    expectEinval(() => parseConfig(untyped({ debug: bad })), 'debug', 'not a boolean');
    expectEinval(() => parseConfig(untyped({ takeover: bad })), 'takeover', 'not a boolean', 'true or false');
  });
});

describe('object form: cacheSize', () => {
  it('accepts byte counts and size strings', () => {
    expect(parseConfig({ cacheSize: 32 * MiB }).cacheSize).toBe(32 * MiB);
    expect(parseConfig({ cacheSize: '512MB' }).cacheSize).toBe(512 * MiB);
    expect(parseConfig({ cacheSize: '64MiB' }).cacheSize).toBe(64 * MiB);
    expect(parseConfig({ cacheSize: '1GB' }).cacheSize).toBe(GiB);
    expect(parseConfig({ cacheSize: String(20 * MiB) }).cacheSize).toBe(20 * MiB);
  });

  it('accepts exactly the minimum and exactly the maximum', () => {
    expect(parseConfig({ cacheSize: 16 * MiB }).cacheSize).toBe(16 * MiB);
    expect(parseConfig({ cacheSize: '16MB' }).cacheSize).toBe(16 * MiB);
    expect(parseConfig({ cacheSize: 4 * GiB - 64 * KiB }).cacheSize).toBe(4294901760);
  });

  it('refuses below the minimum, naming the minimum', () => {
    expectEinval(() => parseConfig({ cacheSize: 16 * MiB - 1 }), 'cacheSize', 'minimum', '16MiB', '16777216');
    expectEinval(() => parseConfig({ cacheSize: '4096' }), 'cacheSize', 'minimum', '16MiB');
    expectEinval(() => parseConfig({ cacheSize: 0 }), 'cacheSize', 'minimum');
  });

  it('refuses 4GB and above (wasm32)', () => {
    expectEinval(() => parseConfig({ cacheSize: '4GB' }), 'cacheSize', 'maximum', '4294901760');
    expectEinval(() => parseConfig({ cacheSize: 4 * GiB - 64 * KiB + 1 }), 'cacheSize', 'maximum');
    expectEinval(() => parseConfig({ cacheSize: '5G' }), 'cacheSize', 'maximum');
  });

  it('refuses malformed sizes and wrong types', () => {
    expectEinval(() => parseConfig({ cacheSize: -1 }), 'cacheSize', 'negative');
    expectEinval(() => parseConfig({ cacheSize: '-64MB' }), 'cacheSize', 'negative');
    expectEinval(() => parseConfig({ cacheSize: Number.NaN }), 'cacheSize', 'NaN');
    expectEinval(() => parseConfig({ cacheSize: '' }), 'cacheSize', 'empty');
    expectEinval(() => parseConfig({ cacheSize: '64XB' }), 'cacheSize', 'unknown unit', '"XB"');
    expectEinval(() => parseConfig({ cacheSize: 'lots' }), 'cacheSize');
    expectEinval(() => parseConfig({ cacheSize: 20 * MiB + 0.5 }), 'cacheSize', 'whole number');
    expectEinval(() => parseConfig(untyped({ cacheSize: true })), 'cacheSize', 'not a number or size string');
    expectEinval(() => parseConfig(untyped({ cacheSize: null })), 'cacheSize');
  });
});

describe('object form: pageSize', () => {
  it.each([4096, 8192, 16384, 32768])('accepts %i', (size) => {
    expect(parseConfig({ pageSize: size }).pageSize).toBe(size);
  });

  it('refuses a non-power of two with the documented message', () => {
    const error = expectEinval(() => parseConfig({ pageSize: 3000 }));
    expect(error.message).toBe('pageSize 3000 is not a power of two; accepted: a power of two from 4096 to 32768');
    expectEinval(() => parseConfig({ pageSize: 12288 }), 'pageSize', 'not a power of two');
  });

  it('refuses powers of two outside 4096..32768', () => {
    expectEinval(() => parseConfig({ pageSize: 2048 }), 'pageSize', 'out of range', '4096 to 32768');
    expectEinval(() => parseConfig({ pageSize: 65536 }), 'pageSize', 'out of range');
    expectEinval(() => parseConfig({ pageSize: 2 ** 40 }), 'pageSize', 'out of range');
  });

  it('refuses non-numbers, non-integers and non-positive values', () => {
    expectEinval(() => parseConfig(untyped({ pageSize: '8192' })), 'pageSize', '"8192"', 'not a number');
    expectEinval(() => parseConfig({ pageSize: 8192.5 }), 'pageSize', 'not an integer');
    expectEinval(() => parseConfig({ pageSize: Number.NaN }), 'pageSize');
    expectEinval(() => parseConfig({ pageSize: Number.POSITIVE_INFINITY }), 'pageSize');
    expectEinval(() => parseConfig({ pageSize: 0 }), 'pageSize');
    expectEinval(() => parseConfig({ pageSize: -8192 }), 'pageSize');
  });
});

describe('object form: role', () => {
  it('accepts leader and follower', () => {
    expect(parseConfig({ role: 'leader' }).role).toBe('leader');
    expect(parseConfig({ role: 'follower' }).role).toBe('follower');
  });

  it.each([['boss'], ['Leader'], [''], [1], [true]])('refuses %j', (bad) => {
    expectEinval(() => parseConfig(untyped({ role: bad })), 'role', 'leader or follower');
  });
});

describe('object form: unknown keys and bad input', () => {
  it('refuses unknown keys, naming the key and listing the accepted keys', () => {
    expectEinval(() => parseConfig(untyped({ cache: 1 })), '"cache"', 'home, create, cacheSize, pageSize, role, refreshInterval, debug, takeover');
  });

  it('refuses unknown keys even when their value is undefined', () => {
    expectEinval(() => parseConfig(untyped({ pagesize: undefined })), '"pagesize"');
  });

  it('suggests the camelCase key for a snake_case one', () => {
    expectEinval(() => parseConfig(untyped({ cache_size: '64MB' })), '"cache_size"', 'did you mean cacheSize?');
    expectEinval(() => parseConfig(untyped({ page_size: 4096 })), 'did you mean pageSize?');
  });

  it('refuses a nested disaggregated group in object form (role is a top-level key there)', () => {
    expectEinval(() => parseConfig(untyped({ disaggregated: { role: 'follower' } })), '"disaggregated"', 'role');
  });

  it('refuses non-object, non-string input', () => {
    expectEinval(() => parseConfig(untyped(5)), 'config', '5');
    expectEinval(() => parseConfig(untyped(true)), 'config');
    expectEinval(() => parseConfig(untyped([])), 'config', 'array');
    expectEinval(() => parseConfig(untyped(() => ({}))), 'config', 'function');
  });
});

describe('parseSize', () => {
  it.each<[number | string, number]>([
    [0, 0],
    [4096, 4096],
    ['4096', 4096],
    ['  4096  ', 4096],
    ['100B', 100],
    ['100b', 100],
    ['1K', KiB],
    ['1KB', KiB],
    ['1kib', KiB],
    ['2M', 2 * MiB],
    ['2mb', 2 * MiB],
    ['2MiB', 2 * MiB],
    ['3G', 3 * GiB],
    ['3gB', 3 * GiB],
    ['3GiB', 3 * GiB],
    ['512 MB', 512 * MiB],
    ['1.5KB', 1536],
    ['0.5GB', GiB / 2],
    ['1.1KB', 1126], // 1126.4 rounded down
  ])('%j -> %i', (input, bytes) => {
    expect(parseSize(input, 'size')).toBe(bytes);
  });

  it.each<[number | string, string]>([
    [-1, 'negative'],
    ['-1', 'negative'],
    ['-1KB', 'negative'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'not finite'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['12TB', 'unknown unit'],
    ['12kibs', 'unknown unit'],
    ['1e9', 'not a size'],
    ['MB', 'not a size'],
    ['1.5', 'whole number'],
    ['1.5B', 'whole number'],
    [1.5, 'whole number'],
    ['1,024', 'not a size'],
    ['0x100', 'not a size'],
    ['+5', 'not a size'],
    ['99999999999999999999G', 'too large'],
  ])('%j is refused (%s)', (input, why) => {
    expectEinval(() => parseSize(input, 'my_key'), 'my_key', why);
  });

  it('refuses a non-number, non-string at runtime', () => {
    expectEinval(() => parseSize({} as unknown as number, 'my_key'), 'my_key');
  });
});

describe('parseConfigString (the parser on its own)', () => {
  it('parses keys, bare keys, quoted strings and nested groups', () => {
    expect(parseConfigString('a=1, b , c="x,y" ,d=(e=2,f=(g=h)) ,i=()')).toEqual({
      a: '1',
      b: true,
      c: 'x,y',
      d: { e: '2', f: { g: 'h' } },
      i: {},
    });
  });

  it('resolves \\" and \\\\ in quoted strings and keeps other backslashes', () => {
    expect(parseConfigString('a="say \\"hi\\"",b="C:\\data",c="x\\\\"')).toEqual({
      a: 'say "hi"',
      b: 'C:\\data',
      c: 'x\\',
    });
  });

  it('keeps = ( ) and whitespace inside quotes', () => {
    expect(parseConfigString('a=" (k=v) "')).toEqual({ a: ' (k=v) ' });
  });

  it('treats __proto__ as a plain key', () => {
    const parsed = parseConfigString('__proto__=x');
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(parsed['__proto__']).toBe('x');
  });

  it.each<[string, number, string]>([
    ['=5', 0, 'expected a key'],
    ['a,,b', 2, 'expected a key'],
    [',a', 0, 'expected a key'],
    ['a,', 2, 'expected a key'],
    ['a==b', 2, "expected a value after '='"],
    ['a=', 2, "expected a value after '='"],
    ['a=,b', 2, "expected a value after '='"],
    ['a=b=c', 3, "expected ',' or the end of the string"],
    ['a b', 2, "expected ',' or the end of the string"],
    ['a=b)', 3, "expected ',' or the end of the string"],
    ['d=(a=1', 6, "to close the '(' at position 2"],
    ['d=(a=(b=1)', 10, "to close the '(' at position 2"],
    ['d=(a=1 b=2)', 7, "expected ',' or ')'"],
    ['a=(=1)', 3, 'expected a key'],
    ['"a"=1', 0, 'expected a key'],
    ['a="x', 2, 'unterminated quoted string'],
    ['a="x"y', 5, "expected ',' or the end of the string"],
    ['a=1,a=2', 4, 'duplicate key "a"'],
    ['d=(x=1,x=2)', 7, 'duplicate key "x"'],
  ])('%j fails at position %i: %s', (text, position, expected) => {
    expectEinval(() => parseConfigString(text), 'config string', `at position ${position}:`, expected);
    // The same error surfaces through parseConfig.
    expectEinval(() => parseConfig(text), `at position ${position}:`, expected);
  });

  it('refuses nesting beyond the depth limit instead of overflowing the stack', () => {
    const deep = 'a=('.repeat(10_000) + ')'.repeat(10_000);
    expectEinval(() => parseConfigString(deep), 'nested deeper');
    const ok = 'a=('.repeat(16) + ')'.repeat(16);
    expect(() => parseConfigString(ok)).not.toThrow();
  });
});

describe('string form', () => {
  it('parses the documented example', () => {
    expect(
      parseConfig('home=/data/db,create,cache_size=512MB,page_size=8192,disaggregated=(role=follower)'),
    ).toStrictEqual({
      home: '/data/db',
      create: true,
      cacheSize: 512 * MiB,
      pageSize: 8192,
      pageSizeGiven: true,
      role: 'follower',
      refreshInterval: 0,
      debug: false,
      takeover: false,
      log: true,
      flushInterval: 10,
      checkpointSize: 64 * MiB,
      election: undefined,
      electionTtl: 10,
    });
  });

  it('ignores whitespace around tokens', () => {
    expect(parseConfig('  home = /d ,\n cache_size = 64MB ,disaggregated = ( role = follower ) ')).toStrictEqual({
      ...DEFAULTS,
      home: '/d',
      cacheSize: 64 * MiB,
      role: 'follower',
    });
  });

  it('takes quoted values, which may hold commas, parentheses and spaces', () => {
    expect(parseConfig('home="/a,b"').home).toBe('/a,b');
    expect(parseConfig('home="/my data (old)"').home).toBe('/my data (old)');
    expect(parseConfig('cache_size="512 MB"').cacheSize).toBe(512 * MiB);
    expect(parseConfig('disaggregated=(role="follower")').role).toBe('follower');
  });

  it('reads booleans: bare key, true/false, 1/0', () => {
    expect(parseConfig('create').create).toBe(true);
    expect(parseConfig('create=true').create).toBe(true);
    expect(parseConfig('create=1').create).toBe(true);
    expect(parseConfig('create=false').create).toBe(false);
    expect(parseConfig('create=0').create).toBe(false);
    expect(parseConfig('debug').debug).toBe(true);
    expect(parseConfig('debug=0').debug).toBe(false);
    expect(parseConfig('debug=1').debug).toBe(true);
    expect(parseConfig('takeover=true').takeover).toBe(true);
    expect(parseConfig('takeover').takeover).toBe(true);
    expect(parseConfig('takeover=0').takeover).toBe(false);
  });

  it('refuses other boolean spellings, naming the snake_case key', () => {
    expectEinval(() => parseConfig('create=yes'), 'create "yes"', 'not a boolean', '1, 0');
    expectEinval(() => parseConfig('debug=TRUE'), 'debug "TRUE"');
    expectEinval(() => parseConfig('takeover=yes'), 'takeover "yes"', 'not a boolean');
    expectEinval(() => parseConfig('create=2'), 'create "2"');
  });

  it('an empty group leaves the role at its default', () => {
    expect(parseConfig('disaggregated=()').role).toBe('leader');
  });

  it('names keys as written in the string in validation errors', () => {
    expectEinval(() => parseConfig('cache_size=1MB'), 'cache_size "1MB"', 'minimum', '16MiB');
    expectEinval(() => parseConfig('cache_size=4GB'), 'cache_size', 'maximum');
    expectEinval(() => parseConfig('cache_size=12XB'), 'cache_size', 'unknown unit');
    const pageSize = expectEinval(() => parseConfig('page_size=3000'));
    expect(pageSize.message).toBe('page_size 3000 is not a power of two; accepted: a power of two from 4096 to 32768');
    expectEinval(() => parseConfig('page_size=8KB'), 'page_size "8KB"', 'not a number');
    expectEinval(() => parseConfig('page_size=8192.5'), 'page_size 8192.5', 'not an integer');
    expectEinval(() => parseConfig('page_size=-8192'), 'page_size -8192');
    expectEinval(() => parseConfig('disaggregated=(role=boss)'), 'disaggregated.role "boss"', 'leader or follower');
    expectEinval(() => parseConfig('home=""'), 'home', 'empty');
  });

  it('refuses a key that needs a value given bare', () => {
    expectEinval(() => parseConfig('home'), 'home needs a value');
    expectEinval(() => parseConfig('cache_size'), 'cache_size needs a value');
    expectEinval(() => parseConfig('page_size'), 'page_size needs a value');
    expectEinval(() => parseConfig('disaggregated=(role)'), 'disaggregated.role needs a value');
  });

  it('refuses a group where a value belongs and a value where a group belongs', () => {
    expectEinval(() => parseConfig('home=(a=b)'), 'home is a group');
    expectEinval(() => parseConfig('create=()'), 'create is a group');
    expectEinval(() => parseConfig('disaggregated=follower'), 'disaggregated "follower" is not a group', 'disaggregated=(role=...,refresh_interval=...,election=...,election_ttl=...)');
    expectEinval(() => parseConfig('disaggregated'), 'disaggregated needs a group');
  });

  it('refuses unknown top-level keys, listing the accepted ones', () => {
    expectEinval(
      () => parseConfig('create,statistics=(enabled)'),
      '"statistics"',
      'home, create, cache_size, page_size, debug, takeover, disaggregated=(role, refresh_interval, election, election_ttl), log=(enabled, flush_interval, checkpoint_size)',
    );
  });

  it('takes the log in both forms: off, on, and its flush interval (as a group in each)', () => {
    expect(parseConfig({ log: false })).toMatchObject({ log: false, flushInterval: 10 });
    expect(parseConfig({ log: { flushInterval: 25 } })).toMatchObject({ log: true, flushInterval: 25 });
    expect(parseConfig({ log: {} })).toMatchObject({ log: true, flushInterval: 10 });
    expect(parseConfig('log=(enabled=true,flush_interval=10)')).toMatchObject({ log: true, flushInterval: 10 });
    expect(parseConfig('log=(enabled=false)')).toMatchObject({ log: false });
    expect(parseConfig({ log: { checkpointSize: '1MB' } })).toMatchObject({ log: true, checkpointSize: 1 << 20 });
    expect(parseConfig('log=(checkpoint_size=256KB)')).toMatchObject({ checkpointSize: 256 << 10 });
    expectEinval(() => parseConfig({ log: { checkpointSize: 100 } }), 'log.checkpointSize 100 is below the minimum of 64KiB');
    expectEinval(() => parseConfig({ log: { flushInterval: 0 } }), 'log.flushInterval 0 is not a flush interval', 'milliseconds, an integer from 1 to 60000');
    expectEinval(() => parseConfig({ log: { flush_interval: 5 } } as never), '"log.flush_interval"', 'the keys flushInterval, checkpointSize', 'did you mean flushInterval?');
    expectEinval(() => parseConfig({ flushInterval: 5 } as never), '"flushInterval"');
    expectEinval(() => parseConfig({ log: 'yes' } as never), 'log "yes" is not a boolean', 'true, false, or an object { flushInterval, checkpointSize }');
  });

  it('suggests the string spelling for object-form keys', () => {
    expectEinval(() => parseConfig('cacheSize=64MB'), '"cacheSize"', 'did you mean cache_size?');
    expectEinval(() => parseConfig('role=follower'), '"role"', 'did you mean disaggregated=(role=...)?');
  });

  it('refuses unknown keys inside the disaggregated group', () => {
    expectEinval(() => parseConfig('disaggregated=(role=leader,page_log=x)'), '"disaggregated.page_log"', 'role', 'disaggregated=(...)');
    expectEinval(() => parseConfig('disaggregated=(role=(x=1))'), 'disaggregated.role is a group');
  });
});

describe('object and string forms agree', () => {
  it.each<[ConnectionConfig, string]>([
    [{}, ''],
    [{ home: '/data/db', create: true, cacheSize: '512MB', pageSize: 8192, role: 'follower' }, 'home=/data/db,create,cache_size=512MB,page_size=8192,disaggregated=(role=follower)'],
    [{ create: false, debug: true }, 'create=0,debug'],
    [{ home: '/data/db', takeover: true }, 'home=/data/db,takeover=true'],
    [{ cacheSize: 64 * MiB }, `cache_size=${64 * MiB}`],
    [{ home: '/a,b', pageSize: 32768, role: 'leader' }, 'home="/a,b",page_size=32768,disaggregated=(role=leader)'],
  ])('%j == %j', (object, text) => {
    expect(parseConfig(text)).toStrictEqual(parseConfig(object));
  });

  it('for random valid configurations', () => {
    const sizeString = fc
      .tuple(fc.integer({ min: 16, max: 4000 }), fc.constantFrom('MB', 'mb', 'M', 'MiB', 'mib'))
      .map(([n, unit]) => `${n}${unit}`);
    const configArb = fc.record(
      {
        home: fc.string({ minLength: 1, maxLength: 12 }),
        create: fc.boolean(),
        cacheSize: fc.oneof(fc.integer({ min: MIN_CACHE_SIZE, max: MAX_CACHE_SIZE }), sizeString),
        pageSize: fc.constantFrom(4096, 8192, 16384, 32768),
        role: fc.constantFrom<'leader' | 'follower'>('leader', 'follower'),
        debug: fc.boolean(),
        takeover: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(configArb, fc.boolean(), (config, bareBooleans) => {
        const parts: string[] = [];
        if (config.home !== undefined) parts.push(`home="${config.home.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
        for (const key of ['create', 'debug', 'takeover'] as const) {
          const v = config[key];
          if (v !== undefined) parts.push(v && bareBooleans ? key : `${key}=${bareBooleans ? Number(v) : v}`);
        }
        if (config.cacheSize !== undefined) parts.push(`cache_size=${config.cacheSize}`);
        if (config.pageSize !== undefined) parts.push(`page_size=${config.pageSize}`);
        if (config.role !== undefined) parts.push(`disaggregated=(role=${config.role})`);
        const text = parts.join(' , ');
        expect(parseConfig(text)).toStrictEqual(parseConfig(config));
      }),
      { numRuns: 300 },
    );
  });

  it.each<[ConnectionConfig, string, string, string]>([
    [untyped({ create: 'yes' }), 'create=yes', 'create', 'create'],
    [{ cacheSize: '1MB' }, 'cache_size=1MB', 'cacheSize', 'cache_size'],
    [{ pageSize: 3000 }, 'page_size=3000', 'pageSize', 'page_size'],
    [untyped({ role: 'boss' }), 'disaggregated=(role=boss)', 'role', 'disaggregated.role'],
  ])('refuse equivalent bad input in both forms, each naming its own key', (object, text, objectKey, stringKey) => {
    const a = expectEinval(() => parseConfig(object), objectKey);
    const b = expectEinval(() => parseConfig(text), stringKey);
    // Same validation path: up to the accepted list, the messages differ only in the key's spelling.
    const reason = (message: string) => message.split('; accepted:')[0];
    expect(reason(b.message.replace(stringKey, objectKey))).toBe(reason(a.message));
  });
});

describe('robustness', () => {
  it('arbitrary strings either parse or throw LatchkeyError EINVAL', () => {
    const alphabet = fc.constantFrom('a', 'b', '=', ',', '(', ')', '"', '\\', ' ', 'home', 'create', 'cache_size', 'disaggregated', 'role', '1', 'MB');
    const text = fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 30 }).map((parts) => parts.join('')));
    fc.assert(
      fc.property(text, (input) => {
        try {
          const config = parseConfig(input);
          expect(typeof config.cacheSize).toBe('number');
        } catch (e) {
          expect(e).toBeInstanceOf(LatchkeyError);
          expect((e as LatchkeyError).code).toBe('EINVAL');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseReconfigure', () => {
  it('accepts the object form, keeping only the keys given', () => {
    expect(parseReconfigure({})).toStrictEqual({});
    expect(parseReconfigure({ role: 'follower' })).toStrictEqual({ role: 'follower' });
    expect(parseReconfigure({ checkpoint: 'latest' })).toStrictEqual({ checkpoint: 'latest' });
    expect(parseReconfigure({ role: 'leader', checkpoint: 'latest' })).toStrictEqual({ role: 'leader', checkpoint: 'latest' });
  });

  it('accepts the string form with the same meaning', () => {
    expect(parseReconfigure('')).toStrictEqual({});
    expect(parseReconfigure('disaggregated=(role=follower)')).toStrictEqual({ role: 'follower' });
    expect(parseReconfigure('checkpoint=latest')).toStrictEqual({ checkpoint: 'latest' });
    expect(parseReconfigure('disaggregated=(role=leader),checkpoint=latest')).toStrictEqual(
      parseReconfigure({ role: 'leader', checkpoint: 'latest' }),
    );
  });

  it('null and undefined mean no change', () => {
    expect(parseReconfigure(null)).toStrictEqual({});
    expect(parseReconfigure(undefined)).toStrictEqual({});
  });

  it('refuses bad values, naming the key', () => {
    expectEinval(() => parseReconfigure(untyped({ role: 'boss' }) as never), 'role "boss"', 'leader or follower');
    expectEinval(() => parseReconfigure({ checkpoint: 'now' as 'latest' }), 'checkpoint "now"', 'latest');
    expectEinval(() => parseReconfigure('checkpoint=now'), 'checkpoint "now"', 'latest');
    expectEinval(() => parseReconfigure('checkpoint'), 'checkpoint needs a value');
    expectEinval(() => parseReconfigure('disaggregated=(role=boss)'), 'disaggregated.role "boss"');
  });

  it('refuses unknown keys, including connection-only keys and keys inside the group', () => {
    expectEinval(() => parseReconfigure(untyped({ cacheSize: 1 }) as never), '"cacheSize"', 'role, checkpoint');
    expectEinval(() => parseReconfigure('cache_size=64MB'), '"cache_size"', 'checkpoint, disaggregated=(role)');
    expectEinval(() => parseReconfigure('disaggregated=(x=1)'), '"disaggregated.x"', 'role');
  });

  it('refuses malformed strings and non-object input', () => {
    expectEinval(() => parseReconfigure('disaggregated=(role=follower'), 'at position', "')'");
    expectEinval(() => parseReconfigure(7 as never), 'reconfigure options', '7');
  });
});
