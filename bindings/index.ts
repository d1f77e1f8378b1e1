/**
 * latchkey: a concurrent B-link tree over shared WebAssembly memory.
 * See README.md for the API in brief and ../assembly/btree/README.md for the protocol.
 *
 * This is the Node entry (package.json exports, condition "node"): it installs the Node platform.
 * browser.ts is the browser entry; test/entries.test.ts keeps their export lists in step.
 */

import './platform-node.js';
// open({ debug: true }) works in Node without `import 'latchkey/debug'` (nothing is bundled here).
import './debug.js';

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
export { DirectoryPageStore } from './store-dir.js';
// Browser only; constructing it in Node is EINVAL (no Web Workers), but both entries export the same names:
export { OpfsPageStore } from './store-opfs.js';
