// The Vite app's worker: attaches to the page's connection, reads what the page wrote, writes.
import { attach } from 'latchkey';

self.onmessage = async (e) => {
  try {
    const conn = await attach(e.data);
    const c = conn.openSession().openCursor('table:v');
    const got = c.get('k0500');
    c.put('from-worker', 'hello');
    await conn.close();
    self.postMessage({ got });
  } catch (err) {
    self.postMessage({ error: `${err.code ?? ''} ${err.message}` });
  }
};
