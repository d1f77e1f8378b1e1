// bench/nats.js's follower: opens the home (argv: home, n) as a follower fed by the store's
// watch, prints "ready", then reads m<i> for i = 0..n-1 in turn until each is there, noting when
// (performance.timeOrigin + performance.now()); prints one JSON line { visible, wrong, lag }.
import { open } from '../dist/index.js';

const [home, nArg] = process.argv.slice(2);
const n = Number(nArg);
const conn = await open({ home, role: 'follower', cacheSize: '256MB' });
process.stdout.write('ready\n');
const s = conn.openSession();
let cursor;
const visible = [];
let wrong = 0;
const deadline = Date.now() + 60_000 + n * 50;
for (let i = 0; i < n; i++) {
  const key = `m${String(i).padStart(8, '0')}`;
  for (;;) {
    try {
      cursor ??= s.openCursor('table:lag');
      const v = cursor.get(key);
      if (v !== undefined) {
        visible.push(performance.timeOrigin + performance.now());
        if (!v.startsWith(`${i}.`) && v !== `${i}`) wrong++;
        break;
      }
    } catch (e) {
      if (e?.code !== 'ENOENT') throw e;
    }
    if (Date.now() > deadline) throw new Error(`nats-follower.js: ${key} never appeared`);
    await new Promise((r) => setImmediate(r));
  }
}
await new Promise((r) => setTimeout(r, 0));
process.stdout.write(`${JSON.stringify({ visible, wrong, lag: conn.lag })}\n`);
await conn.close();
