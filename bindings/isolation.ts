/**
 * Cross-origin isolation: shared WebAssembly memory can be created and posted to Web Workers only
 * in a cross-origin-isolated page. open() calls checkIsolation() first, so a page without the
 * headers gets one clear error instead of a failure deep inside WebAssembly.Memory or postMessage.
 */

import { LatchkeyError } from './errors.js';

/** The two response headers that make a page cross-origin isolated. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/**
 * Throws ENOTISOLATED where shared memory is unavailable: SharedArrayBuffer missing, or a browser
 * reporting `crossOriginIsolated === false`. Node has SharedArrayBuffer and no such flag: passes.
 */
export function checkIsolation(): void {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  const noSab = typeof g.SharedArrayBuffer !== 'function';
  const notIsolated = g.crossOriginIsolated === false;
  if (!noSab && !notIsolated) return;
  const missing = [
    noSab ? 'SharedArrayBuffer is not defined' : '',
    notIsolated ? 'crossOriginIsolated is false' : '',
  ].filter(Boolean).join(' and ');
  const headers = Object.entries(ISOLATION_HEADERS).map(([k, v]) => `${k}: ${v}`).join(' and ');
  throw new LatchkeyError('ENOTISOLATED',
    `this page is not cross-origin isolated (${missing}), so it cannot create shared WebAssembly memory `
    + `for Web Workers; serve the page (and its workers) with the headers ${headers}, and every `
    + 'cross-origin resource it loads with CORS or Cross-Origin-Resource-Policy');
}
