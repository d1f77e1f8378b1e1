// A browser tab as a follower (test/browser.test.ts): window.natsFollower.open(home) opens
// `home` (a ws:// NATS home) as a follower; state(uri) gives the table's entry count and FNV
// checksum (demo/web/model.js's, the test's model computes the same), the connection's lag and
// its last refresh error. Bundled by Vite (./vite.config.js): the NATS client comes in by the
// package's dynamic import, only because a ws:// home is opened.
import { open } from 'latchkey';
import { checksumOf } from '../../../demo/web/model.js';

let conn;
window.natsFollower = {
  async open(home) {
    conn = await open({ home, role: 'follower', cacheSize: '64MB' });
    document.getElementById('out').textContent = `following ${home}`;
    return conn.role;
  },
  state(uri) {
    let pairs = [];
    try {
      pairs = conn.openSession().openCursor(uri).range();
    } catch (e) {
      if (e?.code !== 'ENOENT') throw e; // the table has not reached the follower yet
    }
    return { ...checksumOf(pairs), lag: conn.lag, refreshError: conn.refreshError ? `${conn.refreshError.code}: ${conn.refreshError.message}` : null };
  },
  async close() { await conn?.close(); return true; },
};
window.natsFollowerReady = true;
