// The demo's web server (`npm run demo:web`): static files of this package over HTTP on
// loopback, with the two headers that make a page cross-origin isolated (shared memory across
// Web Workers needs them). Node modules only (node:http, node:fs, node:path).
//
//   node demo/web/server.js [--port 8080] [--host 127.0.0.1] [--no-isolation] [--root DIR]
//   node demo/web/server.js --follow [--port 8080] [--workers 4]   (npm run demo:web -- --follow)
//
// --follow: the follower mode (demo/web/follow-demo.js): a nats-server, a Node leader written by
// worker threads, and the page follow.html, a browser tab following it over WebSocket. Without
// nats-server on PATH it says how to install it and exits 1.
//
// Paths under /no-isolation/ serve the same files WITHOUT the headers (the test checks that
// open() then explains what is missing); --no-isolation drops them everywhere.
// Served: /dist/, /build/, /demo/web/ and /bench/ of the package (or everything under --root).

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { resolve, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVED = ['dist/', 'build/', 'demo/web/', 'bench/'];
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

/**
 * Starts the server; resolves { url, port, close() }. port 0 picks a free port.
 * `root`: serve every file under this directory instead of the package's SERVED folders.
 * `mounts`: `{ '/prefix/': dir }`, the files under dir served at /prefix/ too.
 * `start`: where `/` redirects (default the demo page).
 */
export function startServer({ port = 8080, host = '127.0.0.1', isolation = true, root, mounts = {}, start } = {}) {
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let isolated = isolation;
    if (path.startsWith('/no-isolation/')) { isolated = false; path = path.slice('/no-isolation'.length); }
    if (path === '/') { res.writeHead(302, { Location: start ?? (root ? '/index.html' : '/demo/web/') }); res.end(); return; }
    if (path.endsWith('/')) path += 'index.html';
    const mount = Object.keys(mounts).find((m) => path.startsWith(m));
    const base = resolve(mount ? mounts[mount] : root ?? PACKAGE_ROOT);
    const rel = path.slice(mount ? mount.length : 1);
    const file = resolve(base, rel);
    const allowed = (file.startsWith(base.endsWith(sep) ? base : base + sep))
      && (root !== undefined || mount !== undefined || SERVED.some((d) => rel.startsWith(d)));
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin', ...(isolated ? ISOLATION_HEADERS : {}) };
    try {
      if (!allowed || !(await stat(file)).isFile()) throw new Error('not found');
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end(`not found: ${path}\n`);
    }
  });
  return new Promise((resolveP, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const p = server.address().port;
      resolveP({ url: `http://${host}:${p}`, port: p, close: () => new Promise((r) => {
        // A browser keeps idle keep-alive connections open; close() alone would wait for them.
        server.close(() => r());
        server.closeAllConnections();
      }) });
    });
  });
}

// The command line. Not a top-level await: follow-demo.js imports this module, which must have
// finished evaluating first.
async function main(args) {
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  if (args.includes('--follow')) {
    const { runFollowDemo } = await import('./follow-demo.js');
    await runFollowDemo({ port: Number(opt('--port', '8080')), workers: Number(opt('--workers', '4')) });
    return;
  }
  const { url } = await startServer({
    port: Number(opt('--port', '8080')), host: opt('--host', '127.0.0.1'),
    isolation: !args.includes('--no-isolation'), root: opt('--root', undefined),
  });
  console.log(`latchkey demo: ${url}/demo/web/  (without isolation headers: ${url}/no-isolation/demo/web/)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => { console.error(e); process.exit(1); });
}
