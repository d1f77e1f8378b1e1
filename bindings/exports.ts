/**
 * The API both entries export, whatever the platform: index.ts (Node) and browser.ts (browsers)
 * re-export this list with `export *` and add only their platform's DirectoryPageStore.
 * test/entries.test.ts checks that the two entries' names agree. Test hooks are not here: they
 * are `latchkey/testing` (testing.ts).
 */

export { open, attach, Connection, RoleChangeEvent, type ShareHandle } from './connection.js';
export { Session, type Table, type TableOptions, type TableStats, type CompactResult, type VerifyReport, type VerifyOptions, VERIFY_RULES } from './session.js';
export { Cursor, type Key, type Value, type RangeOptions, type EntryBatch } from './cursor.js';
export { type Format, type FormatType } from './codec.js';
export { LatchkeyError, ERROR_CODES, type LatchkeyErrorCode } from './errors.js';
export { MemoryPageStore, canWatch, type PageStore, type PageStoreRef, type WatchablePageStore, type NameChange } from './store.js';
export { parseConfig, type ConnectionConfig, type ResolvedConfig, type Role, type ElectionOptions } from './config.js';
export { type TreeShape, type TreePage, type PageFlag, PAGE_FLAGS } from './shape.js';
export { renderTreeSvg, type SvgOptions } from './svg.js';
export { ISOLATION_HEADERS } from './isolation.js';
// Browser only; constructing it in Node is EINVAL (no Web Workers), but both entries export the same names:
export { OpfsPageStore } from './store-opfs.js';
