// Vite's config for the level suite page (test/browser.test.ts builds it). Node built-ins that
// tape and abstract-level require are replaced: `buffer` by the `buffer` package (a dependency
// of abstract-level, already installed), `events`, `stream`, `path` and `fs` by ./shims.
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const require = createRequire(import.meta.url);

export default {
  root: here('.'),
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: /^(node:)?buffer$/, replacement: require.resolve('buffer/') },
      { find: /^(node:)?events$/, replacement: here('./shims/events.js') },
      { find: /^(node:)?stream$/, replacement: here('./shims/stream.js') },
      { find: /^(node:)?path$/, replacement: here('./shims/path.js') },
      { find: /^(node:)?fs$/, replacement: here('./shims/empty.js') },
    ],
  },
  build: { emptyOutDir: true, minify: false, target: 'es2022' },
};
