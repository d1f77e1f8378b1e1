/**
 * Connection configuration: one schema (CONFIG_KEYS), two forms.
 *
 *   - object form, the public TypeScript contract (`ConnectionConfig`), with camelCase keys;
 *   - string form, in the style of WiredTiger's `wiredtiger_open` configuration strings, with
 *     snake_case keys, e.g. `home=/data/db,create,cache_size=512MB,disaggregated=(role=follower)`.
 *
 * Each key is declared once in CONFIG_KEYS: its name in both forms, its type, default, accepted
 * values and doc line (WiredTiger's dist/api_data.py in spirit). Both forms become the same
 * `Setting`s (the value as given, the key as the user spelled it, for messages); a string is
 * tokenized and parsed into a nested `ConfigGroup` first, and only the conversions its syntax
 * forces are made (`1`/`0`/bare key to booleans, digit strings to numbers). One validation path,
 * driven by the schema, serves both; test/api-docs.test.ts checks docs/API.md's table against it.
 *
 * Every refusal is a LatchkeyError with code EINVAL naming the offending key and what is accepted.
 */

import { LatchkeyError, invalid } from './errors.js';
import { literal } from './args.js';
import { isPageStore, type PageStore } from './store.js';
import { MIN_PAGE_SIZE, MAX_PAGE_SIZE } from './abi.generated.js';

export type Role = 'leader' | 'follower';

/** Configuration as a caller writes it (object form). */
export interface ConnectionConfig {
  /** A directory (string), a `nats://host:port[,host:port...]/name` home (Node), a `ws://host:port/name` one (NATS over WebSocket), or a PageStore object. */
  home?: string | PageStore;
  /** Create the database if it does not exist; default true. */
  create?: boolean;
  /** Cache size in bytes, or a size string such as '512MB'; default 256 MiB. */
  cacheSize?: number | string;
  /** Page size in bytes: a power of two from 4096 to 32768; default 8192. */
  pageSize?: number;
  /** Default 'leader'. */
  role?: Role;
  /** A follower picks up the latest checkpoint every this many milliseconds; 0 (default): only on request. */
  refreshInterval?: number;
  /** Load the debug build of the core (assertions on); default false. */
  debug?: boolean;
  /**
   * Opening as leader: fence a live leader of the home deliberately (claim a new term; its next
   * checkpoint and its close fail with ESTALE). Default false: open() refuses with EBUSY.
   */
  takeover?: boolean;
  /**
   * The write-ahead log (bindings/log.ts): on by default; `false` keeps checkpoints only (a write
   * is durable once a checkpoint holds it); an object sets its options.
   */
  log?: boolean | LogOptions;
  /**
   * `'etcd://host:port[,host:port...]/name'` (Node): campaign for leadership of `name` on etcd;
   * the winner steps up, a node whose lease lapses steps down, close() resigns. The role is then
   * the election's: `role` and reconfigure({ role }) are refused.
   */
  election?: string;
  /** The election's lease, in seconds: a leader that dies is replaced within about this; default 10. */
  electionTtl?: number;
}

/** An `election` string, parsed (parseElection). */
export interface ElectionOptions {
  /** host:port of each etcd member. */
  endpoints: string[];
  name: string;
  /** Milliseconds every call to etcd may take, and open() to learn who leads (`?timeout=`); default 5000. */
  timeout: number;
}

/** The log's options (`log: { ... }`; string form `log=(enabled=true,flush_interval=10)`). */
export interface LogOptions {
  /** Every write is durable within this many milliseconds, flushed or not; default 10. */
  flushInterval?: number;
  /** The leader checkpoints by itself once the log since the last checkpoint passes this; bytes or a size string, default 64 MiB. */
  checkpointSize?: number | string;
}

/** Configuration after defaults and validation. */
export interface ResolvedConfig {
  home: string | PageStore | undefined;
  create: boolean;
  /** Bytes. */
  cacheSize: number;
  pageSize: number;
  /** Was pageSize given (it must then match an existing home's)? */
  pageSizeGiven: boolean;
  role: Role;
  refreshInterval: number;
  debug: boolean;
  takeover: boolean;
  log: boolean;
  flushInterval: number;
  /** Bytes. */
  checkpointSize: number;
  election: ElectionOptions | undefined;
  /** Seconds. */
  electionTtl: number;
}

/** What may change on an open connection. */
export interface ReconfigureOptions {
  role?: Role;
  checkpoint?: 'latest';
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const DEFAULT_CACHE_SIZE = 256 * MiB;
/** The engine lays out fixed regions up front; below this they do not fit. */
export const MIN_CACHE_SIZE = 16 * MiB;
/** wasm32 memory is at most 4 GiB; one 64 KiB wasm page is kept back. */
export const MAX_CACHE_SIZE = 4 * GiB - 64 * KiB;
export const DEFAULT_PAGE_SIZE = 8192;
/** The page format's limits (assembly/limits.ts). */
export { MIN_PAGE_SIZE, MAX_PAGE_SIZE };
/**
 * The log since the last checkpoint that makes a leader checkpoint by itself: replay runs at
 * about 1.8 M records/s (bench/log.js --case replay, 1M puts of 8-byte keys and values in 0.56
 * s), so 64 MiB of 32-byte records (2.1 M) replays in a little over a second.
 */
export const DEFAULT_CHECKPOINT_SIZE = 64 * MiB;
const MIN_CHECKPOINT_SIZE = 64 * KiB;
/** The log's default flush interval (ms), and the longest (a minute). */
export const DEFAULT_FLUSH_INTERVAL = 10;
const MAX_FLUSH_INTERVAL = 60_000;
/** A day: the longest refresh interval. */
const MAX_REFRESH_INTERVAL = 86_400_000;

/** The election lease's default TTL (s): a dead leader is replaced about this long after it died. */
export const DEFAULT_ELECTION_TTL = 10;
/** etcd 3.4 (default heartbeat and election timeout) grants no lease shorter than 2 s. */
const MIN_ELECTION_TTL = 2;
const MAX_ELECTION_TTL = 3600;
export const DEFAULT_ELECTION_TIMEOUT = 5000;
const ELECTION_ACCEPTED = "'etcd://host:port[,host:port...]/name', optionally followed by ?timeout=<ms> (1000 to 600000), e.g. 'etcd://127.0.0.1:2379/db1'; a name of 1 to 128 letters, digits, '_', '-' and '.'";

/** Parses an `election` string; EINVAL naming what is accepted. */
export function parseElection(text: string, key = 'election'): ElectionOptions {
  const refuse = (why: string) => invalid(`${key} ${JSON.stringify(text)}${why}`, ELECTION_ACCEPTED);
  const m = /^etcd:\/\/([^/?#]+)\/([^/?#]*)(?:\?([^#]*))?$/i.exec(text);
  if (!m) throw refuse(' is not an etcd election');
  const endpoints = m[1].split(',');
  for (const h of endpoints) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(h)) throw refuse(`: endpoint ${JSON.stringify(h)} is not host:port`);
  }
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(m[2])) throw refuse(`: name ${JSON.stringify(m[2])}`);
  const out: ElectionOptions = { endpoints, name: m[2], timeout: DEFAULT_ELECTION_TIMEOUT };
  for (const [k, v] of new URLSearchParams(m[3] ?? '')) {
    if (k === 'timeout' && /^\d+$/.test(v) && Number(v) >= 1000 && Number(v) <= 600_000) out.timeout = Number(v);
    else throw refuse(`: ${k}=${JSON.stringify(v)}`);
  }
  return out;
}

/** `16777216` -> `16MiB`; falls back to plain bytes when there is no exact binary unit. */
export function formatBytes(bytes: number): string {
  if (bytes > 0 && bytes % GiB === 0) return `${bytes / GiB}GiB`;
  if (bytes > 0 && bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes > 0 && bytes % KiB === 0) return `${bytes / KiB}KiB`;
  return `${bytes} bytes`;
}

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

/**
 * One configuration key. `kind` says what it holds: `boolean`; `home` (a non-empty path or a
 * PageStore); `size` (bytes or a size string, from `min` to `max`); `integer` (from `min` to
 * `max`, a power of two with `powerOfTwo`); `choice` (one of `values`). A refusal names the
 * key and what is wrong with the value (with `noun`: that it is not a <noun>), then `accepted`.
 */
export interface ConfigKey {
  /** The object form's key. */
  readonly name: string;
  /** The string form's key; a key inside a group is `group.key` (written `group=(key=...)`). */
  readonly path: string;
  /** The object form writes this key inside the object of that key (`log: { flushInterval }`). */
  readonly objectIn?: string;
  readonly kind: 'boolean' | 'home' | 'size' | 'integer' | 'choice' | 'election';
  /** Which calls take it: open() (ConnectionConfig), reconfigure() (ReconfigureOptions), or both. */
  readonly calls: 'open' | 'reconfigure' | 'both';
  /** The value when the key is not given (open() only). */
  readonly default?: unknown;
  readonly min?: number;
  readonly max?: number;
  /** Why `max` is the limit, for a size's message. */
  readonly maxWhy?: string;
  readonly powerOfTwo?: boolean;
  readonly values?: readonly string[];
  readonly noun?: string;
  /** What messages say is accepted (for a boolean or a choice it follows from the kind). */
  readonly accepted?: string;
  /** docs/API.md's configuration table: what the key does and accepts, a string-form example value, the default as shown. */
  readonly doc: string;
  readonly example?: string;
  readonly shownDefault?: string;
}

const SIZE_ACCEPTED =
  'a whole number of bytes, or a size string: a number with an optional unit B, K, KB, KiB, M, MB, MiB, ' +
  'G, GB, GiB (case-insensitive, powers of 1024), e.g. "512MB"';

/** Every key of both calls, in the order messages list them. */
export const CONFIG_KEYS = [
  {
    name: 'home', path: 'home', kind: 'home', calls: 'open', default: undefined,
    accepted: "a non-empty directory path, a 'nats://host:port[,host:port...]/name' string (Node), a 'ws://host:port/name' string (NATS over WebSocket), or a PageStore object",
    doc: "a directory path (Node), `'nats://host:port[,host:port...]/name[?replicas=3]'` (Node, NATS JetStream: `latchkey/nats`; quote it in the string form), `'ws://host:port/name'` (the same over WebSocket: browsers), or a `PageStore` object: `new MemoryPageStore()` (shared by connections of one thread), `new OpfsPageStore('db')` (browsers)",
    example: '/data/db', shownDefault: 'an in-memory page store',
  },
  { name: 'create', path: 'create', kind: 'boolean', calls: 'open', default: true, doc: 'create the home if missing' },
  {
    name: 'cacheSize', path: 'cache_size', kind: 'size', calls: 'open', default: DEFAULT_CACHE_SIZE,
    min: MIN_CACHE_SIZE, max: MAX_CACHE_SIZE, maxWhy: 'the wasm32 memory limit',
    accepted: `a size from ${formatBytes(MIN_CACHE_SIZE)} (${MIN_CACHE_SIZE} bytes) to 4GiB - 64KiB (${MAX_CACHE_SIZE} bytes); ${SIZE_ACCEPTED}`,
    doc: `bytes, or a size string (\`B\`, \`K\`/\`KB\`/\`KiB\`, \`M\`/\`MB\`/\`MiB\`, \`G\`/\`GB\`/\`GiB\`, powers of 1024) from ${formatBytes(MIN_CACHE_SIZE)} to 4GiB - 64KiB: the upper bound of the shared memory`,
    example: '512MB',
  },
  {
    name: 'pageSize', path: 'page_size', kind: 'integer', calls: 'open', default: DEFAULT_PAGE_SIZE,
    min: MIN_PAGE_SIZE, max: MAX_PAGE_SIZE, powerOfTwo: true,
    accepted: `a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}`,
    doc: `a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}; fixed when the home is created`, example: '8192',
  },
  {
    name: 'role', path: 'disaggregated.role', kind: 'choice', calls: 'both', default: 'leader',
    values: ['leader', 'follower'], noun: 'role', doc: "`'leader'` or `'follower'`", example: 'follower',
  },
  {
    name: 'refreshInterval', path: 'disaggregated.refresh_interval', kind: 'integer', calls: 'open', default: 0,
    min: 0, max: MAX_REFRESH_INTERVAL, noun: 'refresh interval',
    accepted: `milliseconds, an integer from 0 (off) to ${MAX_REFRESH_INTERVAL}`,
    doc: 'a follower loads the latest checkpoint every this many milliseconds (0: only on request)', example: '1000',
  },
  {
    name: 'debug', path: 'debug', kind: 'boolean', calls: 'open', default: false,
    doc: "load the debug build of the core (assertions on); in a browser bundle `import 'latchkey/debug'` first",
  },
  {
    name: 'takeover', path: 'takeover', kind: 'boolean', calls: 'open', default: false,
    doc: 'open as leader even while another live process leads the home: fences it (its next checkpoint and its `close()` reject with `ESTALE`)',
  },
  {
    name: 'log', path: 'log.enabled', kind: 'boolean', calls: 'open', default: true,
    accepted: 'true, false, or an object { flushInterval, checkpointSize }',
    doc: 'the write-ahead log: every write is logged and made durable within `flushInterval` (and by `flush()`); `false` keeps checkpoints only. The object form takes `{ flushInterval, checkpointSize }`',
  },
  {
    name: 'flushInterval', path: 'log.flush_interval', objectIn: 'log', kind: 'integer', calls: 'open', default: DEFAULT_FLUSH_INTERVAL,
    min: 1, max: MAX_FLUSH_INTERVAL, noun: 'flush interval',
    accepted: `milliseconds, an integer from 1 to ${MAX_FLUSH_INTERVAL}`,
    doc: 'the log\'s writer makes every write durable within this many milliseconds (`log: { flushInterval }`)', example: '10',
  },
  {
    name: 'checkpointSize', path: 'log.checkpoint_size', objectIn: 'log', kind: 'size', calls: 'open', default: DEFAULT_CHECKPOINT_SIZE,
    min: MIN_CHECKPOINT_SIZE, max: MAX_CACHE_SIZE, maxWhy: 'the largest size',
    accepted: `a size from ${formatBytes(MIN_CHECKPOINT_SIZE)} to 4GiB - 64KiB; ${SIZE_ACCEPTED}`,
    doc: 'the leader takes a checkpoint by itself once the log since the last one passes this many bytes (replay after a crash reads at most about this much log)', example: '64MB',
  },
  {
    name: 'election', path: 'disaggregated.election', kind: 'election', calls: 'open', default: undefined,
    accepted: ELECTION_ACCEPTED,
    doc: "`'etcd://host:port[,host:port...]/name[?timeout=ms]'` (Node, the `etcd3` client; quote it in the string form): campaign for leadership of `name` with a lease; the winner steps up, a node whose lease lapses steps down at once, `close()` resigns; every change fires `rolechange`. `role` and `reconfigure({ role })` are then refused (EINVAL); etcd not answering within the timeout (default 5000 ms) is EIO",
    example: '"etcd://127.0.0.1:2379/db1"', shownDefault: 'none: roles change by reconfigure()',
  },
  {
    name: 'electionTtl', path: 'disaggregated.election_ttl', kind: 'integer', calls: 'open', default: DEFAULT_ELECTION_TTL,
    min: MIN_ELECTION_TTL, max: MAX_ELECTION_TTL, noun: 'lease TTL',
    accepted: `seconds, an integer from ${MIN_ELECTION_TTL} (etcd's shortest lease) to ${MAX_ELECTION_TTL}`,
    doc: "the election's lease in seconds: a leader that dies or loses etcd is replaced within about this (2 TTLs at most, measured); a leader steps down by itself once a fifth of it remains unrenewed", example: '10',
  },
  {
    name: 'checkpoint', path: 'checkpoint', kind: 'choice', calls: 'reconfigure', values: ['latest'], noun: 'checkpoint',
    doc: 'a follower loads the newest checkpoint of its page store', example: 'latest',
  },
] as const satisfies readonly ConfigKey[];

// The interfaces are the schema's keys with the types their kinds hold (a compile error here otherwise).
type Schema = (typeof CONFIG_KEYS)[number];
type Holds<K extends Schema> =
  K['name'] extends 'log' ? boolean | LogOptions
  : K['kind'] extends 'boolean' ? boolean
  : K['kind'] extends 'home' ? string | PageStore
  : K['kind'] extends 'size' ? number | string
  : K['kind'] extends 'integer' ? number
  : K['kind'] extends 'election' ? string
  : K extends { values: readonly (infer V)[] } ? V : never;
type Form<C extends string> = { [K in Schema as K extends { calls: C | 'both'; objectIn?: undefined } ? K['name'] : never]?: Holds<K> };
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type SchemaMatchesInterfaces = [Assert<Same<Form<'open'>, ConnectionConfig>>, Assert<Same<Form<'reconfigure'>, ReconfigureOptions>>];

const OPEN_KEYS: readonly ConfigKey[] = CONFIG_KEYS.filter((k) => k.calls !== 'reconfigure');
const RECONFIGURE_KEYS: readonly ConfigKey[] = CONFIG_KEYS.filter((k) => k.calls !== 'open');

const STRING_BOOLEAN_ACCEPTED = 'true, false, 1, 0, or the bare key alone (meaning true)';

function accepted(key: ConfigKey): string {
  if (key.accepted !== undefined) return key.accepted;
  return key.kind === 'boolean' ? 'true or false' : key.values!.join(' or ');
}

// ---------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------

/** Units are powers of 1024, as in WiredTiger; matched case-insensitively. */
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, k: KiB, kb: KiB, kib: KiB, m: MiB, mb: MiB, mib: MiB, g: GiB, gb: GiB, gib: GiB };

/**
 * Parses a size: a number of bytes, or a string such as '4096', '512MB', '64MiB', '1.5g'.
 * `key` is the key as the caller wrote it, for messages. Imposes no range beyond being a
 * non-negative safe integer; callers check their own limits.
 *
 * Whole bytes: a plain byte count (a number, or a string with no unit or unit B) must be an
 * integer, since a fractional byte count is a mistake. A scaled value such as '1.1KB' is rounded
 * down to whole bytes (1126), so decimals in front of K/M/G units are always usable.
 */
export function parseSize(value: number | string, key: string): number {
  const refuse = (why: string) => invalid(`${key} ${literal(value)} ${why}`, SIZE_ACCEPTED);
  if (typeof value === 'number') {
    if (value < 0) throw refuse('is negative');
    if (!Number.isFinite(value)) throw refuse(Number.isNaN(value) ? 'is not a size' : 'is not finite');
    if (!Number.isInteger(value)) throw refuse('is not a whole number of bytes');
    if (value > Number.MAX_SAFE_INTEGER) throw refuse('is too large');
    return value;
  }
  if (typeof value !== 'string') throw refuse('is not a number or size string');
  const text = value.trim();
  if (text === '') throw refuse('is empty');
  if (text.startsWith('-')) throw refuse('is negative');
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  if (match === null) throw refuse('is not a size');
  const amount = Number(match[1]);
  const unit = match[2]!;
  const multiplier = unit === '' ? 1 : SIZE_UNITS[unit.toLowerCase()];
  if (multiplier === undefined) throw refuse(`has an unknown unit ${literal(unit)}`);
  if (multiplier === 1 && !Number.isInteger(amount)) throw refuse('is not a whole number of bytes');
  const bytes = Math.floor(amount * multiplier); // round down to whole bytes (see above)
  if (!Number.isSafeInteger(bytes)) throw refuse('is too large');
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// String form: tokenizer and parser
// ---------------------------------------------------------------------------------------------

/** A parsed value: a word or quoted string, `true` for a bare key, or a nested group. */
export type ConfigValue = string | true | ConfigGroup;
/** A parsed group. Null-prototype object: keys such as `__proto__` are plain keys. */
export interface ConfigGroup {
  [key: string]: ConfigValue;
}

type TokenKind = 'word' | 'string' | '=' | ',' | '(' | ')' | 'end';
interface Token {
  readonly kind: TokenKind;
  /** The word, or the string's contents with escapes resolved. */
  readonly text: string;
  /** 0-based offset of the token's first character in the input. */
  readonly pos: number;
}

const SYNTAX_ACCEPTED =
  'comma-separated key or key=value entries; a value is a bare word, a "quoted string" ' +
  '(\\" and \\\\ escape) or a (parenthesized, comma-separated group)';

/** Groups nest at most this deep; deeper input is refused rather than risking the stack. */
const MAX_GROUP_DEPTH = 16;

function syntaxError(message: string, pos: number): LatchkeyError {
  return invalid(`config string: at position ${pos}: ${message}`, SYNTAX_ACCEPTED);
}

function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the string';
  if (token.kind === 'word') return `the word ${literal(token.text)}`;
  if (token.kind === 'string') return `the quoted string ${literal(token.text)}`;
  return `'${token.kind}'`;
}

const SPACE = /[ \t\n\r\f\v]*/y;
/**
 * Punctuation, a quoted string, or a bare word (everything up to whitespace, punctuation or a
 * quote). In a quoted string a backslash always takes the next character with it, so `\"` never
 * ends the string; of those pairs only \" and \\ are escapes, any other backslash is kept as
 * written (Windows paths such as "C:\data" need no doubling).
 */
const TOKEN = /([=,()])|"((?:[^"\\]|\\[\s\S])*)"|([^ \t\n\r\f\v=,()"]+)/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (let pos = 0; ; ) {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
    if (pos === text.length) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    // Only a quote can fail to start a token: one with no closing quote.
    if (m === null) throw syntaxError(`unterminated quoted string (expected a closing '"')`, pos);
    if (m[1] !== undefined) tokens.push({ kind: m[1] as TokenKind, text: m[1], pos });
    else if (m[3] !== undefined) tokens.push({ kind: 'word', text: m[3], pos });
    else tokens.push({ kind: 'string', text: m[2]!.replace(/\\(["\\])/g, '$1'), pos });
    pos = TOKEN.lastIndex;
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

/**
 * Recursive descent over the tokens:
 *   list  := ε | entry (',' entry)*
 *   entry := word ['=' value]
 *   value := word | string | '(' list ')'
 */
class Parser {
  private index = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  /** Parses a list up to `closer`; `open` is the opening parenthesis of a nested group. */
  list(depth: number, open: Token | undefined): ConfigGroup {
    const group = Object.create(null) as ConfigGroup;
    const closer: TokenKind = open === undefined ? 'end' : ')';
    if (this.tokens[this.index]!.kind === closer) {
      this.next();
      return group;
    }
    for (;;) {
      this.entry(group, depth);
      const token = this.next();
      if (token.kind === ',') continue;
      if (token.kind === closer) return group;
      const wanted = open === undefined ? `',' or the end of the string` : `',' or ')' to close the '(' at position ${open.pos}`;
      throw syntaxError(`expected ${wanted}, found ${describeToken(token)}`, token.pos);
    }
  }

  private entry(group: ConfigGroup, depth: number): void {
    const keyToken = this.next();
    if (keyToken.kind !== 'word') throw syntaxError(`expected a key, found ${describeToken(keyToken)}`, keyToken.pos);
    const key = keyToken.text;
    if (Object.hasOwn(group, key)) throw syntaxError(`duplicate key ${literal(key)}`, keyToken.pos);
    if (this.tokens[this.index]!.kind !== '=') {
      group[key] = true;
      return;
    }
    this.next(); // '='
    const valueToken = this.next();
    if (valueToken.kind === 'word' || valueToken.kind === 'string') {
      group[key] = valueToken.text;
    } else if (valueToken.kind === '(') {
      if (depth >= MAX_GROUP_DEPTH) throw syntaxError(`groups nested deeper than ${MAX_GROUP_DEPTH}`, valueToken.pos);
      group[key] = this.list(depth + 1, valueToken);
    } else {
      throw syntaxError(`expected a value after '=' for key ${literal(key)}, found ${describeToken(valueToken)}`, valueToken.pos);
    }
  }
}

/**
 * Parses a WiredTiger-style configuration string into a nested structure, without interpreting
 * keys. A bare key maps to `true`; every other value is the string as written (quotes removed) or
 * a nested group. Duplicate keys within one group are refused. Throws EINVAL naming the position.
 */
export function parseConfigString(text: string): ConfigGroup {
  return new Parser(tokenize(text)).list(0, undefined);
}

// ---------------------------------------------------------------------------------------------
// Both forms onto settings
// ---------------------------------------------------------------------------------------------

/** One key's value as given, before validation. */
interface Setting {
  readonly value: unknown;
  /** The key as the user wrote it: `cacheSize`, `cache_size`, `disaggregated.role`. */
  readonly name: string;
  readonly form: 'object' | 'string';
}

/** Given settings by the key's object-form name. */
type Settings = Map<string, Setting>;

/** Folds case and separators so that `cache_size`, `cacheSize` and `CacheSize` compare equal. */
function fold(key: string): string {
  return key.replace(/[_\-.]/g, '').toLowerCase();
}

function unknownKey(name: string, keys: string, suggestion: string | undefined): LatchkeyError {
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
  return invalid(`unknown key ${literal(name)}${hint}`, `the keys ${keys}`);
}

/** What one group of the string form holds ('' for the top level): its keys' names, then its groups'. */
function members(keys: readonly ConfigKey[], group: string): { leaves: string[]; groups: string[] } {
  const leaves: string[] = [];
  const groups: string[] = [];
  for (const key of keys) {
    const rest = group === '' ? key.path : key.path.startsWith(`${group}.`) ? key.path.slice(group.length + 1) : undefined;
    if (rest === undefined) continue;
    const dot = rest.indexOf('.');
    if (dot < 0) leaves.push(rest);
    else if (!groups.includes(rest.slice(0, dot))) groups.push(rest.slice(0, dot));
  }
  return { leaves, groups };
}

/** `home, create, ..., disaggregated=(role, refresh_interval)`: a group's keys as messages list them. */
function stringKeys(keys: readonly ConfigKey[], group: string): string {
  const { leaves, groups } = members(keys, group);
  const inner = (g: string) => stringKeys(keys, group === '' ? g : `${group}.${g}`);
  return [...leaves, ...groups.map((g) => `${g}=(${inner(g)})`)].join(', ');
}

/** A key as the string form writes it: `cache_size`, `disaggregated=(role=...)`. */
function spelling(path: string): string {
  const parts = path.split('.');
  const leaf = parts.pop()!;
  return parts.length === 0 ? leaf : `${parts.map((g) => `${g}=(`).join('')}${leaf}=...${')'.repeat(parts.length)}`;
}

function fromObject(input: object, keys: readonly ConfigKey[], settings: Settings): void {
  const names = keys.map((k) => k.name);
  for (const [name, value] of Object.entries(input)) {
    if (!names.includes(name) || keys.find((k) => k.name === name)!.objectIn !== undefined) {
      throw unknownKey(name, keys.filter((k) => k.objectIn === undefined).map((k) => k.name).join(', '), names.find((n) => fold(n) === fold(name)));
    }
    const inner = keys.filter((k) => k.objectIn === name);
    if (inner.length > 0 && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // `log: { flushInterval: 10 }`: the group's keys, and the group itself on.
      settings.set(name, { value: true, name, form: 'object' });
      for (const [k, v] of Object.entries(value)) {
        const key = inner.find((i) => i.name === k);
        if (key === undefined) throw unknownKey(`${name}.${k}`, inner.map((i) => i.name).join(', '), inner.find((i) => fold(i.name) === fold(k))?.name);
        if (v !== undefined) settings.set(key.name, { value: v, name: `${name}.${k}`, form: 'object' });
      }
      continue;
    }
    // An explicit `undefined` is the same as leaving the key out (optional property).
    if (value !== undefined) settings.set(name, { value, name, form: 'object' });
  }
}

/** Converts a string-form value to what the object form would hold, where the syntax requires it. */
function coerce(value: string | true, key: ConfigKey, name: string): unknown {
  if (key.kind === 'boolean') {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value; // refused by validation, naming the key
  }
  if (value === true) throw invalid(`${name} needs a value (${name}=...)`, accepted(key));
  return key.kind === 'integer' && /^[+-]?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

function fromGroup(input: ConfigGroup, keys: readonly ConfigKey[], group: string, settings: Settings): void {
  for (const [word, value] of Object.entries(input)) {
    const name = group === '' ? word : `${group}.${word}`;
    const key = keys.find((k) => k.path === name);
    const inside = members(keys, name);
    if (key !== undefined) {
      if (typeof value === 'object') throw invalid(`${name} is a group, not a value`, accepted(key));
      settings.set(key.name, { value: coerce(value, key, name), name, form: 'string' });
    } else if (inside.leaves.length + inside.groups.length > 0) {
      if (typeof value !== 'object') {
        const example = `${word}=(${[...inside.leaves, ...inside.groups].map((k) => `${k}=...`).join(',')})`;
        throw invalid(`${name} ${value === true ? 'needs a group' : `${literal(value)} is not a group`}`, example);
      }
      fromGroup(value, keys, name, settings);
    } else {
      const listed = group === '' ? stringKeys(keys, '') : `${stringKeys(keys, group)} inside ${group}=(...)`;
      // At top level, point at the right spelling: `cacheSize` -> cache_size, `role` -> disaggregated=(role=...).
      const like = group === '' ? keys.find((k) => fold(k.path.split('.').pop()!) === fold(word)) : undefined;
      throw unknownKey(name, listed, like && spelling(like.path));
    }
  }
}

function collect(input: unknown, keys: readonly ConfigKey[], what: string): Settings {
  const settings: Settings = new Map();
  if (input === undefined || input === null) return settings;
  if (typeof input === 'string') fromGroup(parseConfigString(input), keys, '', settings);
  else if (typeof input === 'object' && !Array.isArray(input)) fromObject(input, keys, settings);
  else throw invalid(`${what} ${literal(input)} is not an object or a string`, `an object with the keys ${keys.map((k) => k.name).join(', ')}, or a configuration string`);
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Validation (one path for both forms)
// ---------------------------------------------------------------------------------------------

/** For any integer, including ones too large for 32-bit bitwise operators. */
function isPowerOfTwo(v: number): boolean {
  if (v < 1) return false;
  let p = 1;
  while (p < v) p *= 2;
  return p === v;
}

function check(key: ConfigKey, { value: v, name, form }: Setting): unknown {
  const ok = accepted(key);
  const refuse = (why: string) => invalid(`${name} ${why}`, ok);
  switch (key.kind) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      throw invalid(`${name} ${literal(v)} is not a boolean`, form === 'string' ? STRING_BOOLEAN_ACCEPTED : ok);
    case 'home':
      if (typeof v === 'string' && v !== '') return v;
      if (v === '') throw refuse('"" is empty');
      if (isPageStore(v)) return v;
      if (typeof v === 'object' && v !== null) throw refuse('is an object without the PageStore methods read, write, publish, remove and list');
      throw refuse(`${literal(v)} is not a directory path or PageStore`);
    case 'size': {
      if (typeof v !== 'number' && typeof v !== 'string') throw refuse(`${literal(v)} is not a number or size string`);
      const bytes = parseSize(v, name);
      const given = typeof v === 'string' ? `${literal(v)} (${bytes} bytes)` : `${bytes}`;
      if (bytes < key.min!) throw refuse(`${given} is below the minimum of ${formatBytes(key.min!)} (${key.min} bytes)`);
      if (bytes > key.max!) throw refuse(`${given} is above the maximum of ${key.max} bytes (${key.maxWhy})`);
      return bytes;
    }
    case 'integer': {
      const why =
        typeof v !== 'number' ? 'is not a number'
        : !Number.isInteger(v) ? 'is not an integer'
        : key.powerOfTwo === true && !isPowerOfTwo(v) ? 'is not a power of two'
        : v < key.min! || v > key.max! ? 'is out of range'
        : undefined;
      if (why === undefined) return v;
      throw refuse(`${literal(v)} ${key.noun === undefined ? why : `is not a ${key.noun}`}`);
    }
    case 'election':
      if (typeof v !== 'string') throw refuse(`${literal(v)} is not a string`);
      return parseElection(v, name);
    case 'choice':
      if (typeof v === 'string' && key.values!.includes(v)) return v;
      throw refuse(`${literal(v)} is not a ${key.noun}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Validates a connection configuration in object or string form and fills in defaults.
 * `null`/`undefined` (or an empty string) mean all defaults. Throws LatchkeyError EINVAL.
 */
export function parseConfig(input?: ConnectionConfig | string | null): ResolvedConfig {
  const settings = collect(input, OPEN_KEYS, 'config');
  const out: Record<string, unknown> = {};
  for (const key of OPEN_KEYS) {
    const s = settings.get(key.name);
    out[key.name] = s === undefined ? key.default : check(key, s);
  }
  out.pageSizeGiven = settings.has('pageSize');
  if (out.election !== undefined && settings.has('role')) {
    throw invalid(`${settings.get('role')!.name} with ${settings.get('election')!.name}: the election decides the role`, 'election without role (the connection opens as a follower and campaigns), or role without election');
  }
  if (settings.has('electionTtl') && out.election === undefined) {
    throw invalid(`${settings.get('electionTtl')!.name} without election`, 'electionTtl together with election');
  }
  return out as unknown as ResolvedConfig;
}

/**
 * Validates the options of a reconfigure call: `{ role, checkpoint }`, or in string form
 * `disaggregated=(role=follower),checkpoint=latest`. The result holds only the keys given;
 * `null`/`undefined` (or an empty string) mean no change. Throws LatchkeyError EINVAL.
 */
export function parseReconfigure(input: ReconfigureOptions | string | null | undefined): ReconfigureOptions {
  const settings = collect(input, RECONFIGURE_KEYS, 'reconfigure options');
  const out: Record<string, unknown> = {};
  for (const key of RECONFIGURE_KEYS) {
    const s = settings.get(key.name);
    if (s !== undefined) out[key.name] = check(key, s);
  }
  return out as ReconfigureOptions;
}
