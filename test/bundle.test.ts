/**
 * What an application's bundle carries (Node only: Vite builds, no browser). The demo app
 * (demo/vite/) gets the release build of the core once, never the debug build, and no OPFS store
 * worker (it uses none); an app using OpfsPageStore gets that worker once; an app that imports
 * 'latchkey/debug' gets the debug build too; 'latchkey/testing' resolves for a bundler. test/browser.test.ts
 * runs the demo's bundle.
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

/** A one-page app whose module is `main`, in its own directory under tmp. */
function app(name: string, main: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
  writeFileSync(join(dir, 'main.js'), main);
  return dir;
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
    // It uses no OpfsPageStore: no store worker either (package.json sideEffects lets it go).
    expect([...assets.keys()].filter((f) => /store-opfs-worker/.test(f))).toEqual([]);
    for (const [f, bytes] of assets) {
      expect(f).not.toMatch(/debug/);
      if (f.endsWith('.js')) expect(bytes.toString('utf8')).not.toContain('latchkey.debug');
    }
  });

  it('an app that uses OpfsPageStore carries its worker once, whole', async () => {
    const dir = app('opfs', "import { open, OpfsPageStore } from 'latchkey';\nwindow.conn = open({ home: new OpfsPageStore('db') });\n");
    const assets = await viteBuild(dir);
    const workers = [...assets].filter(([f]) => /store-opfs-worker/.test(f));
    expect(workers).toHaveLength(1);
    const [[name, code]] = workers;
    // The worker's own code (it answers the store's requests in OPFS), and the page starts it.
    expect(code.toString('utf8')).toContain('getDirectory');
    expect(code.toString('utf8')).toMatch(/onmessage/);
    expect([...assets].some(([f, b]) => f.endsWith('.js') && b.toString('utf8').includes(name))).toBe(true);
    expect(wasms(assets)).toHaveLength(1);
  });

  it("an app that imports 'latchkey/debug' carries the debug core as well", async () => {
    const dir = app('debug', "import 'latchkey/debug';\nimport { open } from 'latchkey';\nwindow.conn = open({ debug: true });\n");
    const cores = wasms(await viteBuild(dir));
    expect(cores).toHaveLength(2);
    expect(cores.filter((b) => b.equals(DEBUG))).toHaveLength(1);
    expect(cores.filter((b) => b.equals(RELEASE))).toHaveLength(1);
  });

  it("an app that imports 'latchkey/testing' gets the test hooks (a subpath of its own, release core only)", async () => {
    const dir = app('testing', "import { INJECTION_POINTS } from 'latchkey/testing';\nimport { open } from 'latchkey';\nwindow.points = INJECTION_POINTS;\nwindow.conn = open();\n");
    const assets = await viteBuild(dir);
    const js = [...assets].filter(([f]) => f.endsWith('.js')).map(([, b]) => b.toString('utf8')).join('\n');
    expect(js).toContain('btree-split-before-parent-insert');
    const cores = wasms(assets);
    expect(cores).toHaveLength(1);
    expect(cores[0].equals(RELEASE)).toBe(true);
  });
});
