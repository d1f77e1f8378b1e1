/**
 * `latchkey/debug`: the debug build of the core (assertions on, a larger .wasm), as its own entry.
 *
 *   import 'latchkey/debug';
 *   const conn = await open({ debug: true });
 *
 * Importing it registers the build; it exports nothing. Only this file names the debug .wasm, so
 * a bundler (Vite) emits it only into applications that import this entry. The Node entry
 * (index.ts) imports it itself: in Node nothing is bundled and the file is read only when a
 * connection asks for it.
 */

import { registerDebugBuild } from './core.js';

// A literal `new URL('...', import.meta.url)`: bundlers recognise it and emit the asset.
registerDebugBuild(new URL('../build/latchkey.debug.wasm', import.meta.url));
