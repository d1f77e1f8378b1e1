// The browser demo (`npm run demo:web`): Web Workers run a live workload on one table, the page
// charts their throughput (operations done, and refused ones apart), draws the tree
// (session.treeShape + renderTreeSvg) as it changes, and offers compact, checkpoint, step-down /
// step-up and verify, each button enabled only where the role allows it. The workers keep their
// cursors across role changes: after a step-up their writes succeed again. The table lives in an
// OPFS page store, so its checkpoints survive a reload.

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
/** A role change or a checkpoint in progress (they take the checkpoint lock in turn). */
let busy = false;

/** Enables the buttons the current role allows: step down, checkpoint on a leader; step up on a follower. */
function updateButtons() {
  const leader = conn.role === 'leader';
  $('start').disabled = running;
  $('stop').disabled = !running;
  $('stepdown').disabled = busy || !leader;
  $('checkpoint').disabled = busy || !leader;
  $('stepup').disabled = busy || leader;
  $('status').textContent = $('status').textContent.replace(/role \w+/, `role ${conn.role}`);
}

async function start() {
  if (running) return;
  running = true;
  updateButtons();
  pool.resume();
  log(`workload started on ${WORKERS} workers (6 s growing, 6 s shrinking by runs of 200 keys, gets and scans throughout)`);
  pool.all('workload', () => ({ uri: URI })).then(
    () => log('workload stopped'),
    (e) => log(`worker failed: ${e.message}`, true),
  ).finally(() => { running = false; updateButtons(); });
}
function stop() { pool.stop(); }

/**
 * Runs a button's action, logging its outcome; a LatchkeyError is shown with its code. With
 * `exclusive`, the role buttons stay disabled until it is done.
 */
async function act(name, fn, exclusive = false) {
  if (exclusive) { busy = true; updateButtons(); }
  try {
    const r = await fn();
    if (r !== undefined) log(`${name}: ${typeof r === 'string' ? r : JSON.stringify(r)}`);
  } catch (e) {
    log(`${name}: ${e instanceof LatchkeyError ? `${e.code}: ${e.message}` : String(e)}`, true);
  } finally {
    if (exclusive) busy = false;
    updateButtons();
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
}, true);
for (const [id, role] of [['stepdown', 'follower'], ['stepup', 'leader']]) {
  $(id).onclick = () => act(id === 'stepdown' ? 'step down' : 'step up', async () => {
    await conn.reconfigure({ role });
    return `role is now ${conn.role}${role === 'follower' ? ' (the workers\' writes are refused)' : ' (the workers\' cursors write again)'}`;
  }, true);
}
updateButtons();

// ---- throughput chart and counters ----
const HISTORY = 60;
const SAMPLES_PER_S = 2;
const series = Array.from({ length: WORKERS }, () => []);
/** Refused operations per second, all workers together. */
const refusedSeries = [];
const last = Array.from({ length: WORKERS }, (_, i) => pool.ops(i));
const lastFailed = Array.from({ length: WORKERS }, (_, i) => pool.failed(i));
const COLORS = ['#4a90d9', '#3fa66b', '#f5a623', '#8e44ad', '#d0021b', '#16a085', '#7f8c8d', '#c0392b'];
const REFUSED_COLOR = '#d0021b';
let lastT = performance.now();

function drawChart() {
  const cv = $('chart');
  const g = cv.getContext('2d');
  const W = cv.width, H = cv.height, L = 62, B = 34, T = 26;
  g.clearRect(0, 0, W, H);
  const totals = series[0].map((_, t) => series.reduce((s, w) => s + (w[t] ?? 0), 0));
  const max = Math.max(1000, ...totals, ...refusedSeries) * 1.1;
  const n = HISTORY * SAMPLES_PER_S;
  const x = (t, len) => L + ((W - 8 - L) * (n - len + t)) / n;
  const y = (v) => H - B - ((H - B - T) * v) / max;
  // Axes: operations per second up the left, seconds before now along the bottom.
  g.strokeStyle = '#ddd'; g.fillStyle = '#666'; g.font = '11px system-ui'; g.textAlign = 'right';
  for (let i = 0; i <= 4; i++) {
    const yy = y((max * i) / 4);
    g.beginPath(); g.moveTo(L, yy); g.lineTo(W - 8, yy); g.stroke();
    g.fillText(fmt((max * i) / 4), L - 4, yy + 4);
  }
  g.textAlign = 'center';
  for (let s = HISTORY; s >= 0; s -= 10) {
    const xx = x(n - s * SAMPLES_PER_S, n);
    g.beginPath(); g.moveTo(xx, H - B); g.lineTo(xx, H - B + 4); g.stroke();
    g.fillText(s === 0 ? 'now' : `-${s} s`, xx, H - B + 15);
  }
  g.save(); g.translate(12, (H - B + T) / 2); g.rotate(-Math.PI / 2); g.fillText('operations / s', 0, 0); g.restore();
  g.fillText(`seconds before now (${SAMPLES_PER_S} samples a second)`, (L + W) / 2, H - 4);
  const line = (vals, color, width, dash = []) => {
    g.strokeStyle = color; g.lineWidth = width; g.setLineDash(dash); g.beginPath();
    vals.forEach((v, t) => (t ? g.lineTo(x(t, vals.length), y(v)) : g.moveTo(x(t, vals.length), y(v))));
    g.stroke(); g.lineWidth = 1; g.setLineDash([]);
  };
  series.forEach((s, i) => line(s, COLORS[i % COLORS.length], 1));
  line(totals, '#222', 2);
  line(refusedSeries, REFUSED_COLOR, 2, [5, 3]);
  g.textAlign = 'left';
  g.fillStyle = '#222';
  g.fillText(`done: ${fmt(totals.at(-1) ?? 0)} ops/s (black: all workers; thin: each)`, L, 14);
  g.fillStyle = REFUSED_COLOR;
  g.fillText(`refused: ${fmt(refusedSeries.at(-1) ?? 0)} /s (dashed)`, W - 170, 14);
}

function fmt(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : `${Math.round(n)}`;
}

function tick() {
  const now = performance.now();
  const dt = (now - lastT) / 1000;
  lastT = now;
  const rows = [];
  let refusedRate = 0;
  for (let i = 0; i < WORKERS; i++) {
    const ops = pool.ops(i);
    const failed = pool.failed(i);
    const rate = ((ops - last[i]) >>> 0) / dt;
    const refused = ((failed - lastFailed[i]) >>> 0) / dt;
    last[i] = ops;
    lastFailed[i] = failed;
    refusedRate += refused;
    series[i].push(rate);
    if (series[i].length > HISTORY * SAMPLES_PER_S) series[i].shift();
    const errs = Object.entries(pool.errors(i)).map(([c, n]) => `${c} ${n}`).join(', ') || '-';
    rows.push(`<tr><td style="color:${COLORS[i % COLORS.length]}">worker ${i}</td><td>${fmt(rate)}</td><td>${ops}</td>`
      + `<td>${fmt(refused)}</td><td>${failed}</td><td>${errs}</td></tr>`);
  }
  refusedSeries.push(refusedRate);
  if (refusedSeries.length > HISTORY * SAMPLES_PER_S) refusedSeries.shift();
  updateButtons(); // the role can also change without a click (a fenced checkpoint)
  $('workers').tBodies[0].innerHTML = rows.join('');
  drawChart();
  const st = session.stats(URI);
  $('stats').textContent = `${st.entries} entries, depth ${st.depth}, ${st.pages} pages (${st.leafPages} leaves, `
    + `${st.halfDead} half-dead), ${st.deleted} deleted awaiting reclamation, ${st.freePages} free, `
    + `${st.splits} splits, ${st.deletions} deletions`;
  // The picture: read one page latch at a time on this (main) thread while the workers write.
  $('tree').innerHTML = renderTreeSvg(session.treeShape(URI), { width: Math.max(900, document.body.clientWidth - 48) });
}

setInterval(tick, 1000 / SAMPLES_PER_S);
tick();
if (new URLSearchParams(location.search).get('autostart') !== '0') start();
