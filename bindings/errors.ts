/**
 * Errors: every failure a caller can see is a LatchkeyError with a stable string `code`.
 *
 * The convention is Node's: `err.code` is the code, `err.message` says what was wrong and what is
 * accepted and never starts with the code (so `${err.code}: ${err.message}` reads once), and
 * `String(err)` and the first line of `err.stack` are `LatchkeyError [CODE]: message`.
 * `err.name` is 'LatchkeyError'.
 *
 * The core (assembly/) reports failures as negative status numbers; `errorFromStatus` turns one
 * into a LatchkeyError. The numbers are shared with assembly/status.ts and must stay in step.
 */

/** Every code a LatchkeyError can carry (docs/API.md says what each means). */
export const ERROR_CODES = [
  'ENOTLEADER',
  'ESTALE',
  'EKEYSIZE',
  'EVALUESIZE',
  'ENOMEM',
  'EINVAL',
  'ENOENT',
  'EBUSY',
  'ECLOSED',
  'ECORRUPT',
  'EINJECTED',
  /** A browser page that is not cross-origin isolated (no shared memory): bindings/isolation.ts. */
  'ENOTISOLATED',
  /** A page store's storage failed (the message names the store, the operation and the cause). */
  'EIO',
] as const;
export type LatchkeyErrorCode = (typeof ERROR_CODES)[number];

export class LatchkeyError extends Error {
  readonly code: LatchkeyErrorCode;
  constructor(code: LatchkeyErrorCode, message: string) {
    super(message);
    this.code = code;
    // V8's stack starts `LatchkeyError: message`; name the code there too, as Node's own errors do
    // (`TypeError [ERR_X]: ...`), so that a printed stack (console.log, an uncaught error, a test
    // runner's report) shows it. Other engines' stacks carry no such line.
    const stack = this.stack;
    const head = `${this.name}: `;
    if (typeof stack === 'string' && stack.startsWith(head)) this.stack = `${this.name} [${code}]: ${stack.slice(head.length)}`;
  }

  /** `LatchkeyError [CODE]: message`, as Node prints its own coded errors. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}
// On the prototype, not each error: `err.name` is 'LatchkeyError', and inspection (console.log)
// shows the stack and `code` with no `name` property beside them.
Object.defineProperty(LatchkeyError.prototype, 'name', { value: 'LatchkeyError', writable: true, configurable: true });

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
