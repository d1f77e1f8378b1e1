// Multi-worker throughput in Chromium: bench/throughput.js's runs (read-only gets; 50/50 gets and
// overwriting puts; 1, 2, 4 workers on one preloaded table) with Web Workers in a page, driven by
// playwright-core against scripts/chromium.js's Chromium and the demo's server (COOP/COEP) on loopback.
//
//   node bench/browser-throughput.js [--n 1000000] [--workers 1,2,4] [--seconds 2] [--rounds 2]
//
// Compare with: node bench/throughput.js --no-control (same defaults).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../demo/web/server.js';
import { launchChromium } from '../scripts/chromium.js';
import { fmtOps, printTable } from './format.js';
import { benchArgs } from './args.js';

const o = benchArgs('browser-throughput.js', {
  n: { type: 'number', default: 1_000_000 },
  workers: { type: 'list', default: [1, 2, 4] },
  seconds: { type: 'number', default: 2 },
  rounds: { type: 'number', default: 2 },
});

const server = await startServer({ port: 0 });
const profile = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
const ctx = await launchChromium(profile);
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(`${server.url}/bench/browser/index.html`);
  await page.waitForFunction(() => window.benchReady === true);
  page.setDefaultTimeout(0);
  const r = await page.evaluate((o) => window.bench.run(o), o);
  console.log(`\n## throughput in Chromium (${r.userAgent.match(/Chrome\/[\d.]+/)?.[0]}, ${r.cores} cores): N = ${o.n.toLocaleString('en-US')}, ` +
    `${o.seconds} s per run, workers ${o.workers.join(',')}, ${o.rounds} round(s)`);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = [];
  for (const [mix, label] of [['read', 'read-only (get)'], ['mixed', '50/50 get/put']]) {
    const base = mean(r.results[mix][o.workers[0]].map((x) => x.total));
    for (const w of o.workers) {
      const xs = r.results[mix][w].map((x) => x.total);
      const m = mean(xs);
      const spread = xs.length > 1 ? ` ±${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / m).toFixed(0)}%` : '';
      const misses = r.results[mix][w].reduce((s, x) => s + x.misses, 0);
      if (misses) console.log(`WARNING: ${mix} x${w}: ${misses} gets missed keys that are present`);
      rows.push([label, w, `${fmtOps(m)}${spread}`, fmtOps(m / w), `${(m / base).toFixed(2)}x`]);
    }
  }
  printTable(['mix', 'workers', 'total ops/s', 'per worker', `speedup vs ${o.workers[0]}`], rows);
  if (r.entries !== o.n) console.log(`WARNING: ${r.entries} entries after the runs, expected ${o.n}`);
} finally {
  await ctx.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
