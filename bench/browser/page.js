// The page of bench/browser-throughput.js (bench/browser/index.html): one connection, one table
// preloaded with N keys, then W Web Workers on it at once, exactly as bench/throughput.js does
// with node:worker_threads. window.bench.run(options) returns the per-run rates.
import { open } from '../../dist/browser.js';
import { makeKeys, range, byteKeys } from '../keys.js';

const READY = 0, GO = 1, STOP = 2;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runOnce(handle, keys, n, mix, count, seconds) {
  const ctrl = new Int32Array(new SharedArrayBuffer(16));
  const workers = [];
  const done = [];
  for (let i = 0; i < count; i++) {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    done.push(new Promise((res, rej) => { w.onmessage = (e) => res(e.data); w.onerror = (e) => rej(new Error(e.message)); }));
    w.postMessage({ handle, keyBytes: keys.bytes.buffer, n, mix, seed: 0x1000 + 7919 * i + count, ctrl: ctrl.buffer });
    workers.push(w);
  }
  while (Atomics.load(ctrl, READY) < count) await sleep(5);
  Atomics.store(ctrl, GO, 1);
  Atomics.notify(ctrl, GO);
  await sleep(seconds * 1000);
  Atomics.store(ctrl, STOP, 1);
  const reports = await Promise.all(done);
  for (const w of workers) w.terminate();
  const misses = reports.reduce((s, r) => s + r.misses, 0);
  return { total: reports.reduce((s, r) => s + r.ops / (r.ms / 1000), 0), misses };
}

async function run({ n = 1_000_000, workers = [1, 2, 4], seconds = 2, rounds = 2, pageSize = 8192 } = {}) {
  const keys = makeKeys(n, true);
  const conn = await open({ cacheSize: '1GB', pageSize });
  const s = conn.openSession();
  s.create('table:bench');
  const c = s.openCursor('table:bench');
  const VALUE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  for (const k of byteKeys(keys, range(0, n))) c.put(k, VALUE);
  const handle = conn.share();
  const results = {};
  for (let round = 0; round < rounds; round++) {
    for (const mix of ['read', 'mixed']) {
      for (const w of round % 2 ? [...workers].reverse() : workers) {
        const r = await runOnce(handle, keys, n, mix, w, seconds);
        ((results[mix] ??= {})[w] ??= []).push(r);
      }
    }
  }
  const entries = s.stats('table:bench').entries;
  await conn.close();
  return { results, entries, userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency };
}

window.bench = { run };
window.benchReady = true;
