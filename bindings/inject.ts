/**
 * Injection points (assembly/inject.ts): named places in the core where a test parks a thread,
 * makes an operation fail, or counts passes. Armed from any thread; a parked thread resumes when
 * any thread calls wake(). Disarmed points cost one load of a word that is 0.
 */

import { LatchkeyError, invalid } from './errors.js';
import { optionsOf, quoted, shown } from './args.js';
import type { CoreThread } from './core.js';

/** In the order of the ids in assembly/inject.ts. */
export const INJECTION_POINTS = [
  'btree-search-before-child',
  'btree-move-right',
  'btree-split-before-parent-insert',
  'btree-split-finish-incomplete',
  'scan-before-next-page',
  'scan-step-left',
  'btree-insert-before-leaf-latch',
  'pagedel-after-parent-check',
  'pagedel-after-halfdead',
  'pagedel-before-unlink',
  'dhandle-open-before-set-open',
  'role-sweep',
  'dhandle-get-before-lock',
  'write-gate-outdated',
  'dhandle-open-before-recheck',
  'pagedel-left-link-read',
  'write-announced',
  'btree-optimistic-child',
] as const;
export type InjectionPointName = (typeof INJECTION_POINTS)[number];
export type InjectionAction = 'wait' | 'error' | 'count';
const ACTIONS: Record<InjectionAction, number> = { wait: 1, error: 2, count: 3 };
const ARM_KEYS = new Set(['skip', 'count']);
/** Most passes a count of the core (u32) holds. */
const MAX_PASSES = 0xffff_ffff;

/** An arm() option: a number of passes (default 0). */
function passes(what: string, v: unknown): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_PASSES) {
    throw invalid(`arm: ${what} ${shown(v)}`, `an integer from 0 to ${MAX_PASSES}`);
  }
  return v as number;
}

export class InjectionPoint {
  readonly name: InjectionPointName;
  private readonly id: number;
  private readonly core: CoreThread;

  constructor(core: CoreThread, name: string) {
    const id = INJECTION_POINTS.indexOf(name as InjectionPointName);
    if (id < 0) throw invalid(`unknown injection point ${quoted(name)}`, INJECTION_POINTS.join(', '));
    this.core = core;
    this.id = id;
    this.name = name as InjectionPointName;
  }

  /** Arms the point: after `skip` passes, the next `count` (0 = all) get the action. */
  arm(action: InjectionAction, opts?: { skip?: number; count?: number }): this {
    const a = typeof action === 'string' && Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (a === undefined) throw invalid(`unknown injection action ${quoted(action)}`, 'wait, error, count');
    const { skip, count } = optionsOf(opts, 'arm', ARM_KEYS);
    this.core.x.lk_inject_arm(this.id, a, passes('skip', skip), passes('count', count));
    return this;
  }

  disarm(): this {
    this.core.x.lk_inject_arm(this.id, 0, 0, 0);
    return this;
  }

  /** Wakes every thread parked here. */
  wake(): void {
    this.core.x.lk_inject_wake(this.id);
  }

  /**
   * Blocks until `n` threads have arrived at a 'wait' point (not on a browser main thread). The
   * wait is a JS Atomics.wait on the point's arrival word, never a sleep inside the core (see
   * threadCanBlock in core.ts).
   */
  awaitArrived(n = 1, timeoutMs = 10000): void {
    if (!Number.isInteger(n) || n < 0) throw invalid(`awaitArrived: ${shown(n)} threads`, 'a non-negative integer');
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw invalid(`awaitArrived: timeout ${shown(timeoutMs)}`, 'a non-negative number of milliseconds');
    const words = new Int32Array(this.core.memory.buffer);
    const at = this.core.x.lk_inject_arrived_addr(this.id) >> 2;
    const deadline = Date.now() + timeoutMs;
    for (let a = Atomics.load(words, at); a < n; a = Atomics.load(words, at)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new LatchkeyError('EBUSY', `injection point ${this.name}: ${a} of ${n} threads arrived within ${timeoutMs} ms`);
      }
      Atomics.wait(words, at, a, left);
    }
  }

  /** Passes since the point was armed. */
  get hits(): number {
    return this.core.x.lk_inject_hits(this.id);
  }

  /** Threads that have parked here since the point was armed. */
  get arrived(): number {
    return this.core.x.lk_inject_arrived(this.id);
  }
}
