/**
 * Arguments from JavaScript callers, who may pass anything: how a refused one is shown in an
 * error message, and option objects. Showing a value runs none of its code (no toString, no
 * Symbol.toPrimitive; at most its `constructor` is read), so a hostile or broken argument still
 * gets its LatchkeyError.
 */

import { invalid } from './errors.js';

const TYPED_ARRAY_TAG = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;

/** What kind of thing `v` is: 'null', 'number', 'an array', 'Uint16Array', 'Object', ... */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  try {
    if (Array.isArray(v)) return 'an array';
    // A genuine typed array by its internal kind, which no subclass or Proxy can change.
    const kind = Reflect.apply(TYPED_ARRAY_TAG, v, []) as string | undefined;
    if (kind !== undefined) return kind;
    const name: unknown = (v as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name !== 'string' || name === '') return 'an object';
    if (name === 'Uint8Array') return 'an object posing as a Uint8Array (a Proxy, or one that only inherits from Uint8Array.prototype)';
    return name;
  } catch {
    return 'an object that cannot be inspected (a revoked Proxy?)';
  }
}

/** A value as a message shows it: primitives as String() writes them (symbols as 'symbol'), objects by kind. */
export function shown(v: unknown): string {
  if (typeof v === 'symbol') return 'symbol';
  if (typeof v === 'object' || typeof v === 'function') return describe(v);
  return String(v);
}

/** Like shown, with strings in quotes. */
export function quoted(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : shown(v);
}

/** A value as a configuration message writes it: strings in double quotes as JSON writes them, bigints with their n. */
export function literal(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'bigint' ? `${v}n` : shown(v);
}

/**
 * An options argument: undefined means none; otherwise a (non-array) object with only the given
 * keys. `what` names the call ('range', 'create', 'verify').
 */
export function optionsOf<T extends object>(opts: T | undefined, what: string, keys: ReadonlySet<string>): T {
  if (opts === undefined) return {} as T;
  let isObject = opts !== null && typeof opts === 'object';
  try {
    if (isObject && Array.isArray(opts)) isObject = false;
  } catch {
    isObject = false; // a revoked Proxy
  }
  if (!isObject) throw invalid(`${what} options must be an object, got ${describe(opts)}`, `{ ${[...keys].join(', ')} }`);
  for (const k of Object.keys(opts)) if (!keys.has(k)) throw invalid(`${what}: unknown option '${k}'`, [...keys].join(', '));
  return opts;
}
