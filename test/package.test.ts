/**
 * The package as npm would ship it (`npm pack --dry-run`): its licence, repository and entries,
 * source maps that carry their sources, and CommonJS users (`require('latchkey')`) in a child
 * process.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'latchkey-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The files `npm pack` would put in the tarball (no scripts run). */
function packedFiles(): string[] {
  const npm = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(npm.status, npm.stderr).toBe(0);
  return (JSON.parse(npm.stdout)[0].files as { path: string }[]).map((f) => f.path);
}

describe('package hygiene', () => {
  const files = packedFiles();

  it('ships an MIT LICENSE that package.json names, and says where the repository is', () => {
    expect(pkg.license).toBe('MIT');
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the latchkey authors\n/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
    expect(files).toContain('LICENSE');
    expect(pkg.repository).toEqual({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/.+\.git$/) });
  });

  it('ships every entry in package.json exports, the API reference and both builds of the core', () => {
    const targets = Object.values(pkg.exports as Record<string, unknown>).flatMap(function walk(v: unknown): string[] {
      return typeof v === 'string' ? [v] : Object.values(v as Record<string, unknown>).flatMap(walk);
    });
    for (const t of [...targets, pkg.main, pkg.types, pkg.bin.latchkey]) expect(files).toContain(t.replace(/^\.\//, ''));
    expect(pkg.exports['./debug']).toEqual({ types: './dist/debug.d.ts', default: './dist/debug.js' });
    expect(pkg.exports['./testing']).toEqual({ types: './dist/testing.d.ts', default: './dist/testing.js' });
    for (const f of ['docs/API.md', 'README.md', 'build/latchkey.wasm', 'build/latchkey.debug.wasm']) expect(files).toContain(f);
  });

  it('every shipped source map embeds the sources it names (the .ts files are not shipped)', () => {
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(ROOT, f), 'utf8'));
      expect(map.sources.length, f).toBeGreaterThan(0);
      expect(map.sourcesContent, f).toHaveLength(map.sources.length);
      for (const src of map.sourcesContent) expect(typeof src === 'string' && src.length > 0, f).toBe(true);
    }
  });

  it("the README's first example runs as printed (in a fresh directory, with latchkey installed)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /## Example\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    expect(example!.trim().split('\n').length).toBeLessThanOrEqual(12);
    const app = join(tmp, 'readme-app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(app, 'node_modules', 'latchkey'), 'dir');
    writeFileSync(join(app, 'main.mjs'), example!);
    const r = spawnSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('admin\nalice admin\nbob user\n');
    expect(readdirSync(join(app, 'data')).some((f) => f.startsWith('log-'))).toBe(true); // close checkpointed
  });

  it("CommonJS: require('latchkey') gives the same API on this Node (require of ES modules)", () => {
    const app = join(tmp, 'cjs-app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(app, 'node_modules', 'latchkey'), 'dir');
    writeFileSync(join(app, 'main.cjs'), `
const { open, LatchkeyError } = require('latchkey');
require('latchkey/debug');
const { InjectionPoint } = require('latchkey/testing');
(async () => {
  const conn = await open({ cacheSize: '32MB', debug: true });
  const s = conn.openSession();
  s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
  const c = s.openCursor('table:t');
  c.put('k', 'v');
  let code;
  try { s.openCursor('table:nope'); } catch (e) { code = e instanceof LatchkeyError && e.code; }
  console.log(JSON.stringify({ got: c.get('k'), code, debug: conn.core.debug, point: conn.inject('btree-move-right') instanceof InjectionPoint }));
  await conn.close();
})();
`);
    // Unflagged from Node 20.19 and 22.12; before that, Node 20 needs --experimental-require-module.
    const flags = (process.features as { require_module?: boolean }).require_module ? [] : ['--experimental-require-module'];
    const r = spawnSync(process.execPath, [...flags, '--no-warnings', 'main.cjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ got: 'v', code: 'ENOENT', debug: true, point: true });
  });
});
