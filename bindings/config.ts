/**
 * Connection configuration: parsing and validation.
 *
 * A configuration comes in one of two forms:
 *
 *   - object form, the public TypeScript contract (`ConnectionConfig`), with camelCase keys;
 *   - string form, in the style of WiredTiger's `wiredtiger_open` configuration strings, with
 *     snake_case keys, e.g. `home=/data/db,create,cache_size=512MB,disaggregated=(role=follower)`.
 *
 * Both forms are first turned into the same intermediate shape: one `Setting` per field, holding
 * the value as given and the key as the user spelled it (so messages can name it). A string is
 * tokenized, parsed into a nested `ConfigGroup`, and mapped onto fields by a small schema; the only
 * conversions that step makes are the ones the string syntax forces (`1`/`0`/bare key to booleans,
 * digit strings to numbers). From there one validation path serves both forms.
 *
 * Every refusal is a LatchkeyError with code EINVAL naming the offending key and what is accepted.
 */

import { LatchkeyError, invalid } from './errors.js';
import { isPageStore } from './store.js';

/** Placeholder for the PageStore interface: any non-null object is taken to be one. */
export type PageStoreLike = object;

export type Role = 'leader' | 'follower';

/** Configuration as a caller writes it (object form). */
export interface ConnectionConfig {
  /** A directory (string) or a PageStore object. */
  home?: string | PageStoreLike;
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
}

/** Configuration after defaults and validation. */
export interface ResolvedConfig {
  home: string | PageStoreLike | undefined;
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
/** The page format's limits. */
export const MIN_PAGE_SIZE = 4096;
export const MAX_PAGE_SIZE = 32768;

// ---------------------------------------------------------------------------------------------
// Describing values and sizes in messages
// ---------------------------------------------------------------------------------------------

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return String(value); // number, boolean, undefined
}

/** `16777216` -> `16MiB`; falls back to plain bytes when there is no exact binary unit. */
function formatBytes(bytes: number): string {
  if (bytes > 0 && bytes % GiB === 0) return `${bytes / GiB}GiB`;
  if (bytes > 0 && bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes > 0 && bytes % KiB === 0) return `${bytes / KiB}KiB`;
  return `${bytes} bytes`;
}

// ---------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------

/** Units are powers of 1024, as in WiredTiger; matched case-insensitively. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: KiB,
  kb: KiB,
  kib: KiB,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: GiB,
  gb: GiB,
  gib: GiB,
};

const SIZE_ACCEPTED =
  'a whole number of bytes, or a size string: a number with an optional unit B, K, KB, KiB, M, MB, MiB, ' +
  'G, GB, GiB (case-insensitive, powers of 1024), e.g. "512MB"';

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
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw invalid(`${key} NaN is not a size`, SIZE_ACCEPTED);
    if (value < 0) throw invalid(`${key} ${value} is negative`, SIZE_ACCEPTED);
    if (!Number.isFinite(value)) throw invalid(`${key} ${value} is not finite`, SIZE_ACCEPTED);
    if (!Number.isInteger(value)) throw invalid(`${key} ${value} is not a whole number of bytes`, SIZE_ACCEPTED);
    if (value > Number.MAX_SAFE_INTEGER) throw invalid(`${key} ${value} is too large`, SIZE_ACCEPTED);
    return value;
  }
  if (typeof value !== 'string') {
    throw invalid(`${key} ${describe(value)} is not a number or size string`, SIZE_ACCEPTED);
  }
  const text = value.trim();
  if (text === '') throw invalid(`${key} ${describe(value)} is empty`, SIZE_ACCEPTED);
  if (text.startsWith('-')) throw invalid(`${key} ${describe(value)} is negative`, SIZE_ACCEPTED);
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  if (match === null) throw invalid(`${key} ${describe(value)} is not a size`, SIZE_ACCEPTED);
  const amount = Number(match[1]);
  const unit = match[2] ?? '';
  const multiplier = unit === '' ? 1 : SIZE_UNITS[unit.toLowerCase()];
  if (multiplier === undefined) {
    throw invalid(`${key} ${describe(value)} has an unknown unit ${describe(unit)}`, SIZE_ACCEPTED);
  }
  if (multiplier === 1 && !Number.isInteger(amount)) {
    throw invalid(`${key} ${describe(value)} is not a whole number of bytes`, SIZE_ACCEPTED);
  }
  const bytes = Math.floor(amount * multiplier); // round down to whole bytes (see above)
  if (!Number.isSafeInteger(bytes)) throw invalid(`${key} ${describe(value)} is too large`, SIZE_ACCEPTED);
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
  switch (token.kind) {
    case 'end':
      return 'the end of the string';
    case 'word':
      return `the word ${JSON.stringify(token.text)}`;
    case 'string':
      return `the quoted string ${JSON.stringify(token.text)}`;
    default:
      return `'${token.kind}'`;
  }
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

const PUNCTUATION = '=,()';

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (isSpace(c)) {
      i++;
    } else if (PUNCTUATION.includes(c)) {
      tokens.push({ kind: c as TokenKind, text: c, pos: i });
      i++;
    } else if (c === '"') {
      // Quoted string: only \" and \\ are escapes; any other backslash is kept as written, so
      // Windows paths such as "C:\data" need no doubling.
      const start = i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw syntaxError(`unterminated quoted string (expected a closing '"')`, start);
        const d = text.charAt(i);
        if (d === '"') {
          i++;
          break;
        }
        const e = text.charAt(i + 1);
        if (d === '\\' && (e === '"' || e === '\\')) {
          value += e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text: value, pos: start });
    } else {
      // Bare word: everything up to whitespace, punctuation or a quote.
      const start = i;
      while (i < text.length) {
        const d = text.charAt(i);
        if (isSpace(d) || PUNCTUATION.includes(d) || d === '"') break;
        i++;
      }
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: start });
    }
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

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  /** Parses a list up to `closer`; `open` is the opening parenthesis of a nested group. */
  list(depth: number, open: Token | undefined): ConfigGroup {
    const group: ConfigGroup = Object.create(null) as ConfigGroup;
    const closer: TokenKind = open === undefined ? 'end' : ')';
    if (this.peek().kind === closer) {
      this.next();
      return group;
    }
    for (;;) {
      this.entry(group, depth);
      const token = this.next();
      if (token.kind === ',') continue;
      if (token.kind === closer) return group;
      const wanted =
        open === undefined
          ? `',' or the end of the string`
          : `',' or ')' to close the '(' at position ${open.pos}`;
      throw syntaxError(`expected ${wanted}, found ${describeToken(token)}`, token.pos);
    }
  }

  private entry(group: ConfigGroup, depth: number): void {
    const keyToken = this.next();
    if (keyToken.kind !== 'word') {
      throw syntaxError(`expected a key, found ${describeToken(keyToken)}`, keyToken.pos);
    }
    const key = keyToken.text;
    if (Object.prototype.hasOwnProperty.call(group, key)) {
      throw syntaxError(`duplicate key ${JSON.stringify(key)}`, keyToken.pos);
    }
    if (this.peek().kind !== '=') {
      group[key] = true;
      return;
    }
    this.next(); // '='
    const valueToken = this.next();
    if (valueToken.kind === 'word' || valueToken.kind === 'string') {
      group[key] = valueToken.text;
    } else if (valueToken.kind === '(') {
      if (depth >= MAX_GROUP_DEPTH) {
        throw syntaxError(`groups nested deeper than ${MAX_GROUP_DEPTH}`, valueToken.pos);
      }
      group[key] = this.list(depth + 1, valueToken);
    } else {
      throw syntaxError(
        `expected a value after '=' for key ${JSON.stringify(key)}, found ${describeToken(valueToken)}`,
        valueToken.pos,
      );
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
// Mapping both forms onto settings
// ---------------------------------------------------------------------------------------------

type Form = 'object' | 'string';

/** One field's value as given, before validation. */
interface Setting {
  readonly value: unknown;
  /** The key as the user wrote it: `cacheSize`, `cache_size`, `disaggregated.role`. */
  readonly name: string;
  readonly form: Form;
}

/** Given settings by field name (the object-form key). */
type Settings = Map<string, Setting>;

/** How a string-form value becomes a field value: only the conversions the syntax forces. */
type ScalarKind = 'boolean' | 'number' | 'text';
interface ScalarSpec {
  readonly field: string;
  readonly kind: ScalarKind;
}
interface GroupSpec {
  readonly group: Schema;
}
type Schema = Readonly<Record<string, ScalarSpec | GroupSpec>>;

const CONFIG_FIELDS = ['home', 'create', 'cacheSize', 'pageSize', 'role', 'refreshInterval', 'debug', 'takeover'] as const;
const CONFIG_SCHEMA: Schema = {
  home: { field: 'home', kind: 'text' },
  create: { field: 'create', kind: 'boolean' },
  cache_size: { field: 'cacheSize', kind: 'text' },
  page_size: { field: 'pageSize', kind: 'number' },
  debug: { field: 'debug', kind: 'boolean' },
  takeover: { field: 'takeover', kind: 'boolean' },
  disaggregated: {
    group: { role: { field: 'role', kind: 'text' }, refresh_interval: { field: 'refreshInterval', kind: 'number' } },
  },
};

const RECONFIGURE_FIELDS = ['role', 'checkpoint'] as const;
const RECONFIGURE_SCHEMA: Schema = {
  checkpoint: { field: 'checkpoint', kind: 'text' },
  disaggregated: { group: { role: { field: 'role', kind: 'text' } } },
};

/** What each field accepts, for messages. */
const ACCEPTED: Readonly<Record<string, string>> = {
  home: 'a non-empty directory path, or a PageStore object',
  create: 'true or false',
  cacheSize: `a size from ${formatBytes(MIN_CACHE_SIZE)} (${MIN_CACHE_SIZE} bytes) to 4GiB - 64KiB (${MAX_CACHE_SIZE} bytes); ${SIZE_ACCEPTED}`,
  pageSize: `a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}`,
  role: 'leader or follower',
  refreshInterval: 'milliseconds, an integer from 0 (off) to 86400000',
  debug: 'true or false',
  takeover: 'true or false',
  checkpoint: 'latest',
};

const STRING_BOOLEAN_ACCEPTED = 'true, false, 1, 0, or the bare key alone (meaning true)';

function isGroupSpec(spec: ScalarSpec | GroupSpec): spec is GroupSpec {
  return 'group' in spec;
}

function ownSpec(schema: Schema, key: string): ScalarSpec | GroupSpec | undefined {
  return Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined;
}

/** `home, create, cache_size, ..., disaggregated=(role)` */
function schemaKeys(schema: Schema): string {
  return Object.keys(schema)
    .map((key) => {
      const spec = schema[key]!;
      return isGroupSpec(spec) ? `${key}=(${Object.keys(spec.group).join(', ')})` : key;
    })
    .join(', ');
}

/** Folds case and separators so that `cache_size`, `cacheSize` and `CacheSize` compare equal. */
function fold(key: string): string {
  return key.replace(/[_\-.]/g, '').toLowerCase();
}

function unknownKey(name: string, accepted: string, suggestion: string | undefined): LatchkeyError {
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
  return invalid(`unknown key ${JSON.stringify(name)}${hint}`, `the keys ${accepted}`);
}

/** Every scalar key of a schema as [key, string-form spelling], e.g. ['role', 'disaggregated=(role=...)']. */
function stringSpellings(schema: Schema, groups: readonly string[] = []): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of Object.keys(schema)) {
    const spec = schema[key]!;
    if (isGroupSpec(spec)) {
      out.push(...stringSpellings(spec.group, [...groups, key]));
    } else if (groups.length === 0) {
      out.push([key, key]);
    } else {
      out.push([key, `${groups.map((g) => `${g}=(`).join('')}${key}=...${')'.repeat(groups.length)}`]);
    }
  }
  return out;
}

function fromObject(input: object, fields: readonly string[]): Settings {
  const settings: Settings = new Map();
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!fields.includes(key)) {
      throw unknownKey(key, fields.join(', '), fields.find((f) => fold(f) === fold(key)));
    }
    const value = record[key];
    // An explicit `undefined` is the same as leaving the key out (optional property).
    if (value !== undefined) settings.set(key, { value, name: key, form: 'object' });
  }
  return settings;
}

/** Converts a string-form value to what the object form would hold, where the syntax requires it. */
function coerce(value: string | true, spec: ScalarSpec, name: string): unknown {
  switch (spec.kind) {
    case 'boolean':
      if (value === true || value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return value; // refused by validation, naming the key
    case 'number':
    case 'text':
      if (value === true) throw invalid(`${name} needs a value (${name}=...)`, ACCEPTED[spec.field]!);
      if (spec.kind === 'number' && /^[+-]?\d+(\.\d+)?$/.test(value)) return Number(value);
      return value;
  }
}

function fromGroup(group: ConfigGroup, schema: Schema, path: string, settings: Settings): void {
  for (const key of Object.keys(group)) {
    const name = path === '' ? key : `${path}.${key}`;
    const spec = ownSpec(schema, key);
    const value = group[key]!;
    if (spec === undefined) {
      const accepted = path === '' ? schemaKeys(schema) : `${schemaKeys(schema)} inside ${path}=(...)`;
      // At top level, point at the right spelling: `cacheSize` -> cache_size, `role` -> disaggregated=(role=...).
      const suggestion = path === '' ? stringSpellings(schema).find(([leaf]) => fold(leaf) === fold(key))?.[1] : undefined;
      throw unknownKey(name, accepted, suggestion);
    }
    if (isGroupSpec(spec)) {
      if (typeof value !== 'object') {
        const example = `${key}=(${Object.keys(spec.group).map((k) => `${k}=...`).join(',')})`;
        throw invalid(`${name} ${value === true ? 'needs a group' : `${describe(value)} is not a group`}`, example);
      }
      fromGroup(value, spec.group, name, settings);
    } else {
      if (typeof value === 'object') {
        throw invalid(`${name} is a group, not a value`, ACCEPTED[spec.field]!);
      }
      settings.set(spec.field, { value: coerce(value, spec, name), name, form: 'string' });
    }
  }
}

function fromString(text: string, schema: Schema): Settings {
  const settings: Settings = new Map();
  fromGroup(parseConfigString(text), schema, '', settings);
  return settings;
}

function collect(input: unknown, fields: readonly string[], schema: Schema, what: string): Settings {
  if (input === undefined || input === null) return new Map();
  if (typeof input === 'string') return fromString(input, schema);
  if (typeof input === 'object' && !Array.isArray(input)) return fromObject(input, fields);
  throw invalid(`${what} ${describe(input)} is not an object or a string`, `an object with the keys ${fields.join(', ')}, or a configuration string`);
}

// ---------------------------------------------------------------------------------------------
// Validation (one path for both forms)
// ---------------------------------------------------------------------------------------------

function checkBoolean(s: Setting): boolean {
  if (typeof s.value === 'boolean') return s.value;
  throw invalid(`${s.name} ${describe(s.value)} is not a boolean`, s.form === 'string' ? STRING_BOOLEAN_ACCEPTED : 'true or false');
}

function checkHome(s: Setting): string | PageStoreLike {
  if (typeof s.value === 'string') {
    if (s.value === '') throw invalid(`${s.name} "" is empty`, ACCEPTED.home!);
    return s.value;
  }
  if (isPageStore(s.value)) return s.value;
  if (typeof s.value === 'object' && s.value !== null) {
    throw invalid(`${s.name} is an object without the PageStore methods read, write, publish, remove and list`, ACCEPTED.home!);
  }
  throw invalid(`${s.name} ${describe(s.value)} is not a directory path or PageStore`, ACCEPTED.home!);
}

function checkCacheSize(s: Setting): number {
  if (typeof s.value !== 'number' && typeof s.value !== 'string') {
    throw invalid(`${s.name} ${describe(s.value)} is not a number or size string`, ACCEPTED.cacheSize!);
  }
  const bytes = parseSize(s.value, s.name);
  const given = typeof s.value === 'string' ? `${describe(s.value)} (${bytes} bytes)` : `${bytes}`;
  if (bytes < MIN_CACHE_SIZE) {
    throw invalid(`${s.name} ${given} is below the minimum of ${formatBytes(MIN_CACHE_SIZE)} (${MIN_CACHE_SIZE} bytes)`, ACCEPTED.cacheSize!);
  }
  if (bytes > MAX_CACHE_SIZE) {
    throw invalid(`${s.name} ${given} is above the maximum of ${MAX_CACHE_SIZE} bytes (the wasm32 memory limit)`, ACCEPTED.cacheSize!);
  }
  return bytes;
}

/** For any integer, including ones too large for 32-bit bitwise operators. */
function isPowerOfTwo(v: number): boolean {
  if (v < 1) return false;
  let p = 1;
  while (p < v) p *= 2;
  return p === v;
}

function checkPageSize(s: Setting): number {
  const v = s.value;
  const accepted = ACCEPTED.pageSize!;
  if (typeof v !== 'number') throw invalid(`${s.name} ${describe(v)} is not a number`, accepted);
  if (!Number.isInteger(v)) throw invalid(`${s.name} ${v} is not an integer`, accepted);
  if (!isPowerOfTwo(v)) throw invalid(`${s.name} ${v} is not a power of two`, accepted);
  if (v < MIN_PAGE_SIZE || v > MAX_PAGE_SIZE) throw invalid(`${s.name} ${v} is out of range`, accepted);
  return v;
}

function checkInterval(s: Setting): number {
  const v = s.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 86_400_000) {
    throw invalid(`${s.name} ${describe(v)} is not a refresh interval`, ACCEPTED.refreshInterval!);
  }
  return v;
}

function checkRole(s: Setting): Role {
  if (s.value === 'leader' || s.value === 'follower') return s.value;
  throw invalid(`${s.name} ${describe(s.value)} is not a role`, ACCEPTED.role!);
}

function checkCheckpoint(s: Setting): 'latest' {
  if (s.value === 'latest') return s.value;
  throw invalid(`${s.name} ${describe(s.value)} is not a checkpoint`, ACCEPTED.checkpoint!);
}

function resolve<T>(settings: Settings, field: string, check: (s: Setting) => T, fallback: T): T {
  const s = settings.get(field);
  return s === undefined ? fallback : check(s);
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Validates a connection configuration in object or string form and fills in defaults.
 * `null`/`undefined` (or an empty string) mean all defaults. Throws LatchkeyError EINVAL.
 */
export function parseConfig(input?: ConnectionConfig | string | null): ResolvedConfig {
  const settings = collect(input, CONFIG_FIELDS, CONFIG_SCHEMA, 'config');
  return {
    home: resolve<string | PageStoreLike | undefined>(settings, 'home', checkHome, undefined),
    create: resolve(settings, 'create', checkBoolean, true),
    cacheSize: resolve(settings, 'cacheSize', checkCacheSize, DEFAULT_CACHE_SIZE),
    pageSize: resolve(settings, 'pageSize', checkPageSize, DEFAULT_PAGE_SIZE),
    pageSizeGiven: settings.get('pageSize') !== undefined,
    role: resolve<Role>(settings, 'role', checkRole, 'leader'),
    refreshInterval: resolve(settings, 'refreshInterval', checkInterval, 0),
    debug: resolve(settings, 'debug', checkBoolean, false),
    takeover: resolve(settings, 'takeover', checkBoolean, false),
  };
}

/**
 * Validates the options of a reconfigure call: `{ role, checkpoint }`, or in string form
 * `disaggregated=(role=follower),checkpoint=latest`. The result holds only the keys given;
 * `null`/`undefined` (or an empty string) mean no change. Throws LatchkeyError EINVAL.
 */
export function parseReconfigure(input: ReconfigureOptions | string | null | undefined): ReconfigureOptions {
  const settings = collect(input, RECONFIGURE_FIELDS, RECONFIGURE_SCHEMA, 'reconfigure options');
  const out: ReconfigureOptions = {};
  const role = settings.get('role');
  if (role !== undefined) out.role = checkRole(role);
  const checkpoint = settings.get('checkpoint');
  if (checkpoint !== undefined) out.checkpoint = checkCheckpoint(checkpoint);
  return out;
}
