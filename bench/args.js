// Command-line options of the benchmarks, parsed by node:util parseArgs (strict: an unknown option,
// a missing value or a stray positional argument is an error naming the script and every option
// it accepts).
//
//   const o = benchArgs('micro.js', {
//     n: { type: 'number', default: 100_000 },
//     'page-sizes': { type: 'boolean' },
//     workers: { type: 'list', default: [1, 2, 4] },
//   });
//   o.n, o.pageSizes, o.workers
//
// Types: 'number' (Number() of the value: the script checks its range, and NaN fails those
// checks), 'list' (comma-separated numbers), 'string', 'boolean' (a flag without a value; false
// unless given). Results are keyed by the option's name in camelCase (--page-size: pageSize).

import { parseArgs } from 'node:util';

const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/** Parses `argv` (default: this process's arguments) against `spec`; throws on anything else. */
export function benchArgs(script, spec, argv = process.argv.slice(2)) {
  const options = {};
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  const accepted = Object.entries(spec).map(([name, s]) => (s.type === 'boolean' ? `--${name}` : `--${name} <${s.type === 'list' ? 'n,n,...' : s.type}>`)).join(', ');
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new Error(`${script}: ${e.message} (accepted: ${accepted})`);
  }
  const o = {};
  for (const [name, s] of Object.entries(spec)) {
    const v = values[name];
    let x;
    if (s.type === 'boolean') x = v ?? false;
    else if (v === undefined) x = s.default;
    else if (s.type === 'number') x = Number(v);
    else if (s.type === 'list') x = v.split(',').map(Number);
    else x = v;
    o[camel(name)] = x;
  }
  return o;
}
