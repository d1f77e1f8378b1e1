// Status numbers returned across the Wasm boundary. Negative is a failure.
// bindings/errors.ts maps them to LatchkeyError codes and must stay in step with this file.

export const OK: i32 = 0;
export const NOTFOUND: i32 = -1;
export const EKEYSIZE: i32 = -2;
export const EVALUESIZE: i32 = -3;
export const ENOMEM: i32 = -4;
export const EINVAL: i32 = -5;
export const ENOENT: i32 = -6;
export const EBUSY: i32 = -7;
export const ECORRUPT: i32 = -8;
export const EINJECTED: i32 = -9;
export const ENOTLEADER: i32 = -11; // a write on a follower
// -12 is ESTALE, raised by the bindings (a fenced checkpoint)
export const EAGAIN: i32 = -13;     // a handle went stale (outdated, or from before a role change): get a fresh one and retry (never surfaces)
