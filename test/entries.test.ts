/**
 * The package's entry points (package.json exports): the Node entry (index.ts) and the browser
 * entry (browser.ts) export the same API (exports.ts), each with its platform's
 * DirectoryPageStore; test hooks are latchkey/testing, not the main entry; nothing on the
 * browser entry's import graph is a Node module, nor the debug build (latchkey/debug is its own
 * entry). treeShape and renderTreeSvg work from Node.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { openTest } from './helpers.js';
import { renderTreeSvg, PAGE_FLAGS, LatchkeyError } from '../dist/index.js';



/** The modules the browser entry imports, transitively, by reading dist/'s import statements. */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const src = readFileSync(new URL(`../dist/${f}`, import.meta.url), 'utf8');
    // Statements at the start of a line (not the words in a message), and dynamic imports.
    for (const m of src.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('./')) todo.push(spec.slice(2));
      else seen.add(spec);
    }
  }
  return seen;
}

describe('entry points', () => {
  it('package.json selects dist/index.js for node and dist/browser.js for browsers', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const root = pkg.exports['.'];
    expect(root.node.default).toBe('./dist/index.js');
    expect(root.browser.default).toBe('./dist/browser.js');
    expect(root.default.default).toBe('./dist/browser.js');
  });

  it('both entries export the same names (so TypeScript sees one API whichever entry it resolves)', async () => {
    const node = await import('../dist/index.js');
    const browser = await import('../dist/browser.js');
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    // What each runtime cannot do is a clear EINVAL, not a missing export:
    expect(() => new node.OpfsPageStore('x')).toThrow(/no Web Workers/);
    await expect(browser.DirectoryPageStore.open('/tmp/x')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('OpfsPageStore') });
    // Both are exports.ts's list and their platform's DirectoryPageStore, nothing else.
    const shared = await import('../dist/exports.js');
    expect(Object.keys(shared).length).toBeGreaterThan(10);
    expect(Object.keys(node).sort()).toEqual([...Object.keys(shared), 'DirectoryPageStore'].sort());
    expect(node.DirectoryPageStore).not.toBe(browser.DirectoryPageStore);
  });

  it("test hooks are 'latchkey/testing', not the main entry", async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['./testing']).toEqual({ types: './dist/testing.d.ts', default: './dist/testing.js' });
    const testing = await import('../dist/testing.js');
    const node = await import('../dist/index.js');
    const browser = await import('../dist/browser.js');
    expect(Object.keys(testing).sort()).toEqual(['INJECTION_POINTS', 'InjectionPoint', 'deafenElection']);
    for (const name of Object.keys(testing)) expect([name in node, name in browser]).toEqual([false, false]);
    // conn.inject(name) is still a Connection method; its points are the testing entry's class.
    const conn = await openTest();
    try {
      const point = conn.inject(testing.INJECTION_POINTS[0]);
      expect(point).toBeInstanceOf(testing.InjectionPoint);
      expect(point.name).toBe('btree-search-before-child');
    } finally {
      await conn.close();
    }
  });

  it("the debug build is its own entry: the browser entry alone refuses debug: true naming 'latchkey/debug'", () => {
    // A child process: this one has loaded the Node entry, which registers the debug build.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { open } = await import(${JSON.stringify(new URL('../dist/browser.js', import.meta.url).href)});
      try { await open({ debug: true }); console.log('opened'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    `], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ code: 'EINVAL', message: expect.stringContaining("import 'latchkey/debug' once before open({ debug: true })") });
    expect(importGraph('browser.js').has('debug.js')).toBe(false);
    expect(readFileSync(new URL('../dist/core.js', import.meta.url), 'utf8')).not.toContain('latchkey.debug.wasm');
  });

  it('no Node module is on the browser entry path', () => {
    const graph = importGraph('browser.js');
    expect(graph.has('store-opfs-worker.js') || graph.has('connection.js')).toBe(true);
    // Bare specifiers: only the NATS client a ws:// home imports on first use (optional peer
    // dependencies, its WebSocket transport; never the TCP one, which needs node:net).
    const bare = [...graph].filter((m) => !m.endsWith('.js'));
    expect(bare.sort()).toEqual(['@nats-io/jetstream', '@nats-io/kv', '@nats-io/nats-core', '@nats-io/obj']);
    const dynamicOnly = readFileSync(new URL('../dist/store-nats.js', import.meta.url), 'utf8');
    for (const m of bare) expect(dynamicOnly).toContain(`import('${m}')`);
    expect(dynamicOnly).not.toMatch(/^import [^t].*@nats-io/m); // type imports only, erased
    expect(graph.has('platform-node.js') || graph.has('store-dir.js')).toBe(false);
    expect(importGraph('index.js').has('platform-node.js')).toBe(true);
  });
});

describe('treeShape and renderTreeSvg', () => {
  it('lists every level left to right with links that agree, and draws it', async () => {
    const conn = await openTest();
    try {
      const s = conn.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>('table:t');
      for (let i = 0; i < 6000; i++) c.put(`key${String(i).padStart(5, '0')}`, 'v'.repeat(50));
      const shape = s.treeShape('table:t');
      const st = s.stats('table:t');
      expect(shape.levels.length).toBe(st.depth);
      expect(shape.levels.map((l) => l.level)).toEqual([...Array(st.depth).keys()].reverse());
      expect(shape.levels[0].pages).toHaveLength(1);
      expect(shape.levels[0].pages[0].flags).toContain('ROOT');
      const leaves = shape.levels[shape.levels.length - 1].pages;
      expect(leaves.length).toBe(st.leafPages);
      expect(leaves.reduce((n, p) => n + p.items, 0)).toBe(6000);
      for (const l of shape.levels) {
        l.pages.forEach((p, i) => {
          expect(p.level).toBe(l.level);
          expect(p.right).toBe(l.pages[i + 1]?.page ?? 0);
          expect(p.left).toBe(l.pages[i - 1]?.page ?? 0);
          expect(p.used).toBeGreaterThan(0);
          expect(p.used).toBeLessThanOrEqual(shape.pageSize);
        });
      }
      const svg = renderTreeSvg(shape, { width: 900 });
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.endsWith('</svg>')).toBe(true);
      // One fill bar and one outline per page.
      const pages = shape.levels.reduce((n, l) => n + l.pages.length, 0);
      expect(svg.match(/<title>page /g)).toHaveLength(pages);
      expect(PAGE_FLAGS.HALF_DEAD).toBe(4);
    } finally {
      await conn.close();
    }
  });

  it('shows a half-dead page of an interrupted deletion', async () => {
    const conn = await openTest();
    try {
      const s = conn.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      const c = s.openCursor<string, string>('table:t');
      for (let i = 0; i < 2000; i++) c.put(`key${String(i).padStart(5, '0')}`, 'v'.repeat(50));
      // Empty the leaves holding keys 500..699 with the removers' own deletions refused, then
      // let compact fail right after stage 1.
      const refuse = conn.inject('pagedel-after-parent-check').arm('error');
      for (let i = 500; i < 700; i++) c.remove(`key${String(i).padStart(5, '0')}`);
      refuse.disarm();
      const fail = conn.inject('pagedel-after-halfdead').arm('error', { count: 1 });
      expect(() => s.compact('table:t')).toThrow(LatchkeyError);
      fail.disarm();
      const shape = s.treeShape('table:t');
      const halfDead = shape.levels.flatMap((l) => l.pages).filter((p) => p.flags.includes('HALF_DEAD'));
      expect(halfDead).toHaveLength(s.stats('table:t').halfDead);
      expect(halfDead.length).toBe(1);
      expect(renderTreeSvg(shape)).toContain('HALF_DEAD');
    } finally {
      await conn.close();
    }
  });

  it('refuses an unknown table with ENOENT', async () => {
    const conn = await openTest();
    try {
      expect(() => conn.openSession().treeShape('table:nope')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    } finally {
      await conn.close();
    }
  });
});

describe('treeShape after a dropped table\'s catalog slot is reused', () => {
  // Found by review: the pages a dropped tree left in limbo still carry its tree id, which the
  // next table created gets; they were reported as the new table's deleted pages.
  it('lists only pages this table deleted', async () => {
    const conn = await openTest();
    try {
      const s = conn.openSession();
      s.create('table:a');
      const c = s.openCursor('table:a');
      const k = (i: number) => new TextEncoder().encode(`key${String(i).padStart(6, '0')}`);
      for (let i = 0; i < 3000; i++) c.put(k(i), new Uint8Array(40));
      c.close();
      s.drop('table:a');
      conn.sweep(); // frees a's tree: its pages go to limbo, still stamped with a's tree id
      s.create('table:b'); // the free catalog slot, so the same tree id
      s.openCursor('table:b').put(k(1), new Uint8Array(1));
      const shape = s.treeShape('table:b');
      expect(shape.levels.map((l) => l.pages.length)).toEqual([1]);
      expect(shape.deleted).toEqual([]);
    } finally {
      await conn.close();
    }
  });
});
