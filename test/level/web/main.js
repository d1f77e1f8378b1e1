// abstract-level's own conformance suite (abstract-level/test, run by tape) against LatchkeyLevel
// in a browser page: the same run as test/level/suite.cjs does in Node, in memory. Bundled by Vite
// (test/browser.test.ts, with ./vite.config.js: the Node built-ins tape and abstract-level require
// are replaced by ./shims). The TAP text tape writes is collected; when tape's stream ends,
// window.levelSuite = { done: true, output, ms, databases, connections }, or { done: true, error }
// if the run could not start.
//
// Each database is a table on a latchkey connection the page opened (LatchkeyLevel's `connection`
// and `table` options), TABLES_PER_CONNECTION tables to a connection, not a connection of its
// own as in the Node run: every connection is a shared WebAssembly.Memory, and Chromium lets a
// page hold only about 125 of them at once (each reserves a large span of the address space;
// measured here: the 126th `new WebAssembly.Memory({ initial: 1, maximum: 512, shared: true })`
// throws RangeError "could not allocate memory"), while the suite makes 838 databases and leaves
// 426 of them open. With a connection each, its opens fail from about the 540th database on.
//
// The globals tape reads as it loads (`process`) are set first, and the suite's modules loaded
// after, by a dynamic import: a bundler may hoist a CommonJS module's code above a plain import.
import { installNodeGlobals } from './shims/globals.js';

installNodeGlobals();

const chunks = [];
window.levelSuiteSoFar = () => chunks.join(''); // the output until now (the test shows its end on a timeout)

async function run() {
  const [{ default: test }, { default: suite }, { LatchkeyLevel }, { open }] = await Promise.all([
    import('tape'), import('abstract-level/test'), import('latchkey/level'), import('latchkey'),
  ]);
  // The suite's factory is synchronous: the connections are opened first (room for 1600 databases).
  const TABLES_PER_CONNECTION = 200; // a connection holds at most 256 tables (MAX_TABLES)
  const connections = await Promise.all(Array.from({ length: 8 }, () => open({ cacheSize: '64MB' })));
  let databases = 0;
  const factory = (options) => {
    const connection = connections[Math.floor(databases / TABLES_PER_CONNECTION)];
    if (!connection) throw new Error(`the page's ${connections.length} connections are full (${databases} databases)`);
    return new LatchkeyLevel({ connection, table: `table:level-${databases++}`, ...options });
  };
  const started = performance.now();
  const stream = test.createStream(); // before any test is defined: tape then writes only here
  stream.on('data', (chunk) => { chunks.push(String(chunk)); });
  stream.on('end', () => {
    const output = chunks.join('');
    window.levelSuite = { done: true, output, ms: Math.round(performance.now() - started), databases, connections: connections.length };
    document.getElementById('out').textContent = output.split('\n').slice(-8).join('\n');
  });
  suite({ test, factory });
}

run().catch((e) => { window.levelSuite = { done: true, error: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` }; });
