/**
 * How a LatchkeyError reads when printed the usual ways (String(err), `${err}`, console.log, the
 * CLI's `code: message`): the code is `err.code`, the message never starts with it, and
 * String(err) is `LatchkeyError [CODE]: message`. Checked for every code on a constructed error,
 * on real refusals of the API for every code Node can produce, and on the source: no call site
 * writes its code into its message.
 */
import { describe, it, expect } from 'vitest';
import { inspect } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { open, LatchkeyError, ERROR_CODES, MemoryPageStore, parseConfig, type LatchkeyErrorCode } from '../dist/index.js';

/** What every printed form of `err` must look like. */
function expectReadable(err: unknown, code: LatchkeyErrorCode): void {
  expect(err).toBeInstanceOf(LatchkeyError);
  const e = err as LatchkeyError;
  expect(e.code, e.message).toBe(code);
  expect(e.name).toBe('LatchkeyError');
  for (const c of ERROR_CODES) expect(e.message.startsWith(c), e.message).toBe(false);
  expect(String(e)).toBe(`LatchkeyError [${code}]: ${e.message}`);
  expect(`${e}`).toBe(String(e));
  // console.log's form: the stack, whose first line names the code as String(err) does, then code.
  expect(e.stack!.split('\n')[0]).toBe(String(e).split('\n')[0]);
  const shown = inspect(e);
  expect(shown.split('\n')[0]).toBe(String(e).split('\n')[0]);
  expect(shown).toContain(`code: '${code}'`);
  expect(shown).not.toContain(`${code}: ${code}`);
  expect(shown).not.toContain(`${code} (${code}`);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('LatchkeyError formatting', () => {
  it.each(ERROR_CODES.map((c) => [c]))('%s: the message is plain and String(err) names the code', (code) => {
    expectReadable(new LatchkeyError(code, 'what went wrong; accepted: what would do'), code);
  });

  it('real refusals of every code but ENOTISOLATED (browsers) read the same way', async () => {
    const seen = new Set<LatchkeyErrorCode>();
    const check = (err: unknown, code: LatchkeyErrorCode) => {
      expectReadable(err, code);
      seen.add(code);
    };
    check(thrown(() => parseConfig({ pageSize: 3000 })), 'EINVAL');
    const store = new MemoryPageStore();
    const conn = await open({ home: store, pageSize: 4096, cacheSize: '16MB' });
    const s = conn.openSession();
    s.create('table:t');
    const c = s.openCursor('table:t');
    check(thrown(() => s.openCursor('table:nope')), 'ENOENT');
    check(thrown(() => c.put(new Uint8Array(2000), new Uint8Array(1))), 'EKEYSIZE');
    check(thrown(() => c.put(new Uint8Array(1), new Uint8Array(2000))), 'EVALUESIZE');
    check(thrown(() => s.drop('table:t')), 'EBUSY');
    const armed = conn.inject('btree-insert-before-leaf-latch').arm('error', { count: 1 });
    check(thrown(() => c.put(new Uint8Array(1), new Uint8Array(1))), 'EINJECTED');
    armed.disarm();
    // ENOMEM: fill the smallest cache.
    let full: unknown;
    for (let i = 0; i < 100_000 && !full; i++) {
      const k = new Uint8Array(8);
      new DataView(k.buffer).setUint32(0, i);
      try {
        c.put(k, new Uint8Array(900));
      } catch (e) {
        full = e;
      }
    }
    check(full, 'ENOMEM');
    c.close();
    await s.checkpoint();
    // ESTALE: a follower on the same store steps up and fences this leader.
    const other = await open({ home: store, role: 'follower', pageSize: 4096, cacheSize: '16MB' });
    check(thrown(() => other.openSession().create('table:v')), 'ENOTLEADER');
    await other.reconfigure({ role: 'leader' });
    check(await rejected(s.checkpoint()), 'ESTALE');
    await other.close();
    check(await rejected(conn.close()), 'ESTALE'); // fenced: its close says so too
    check(thrown(() => s.tables()), 'ECLOSED');
    // ECORRUPT: a flipped byte in the newest checkpoint's image.
    const blobs = (await store.list()).filter((n) => !n.startsWith('log-'));
    expect(blobs.length).toBeGreaterThan(0);
    for (const name of blobs) {
      const bytes = (await store.read(name))!.slice();
      bytes[100] ^= 0x40;
      await store.write(name, bytes);
    }
    check(await rejected(open({ home: store, role: 'follower' })), 'ECORRUPT');
    // EIO needs a failing file system (test/store.test.ts); its form is checked above.
    expect([...seen].sort()).toEqual(ERROR_CODES.filter((c) => c !== 'ENOTISOLATED' && c !== 'EIO').sort());
  });

  it('no call site in bindings/ writes its own code at the start of its message', () => {
    const dir = new URL('../bindings/', import.meta.url);
    const offenders: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      for (const m of src.matchAll(/new LatchkeyError\(\s*'([A-Z]+)',\s*[`'"]([A-Z]+)\b/g)) {
        if (m[2] === m[1]) offenders.push(`${f}: ${m[0]}`);
      }
      for (const m of src.matchAll(/super\(`\$\{code\}: /g)) offenders.push(`${f}: ${m[0]}`);
    }
    expect(offenders).toEqual([]);
  });
});
