/**
 * Errors: every failure a caller can see is a LatchkeyError with a stable string `code`.
 *
 * The convention is Node's: `err.code` is the code, `err.message` says what was wrong and what is
 * accepted and never starts with the code (so `${err.code}: ${err.message}` reads once), and
 * `String(err)` and the first line of `err.stack` are `LatchkeyError [CODE]: message`.
 * `err.name` is 'LatchkeyError'.
 *
 * The core (assembly/) reports failures as negative status numbers (`Status`, generated from
 * assembly/status.ts); `errorFromStatus` turns one into the LatchkeyError of the same name.
 */

import { Status } from './abi.generated.js';

export { Status };

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

/**
 * The code of each failure status that has one: the error code of the status's own name (NOTFOUND
 * and EAGAIN are answers the bindings handle, never errors).
 */
const CODE_BY_STATUS: Record<number, LatchkeyErrorCode> = Object.fromEntries(Object.entries(Status)
  .filter(([name, n]) => n < 0 && (ERROR_CODES as readonly string[]).includes(name))
  .map(([name, n]) => [n, name as LatchkeyErrorCode]));

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

/** EINVAL for an optional peer dependency that did not load: `need` says what wanted it, `install` the packages to install. */
export function peerMissing(need: string, e: unknown, install: string): LatchkeyError {
  return invalid(`${need}, which did not load (${(e as Error).message})`, `npm install ${install}`);
}
