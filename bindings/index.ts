/**
 * latchkey: a concurrent B-link tree over shared WebAssembly memory.
 * See README.md for the API in brief and ../assembly/btree/README.md for the protocol.
 *
 * This is the Node entry (package.json exports, condition "node"): it installs the Node platform
 * and exports the API of exports.ts, with the DirectoryPageStore that keeps a home in a
 * directory. browser.ts is the browser entry; test/entries.test.ts keeps their names the same.
 */

import './platform-node.js';
// open({ debug: true }) works in Node without `import 'latchkey/debug'` (nothing is bundled here).
import './debug.js';

export * from './exports.js';
export { DirectoryPageStore } from './store-dir.js';
