// The follower demo's workload (demo/web/leader-worker.js runs it on the Node leader) and its
// model (test/browser.test.ts checks the tab's follower against it). Worker w's i-th operation
// is a pure function of (w, i): phases of PHASE operations alternate between growing (puts) and
// shrinking (removes, one put in five), over KEYS keys of its own visited in a fixed scattered
// order, so the tree splits and deletes pages while the tab watches. The table after each worker
// w did counts[w] operations is therefore known exactly: followModel(counts).

import { checksumOf } from './model.js';

export const FOLLOW_URI = 'table:follow';
export const KEYS = 2500;
export const PHASE = 4000;

/** Worker w's i-th operation (i from 0): { type: 'put', key, value } or { type: 'remove', key }. */
export function followOp(w, i) {
  const k = (i * 7919 + w * 1009) % KEYS; // 7919 is prime to KEYS: every key once in KEYS steps
  const key = `f${w}:${String(k).padStart(5, '0')}`;
  const shrinking = Math.floor(i / PHASE) % 2 === 1;
  if (shrinking && i % 5 !== 0) return { type: 'remove', key };
  return { type: 'put', key, value: `v${w}-${i}-${'x'.repeat(20 + (i % 23))}` };
}

/** The table after worker w did counts[w] operations: its count and checksum in key order. */
export function followModel(counts) {
  const m = new Map();
  counts.forEach((n, w) => {
    for (let i = 0; i < n; i++) {
      const op = followOp(w, i);
      if (op.type === 'put') m.set(op.key, op.value); else m.delete(op.key);
    }
  });
  return checksumOf([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
