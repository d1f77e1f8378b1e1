/**
 * The dump format of the CLI (bindings/cli.ts: `latchkey dump` writes it, `latchkey load` reads
 * it), in the manner of WiredTiger's `wt dump`. One table per dump; entries in key order.
 *
 * TEXT (`--format text`, the default): lines ending in "\n":
 *
 *     latchkey dump (format 1)
 *     Format=print
 *     Header
 *     table:users                                  <- the uri, escaped like a key
 *     key_format=S,value_format=u,page_size=8192   <- page_size: the home it came from
 *     Data
 *     alice                                        <- a key line, then its value line, ...
 *     \00\ff\5c
 *
 * A line holds the entry's bytes, printed: printable ASCII as itself, a backslash as `\\`, and
 * every other byte as `\` and two lowercase hex digits (as wt's print format). For a string
 * ('S') the text is UTF-8 and printable non-ASCII characters stay as they are; controls,
 * format characters (U+FEFF, U+200B...), separators (U+2028, U+00A0...) and unassigned or private
 * ones are printed as the \xx escapes of their UTF-8 bytes. So no line holds a raw newline, and
 * any key or value comes back byte for byte. An integer ('q') is printed in decimal (`-42`).
 *
 * JSON (`--format json`): one object, {"latchkey_dump": 1, "uri", "key_format",
 * "value_format", "page_size", "entries": [[key, value], ...]}: a string as a JSON string, bytes
 * ('u') as lowercase hex, an integer ('q') as a JSON number. `load` tells the two apart by the
 * first character ('{').
 */

import { LatchkeyError } from './errors.js';
import { type Format, FORMATS, FORMATS_ACCEPTED, readInt } from './codec.js';

export const DUMP_BANNER = 'latchkey dump (format 1)';

export interface DumpHeader {
  uri: string;
  keyFormat: Format;
  valueFormat: Format;
  pageSize: number;
}

/** A key or value as its format takes it (codec.ts): bytes ('u'), a string ('S'), an integer ('q'). */
type Field = Uint8Array | string | number;

/** A parsed dump: keys and values as the table's formats take them. */
export interface Dump extends DumpHeader {
  entries: [Field, Field][];
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Characters of a string printed as escapes: controls, format, separators, private, unassigned. */
const UNPRINTABLE = /[\p{C}\p{Z}]/u;

function escapeByte(b: number): string {
  if (b === 0x5c) return '\\\\';
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${HEX[b]}`;
}

/** One printed line (no "\n") for a key or value of the format. */
export function printBytes(b: Uint8Array, format: Format): string {
  if (format === 'q') return String(readInt(b, 0, b.length));
  let out = '';
  if (format === 'S') {
    let text: string | undefined;
    try { text = utf8.decode(b); } catch { /* not UTF-8: print bytes */ }
    if (text !== undefined) {
      for (const ch of text) {
        const c = ch.codePointAt(0)!;
        if (c < 0x80) out += escapeByte(c);
        else if (UNPRINTABLE.test(ch)) for (const x of encoder.encode(ch)) out += `\\${HEX[x]}`;
        else out += ch;
      }
      return out;
    }
  }
  for (const x of b) out += escapeByte(x);
  return out;
}

function bad(where: string, what: string, accepted: string): LatchkeyError {
  return new LatchkeyError('EINVAL', `dump ${where}: ${what}; accepted: ${accepted}`);
}

/** The bytes a printed line stands for (the inverse of printBytes, for either format). */
export function parsePrinted(line: string, where: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\') {
      if (line[i + 1] === '\\') { out.push(0x5c); i++; continue; }
      const h = line.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw bad(where, `bad escape ${JSON.stringify(line.slice(i, i + 3))}`, '\\\\ or \\ followed by two hex digits');
      out.push(parseInt(h, 16));
      i += 2;
    } else {
      const c = line.codePointAt(i)!;
      if (c < 0x80) out.push(c);
      else {
        const s = String.fromCodePoint(c);
        for (const x of encoder.encode(s)) out.push(x);
        i += s.length - 1;
      }
    }
  }
  return Uint8Array.from(out);
}

/** Characters of the longest safe integer in decimal, sign included ("-9007199254740991"). */
const INT_TEXT_MAX = 17;
const latin1 = new TextDecoder('latin1');

/** A safe integer written in decimal (a 'q' field), or EINVAL. */
function parseInteger(text: string, where: string): number {
  const n = /^-?(?:0|[1-9][0-9]*)$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw bad(where, `${JSON.stringify(text.slice(0, 40))} is not an integer`, 'a decimal integer from -(2^53 - 1) to 2^53 - 1, in an integer (q) field');
  return n;
}

/** A parsed field as its format takes it: bytes for 'u', a string for 'S' (EINVAL if not UTF-8), an integer for 'q'. */
function field(b: Uint8Array, f: Format, where: string): Field {
  if (f === 'u') return b;
  if (f === 'q') return parseInteger(latin1.decode(b.subarray(0, INT_TEXT_MAX + 1)), where); // no integer is longer
  try {
    return utf8.decode(b);
  } catch {
    throw bad(where, 'not UTF-8, in a string (S) field', 'UTF-8 text (escapes of bytes that form UTF-8)');
  }
}

/** The header lines of a text dump. */
export function textHeader(h: DumpHeader): string {
  return `${DUMP_BANNER}\nFormat=print\nHeader\n${printBytes(encoder.encode(h.uri), 'S')}\n`
    + `key_format=${h.keyFormat},value_format=${h.valueFormat},page_size=${h.pageSize}\nData\n`;
}

/** One entry of a text dump: its key line and value line. */
export function textEntry(h: DumpHeader, k: Uint8Array, v: Uint8Array): string {
  return `${printBytes(k, h.keyFormat)}\n${printBytes(v, h.valueFormat)}\n`;
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => HEX[x]).join('');

/** The opening of a JSON dump, up to and including "entries": [. */
export function jsonHeader(h: DumpHeader): string {
  return `{"latchkey_dump": 1, "uri": ${JSON.stringify(h.uri)}, "key_format": "${h.keyFormat}", "value_format": "${h.valueFormat}", "page_size": ${h.pageSize},\n "entries": [`;
}

/** One entry of a JSON dump (`first`: no comma before it). */
export function jsonEntry(h: DumpHeader, k: Uint8Array, v: Uint8Array, first: boolean): string {
  const enc = (b: Uint8Array, f: Format) => JSON.stringify(f === 'S' ? utf8.decode(b) : f === 'q' ? readInt(b, 0, b.length) : toHex(b));
  return `${first ? '' : ','}\n  [${enc(k, h.keyFormat)}, ${enc(v, h.valueFormat)}]`;
}

export const JSON_END = '\n]}\n';

function checkFormat(f: unknown, where: string): Format {
  if (!FORMATS.includes(f as Format)) throw bad(where, `format ${JSON.stringify(f)}`, FORMATS_ACCEPTED);
  return f as Format;
}

function checkPageSize(n: unknown, where: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 512 || (n & (n - 1)) !== 0) {
    throw bad(where, `page_size ${JSON.stringify(n)}`, 'a power of two');
  }
  return n;
}

/** Parses a text or JSON dump; EINVAL naming the line (or field) that is wrong. */
export function parseDump(text: string): Dump {
  return text.startsWith('{') ? parseJson(text) : parseText(text);
}

function parseText(text: string): Dump {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const expect = (i: number, want: string) => {
    if (lines[i] !== want) throw bad(`line ${i + 1}`, `${JSON.stringify(lines[i] ?? '(end of input)')}`, JSON.stringify(want));
  };
  expect(0, DUMP_BANNER);
  expect(1, 'Format=print');
  expect(2, 'Header');
  if (lines.length < 6) throw bad(`line ${lines.length + 1}`, 'the header ends early', 'uri, formats and Data lines');
  const uri = field(parsePrinted(lines[3], 'line 4'), 'S', 'line 4') as string;
  const cfg = new Map(lines[4].split(',').map((kv) => kv.split('=') as [string, string]));
  const known = ['key_format', 'value_format', 'page_size'];
  for (const k of cfg.keys()) if (!known.includes(k)) throw bad('line 5', `unknown key ${JSON.stringify(k)}`, known.join(', '));
  const keyFormat = checkFormat(cfg.get('key_format'), 'line 5, key_format');
  const valueFormat = checkFormat(cfg.get('value_format'), 'line 5, value_format');
  const pageSize = checkPageSize(Number(cfg.get('page_size')), 'line 5');
  expect(5, 'Data');
  if ((lines.length - 6) % 2 !== 0) throw bad(`line ${lines.length}`, 'a key without a value line', 'key and value lines in pairs');
  const entries: Dump['entries'] = [];
  for (let i = 6; i < lines.length; i += 2) {
    entries.push([
      field(parsePrinted(lines[i], `line ${i + 1}`), keyFormat, `line ${i + 1}`),
      field(parsePrinted(lines[i + 1], `line ${i + 2}`), valueFormat, `line ${i + 2}`),
    ]);
  }
  return { uri, keyFormat, valueFormat, pageSize, entries };
}

function parseJson(text: string): Dump {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw bad('JSON', (e as Error).message, 'the output of latchkey dump --format json');
  }
  if (d.latchkey_dump !== 1) throw bad('JSON', `latchkey_dump ${JSON.stringify(d.latchkey_dump)}`, '1');
  if (typeof d.uri !== 'string') throw bad('JSON', 'uri is not a string', "'table:<name>'");
  const keyFormat = checkFormat(d.key_format, 'JSON key_format');
  const valueFormat = checkFormat(d.value_format, 'JSON value_format');
  const pageSize = checkPageSize(d.page_size, 'JSON');
  if (!Array.isArray(d.entries)) throw bad('JSON', 'entries is not an array', '[[key, value], ...]');
  const dec = (x: unknown, f: Format, where: string): Field => {
    if (f === 'q') {
      if (!Number.isSafeInteger(x)) throw bad(where, `${JSON.stringify(x)} is not an integer`, 'a JSON integer from -(2^53 - 1) to 2^53 - 1');
      return x as number;
    }
    if (typeof x !== 'string') throw bad(where, `${JSON.stringify(x)} is not a string`, f === 'S' ? 'a string' : 'a hex string');
    if (f === 'S') return x;
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(x)) throw bad(where, `${JSON.stringify(x.slice(0, 40))} is not hex`, 'pairs of hex digits');
    return Uint8Array.from(x.match(/../g) ?? [], (h) => parseInt(h, 16));
  };
  const entries = d.entries.map((e: unknown, i: number): [Field, Field] => {
    if (!Array.isArray(e) || e.length !== 2) throw bad(`JSON entry ${i}`, 'not a pair', '[key, value]');
    return [dec(e[0], keyFormat, `JSON entry ${i} key`), dec(e[1], valueFormat, `JSON entry ${i} value`)];
  });
  return { uri: d.uri, keyFormat, valueFormat, pageSize, entries };
}
