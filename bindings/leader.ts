/**
 * The leader lock of a home: who leads it, and is that leader still alive?
 *
 * THE LOCK IS THE NEWEST LOG RECORD. Every record a leader publishes (its term record, then each
 * checkpoint) names its holder: a connection id, and where the platform can tell, the pid, host,
 * thread and process start time. A leader that lets go publishes a final record without a holder
 * (the step-down's and close()'s last checkpoint; with no change since the newest image, a term
 * record of the same term naming that image, or, at a close, the removal of its own term record
 * when the record before it named no holder: bindings/connection.ts, release). So "the home has a live leader" is "the newest
 * record names a holder that is still alive", and taking the lock is claiming the next record,
 * which the store's create-if-absent `publish` makes atomic: of two racing opens exactly one
 * claims seq+1; the other starts again from the newest record, finds the winner's holder alive,
 * and gets EBUSY (bindings/connection.ts, stepUp). A holder that crashed (kill -9) leaves its
 * record behind, but its process is gone, so the next open finds the lock free.
 *
 * Why not a lock file: a separate file needs its own stale-lock breaking, and breaking one safely
 * (two processes both deciding it is stale, each unlinking the other's fresh lock) needs another
 * round of atomic steps; the log already has the one atomic step, and the record that takes the
 * lock is the one that fences the old leader, so the lock and the term can never disagree. It
 * also works on every page store (memory, directory, OPFS). Why not proper-lockfile: it judges a
 * lock stale by its mtime, so a leader paused longer than the staleness window (a debugger, a
 * long GC, a suspended laptop) loses its lock to a silent takeover, and a crashed one blocks for
 * the window; the process's own death is the right test. flock/fcntl would be that test, but Node
 * has neither without native code (and a held-open fd is not a lock).
 *
 * LIVENESS (holderLive):
 *   - a connection of this thread: alive while it is open (the registry below; every connection
 *     of this thread registers its check at open). Not "while its role word says leader": its
 *     term record is the newest record before its role word turns leader (a directory store's
 *     publish resolves only after its fsync), and an open in that gap must not take the lock;
 *   - another process on this host: `process.kill(pid, 0)` finds it, and its start time (from
 *     /proc/<pid>/stat, Linux) equals the recorded one, so a reused pid is not taken for it;
 *   - another thread of this process, or another host: this thread cannot check, so it is taken
 *     to be alive (EBUSY names it; takeover: true is the way past a holder known to be gone);
 *   - browsers (no pids): only connections of the same thread are seen; a holder in another tab
 *     is not, and is fenced by the term record as before (its next checkpoint fails with ESTALE).
 */

import { processIdentity, processAlive } from './core.js';

/** Who holds the leader lock: stored in each record a leader publishes. */
export interface Holder {
  /** A random id of the connection (unique across processes). */
  id: string;
  pid?: number;
  host?: string;
  thread?: number;
  /** The process's start time as the platform reports it (Linux: clock ticks after boot). */
  start?: string;
}

/** Leading connections of this thread: id -> "is it still leading?". */
const local = new Map<string, () => boolean>();

/** A fresh holder for a connection of this thread; `leading` says whether it leads now. */
export function newHolder(leading: () => boolean): Holder {
  const id = randomId();
  local.set(id, leading);
  return { id, ...processIdentity() };
}

/** The connection closed: its holder is gone for this thread. */
export function dropHolder(h: Holder): void {
  local.delete(h.id);
}

/** Describes `h` for messages: "pid 4242 on host box". */
export function describeHolder(h: Holder): string {
  return h.pid === undefined ? `connection ${h.id}` : `pid ${h.pid} on host ${h.host}${h.thread ? `, thread ${h.thread}` : ''}`;
}

/**
 * Is the holder alive? Returns undefined if it is gone (or there is none), else why it is taken to
 * be alive ("alive", or what this thread cannot check).
 */
export function holderLive(h: Holder | undefined): string | undefined {
  if (!h) return undefined;
  const mine = local.get(h.id);
  if (mine) return mine() ? 'alive: a connection of this thread' : undefined;
  const me = processIdentity();
  if (h.pid === undefined || me.pid === undefined) return undefined; // a browser holder: see above
  if (h.host === undefined || me.host === undefined) return `on a host this process cannot name (the runtime refused the host name), which it cannot check`;
  if (h.host !== me.host) return `on another host, which this process cannot check`;
  if (h.pid === me.pid) {
    // Same process: a holder of this thread not in the registry has closed.
    return h.thread === me.thread ? undefined : 'in another thread of this process, which this thread cannot check';
  }
  return processAlive(h.pid, h.start) ? 'alive' : undefined;
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
