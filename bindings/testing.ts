/**
 * `latchkey/testing`: hooks for tests, not for applications (package.json exports "./testing";
 * the same file in Node and browsers). `conn.inject(name)` returns an InjectionPoint; this entry
 * gives its class and types and the names of the points, for deterministic interleaving tests
 * (docs/API.md, "Tools").
 *
 *   import { INJECTION_POINTS, type InjectionPoint } from 'latchkey/testing';
 */

export { InjectionPoint, INJECTION_POINTS, type InjectionPointName, type InjectionAction } from './inject.js';
