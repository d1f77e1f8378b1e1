/**
 * The core's boundary is written once (assembly/abi.ts) and its TypeScript side generated from it
 * (scripts/gen-abi.js, at every build): these check that the two sides cannot disagree. The
 * generated file must be what the sources generate now (not an edited or older copy), the built
 * bindings must carry its values, the shipped builds must export exactly the functions it types,
 * and the bindings must read the core's offsets, codes and limits by its names, not as literals.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { generate, OUTPUT } from '../scripts/gen-abi.js';
import * as built from '../dist/abi.generated.js';
import { errorFromStatus, Status, ERROR_CODES } from '../dist/errors.js';

const read = (rel: string) => readFileSync(new URL(`../${rel}`, import.meta.url), 'utf8');

/** The flat constants of a generated text: NAME -> value. */
function flatConstants(text: string): Map<string, number> {
  return new Map([...text.matchAll(/^export const (\w+) = (-?\d+);$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** CoreExports' functions in a generated text: name -> parameter count. */
function coreExports(text: string): Map<string, number> {
  const body = text.slice(text.indexOf('export interface CoreExports {'));
  return new Map([...body.matchAll(/^ {2}(lk_\w+)\(([^)]*)\): \w+;$/gm)].map((m) => [m[1], m[2] === '' ? 0 : m[2].split(',').length]));
}

/** The functions a shipped build exports (not the runtime's __*): name -> parameter count. */
function shippedExports(file: string): Map<string, number> {
  const module = new WebAssembly.Module(readFileSync(new URL(`../${file}`, import.meta.url)));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  const { exports } = new WebAssembly.Instance(module, { env: { memory, lk_wait: () => 0, lk_wake: () => 0, lk_log_full: () => {}, abort: () => 0 } });
  const fns = new Map<string, number>();
  for (const e of WebAssembly.Module.exports(module)) {
    if (e.kind === 'function' && !e.name.startsWith('__')) fns.set(e.name, (exports[e.name] as (...a: number[]) => number).length);
  }
  return fns;
}

describe('the core boundary has one definition', () => {
  let fresh: string;
  beforeAll(async () => { fresh = await generate(); }, 120_000);

  it(`${OUTPUT} is what assembly/abi.ts generates now`, () => {
    expect(fresh).toContain('export interface CoreExports {');
    expect(read(OUTPUT)).toBe(fresh);
  });

  it('the built bindings carry the generated values', () => {
    const flat = flatConstants(fresh);
    expect(flat.get('MAX_KEY')).toBe(1024);
    expect(flat.size).toBeGreaterThan(40);
    for (const [name, v] of flat) expect((built as unknown as Record<string, number>)[name], name).toBe(v);
    const status = /export const Status = \{([\s\S]*?)\} as const;/.exec(fresh)![1];
    const codes = Object.fromEntries([...status.matchAll(/^ {2}(\w+): (-?\d+),$/gm)].map((m) => [m[1], Number(m[2])]));
    expect(built.Status).toEqual(codes);
  });

  for (const file of ['build/latchkey.wasm', 'build/latchkey.debug.wasm']) {
    it(`${file} exports exactly the functions CoreExports types, with their parameter counts`, () => {
      const typed = coreExports(read(OUTPUT)); // what the bindings were compiled against
      expect(typed.get('lk_scan')).toBe(8);
      expect(Object.fromEntries(shippedExports(file))).toEqual(Object.fromEntries(typed));
    });
  }

  it('every failure status of an error code\'s name becomes that error; others are unexpected', () => {
    for (const [name, n] of Object.entries(Status)) {
      if (n >= 0) continue;
      const code = errorFromStatus(n, 'op').code;
      expect(code, name).toBe((ERROR_CODES as readonly string[]).includes(name) ? name : 'ECORRUPT');
    }
    expect(errorFromStatus(Status.ESTALE, 'op').code).toBe('ESTALE');
  });

  /**
   * The bindings name what they read from the core: no numbered limit, no offset into the output
   * area written as a number.
   */
  it('the bindings read the core\'s offsets and limits by generated names, not literals', () => {
    // The output area is read as core.OUT (or OUT / out taken from it) throughout the bindings.
    const literal = /lk_limit\(|\b(?:OUT|out)\s*\+\s*\d|\bOUT_SIZE\s*=\s*\d|get(?:Uint|Int|Float)\d+\(\s*(?:OUT|out)\s*,/;
    const found: string[] = [];
    for (const f of readdirSync(new URL('../bindings/', import.meta.url))) {
      if (!f.endsWith('.ts') || f === 'abi.generated.ts') continue;
      read(`bindings/${f}`).split('\n').forEach((line, i) => {
        if (literal.test(line)) found.push(`bindings/${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
