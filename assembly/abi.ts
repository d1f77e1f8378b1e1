// The core's boundary with the bindings, declared once: every function the bindings call and
// every constant, status code and layout offset they read. Not part of the shipped build (that is
// assembly/index.ts): scripts/gen-abi.js, run by `npm run build` between asc and tsc, compiles
// this file into memory with asc's --bindings and writes bindings/abi.generated.ts from what it
// exports, the way WiredTiger generates its API and statistics tables from dist/*.py:
//
//   the lk_* functions (index.ts)   CoreExports, the type of an instance's exports (names,
//                                   parameters and doc comments as declared there)
//   every constant below            a constant of the same name and value, with its doc comment
//   status.ts                       also Status, { OK: 0, NOTFOUND: -1, ... }
//   inject.ts INJECT_*              also INJECTION_POINTS, by id, named by each id's comment
//   verify.ts RULE_*                also VERIFY_RULES, by number, named by the constants
//   btree/stats.ts STAT_*           also TableStats and STATS_FIELDS, by slot, in camelCase
//   page.ts F_* (these five)        also PAGE_FLAGS, { LEAF: 1, ... }
//
// The bindings import these names only; a literal offset, code or limit of the core written in
// bindings/ is a second copy. test/abi.test.ts checks that the generated file is what this file
// generates now and that the shipped builds export exactly CoreExports.

export * from "./index";
export * from "./status";
export * from "./limits";
export * from "./scratch";
export * from "./inject";
export * from "./verify";
export * from "./btree/stats";
export * from "./btree/dump";
export {
  BOUND_NONE, BOUND_INCLUSIVE, BOUND_EXCLUSIVE, SCAN_FLAGS, SCAN_BYTES, SCAN_LAST, SCAN_RESUME, SCAN_RESUME_SIZE,
  SCAN_COUNT, SCAN_ENTRIES, SCAN_END, SCAN_NO_RESUME, SCAN_REVERSE, SCAN_SPAN,
} from "./btree/scan";
export { ARENA_GUARD, TOKEN_NONE, TOKEN_RECLAIMING, CONN_TERM, CONN_LAST_SEQ, CONN_IMAGE_SEQ } from "./arena";
export { NEXT_NAME_LEN, NEXT_FORMATS, NEXT_NAME } from "./catalog";
export { COMPACT_DELETED, COMPACT_FINISHED, COMPACT_RECYCLED } from "./btree/pagedel";
export { MODE_PUT, MODE_INSERT } from "./btree/insert";
export {
  BATCH_IN, BATCH_IN_SIZE, BATCH_OUT, BATCH_OUT_SIZE, BATCH_NOTFOUND, BATCH_OP_HEADER, COLUMNS_MAX, COLUMNS_KEY_ENDS, COLUMNS_VALUE_ENDS,
  COLUMNS_KEYS, COLUMNS_KEYS_SIZE, COLUMNS_VALUES,
} from "./btree/batch";
export { ROLE_LEADER } from "./conn/role";
export {
  LOG_HEADER, LOG_R_LEN, LOG_R_CRC, LOG_R_TYPE, LOG_R_FLAGS, LOG_R_SLOT, LOG_R_TREE, LOG_R_KLEN,
  LOG_SKIP, LOG_PUT, LOG_REMOVE, LOG_CREATE, LOG_DROP, LOG_BATCH_BEGIN, LOG_BATCH_COMMIT, LOG_TERM_START, LOG_F_BATCH,
} from "./log/log";
export { F_LEAF, F_ROOT, F_HALF_DEAD, F_DELETED, F_INCOMPLETE_SPLIT } from "./page";
// The page prefix's header fields, for tests that read or corrupt a page's layout (page.ts).
export { P_PREFIX, P_PREFIX_HEAD, P_HIGH_HEAD } from "./page";
