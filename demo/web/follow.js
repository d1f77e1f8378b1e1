// The follower demo's page (demo/web/follow-demo.js serves it): opens `?home=ws://host:port/name`
// as a follower and, at most every DRAW_MS (on animation frames), draws the table `?uri=` from
// this tab's own copy (session.treeShape + renderTreeSvg) with its entry count and conn.lag. The
// leader's writes reach the copy through the home's watch (NATS over WebSocket); nothing drawn
// here is fetched from the web server. window.follow exposes the connection and state() (count
// and checksum of a scan, as demo/web/model.js computes them) for test/browser.test.ts.

import { open, renderTreeSvg, LatchkeyError } from '../../dist/browser.js';
import { checksumOf } from './model.js';

const DRAW_MS = 100;
const q = new URLSearchParams(location.search);
const home = q.get('home');
const uri = q.get('uri') ?? 'table:follow';
const $ = (id) => document.getElementById(id);
const describe = (e) => (e instanceof LatchkeyError ? `${e.code}: ${e.message}` : String(e));

let conn, session;
try {
  if (!home) throw new Error('no ?home= in the address: this page is served by `npm run demo:web -- --follow`');
  conn = await open({ home, role: 'follower', cacheSize: '64MB' });
  session = conn.openSession();
  $('status').textContent = `role ${conn.role} of ${home}, fed by its watch; the tree below is drawn from this tab's own copy`;
} catch (e) {
  $('status').textContent = describe(e);
  $('status').className = 'bad';
  window.follow = { error: describe(e) };
  throw e;
}

const follow = {
  conn, session, uri, draws: 0, width: 0,
  /** How long each drawing took (treeShape, renderTreeSvg, into the page), in ms: the last 1000. */
  drawMs: [],
  /** The table in this tab's copy: entry count and checksum of a scan, lag, the last refresh error. */
  state() {
    let pairs = [];
    try {
      pairs = session.openCursor(uri).range();
    } catch (e) {
      if (e?.code !== 'ENOENT') throw e; // the table has not reached this copy yet
    }
    return { ...checksumOf(pairs), lag: conn.lag, refreshError: conn.refreshError ? describe(conn.refreshError) : null };
  },
};
window.follow = follow;

let last = -Infinity;
function frame(now) {
  requestAnimationFrame(frame);
  if (now - last < DRAW_MS) return;
  last = now;
  const lag = conn.lag;
  const err = conn.refreshError ? `; last refresh failed: ${describe(conn.refreshError)}` : '';
  let st;
  try {
    st = session.stats(uri);
  } catch (e) {
    if (e?.code !== 'ENOENT') throw e;
    $('stats').textContent = `waiting for ${uri} to reach this copy; lag ${lag.bytes} bytes${err}`;
    return;
  }
  follow.width = Math.max(900, document.body.clientWidth - 48);
  const t0 = performance.now();
  $('tree').innerHTML = renderTreeSvg(session.treeShape(uri), { width: follow.width });
  follow.draws++;
  const ms = performance.now() - t0;
  follow.drawMs.push(ms);
  if (follow.drawMs.length > 1000) follow.drawMs.shift();
  $('stats').textContent = `${st.entries} entries, depth ${st.depth}, ${st.pages} pages (${st.leafPages} leaves), `
    + `${st.deleted} deleted awaiting reclamation; lag ${lag.bytes} bytes, ${lag.ms} ms; drawn ${follow.draws} times `
    + `(this one in ${ms.toFixed(1)} ms)${err}`;
}
requestAnimationFrame(frame);
