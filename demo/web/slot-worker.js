// A Web Worker for window.check.threadSlots (demo/web/check.js): attaches, writes one key, reports
// its thread slot, and then (busy) runs a loop that never yields, or idles; the page terminates
// it without closing its connection.
import { attach } from '../../dist/browser.js';

onmessage = async ({ data: { handle, uri, id, busy } }) => {
  try {
    const conn = await attach(handle);
    conn.openSession().openCursor(uri).put(`w${id}`, `v${id}`);
    postMessage({ slot: conn.core.x.lk_thread_slot() });
    if (busy) for (const t = Date.now(); Date.now() - t < 600_000;); // alive, its event loop never runs
  } catch (e) {
    postMessage({ error: `${e.code ?? ''} ${e.message ?? e}` });
  }
};
