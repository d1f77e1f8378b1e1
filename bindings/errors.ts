/**
 * Errors: every failure a caller can see is a LatchkeyError with a stable string `code`.
 *
 * The core (assembly/) reports failures as negative status numbers; `errorFromStatus` turns one
 * into a LatchkeyError. The numbers are shared with assembly/status.ts and must stay in step.
 */

export type LatchkeyErrorCode =
  | 'ENOTLEADER'
  | 'ESTALE'
  | 'EKEYSIZE'
  | 'EVALUESIZE'
  | 'ENOMEM'
  | 'EINVAL'
  | 'ENOENT'
  | 'EBUSY'
  | 'ECLOSED'
  | 'ECORRUPT'
  | 'EINJECTED'
  /** A browser page that is not cross-origin isolated (no shared memory): bindings/isolation.ts. */
  | 'ENOTISOLATED'
  /** A page store's storage failed (the message names the store, the operation and the cause). */
  | 'EIO';

export class LatchkeyError extends Error {
  readonly code: LatchkeyErrorCode;
  constructor(code: LatchkeyErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'LatchkeyError';
    this.code = code;
  }
}

/** Status numbers returned by the core; must match assembly/status.ts. */
export const Status = {
  OK: 0,
  NOTFOUND: -1,
  EKEYSIZE: -2,
  EVALUESIZE: -3,
  ENOMEM: -4,
  EINVAL: -5,
  ENOENT: -6,
  EBUSY: -7,
  ECORRUPT: -8,
  EINJECTED: -9,
  ENOTLEADER: -11,
  ESTALE: -12,
  /** A dhandle went stale (outdated or swept): the bindings get a fresh one and retry. */
  EAGAIN: -13,
} as const;

const CODE_BY_STATUS: Record<number, LatchkeyErrorCode> = {
  [Status.EKEYSIZE]: 'EKEYSIZE',
  [Status.EVALUESIZE]: 'EVALUESIZE',
  [Status.ENOMEM]: 'ENOMEM',
  [Status.EINVAL]: 'EINVAL',
  [Status.ENOENT]: 'ENOENT',
  [Status.EBUSY]: 'EBUSY',
  [Status.ECORRUPT]: 'ECORRUPT',
  [Status.EINJECTED]: 'EINJECTED',
  [Status.ENOTLEADER]: 'ENOTLEADER',
  [Status.ESTALE]: 'ESTALE',
};

/** Turns a negative core status into a LatchkeyError; `what` says which call failed. */
export function errorFromStatus(status: number, what: string): LatchkeyError {
  const code = CODE_BY_STATUS[status];
  if (code === undefined) return new LatchkeyError('ECORRUPT', `${what}: unexpected core status ${status}`);
  return new LatchkeyError(code, what);
}

/** Shorthand for the most common refusal: a bad argument, naming what was wrong and what is accepted. */
export function invalid(what: string, accepted: string): LatchkeyError {
  return new LatchkeyError('EINVAL', `${what}; accepted: ${accepted}`);
}
