// Status numbers returned across the Wasm boundary. Negative is a failure.
// The bindings' `Status` (bindings/abi.generated.ts, made by scripts/gen-abi.js from this file via
// assembly/abi.ts) is generated from these; bindings/errors.ts maps them to LatchkeyError codes of
// the same names.

/** Success (or, where a count is returned, a count of 0 or more). */
export const OK: i32 = 0;
/** No such key (a get or remove), or a resume point that went away (a dump's next batch). */
export const NOTFOUND: i32 = -1;
/** A key of 0 bytes or longer than MAX_KEY. */
export const EKEYSIZE: i32 = -2;
/** A value longer than the page size allows with its key (limits.ts valueMax). */
export const EVALUESIZE: i32 = -3;
/** The arena is full (cacheSize), or memory could not grow. */
export const ENOMEM: i32 = -4;
/** A bad argument. */
export const EINVAL: i32 = -5;
/** No such table, or a dhandle not in use. */
export const ENOENT: i32 = -6;
/** A table, slot or list that is in use or full. */
export const EBUSY: i32 = -7;
/** An invariant is broken (the verifier's report is at S_OUT). */
export const ECORRUPT: i32 = -8;
/** An injection point armed with ERROR (assembly/inject.ts). */
export const EINJECTED: i32 = -9;
/** A write on a follower. */
export const ENOTLEADER: i32 = -11;
/** Raised by the bindings, never the core: a checkpoint fenced by a newer leader term. */
export const ESTALE: i32 = -12;
/** A handle went stale (outdated, or from before a role change): get a fresh one and retry (never surfaces). */
export const EAGAIN: i32 = -13;
