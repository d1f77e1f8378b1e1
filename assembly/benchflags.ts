// Compile-time flags for benchmark builds (bench/epoch.js): each compiles one piece of per-operation
// bookkeeping out of the core, so that a benchmark can time the same source built with and without
// it. They are set only on the asc command line, never in asconfig.json:
//
//   asc assembly/index.ts --config asconfig.json --target release --use LK_BENCH_NO_EPOCH=1
//
// `--use NAME=<integer>` makes NAME a global integer constant (AssemblyScript registers it as an
// inlined i32). Without it NAME is not defined at all, and isDefined() folds to false at compile
// time, so each flag below is an @inline constant false: `if (FLAG) ...` is dropped by the
// compiler itself (a constant condition compiles only the branch taken), and the npm run build
// outputs, release and debug, are the same bytes as without this file. bench/epoch.js checks that the default build it makes is
// byte-identical to build/latchkey.wasm.
//
// Such a build is not a correct engine (without epoch announcements a deleted page can be recycled
// under a reader; without the write gate a step-down does not wait for writes): benchmarks only.

/**
 * LK_BENCH_NO_EPOCH=1: epochEnter and epochExit (assembly/epoch.ts) announce nothing. What the
 * epoch bookkeeping costs an operation (bench/epoch.js --variant epoch).
 */
// @ts-ignore: decorator
@inline
// @ts-ignore: LK_BENCH_NO_EPOCH exists only when given by asc --use
export const BENCH_NO_EPOCH: bool = isDefined(LK_BENCH_NO_EPOCH) ? LK_BENCH_NO_EPOCH != 0 : false;

/**
 * LK_BENCH_NO_GATE=1: writeEnter passes at once (OK) and writeExit clears nothing
 * (assembly/conn/role.ts). What the write gate costs a write (bench/epoch.js --variant gate).
 */
// @ts-ignore: decorator
@inline
// @ts-ignore: LK_BENCH_NO_GATE exists only when given by asc --use
export const BENCH_NO_GATE: bool = isDefined(LK_BENCH_NO_GATE) ? LK_BENCH_NO_GATE != 0 : false;
