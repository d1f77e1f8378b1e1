// The NATS client for a page that loads latchkey without a bundler (demo/web/follow.html). The
// @nats-io/* 3.x packages are CommonJS, which a browser cannot import; latchkey's
// dist/store-nats.js imports them by name (`import('@nats-io/jetstream')`, ...). So this bundles
// each of the four into an ES module (Vite, library mode: one shared chunk of nats-core, so the
// four share one client) and the page maps the names to them with an import map:
//
//   <script type="importmap">{ "imports": { "@nats-io/nats-core": "/nats-client/nats-core.js", ... } }</script>
//
// Each bundle re-exports every name its package exports (read from the package itself), so
// nothing here follows what store-nats.js happens to use. About 0.3 s, into a fresh directory.
// Vite is a devDependency: this serves the demo of a checkout, not an installed package.

import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NATS_PACKAGES = ['nats-core', 'jetstream', 'kv', 'obj'];
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds the four bundles into a fresh directory; resolves `{ dir, remove() }`: `dir` holds
 * `<package>.js` for each package (and their shared chunks), remove() deletes it all.
 */
export async function buildNatsClient() {
  const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-nats-client-'));
  const entry = {};
  for (const p of NATS_PACKAGES) {
    const id = `@nats-io/${p}`;
    const names = Object.keys(require(id));
    entry[p] = join(dir, `${p}.entry.js`);
    writeFileSync(entry[p], `export { ${names.join(', ')} } from ${JSON.stringify(require.resolve(id))};\n`);
  }
  await build({
    configFile: false, root: dir, logLevel: 'error',
    build: {
      outDir: join(dir, 'out'), emptyOutDir: true, minify: false, target: 'es2022',
      lib: { entry, formats: ['es'], fileName: (_format, name) => `${name}.js` },
    },
  });
  return { dir: join(dir, 'out'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
