// A browser tab as a follower (the demo's follower mode, demo/web/follow-demo.js): how soon after
// the Node leader's flush resolved the tab's copy holds it, and how long the page takes to draw
// its tree. Needs nats-server (exits 1 saying how to install it) and scripts/chromium.js's Chromium.
//
//   node bench/browser-follow.js [--points 50] [--ms 200] [--workers 4]
//
// The leader's workers write at their steady pace for --ms, then pause; at that flushed point
// (conn.flush() resolved) the clock starts, and one page.evaluate polls in the tab (every
// setTimeout(0)) until each worker's last put is readable there; its end stops the clock, so
// each figure includes one round trip to the page (about a millisecond on loopback). Then the
// tab's whole table is checked against the model (follow-workload.js): a mismatch exits 1.
// Drawing: the page's own timing of treeShape + renderTreeSvg + innerHTML, at most 10 a second.
// Nothing asserts on a timing.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFollowDemo } from '../demo/web/follow-demo.js';
import { NATS_MISSING, hasNatsServer } from '../demo/web/nats-server.js';
import { followOp, followModel } from '../demo/web/follow-workload.js';
import { launchChromium } from '../scripts/chromium.js';
import { benchArgs } from './args.js';
import { printTable } from './format.js';

const o = benchArgs('browser-follow.js', {
  points: { type: 'number', default: 50 },
  ms: { type: 'number', default: 200 },
  workers: { type: 'number', default: 4 },
});
if (!(o.points >= 1 && o.points <= 10_000) || !(o.ms >= 1 && o.ms <= 60_000)) throw new Error('browser-follow.js: --points 1..10000, --ms 1..60000');
if (!hasNatsServer()) { console.error(`browser-follow.js: ${NATS_MISSING}`); process.exit(1); }

/** Worker w's last put among its first n operations: [key, value]. */
function lastPut(w, n) {
  for (let i = n - 1; i >= 0; i--) { const op = followOp(w, i); if (op.type === 'put') return [op.key, op.value]; }
  return undefined;
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

const demo = await startFollowDemo({ port: 0, workers: o.workers });
const profile = mkdtempSync(join(tmpdir(), 'latchkey-bench-follow-'));
const ctx = await launchChromium(profile);
let failed = false;
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(`${demo.url}/`);
  await page.waitForFunction(() => window.follow !== undefined, undefined, { timeout: 30_000 });
  const error = await page.evaluate(() => window.follow.error ?? null);
  if (error) throw new Error(`browser-follow.js: the page did not open its follower: ${error}`);
  const caughtUp = [];
  let entries = 0;
  for (let p = 0; p < o.points; p++) {
    demo.leader.resume();
    await new Promise((r) => setTimeout(r, o.ms));
    const { counts } = await demo.leader.pause();
    const last = counts.map((n, w) => lastPut(w, n)).filter(Boolean);
    const t = performance.now();
    await page.evaluate((last) => new Promise((resolve) => {
      const c = window.follow.session.openCursor(window.follow.uri);
      const poll = () => {
        let all = false;
        try { all = last.every(([k, v]) => c.get(k) === v); } catch (e) { if (e?.code !== 'ENOENT') throw e; }
        if (all) { c.close(); resolve(); } else setTimeout(poll, 0);
      };
      poll();
    }), last);
    caughtUp.push(performance.now() - t);
    const want = followModel(counts);
    const got = await page.evaluate(() => window.follow.state());
    if (got.count !== want.count || got.checksum !== want.checksum) {
      console.error(`browser-follow.js: point ${p}: the tab's copy ${JSON.stringify(got)} is not the model ${JSON.stringify(want)}`);
      failed = true;
      break;
    }
    entries = want.count;
  }
  const drawMs = await page.evaluate(() => window.follow.drawMs);
  console.log(`\n## a browser tab following a Node leader (${o.workers} worker threads) over NATS on WebSocket: ${caughtUp.length} flushed points, ${o.ms} ms of writes before each`);
  console.log(`command: node bench/browser-follow.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  const f = (x) => `${x.toFixed(1)} ms`;
  printTable(['what', 'p50', 'p90', 'p99', 'max', 'samples'], [
    ['leader flush resolved → tab holds it', f(pct(caughtUp, 0.5)), f(pct(caughtUp, 0.9)), f(pct(caughtUp, 0.99)), f(Math.max(...caughtUp)), String(caughtUp.length)],
    [`tab draws its tree (${entries} entries at the end)`, f(pct(drawMs, 0.5)), f(pct(drawMs, 0.9)), f(pct(drawMs, 0.99)), f(Math.max(...drawMs)), String(drawMs.length)],
  ]);
} finally {
  await ctx.close();
  await demo.stop();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
