/**
 * latchkey for browsers: the browser entry (package.json exports, conditions "browser" and
 * "default"). The same API as the Node entry (index.ts) on the web platform (core.ts: the .wasm
 * is fetched from `new URL('../build/latchkey.wasm', import.meta.url)`, only workers block),
 * plus OpfsPageStore. Nothing here or below imports a Node module. The debug build of the core
 * is not on this path: `import 'latchkey/debug'` (debug.ts) adds it for open({ debug: true }).
 * test/entries.test.ts checks that this list and index.ts's stay in step.
 */

export { open, attach, Connection, type ShareHandle } from './connection.js';
export { Session, type Table, type TableOptions, type TableStats, type CompactResult, type VerifyReport, type VerifyOptions, VERIFY_RULES } from './session.js';
export { Cursor, type Key, type Value, type RangeOptions } from './cursor.js';
export { type Format, type FormatType } from './codec.js';
export { LatchkeyError, ERROR_CODES, type LatchkeyErrorCode } from './errors.js';
export { MemoryPageStore, type PageStore, type PageStoreRef } from './store.js';
export { InjectionPoint, INJECTION_POINTS, type InjectionPointName, type InjectionAction } from './inject.js';
export { parseConfig, type ConnectionConfig, type ResolvedConfig, type Role } from './config.js';
export { type TreeShape, type TreePage, type PageFlag, PAGE_FLAGS } from './shape.js';
export { renderTreeSvg, type SvgOptions } from './svg.js';
export { ISOLATION_HEADERS } from './isolation.js';
export { OpfsPageStore } from './store-opfs.js';
// Node only, here a stand-in that refuses with EINVAL (the same exports in both entries):
export { DirectoryPageStore } from './store-dir-web.js';
