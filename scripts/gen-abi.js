// Generates bindings/abi.generated.ts, the TypeScript side of the core's boundary, from its one
// definition, assembly/abi.ts (read that file's header for what crosses and what each becomes).
//
// How: asc compiles assembly/abi.ts into memory with --bindings raw (nothing is written, and the
// shipped builds are not this compilation). Its declaration file names every export with its
// parameters and types and the source element it comes from; the compiled module, instantiated
// over a fresh memory, gives every constant's value as the compiler computed it, so no expression
// of the AssemblyScript source is evaluated here. Doc comments and injection-point names are read
// from the source line that declares each element, strictly: a group whose ids are not 0..n-1 (or
// 1..n) each once, or a point without a name, stops the build.
//
//   node scripts/gen-abi.js          writes the file (npm run build runs this between asc and tsc)
//   node scripts/gen-abi.js --check  exits 1 if the file is not what it would write
//
// The file is not committed (.gitignore): every build writes it, so no copy can go stale.

import asc from 'assemblyscript/asc';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUTPUT = 'bindings/abi.generated.ts';
const read = (rel) => readFileSync(`${ROOT}/${rel}`, 'utf8');

function fail(msg) {
  throw new Error(`gen-abi: ${msg}`);
}

/** Compiles assembly/abi.ts in memory: { dts, wasm }. */
async function compile() {
  const files = {};
  const out = [];
  const stream = { write: (s) => { out.push(String(s)); return true; } };
  const { error } = await asc.main([
    'assembly/abi.ts', '--config', 'asconfig.json', '--target', 'release', '--optimizeLevel', '0',
    '--outFile', 'abi.wasm', '--bindings', 'raw', '--baseDir', ROOT,
  ], { writeFile: (name, contents) => { files[name] = contents; }, stdout: stream, stderr: stream });
  if (error) fail(`compiling assembly/abi.ts failed:\n${out.join('')}`);
  return { dts: files['abi.d.ts'], wasm: files['abi.wasm'] };
}

/** Every constant's value, from the module itself. */
function values(wasm) {
  const module = new WebAssembly.Module(wasm);
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  const env = { memory, lk_wait: () => 0, lk_wake: () => 0, lk_log_full: () => {}, abort: () => fail('the module trapped while starting') };
  const { exports } = new WebAssembly.Instance(module, { env });
  const got = new Map();
  for (const e of WebAssembly.Module.exports(module)) if (e.kind === 'global') got.set(e.name, exports[e.name].value);
  return got;
}

/**
 * The declarations in asc's .d.ts: functions { kind, name, params, result, source, element } and
 * constants { kind, name, type, source, element }, where source/element is the declaring file
 * (assembly/x.ts) and the element's name there.
 */
function declarations(dts) {
  const decls = [];
  const re = /\/\*\*\n\s+\* (assembly\/[\w/]+)\/(\w+)\n([\s\S]*?)\*\/\n\s+export function (\w+)\(([^)]*)\): (\w+);|\/\*\* (assembly\/[\w/]+)\/(\w+) \*\/\n\s+export const (\w+): \{\n\s+\/\*\* @type `(\w+)` \*\//g;
  for (const m of dts.matchAll(re)) {
    if (m[4] !== undefined) {
      decls.push({ kind: 'function', source: `${m[1]}.ts`, element: m[2], name: m[4], params: m[5], result: m[6] });
    } else {
      decls.push({ kind: 'const', source: `${m[7]}.ts`, element: m[8], name: m[9], type: m[10] });
    }
  }
  const named = new Set(decls.map((d) => d.name));
  for (const m of dts.matchAll(/export (?:function|const) (\w+)/g)) {
    if (!named.has(m[1]) && m[1] !== 'memory' && !m[1].startsWith('__')) fail(`cannot read the declaration of ${m[1]} in asc's .d.ts`);
  }
  return decls;
}

const sources = new Map();
/** The source lines of a file of the core. */
function lines(file) {
  if (!sources.has(file)) sources.set(file, read(file).split('\n'));
  return sources.get(file);
}

/** Where `export const|function element` is declared in `file`: { line, index }. */
function declaration(file, kind, element) {
  const src = lines(file);
  const re = new RegExp(`^(?:@inline )?export (?:${kind}) ${element}\\b`);
  const index = src.findIndex((l) => re.test(l));
  if (index < 0) fail(`no "export ${kind} ${element}" at the start of a line in ${file}`);
  return { line: src[index], index };
}

/** The doc comment right above a declaration (a JSDoc block), as lines of text; [] if none. */
function docAbove(file, index) {
  const src = lines(file);
  let i = index - 1;
  while (i >= 0 && /^\s*\/\/ @ts-ignore/.test(src[i])) i--;
  if (i < 0 || !/\*\/\s*$/.test(src[i])) return [];
  let j = i;
  while (j >= 0 && !/^\s*\/\*\*/.test(src[j])) j--;
  if (j < 0) return [];
  return src.slice(j, i + 1).join('\n')
    .replace(/^\s*\/\*\*\s?/, '').replace(/\s*\*\/\s*$/, '')
    .split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l, k, all) => l !== '' || (k > 0 && k < all.length - 1));
}

/** A declaration's trailing `// comment`, or undefined. */
function trailing(line) {
  const m = /;\s*\/\/\s*(.*)$/.exec(line);
  return m ? m[1].trim() : undefined;
}

function jsdoc(text, indent) {
  if (text.length === 0) return '';
  if (text.length === 1) return `${indent}/** ${text[0]} */\n`;
  return `${indent}/**\n${text.map((l) => `${indent} *${l ? ` ${l}` : ''}\n`).join('')}${indent} */\n`;
}

/** The doc of a constant: its JSDoc, else its trailing comment, plus where it is defined. */
function constDoc(c) {
  const { line, index } = declaration(c.source, 'const', c.element);
  const doc = docAbove(c.source, index);
  const tail = trailing(line);
  if (doc.length === 0 && tail) doc.push(tail);
  doc.push(`(${c.source} ${c.element})`);
  return doc;
}

const UNSIGNED = new Set(['u8', 'u16', 'u32', 'usize', 'bool']);

/** Checks that `ids` (name -> number) are exactly first .. first + n - 1; returns names by number. */
function dense(what, ids, first) {
  const byId = [];
  for (const [name, id] of ids) {
    if (!Number.isInteger(id) || id < first || id >= first + ids.size) fail(`${what}: ${name} = ${id}, outside ${first} .. ${first + ids.size - 1}`);
    if (byId[id - first] !== undefined) fail(`${what}: ${byId[id - first]} and ${name} are both ${id}`);
    byId[id - first] = name;
  }
  return byId;
}

const camel = (snake) => snake.toLowerCase().replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** The text of bindings/abi.generated.ts for the sources as they are now. */
export async function generate() {
  const { dts, wasm } = await compile();
  const value = values(wasm);
  const decls = declarations(dts);
  const consts = decls.filter((d) => d.kind === 'const').map((d) => {
    if (!value.has(d.name)) fail(`${d.name} is declared but not exported as a global`);
    let v = value.get(d.name);
    if (typeof v === 'bigint') fail(`${d.name} is 64-bit (${d.type}); the bindings take 32-bit constants`);
    if (UNSIGNED.has(d.type)) v >>>= 0;
    return { ...d, value: v };
  });
  const fns = decls.filter((d) => d.kind === 'function' && d.name.startsWith('lk_'));
  const take = (pred) => consts.filter(pred);

  const status = take((c) => c.source === 'assembly/status.ts');
  const points = take((c) => c.source === 'assembly/inject.ts' && c.name.startsWith('INJECT_') && c.name !== 'INJECT_POINTS');
  const pointCount = take((c) => c.name === 'INJECT_POINTS')[0];
  const rules = take((c) => c.source === 'assembly/verify.ts' && c.name.startsWith('RULE_'));
  const stats = take((c) => c.source === 'assembly/btree/stats.ts' && c.name.startsWith('STAT_'));
  const statCount = take((c) => c.name === 'STATS_FIELDS')[0];
  const flags = take((c) => c.source === 'assembly/page.ts' && c.name.startsWith('F_'));
  const grouped = new Set([...status, ...points, ...rules, ...stats, ...flags, pointCount, statCount]);
  const flat = consts.filter((c) => !grouped.has(c));

  let ts = `// Generated by scripts/gen-abi.js from assembly/abi.ts (npm run build); do not edit.
// The TypeScript side of the core's boundary: the instance's exports, status codes, limits,
// layout offsets and the named tables. Change the AssemblyScript side and rebuild.

/* eslint-disable */

`;
  // Status codes.
  ts += '/** Status numbers the core returns (assembly/status.ts); negative is a failure. */\nexport const Status = {\n';
  for (const c of status) ts += `${jsdoc(constDoc(c).slice(0, -1), '  ')}  ${c.name}: ${c.value},\n`;
  ts += '} as const;\n\n';

  // Injection points: ids dense from 0, names from each id's comment.
  if (!pointCount) fail('assembly/inject.ts: no INJECT_POINTS');
  const pointNames = new Map();
  for (const c of points) {
    const name = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\b/.exec(trailing(declaration(c.source, 'const', c.element).line) ?? '');
    if (!name) fail(`assembly/inject.ts: ${c.name} has no "// point-name" comment`);
    pointNames.set(name[1], c.value);
  }
  if (points.length !== pointCount.value) fail(`assembly/inject.ts: ${points.length} ids, INJECT_POINTS = ${pointCount.value}`);
  ts += `/** The injection points' names, by id (assembly/inject.ts INJECT_*). */\nexport const INJECTION_POINTS = [\n${dense('injection points', pointNames, 0).map((n) => `  '${n}',\n`).join('')}] as const;\n\n`;

  // Verifier rules: numbered from 1 (0 is no rule).
  const ruleNames = dense('verify rules', new Map(rules.map((c) => [c.name.slice('RULE_'.length), c.value])), 1);
  ts += `/** The verifier's rules, by their numbers in reports (assembly/verify.ts RULE_*). */\nexport const VERIFY_RULES = [\n  '',\n${ruleNames.map((n) => `  '${n}',\n`).join('')}] as const;\n\n`;

  // Statistics: slots dense from 0.
  if (!statCount || statCount.value !== stats.length) fail(`assembly/btree/stats.ts: ${stats.length} STAT_* slots, STATS_FIELDS = ${statCount?.value}`);
  const bySlot = dense('stats fields', new Map(stats.map((c) => [c.name, c.value])), 0).map((n) => stats.find((c) => c.name === n));
  ts += '/** Counts of a table\'s tree and of the connection\'s arena (session.stats; assembly/btree/stats.ts). */\nexport interface TableStats {\n';
  for (const c of bySlot) ts += `${jsdoc(constDoc(c).slice(0, -1), '  ')}  ${camel(c.name.slice('STAT_'.length))}: number;\n`;
  ts += '}\n';
  ts += `/** TableStats' fields in the order of their slots (f64 at S_OUT + slot * 8). */\nexport const STATS_FIELDS: readonly (keyof TableStats)[] = [${bySlot.map((c) => `'${camel(c.name.slice('STAT_'.length))}'`).join(', ')}];\n\n`;

  // Page flags.
  ts += '/** Page flags as assembly/page.ts numbers them. */\nexport const PAGE_FLAGS = {\n';
  for (const c of [...flags].sort((a, b) => a.value - b.value)) ts += `  ${c.name.slice('F_'.length)}: ${c.value},\n`;
  ts += '} as const;\n\n';

  // Everything else, in the order asc declares it.
  for (const c of flat) ts += `${jsdoc(constDoc(c), '')}export const ${c.name} = ${c.value};\n`;
  // The build's memory import: the module requires at least this many pages.
  const pages = JSON.parse(read('asconfig.json')).options.initialMemory;
  if (!Number.isInteger(pages)) fail('asconfig.json: no options.initialMemory');
  ts += `/** Wasm pages the memory a module is instantiated over starts with, at least (asconfig.json initialMemory). */\nexport const INITIAL_MEMORY_PAGES = ${pages};\n`;

  // The exports.
  ts += '\n/** The functions the core exports (assembly/index.ts), as asc declares them. */\nexport interface CoreExports {\n';
  for (const f of fns) {
    const doc = docAbove(f.source, declaration(f.source, 'function', f.element).index);
    ts += `${jsdoc(doc, '  ')}  ${f.name}(${f.params}): ${f.result};\n`;
  }
  ts += '}\n';
  return ts;
}

async function main() {
  const text = await generate();
  const path = `${ROOT}/${OUTPUT}`;
  if (process.argv.includes('--check')) {
    let now = '';
    try { now = readFileSync(path, 'utf8'); } catch { /* absent */ }
    if (now !== text) {
      console.error(`${OUTPUT} is not what assembly/abi.ts generates now; run: node scripts/gen-abi.js`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(path, text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
