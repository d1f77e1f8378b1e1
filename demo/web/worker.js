// A Web Worker of the browser demo and its checks: attaches to the page's connection (a
// conn.share() handle) and runs commands. The live workload runs until the page sets the stop
// word and reports through shared counters, so the page reads throughput without messages.
// Operations that fail are caught and counted apart from those done, and by LatchkeyError code
// (ENOTLEADER after a step-down). Cursors are kept across role changes: after a step-up the same
// cursors write again (a cursor's next operation moves it to a dhandle of the new role word).

import { attach, LatchkeyError } from '../../dist/browser.js';
import { CTRL, CODES } from './protocol.js';
import { keyOf, valueOf, expectedKeys, fnv, FNV_START } from './model.js';


let conn;
let id = 0;
let ctrl;

const errIndex = (code) => { const i = CODES.indexOf(code); return i < 0 ? CODES.length - 1 : i; };

/** Counts a refused operation by code (shared counters) and returns its code; rethrows anything else. */
function counted(err) {
  if (!(err instanceof LatchkeyError)) throw err;
  Atomics.add(ctrl, CTRL.FAILED + id, 1);
  Atomics.add(ctrl, CTRL.ERRORS + id * CODES.length + errIndex(err.code), 1);
  return err.code;
}

/** xorshift32: a deterministic stream per worker. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

/**
 * The demo's workload on `uri` until the stop word is set: phases of six seconds alternate
 * between growing (mostly puts) and shrinking (removing runs of 200 consecutive keys, which
 * empties leaves, so pages are deleted online), with gets and short scans throughout.
 */
function workload({ uri, keys = 60000 }) {
  const c = conn.openSession().openCursor(uri);
  const r = rng(0x9e3779b9 ^ (id * 7919));
  const t0 = performance.now();
  const key = (i) => `w${id}:${String(i).padStart(6, '0')}`;
  const value = 'v'.repeat(40);
  while (Atomics.load(ctrl, CTRL.STOP) === 0) {
    const shrinking = Math.floor((performance.now() - t0) / 6000) % 2 === 1;
    let ops = 0;
    for (let j = 0; j < 64; j++) {
      const x = r();
      const i = Math.floor(r() * keys);
      try {
        if (shrinking && x < 0.02) {
          for (let k = i; k < Math.min(keys, i + 200); k++) { c.remove(key(k)); ops++; }
        } else if (x < (shrinking ? 0.25 : 0.6)) {
          c.put(key(i), value); ops++;
        } else if (x < 0.9) {
          c.get(key(i)); ops++;
        } else if (x < 0.95) {
          c.remove(key(i)); ops++;
        } else {
          for (const _ of c.range({ gte: key(i), limit: 20 })) ops++;
        }
      } catch (err) {
        counted(err); // refused: counted apart, not as an operation done
      }
    }
    Atomics.add(ctrl, CTRL.OPS + id, ops);
  }
  c.close();
  return { stopped: true };
}

/**
 * The correctness check's part for worker `w`: insert its n keys, remove a third, overwrite
 * another third, then read all back and scan its own key range, checking each against the model.
 * Returns counts the page compares with the model.
 */
function check({ uri, w, n }) {
  const c = conn.openSession().openCursor(uri);
  let inserted = 0, removed = 0, hits = 0, wrong = 0;
  for (let i = 0; i < n; i++) if (c.insert(keyOf(w, i), valueOf(w, i, 0))) inserted++;
  for (let i = 0; i < n; i += 3) if (c.remove(keyOf(w, i))) removed++;
  for (let i = 1; i < n; i += 3) c.put(keyOf(w, i), valueOf(w, i, 1));
  const model = expectedKeys(w, n);
  for (const [k, v] of model) {
    const got = c.get(k);
    if (got === v) hits++; else wrong++;
  }
  // This worker's own range: every key of the model, in order, nothing else.
  let scanned = 0, order = 0, h = FNV_START;
  let prev = '';
  for (const [k, v] of c.range({ gte: `w${w}:`, lt: `w${w};` })) {
    if (k <= prev) order++;
    prev = k;
    scanned++;
    h = fnv(fnv(h, k), v);
  }
  c.close();
  return { w, inserted, removed, hits, wrong, scanned, order, checksum: h };
}

/**
 * `count` writes (puts) of keys `s{w}:...`, counting failures by code: the step-down check. One
 * cursor per table for the worker's life, so the check's calls before a step-down, after it and
 * after the step-up all go through the same cursor.
 */
const kept = new Map();
function writes({ uri, count, tag }) {
  let c = kept.get(uri);
  if (!c) kept.set(uri, (c = conn.openSession().openCursor(uri)));
  const byCode = {};
  let ok = 0;
  for (let i = 0; i < count; i++) {
    try {
      c.put(`s${id}:${tag}:${String(i).padStart(6, '0')}`, 'x');
      ok++;
    } catch (err) {
      const code = counted(err);
      byCode[code] = (byCode[code] ?? 0) + 1;
    }
  }
  return { ok, byCode };
}

const COMMANDS = { workload, check, writes };

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.cmd === 'attach') {
      id = m.id;
      ctrl = new Int32Array(m.ctrl);
      conn = await attach(m.handle);
      self.postMessage({ seq: m.seq, result: { attached: true, canBlock: conn.core.canBlock } });
      return;
    }
    if (m.cmd === 'close') {
      await conn?.close();
      self.postMessage({ seq: m.seq, result: { closed: true } });
      return;
    }
    const fn = COMMANDS[m.cmd];
    if (!fn) throw new Error(`worker: unknown command ${m.cmd}`);
    self.postMessage({ seq: m.seq, result: fn(m.args) });
  } catch (err) {
    self.postMessage({ seq: m.seq, error: { code: err?.code, message: String(err?.message ?? err) } });
  }
};
