// Sleeping and waking: the core's one blocking primitive, delegated to the host.
//
// The core never executes memory.atomic.wait32 or memory.atomic.notify itself; it calls these two
// imports, which bindings/core.ts implements with JS Atomics.wait / Atomics.notify on the same
// shared memory. Measured here (node 20.20, V8 11.3), with those instructions inlined into the
// core's larger functions, code compiled by V8's baseline tier (Liftoff) misbehaved under
// contention: a local read back a stale value across a wake-up (a split then linked a page to
// itself and waited on its own latch), and a main thread asleep in wasm stalled workers. With the
// waits behind an import call, 25 of 25 runs of the same delete-heavy workload pass under
// --liftoff-only, where 6 of 6 hung before. The cost is one JS call on paths that sleep or wake a
// sleeper anyway.

/** Sleeps while the 32-bit word at `addr` equals `expected`, at most `timeoutMs` (< 0: no limit). */
// @ts-ignore: decorator
@external("env", "lk_wait")
export declare function futexWait(addr: usize, expected: i32, timeoutMs: f64): i32;

/** Wakes up to `count` (< 0: all) threads sleeping on the word at `addr`. */
// @ts-ignore: decorator
@external("env", "lk_wake")
export declare function futexWake(addr: usize, count: i32): i32;
