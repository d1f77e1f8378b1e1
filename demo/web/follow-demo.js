// The demo's follower mode (`npm run demo:web -- --follow`): a browser tab as a follower of a Node
// leader on another "machine" (here: another process, the same loopback). Started here:
//   - one nats-server (demo/web/nats-server.js: JetStream, WebSocket, 127.0.0.1, fresh data dir);
//   - the leader on `nats://127.0.0.1:p/follow-demo`, written by Node worker threads
//     (demo/web/follow-leader.js);
//   - the NATS client bundled for the page (demo/web/nats-client.js), served at /nats-client/;
//   - the demo's web server (demo/web/server.js), whose `/` is follow.html?home=ws://127.0.0.1:q/follow-demo.
// The page opens that ws:// home as a follower and draws the tree from its own copy.
//
//   const demo = await startFollowDemo({ port: 0 });   // { url, pageUrl, home, wsHome, leader, stop() }

import { startServer } from './server.js';
import { startNatsServer, NATS_MISSING, hasNatsServer } from './nats-server.js';
import { buildNatsClient } from './nats-client.js';
import { startFollowLeader } from './follow-leader.js';

export const HOME_NAME = 'follow-demo';

export async function startFollowDemo({ port = 8080, host = '127.0.0.1', workers = 4 } = {}) {
  const undo = [];
  const stop = async () => { for (const u of undo.reverse()) await u(); undo.length = 0; };
  try {
    const nats = await startNatsServer();
    undo.push(nats.stop);
    const client = await buildNatsClient();
    undo.push(client.remove);
    const home = `${nats.url}/${HOME_NAME}`;
    const wsHome = `${nats.wsUrl}/${HOME_NAME}`;
    const leader = await startFollowLeader({ home, workers });
    undo.push(leader.close);
    const page = `/demo/web/follow.html?home=${encodeURIComponent(wsHome)}&uri=${encodeURIComponent(leader.uri)}`;
    const server = await startServer({ port, host, mounts: { '/nats-client/': client.dir }, start: page });
    undo.push(server.close);
    return { url: server.url, pageUrl: `${server.url}${page}`, home, wsHome, leader, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The CLI's follower mode (server.js --follow): runs until SIGINT/SIGTERM, printing the leader's progress. */
export async function runFollowDemo(opts) {
  if (!hasNatsServer()) {
    console.error(`latchkey demo --follow: ${NATS_MISSING}`);
    process.exit(1);
  }
  const demo = await startFollowDemo(opts);
  console.log(`latchkey follower demo: ${demo.url}/  (a tab following ${demo.wsHome}; the leader is this process, on ${demo.home})`);
  let last = demo.leader.counts();
  const timer = setInterval(() => {
    const now = demo.leader.counts();
    const rate = now.reduce((s, n, w) => s + n - last[w], 0) / 5;
    last = now;
    const st = demo.leader.session.stats(demo.leader.uri);
    console.log(`  leader: ${st.entries} entries, ${st.pages} pages, depth ${st.depth}; ${Math.round(rate)} writes/s by ${now.length} worker threads`);
  }, 5000);
  const quit = async () => { clearInterval(timer); await demo.stop(); process.exit(0); };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
}
