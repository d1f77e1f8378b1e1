// A browser tab as a follower (test/browser.test.ts): window.natsFollower.open(home) opens
// `home` (a ws:// NATS home) as a follower; state(uri) gives the table's entry count and FNV
// checksum (demo/web/model.js's, the test's model computes the same), the connection's lag and
// its last refresh error. Bundled by Vite (./vite.config.js): the NATS client comes in by the
// package's dynamic import, only because a ws:// home is opened.
import { open } from 'latchkey';
import { fnv, FNV_START } from '../../../demo/web/model.js';

let conn;
window.natsFollower = {
  async open(home) {
    conn = await open({ home, role: 'follower', cacheSize: '64MB' });
    document.getElementById('out').textContent = `following ${home}`;
    return conn.role;
  },
  state(uri) {
    let count = 0, checksum = FNV_START;
    try {
      for (const [k, v] of conn.openSession().openCursor(uri).range()) { count++; checksum = fnv(fnv(checksum, k), v); }
    } catch (e) {
      if (e?.code !== 'ENOENT') throw e; // the table has not reached the follower yet
    }
    return { count, checksum, lag: conn.lag, refreshError: conn.refreshError ? `${conn.refreshError.code}: ${conn.refreshError.message}` : null };
  },
  async close() { await conn?.close(); return true; },
};
window.natsFollowerReady = true;
