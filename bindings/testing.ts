/**
 * `latchkey/testing`: hooks for tests, not for applications (package.json exports "./testing";
 * the same file in Node and browsers). `conn.inject(name)` returns an InjectionPoint; this entry
 * gives its class and types and the names of the points, for deterministic interleaving tests
 * (docs/API.md, "Tools").
 *
 *   import { INJECTION_POINTS, type InjectionPoint } from 'latchkey/testing';
 */

export { InjectionPoint, INJECTION_POINTS, type InjectionPointName, type InjectionAction } from './inject.js';

import type { Connection } from './connection.js';

/**
 * Stops a connection's election from renewing its lease and from checking it (tests only): the
 * connection goes on believing it leads while its lease lapses and another node is elected. What
 * a process paused past its lease would see; its next append must be refused (ESTALE) by the
 * page store. A connection without `election`: nothing happens.
 */
export function deafenElection(conn: Connection): void {
  conn.electionHandle()?.deafen();
}
