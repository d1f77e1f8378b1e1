/**
 * What an application's bundle carries (Node only: Vite builds, no browser). The demo app
 * (demo/vite/) gets the release build of the core once and never the debug build; an app that
 * imports 'latchkey/debug' gets the debug build too. test/browser.test.ts runs such a bundle.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RELEASE = readFileSync(join(ROOT, 'build', 'latchkey.wasm'));
const DEBUG = readFileSync(join(ROOT, 'build', 'latchkey.debug.wasm'));
const tmp = mkdtempSync(join(tmpdir(), 'latchkey-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds the app in `dir` with latchkey installed as a dependency would be; the emitted assets. */
async function viteBuild(dir: string): Promise<Map<string, Buffer>> {
  const { build } = await import('vite');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'latchkey'), 'dir');
  await build({ root: dir, configFile: false, logLevel: 'silent', build: { outDir: join(dir, 'dist'), emptyOutDir: true } });
  const assets = join(dir, 'dist', 'assets');
  return new Map(readdirSync(assets).map((f) => [f, readFileSync(join(assets, f))]));
}

const wasms = (assets: Map<string, Buffer>) => [...assets].filter(([f]) => f.endsWith('.wasm')).map(([, b]) => b);

describe('Vite bundles', () => {
  it('the demo app carries the release core once and no debug core', async () => {
    const dir = join(tmp, 'demo');
    cpSync(join(ROOT, 'demo', 'vite'), dir, { recursive: true });
    const assets = await viteBuild(dir);
    const cores = wasms(assets);
    expect(cores).toHaveLength(1);
    expect(cores[0].equals(RELEASE)).toBe(true);
    for (const [f, bytes] of assets) {
      expect(f).not.toMatch(/debug/);
      if (f.endsWith('.js')) expect(bytes.toString('utf8')).not.toContain('latchkey.debug');
    }
  });

  it("an app that imports 'latchkey/debug' carries the debug core as well", async () => {
    const dir = join(tmp, 'debug');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
    writeFileSync(join(dir, 'main.js'), "import 'latchkey/debug';\nimport { open } from 'latchkey';\nwindow.conn = open({ debug: true });\n");
    const cores = wasms(await viteBuild(dir));
    expect(cores).toHaveLength(2);
    expect(cores.filter((b) => b.equals(DEBUG))).toHaveLength(1);
    expect(cores.filter((b) => b.equals(RELEASE))).toHaveLength(1);
  });
});
