/**
 * docs/API.md stays complete: every name the package exports (values and types, both entries and
 * latchkey/testing),
 * every public member of its classes, every subpath export, every configuration key in both forms
 * and every error code must appear there. Adding one without documenting it fails here.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as node from '../dist/index.js';
import * as browser from '../dist/browser.js';
import * as testing from '../dist/testing.js';
import { CONFIG_KEYS, formatBytes, type ConfigKey } from '../dist/config.js';

const read = (rel: string) => readFileSync(new URL(`../${rel}`, import.meta.url), 'utf8');
const DOC = read('docs/API.md');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const missing = (names: Iterable<string>, present: (n: string) => boolean) => [...new Set(names)].filter((n) => !present(n)).sort();
/** Named in the docs as a word of code (not part of a longer name). */
const named = (n: string) => new RegExp(`(?<![\\w$])${escape(n)}(?![\\w$])`).test(DOC);

/** docs/API.md's configuration table as the schema (bindings/config.ts CONFIG_KEYS) writes it: the keys open() takes. */
function configTable(): string {
  const code = (s: string) => `\`${s}\``;
  const inString = (k: ConfigKey) => {
    const parts = k.path.split('.');
    const last = parts.pop()!;
    const grouped = (leaf: string) => code(parts.reduceRight((inner, group) => `${group}=(${inner})`, leaf));
    if (k.kind === 'boolean') return `${grouped(last)}, ${grouped(`${last}=false`)}`;
    return grouped(`${last}=${k.example}`);
  };
  const inObject = (k: ConfigKey) => code(k.objectIn === undefined ? k.name : `${k.objectIn}: { ${k.name} }`);
  const shownDefault = (k: ConfigKey) =>
    k.shownDefault ?? code(k.kind === 'size' ? `'${formatBytes(k.default as number)}'` : typeof k.default === 'string' ? `'${k.default}'` : String(k.default));
  const rows = (CONFIG_KEYS as readonly ConfigKey[])
    .filter((k) => k.calls !== 'reconfigure')
    .map((k) => `| ${inObject(k)} | ${inString(k)} | ${shownDefault(k)} | ${k.doc} |`);
  return ['| object form | string form | default | accepted |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The public members of `cls` as its declaration file declares them (not private). */
function publicMembers(dts: string, cls: string): string[] {
  const src = read(`dist/${dts}`);
  const start = src.search(new RegExp(`export declare class ${cls}\\b`));
  expect(start, `class ${cls} in dist/${dts}`).toBeGreaterThanOrEqual(0);
  const body = src.slice(start, src.indexOf('\n}', start));
  const names: string[] = [];
  for (const m of body.matchAll(/^ {4}((?:private |protected |static |readonly |get |set )*)([A-Za-z_$][\w$]*)\??[(<:;]/gm)) {
    if (!/private|protected/.test(m[1]) && m[2] !== 'constructor') names.push(m[2]);
  }
  return names;
}

describe('docs/API.md is complete', () => {
  it('names every value the entries export', () => {
    const names = [...Object.keys(node), ...Object.keys(browser), ...Object.keys(testing)];
    expect(names.length).toBeGreaterThan(15);
    expect(missing(names, named)).toEqual([]);
  });

  it('names every type the entries export', () => {
    // The entries' own export statements and those of the lists they re-export (`export * from`).
    const entries = ['index.ts', 'browser.ts', 'testing.ts'];
    const files = [...new Set(entries.flatMap((f) => [f, ...[...read(`bindings/${f}`).matchAll(/^export \* from '\.\/(\w+)\.js'/gm)].map((m) => `${m[1]}.ts`)]))];
    expect(files).toContain('exports.ts');
    const types = files.flatMap((f) => [...read(`bindings/${f}`).matchAll(/\btype ([A-Z]\w*)/g)].map((m) => m[1]));
    expect(types).toEqual(expect.arrayContaining(['Format', 'InjectionPointName']));
    expect(missing(types, named)).toEqual([]);
  });

  it('shows every public member of the classes as a member (x.name), statics as Class.name', () => {
    const classes: [string, string][] = [
      ['connection.d.ts', 'Connection'], ['session.d.ts', 'Session'], ['cursor.d.ts', 'Cursor'],
      ['inject.d.ts', 'InjectionPoint'], ['store.d.ts', 'MemoryPageStore'], ['store-dir.d.ts', 'DirectoryPageStore'],
      ['store-opfs.d.ts', 'OpfsPageStore'],
    ];
    const undocumented: string[] = [];
    for (const [dts, cls] of classes) {
      const members = publicMembers(dts, cls);
      // The parse sees every method the class really has (a check on the check).
      const proto = ({ ...node, ...testing } as Record<string, { prototype: object }>)[cls].prototype;
      const methods = Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor');
      expect(methods.filter((m) => !members.includes(m) && !new RegExp(`private ${m}\\b`).test(read(`dist/${dts}`)))).toEqual([]);
      const asMember = (n: string) => new RegExp(`\\.${escape(n)}(?![\\w$])|^\\s+${escape(n)}\\(`, 'm').test(DOC);
      undocumented.push(...missing(members, asMember).map((n) => `${cls}.${n}`));
    }
    expect(undocumented).toEqual([]);
  });

  it('names every subpath export as latchkey/<path>', () => {
    const pkg = JSON.parse(read('package.json'));
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.').map((k) => `latchkey/${k.slice(2)}`);
    expect(subpaths).toContain('latchkey/debug');
    expect(missing(subpaths, (s) => DOC.includes(`\`${s}\``))).toEqual([]);
  });

  it('gives every configuration key in both forms (object key, and key= in a string)', () => {
    // The accepted keys as parseConfig itself lists them, for an object and for a string.
    const accepted = (config: object | string) => {
      try {
        node.parseConfig(config as never);
      } catch (e) {
        return (e as Error).message.split('accepted: the keys ')[1];
      }
      throw new Error('parseConfig accepted an unknown key');
    };
    const objectKeys = accepted({ notAKey: 1 }).split(', ');
    const stringKeys = accepted('not_a_key=1').replace(/\w+=\(([^)]*)\)/g, '$1').split(', ');
    expect(objectKeys).toEqual(expect.arrayContaining(['home', 'cacheSize', 'role']));
    expect(stringKeys).toEqual(expect.arrayContaining(['cache_size', 'refresh_interval']));
    expect(missing(objectKeys, (k) => DOC.includes(`| \`${k}\` |`))).toEqual([]);
    expect(missing(stringKeys, (k) => DOC.includes(`${k}=`))).toEqual([]);
  });

  it('gives the configuration table as the schema declares it (each key once, in bindings/config.ts)', () => {
    const start = DOC.indexOf('| object form | string form | default | accepted |');
    expect(start).toBeGreaterThan(0);
    const table = DOC.slice(start, DOC.indexOf('\n\n', start));
    expect(table).toBe(configTable());
  });

  it('describes every error code in the table of codes', () => {
    expect(node.ERROR_CODES.length).toBeGreaterThan(10);
    expect(missing(node.ERROR_CODES, (c) => DOC.includes(`\n| \`${c}\` |`))).toEqual([]);
  });

  it('is what the README points at', () => {
    const readme = read('README.md');
    expect(readme).toContain('(docs/API.md)');
    expect(readme).not.toContain('../shared/API.md');
  });
});
