// Vite's config for the NATS follower page (test/browser.test.ts builds it): the package by its
// own name, the NATS client from node_modules; nothing of Node is on this page's path.
import { fileURLToPath } from 'node:url';

export default {
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: { emptyOutDir: true, minify: false, target: 'es2022' },
};
