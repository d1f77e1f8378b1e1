/**
 * latchkey for browsers: the browser entry (package.json exports, conditions "browser" and
 * "default"). The API of exports.ts, as the Node entry (index.ts) has it, on the web platform
 * (core.ts: the .wasm is fetched from `new URL('../build/latchkey.wasm', import.meta.url)`, only
 * workers block). Nothing here or below imports a Node module. The debug build of the core is not
 * on this path: `import 'latchkey/debug'` (debug.ts) adds it for open({ debug: true }).
 * test/entries.test.ts checks that this entry's names and index.ts's are the same.
 */

export * from './exports.js';
// Node only, here a stand-in that refuses with EINVAL (the same exports in both entries):
export { DirectoryPageStore } from './store-dir-web.js';
