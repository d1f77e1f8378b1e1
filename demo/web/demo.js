// The browser demo (`npm run demo:web`): Web Workers run a live workload on one table, the page
// charts their throughput, draws the tree (session.treeShape + renderTreeSvg) as it changes, and
// offers compact, checkpoint, step-down / step-up and verify. The table lives in an OPFS page
// store, so its checkpoints survive a reload.

import { open, OpfsPageStore, renderTreeSvg, LatchkeyError } from '../../dist/browser.js';
import { WorkerPool } from './pool.js';

const URI = 'table:demo';
const WORKERS = Number(new URLSearchParams(location.search).get('workers') ?? 4);
const $ = (id) => document.getElementById(id);

function log(msg, bad = false) {
  const line = document.createElement('div');
  line.textContent = `${new Date().toLocaleTimeString()}  ${msg}`;
  if (bad) line.className = 'err';
  $('log').append(line);
  $('log').scrollTop = $('log').scrollHeight;
}

let conn, session, pool;
try {
  conn = await open({ home: new OpfsPageStore('demo'), pageSize: 4096, cacheSize: '256MB' });
  session = conn.openSession();
  session.create(URI, { keyFormat: 'S', valueFormat: 'S' });
  pool = new WorkerPool(conn, WORKERS);
  await pool.ready;
  $('status').textContent = `cross-origin isolated; ${WORKERS} Web Workers attached to one shared memory; `
    + `role ${conn.role}; checkpoints to OPFS store "demo"`;
  window.demo = { conn, session, pool };
} catch (e) {
  $('status').textContent = e instanceof LatchkeyError ? `${e.code}: ${e.message}` : String(e);
  $('status').className = 'bad';
  for (const b of document.querySelectorAll('button')) b.disabled = true;
  window.demo = { error: { code: e.code, message: e.message } };
  throw e;
}

// ---- buttons ----
let running = false;
async function start() {
  if (running) return;
  running = true;
  pool.resume();
  log(`workload started on ${WORKERS} workers (6 s growing, 6 s shrinking by runs of 200 keys, gets and scans throughout)`);
  pool.all('workload', () => ({ uri: URI })).then(
    () => log('workload stopped'),
    (e) => log(`worker failed: ${e.message}`, true),
  ).finally(() => { running = false; });
}
function stop() { pool.stop(); }

/** Runs a button's action, logging its outcome; a LatchkeyError is shown with its code. */
async function act(name, fn) {
  try {
    const r = await fn();
    if (r !== undefined) log(`${name}: ${typeof r === 'string' ? r : JSON.stringify(r)}`);
  } catch (e) {
    log(`${name}: ${e instanceof LatchkeyError ? `${e.code}: ${e.message}` : String(e)}`, true);
  }
}

$('start').onclick = start;
$('stop').onclick = stop;
$('compact').onclick = () => act('compact', () => {
  const r = session.compact(URI);
  return `${r.pagesDeleted} pages deleted, ${r.halfDeadFinished} half-dead finished, ${r.pagesRecycled} recycled`;
});
$('verify').onclick = () => act('verify', () => {
  const r = session.verify(URI, { concurrent: running });
  return `ok, ${r.pages} pages, ${r.levels} levels (${r.full ? 'all checks' : 'checks that hold under concurrent writers'})`;
});
$('checkpoint').onclick = () => act('checkpoint', async () => {
  const t0 = performance.now();
  await session.checkpoint();
  return `done in ${(performance.now() - t0).toFixed(0)} ms`;
});
for (const [id, role] of [['stepdown', 'follower'], ['stepup', 'leader']]) {
  $(id).onclick = () => act(id === 'stepdown' ? 'step down' : 'step up', async () => {
    await conn.reconfigure({ role });
    $('status').textContent = $('status').textContent.replace(/role \w+/, `role ${conn.role}`);
    return `role is now ${conn.role}`;
  });
}

// ---- throughput chart and counters ----
const HISTORY = 60;
const series = Array.from({ length: WORKERS }, () => []);
const last = Array.from({ length: WORKERS }, (_, i) => pool.ops(i));
const COLORS = ['#4a90d9', '#3fa66b', '#f5a623', '#8e44ad', '#d0021b', '#16a085', '#7f8c8d', '#c0392b'];
let lastT = performance.now();

function drawChart() {
  const cv = $('chart');
  const g = cv.getContext('2d');
  const W = cv.width, H = cv.height, L = 56, B = 22;
  g.clearRect(0, 0, W, H);
  const totals = series[0].map((_, t) => series.reduce((s, w) => s + (w[t] ?? 0), 0));
  const max = Math.max(1000, ...totals) * 1.1;
  g.strokeStyle = '#ddd'; g.fillStyle = '#666'; g.font = '11px system-ui';
  for (let i = 0; i <= 4; i++) {
    const y = H - B - ((H - B - 10) * i) / 4;
    g.beginPath(); g.moveTo(L, y); g.lineTo(W - 8, y); g.stroke();
    g.fillText(fmt((max * i) / 4), 4, y + 4);
  }
  g.fillText(`ops/s, last ${HISTORY} s (half-second samples)`, L, H - 6);
  const x = (t, n) => L + ((W - 8 - L) * (HISTORY * 2 - n + t)) / (HISTORY * 2);
  const y = (v) => H - B - ((H - B - 10) * v) / max;
  const line = (vals, color, width) => {
    g.strokeStyle = color; g.lineWidth = width; g.beginPath();
    vals.forEach((v, t) => (t ? g.lineTo(x(t, vals.length), y(v)) : g.moveTo(x(t, vals.length), y(v))));
    g.stroke(); g.lineWidth = 1;
  };
  series.forEach((s, i) => line(s, COLORS[i % COLORS.length], 1));
  line(totals, '#222', 2);
  g.fillStyle = '#222';
  g.fillText(`total ${fmt(totals.at(-1) ?? 0)} ops/s`, W - 150, 20);
}

function fmt(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : `${Math.round(n)}`;
}

function tick() {
  const now = performance.now();
  const dt = (now - lastT) / 1000;
  lastT = now;
  const rows = [];
  for (let i = 0; i < WORKERS; i++) {
    const ops = pool.ops(i);
    const rate = ((ops - last[i]) >>> 0) / dt;
    last[i] = ops;
    series[i].push(rate);
    if (series[i].length > HISTORY * 2) series[i].shift();
    const errs = Object.entries(pool.errors(i)).map(([c, n]) => `${c} ${n}`).join(', ') || '-';
    rows.push(`<tr><td style="color:${COLORS[i % COLORS.length]}">worker ${i}</td><td>${fmt(rate)}</td><td>${ops}</td><td>${errs}</td></tr>`);
  }
  $('workers').tBodies[0].innerHTML = rows.join('');
  drawChart();
  const st = session.stats(URI);
  $('stats').textContent = `${st.entries} entries, depth ${st.depth}, ${st.pages} pages (${st.leafPages} leaves, `
    + `${st.halfDead} half-dead), ${st.deleted} deleted awaiting reclamation, ${st.freePages} free, `
    + `${st.splits} splits, ${st.deletions} deletions`;
  // The picture: read one page latch at a time on this (main) thread while the workers write.
  $('tree').innerHTML = renderTreeSvg(session.treeShape(URI), { width: Math.max(900, document.body.clientWidth - 48) });
}

setInterval(tick, 500);
tick();
if (new URLSearchParams(location.search).get('autostart') !== '0') start();
