/**
 * The command line (bindings/cli.ts), run as a child process (`node dist/cli.js ...`) against
 * homes in temporary directories that a leader made through the library: stat, verify, dump (text,
 * json, svg), dump -> load -> dump round trips of awkward keys and values in every format, a
 * flipped byte in a checkpoint page, read-only commands beside a running leader, bad usage.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../dist/index.js';
import { parsePrinted } from '../dist/dump-format.js';
import { rng } from './helpers.js';
import { onPath, startNats, type NatsCluster } from './servers.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
const home = join(root, 'home');
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string; out: Buffer }
function cli(args: string[], input?: string | Buffer): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), out: r.stdout };
}

// Strings that a line-based or JSON format could mangle.
const AWKWARD = [
  'a\nb', 'line\r\nend', 'q"u\'ote', 'back\\slash', '\\0a', 'tab\there', 'ünïcödé', '日本語', '\uFEFFbom',
  'mid\uFEFFbom', '\u2028sep\u2029', 'nbsp\u00a0', 'emoji 😀', 'x'.repeat(300), ' lead space', 'trail space ',
  '\u0000nul', '\u007fdel\u0085nel', 'Data', 'Header', 'latchkey dump (format 1)', '{', '[',
];
const strModel = new Map<string, string>();
const binModel = new Map<string, [Uint8Array, Uint8Array]>();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** A 'q' table's entries: both signs, the safe range's edges, the edges of 32-bit halves. */
const intModel = new Map<number, number>([[0, -0], [-1, 1], [1, -1], [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
  [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], [2 ** 32, -(2 ** 32)], [-(2 ** 32) - 1, 2 ** 32 - 1], [123456789, 42]]);

beforeAll(async () => {
  AWKWARD.forEach((k, i) => strModel.set(k, AWKWARD[(i + 5) % AWKWARD.length]));
  strModel.set('empty value', '');
  for (let i = 0; i < 1500; i++) strModel.set(`key${String(i).padStart(5, '0')}`, `value ${i}`);
  const r = rng(42);
  for (let i = 0; i < 800; i++) {
    const k = Uint8Array.from({ length: 1 + Math.floor(r() * 20) }, () => Math.floor(r() * 256));
    const v = Uint8Array.from({ length: Math.floor(r() * 60) }, () => Math.floor(r() * 256));
    binModel.set(hex(k), [k, v]);
  }
  binModel.set('5c', [Uint8Array.of(0x5c), Uint8Array.of(0x0a, 0x5c, 0x5c, 0x0d)]);
  binModel.set('efbbbf', [Uint8Array.of(0xef, 0xbb, 0xbf), Uint8Array.of(0xef, 0xbb, 0xbf)]);
  const conn = await open({ home, pageSize: 4096 });
  const s = conn.openSession();
  s.create('table:str', { keyFormat: 'S', valueFormat: 'S' });
  s.create('table:bin');
  s.create('table:empty', { keyFormat: 'S', valueFormat: 'u' });
  const q = s.openCursor(s.create('table:int', { keyFormat: 'q', valueFormat: 'q' }));
  for (const [k, v] of intModel) q.put(k, v);
  const c = s.openCursor<string, string>('table:str');
  for (const [k, v] of strModel) c.put(k, v);
  const b = s.openCursor<Uint8Array, Uint8Array>('table:bin');
  for (const [k, v] of binModel.values()) b.put(k, v);
  await conn.close(); // checkpoints
});

/** Every entry of a table in a home, read through the library as a follower. */
async function entries(dir: string, uri: string): Promise<[unknown, unknown][]> {
  const conn = await open({ home: dir, role: 'follower', create: false });
  try {
    const c = conn.openSession().openCursor(uri);
    return [...c.range()];
  } finally {
    await conn.close();
  }
}

describe('latchkey stat and verify', () => {
  it('stat --json gives the home facts and every table\'s stats', () => {
    const r = cli(['stat', '-h', home, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.stdout);
    expect(st.pageSize).toBe(4096);
    expect(st.latest).toMatchObject({ kind: 'checkpoint', term: 1 });
    expect(st.checkpoint).toEqual({ seq: st.latest.seq, term: 1, tables: 4 });
    expect(Object.keys(st.tables)).toEqual(['table:bin', 'table:empty', 'table:int', 'table:str']);
    expect(st.tables['table:int'].entries).toBe(intModel.size);
    expect(st.tables['table:str'].entries).toBe(strModel.size);
    expect(st.tables['table:bin'].entries).toBe(binModel.size);
    expect(st.tables['table:empty'].entries).toBe(0);
    expect(st.tables['table:str'].depth).toBeGreaterThan(1);
  });

  it('stat in text names the seq, term and page size; table arguments choose tables', () => {
    const r = cli(['stat', '--home', home, 'str']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^latest record: log-\d{10} \(seq \d+, a checkpoint record of term 1\)$/m);
    expect(r.stdout).toMatch(/^page size: 4096$/m);
    expect(r.stdout).toMatch(new RegExp(`^  entries +${strModel.size}$`, 'm'));
    expect(r.stdout).toContain('table:str\n');
    expect(r.stdout).not.toContain('table:bin');
  });

  it('verify prints one ok line per table and exits 0', () => {
    const r = cli(['verify', '-h', home]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(':').slice(0, 2).join(':'))).toEqual(['table:bin', 'table:empty', 'table:int', 'table:str']);
    for (const l of lines) expect(l).toMatch(/: ok \(\d+ pages?, \d+ levels?\)$/);
    expect(cli(['verify', '-h', home, 'table:bin']).stdout).toMatch(/^table:bin: ok \(\d+ pages, 2 levels\)\n$/);
    expect(cli(['verify', '-h', home, 'empty']).stdout).toBe('table:empty: ok (1 page, 1 level)\n');
  });

  it('verify exits 1 with ECORRUPT naming the page when a checkpoint page has a flipped byte', () => {
    const bad = join(root, 'corrupt');
    cpSync(home, bad, { recursive: true });
    const blobs = readdirSync(bad).filter((f) => f.startsWith('ckpt-'));
    // The str table's blob is the largest; flip a byte inside its page 2.
    const big = blobs.sort((a, b) => readFileSync(join(bad, b)).length - readFileSync(join(bad, a)).length)[0];
    const bytes = readFileSync(join(bad, big));
    expect(bytes.length).toBeGreaterThan(3 * 4096);
    bytes[2 * 4096 + 700] ^= 0x10;
    writeFileSync(join(bad, big), bytes);
    const r = cli(['verify', '-h', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ECORRUPT: checkpoint \\d+, table 'str' \\(${big}\\), page 2: checksum mismatch\\n$`));
    expect(cli(['dump', '-h', bad, 'bin']).code).toBe(1);
  });
});

describe('latchkey dump and load', () => {
  it('dumps text in key order with a wt-style header, every line escaped', () => {
    const r = cli(['dump', '-h', home, 'str']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'latchkey dump (format 1)', 'Format=print', 'Header', 'table:str', 'key_format=S,value_format=S,page_size=4096', 'Data',
    ]);
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(6 + 2 * strModel.size);
    expect(r.stdout).toContain('\na\\0ab\n');
    expect(r.stdout).toContain('\n\\ef\\bb\\bfbom\n');
    expect(r.stdout).toContain('\nünïcödé\n');
    expect(r.stdout).toContain('\nback\\\\slash\n');
    // Key lines, decoded, are the model's keys in unsigned byte order.
    const keysInOrder = [...strModel.keys()].map((k) => Buffer.from(k)).sort(Buffer.compare);
    const keyLines = lines.slice(6).filter((_, i) => i % 2 === 0);
    expect(keyLines.map((l, i) => Buffer.from(parsePrinted(l, `key ${i}`)).toString('hex'))).toEqual(keysInOrder.map((k) => k.toString('hex')));
    expect(keyLines[0]).toBe('\\00nul');
  });

  it("integers ('q') dump in decimal, in key order (negative first); as JSON numbers", () => {
    const text = cli(['dump', '-h', home, 'int']);
    expect(text.code).toBe(0);
    const sorted = [...intModel.keys()].sort((a, b) => a - b);
    const lines = text.stdout.split('\n');
    expect(lines.slice(4, 6)).toEqual(['key_format=q,value_format=q,page_size=4096', 'Data']);
    expect(lines.slice(6, -1)).toEqual(sorted.flatMap((k) => [String(k), String(intModel.get(k)! || 0)]));
    const json = JSON.parse(cli(['dump', '-h', home, 'int', '--format', 'json']).stdout);
    expect(json.entries).toEqual(sorted.map((k) => [k, intModel.get(k)! || 0]));
    const bad = text.stdout.replace('\n123456789\n', '\n1.5\n');
    const r = cli(['load', '-h', join(root, 'bad-int'), '--create'], bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^EINVAL: dump line \d+: "1.5" is not an integer; accepted: a decimal integer from -\(2\^53 - 1\) to 2\^53 - 1/);
  });

  it('dump -> load into a new home -> dump is identical, text and json, every format', async () => {
    for (const format of ['text', 'json']) {
      const dir = join(root, `loaded-${format}`);
      for (const t of ['str', 'bin', 'empty', 'int']) {
        const first = cli(['dump', '-h', home, t, '--format', format]);
        expect(first.code).toBe(0);
        const loaded = cli(['load', '-h', dir, '--create'], first.out);
        expect(loaded.stderr).toBe('');
        expect(loaded.code).toBe(0);
        expect(loaded.stdout).toMatch(new RegExp(`^table:${t}: loaded \\d+ entries into `));
        const again = cli(['dump', '-h', dir, t, '--format', format]);
        expect(again.code).toBe(0);
        expect(again.out.equals(first.out)).toBe(true);
      }
      // And the loaded entries are the originals, byte for byte (not merely the same text).
      const str = await entries(dir, 'table:str');
      expect(new Map(str as [string, string][])).toEqual(strModel);
      const bin = await entries(dir, 'table:bin');
      expect(bin.map(([k, v]) => [hex(k as Uint8Array), hex(v as Uint8Array)]).sort())
        .toEqual([...binModel.values()].map(([k, v]) => [hex(k), hex(v)]).sort());
      expect(new Map(await entries(dir, 'table:int') as [number, number][])).toEqual(new Map([...intModel].map(([k, v]) => [k, v || 0])));
      expect(JSON.parse(cli(['stat', '-h', dir, '--json']).stdout).pageSize).toBe(4096);
    }
  });

  it('load -f reads a file; a malformed dump is EINVAL naming the line', () => {
    const file = join(root, 'bin.dump');
    writeFileSync(file, cli(['dump', '-h', home, 'bin']).out);
    const dir = join(root, 'from-file');
    expect(cli(['load', '-h', dir, '-f', file, '--create']).code).toBe(0);
    expect(cli(['dump', '-h', dir, 'bin']).out.equals(readFileSync(file))).toBe(true);
    const text = readFileSync(file, 'utf8').split('\n');
    text[7] = 'bad \\zz escape';
    const r = cli(['load', '-h', dir], text.join('\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^EINVAL: dump line 8: bad escape "\\\\zz"; accepted: /);
  });

  it('--svg writes the tree picture instead of the entries', () => {
    const svg = join(root, 'str.svg');
    const r = cli(['dump', '-h', home, 'str', '--svg', svg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text.trimEnd().endsWith('</svg>')).toBe(true);
    expect(text).toContain('table:str');
  });
});

describe('read-only commands beside a running leader', () => {
  it('stat, verify and dump change nothing in the home and do not fence its leader', async () => {
    const dir = join(root, 'live');
    const leader = await open({ home: dir, pageSize: 4096 });
    try {
      const s = leader.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      s.openCursor<string, string>('table:t').put('k', 'v1');
      await s.checkpoint();
      writeFileSync(join(dir, '.tmp-999999-1'), 'a blob a leader is writing');
      const before = readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('hex')]);
      expect(cli(['verify', '-h', dir]).code).toBe(0);
      expect(cli(['stat', '-h', dir]).code).toBe(0);
      expect(cli(['dump', '-h', dir, 't']).stdout).toMatch(/\nk\nv1\n$/);
      expect(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('hex')])).toEqual(before);
      expect(leader.role).toBe('leader');
      s.openCursor<string, string>('table:t').put('k', 'v2');
      await s.checkpoint(); // not ESTALE: nobody claimed a term
      expect(cli(['dump', '-h', dir, 't']).stdout).toMatch(/\nk\nv2\n$/);
    } finally {
      await leader.close();
    }
  });
});

describe('load beside a running leader', () => {
  it('is EBUSY naming the holder, and --takeover fences that leader (its next checkpoint is ESTALE)', async () => {
    const dir = join(root, 'led');
    const leader = await open({ home: dir, pageSize: 4096 });
    try {
      const s = leader.openSession();
      s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
      await s.checkpoint();
      const dump = cli(['dump', '-h', dir, 't']).stdout;
      const busy = cli(['load', '-h', dir], dump);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`^EBUSY: .*pid ${process.pid}\\b.*takeover`, 's'));
      expect(leader.role).toBe('leader');
      const taken = cli(['load', '-h', dir, '--takeover'], dump);
      expect(taken.stderr).toBe('');
      expect(taken.code).toBe(0);
      await expect(s.checkpoint()).rejects.toMatchObject({ code: 'ESTALE' });
      expect(leader.role).toBe('follower');
    } finally {
      await leader.close().catch((e) => expect(e.code).toBe('ESTALE'));
    }
  });
});

describe('usage', () => {
  const usage: [string[], RegExp][] = [
    [[], /^latchkey: missing command; accepted: verify, stat, dump, load, log\n/],
    [['frob'], /^latchkey: unknown command "frob"; accepted: verify, stat, dump, load, log/],
    [['-h', 'x', 'verify'], /^latchkey: expected a command first, got option "-h"; accepted: verify, stat, dump, load, log \(the home goes after it: latchkey verify -h x\)/],
    [['verify', '-h', 'x', '--bogus'], /^latchkey verify: unknown option "--bogus"; accepted: -h\/--home, --cache-size, --help\b/],
    [['stat', '-h', 'x', '--svg', 'f'], /^latchkey stat: unknown option "--svg"; accepted: .*--json/],
    [['verify'], /^latchkey verify: missing home; accepted: -h <dir> or --home <dir>/],
    [['verify', '-h'], /^latchkey verify: option -h, --home <value> needs a value/],
    [['dump', '-h', 'x'], /^latchkey dump: missing table; accepted: one table name/],
    [['dump', '-h', 'x', 'a', 'b'], /^latchkey dump: one table at a time, got 2 \(a b\)/],
    [['dump', '-h', 'x', 't', '--format', 'xml'], /^latchkey dump: --format "xml"; accepted: text or json$/m],
    [['load', '-h', 'x', 't'], /^latchkey load: unexpected argument "t"; accepted: no table argument/],
  ];
  it.each(usage)('%j exits 2 naming what was wrong and what is accepted', (args, msg) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  it('engine errors exit 1 as code: message', () => {
    const nope = cli(['verify', '-h', home, 'nope']);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toBe(`ENOENT: no table table:nope in home ${JSON.stringify(home)}; accepted: table:bin, table:empty, table:int, table:str\n`);
    const missing = cli(['stat', '-h', join(root, 'no-such-home')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ENOENT: home ".*no-such-home" does not exist/);
    expect(existsSync(join(root, 'no-such-home'))).toBe(false);
    const noCreate = cli(['load', '-h', join(root, 'no-create')], cli(['dump', '-h', home, 'bin']).out);
    expect(noCreate.code).toBe(1);
    expect(noCreate.stderr).toMatch(/^ENOENT: home ".*no-create" holds no latchkey database; accepted: an existing home, or --create/);
  });

  it('-h alone, help and --help print the usage on stdout and exit 0', () => {
    for (const args of [['-h'], ['--help'], ['help']]) {
      const r = cli(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: latchkey <command> -h <home> \[options\]\n/);
      expect(r.stdout).toContain('latchkey --version');
    }
    // After a command, -h is still the home:
    expect(cli(['verify', '-h', home, 'empty']).stdout).toBe('table:empty: ok (1 page, 1 level)\n');
  });

  it('--version prints the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const r = cli(['--version']);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `${pkg.version}\n` });
  });

  const badSizes: [string[], RegExp][] = [
    [['stat', '-h', home, '--cache-size', 'lots'], /^latchkey stat: --cache-size "lots" is not a size; accepted: a whole number of bytes, or a size string/],
    [['verify', '-h', home, '--cache-size', '1KB'], /^latchkey verify: --cache-size "1KB" \(1024 bytes\) is below the minimum of 16MiB .*; accepted: a size from 16MiB/],
    [['dump', '-h', home, 'str', '--cache-size', '8GB'], /^latchkey dump: --cache-size "8GB" .* is above the maximum/],
    [['load', '-h', join(root, 'never-made'), '--create', '--cache-size=-1'], /^latchkey load: --cache-size "-1" is negative; accepted: /],
  ];
  it.each(badSizes)('%j: a bad --cache-size is usage (exit 2), checked before anything opens', (args, msg) => {
    const r = cli(args, '');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(msg);
    expect(r.code).toBe(2);
    expect(existsSync(join(root, 'never-made'))).toBe(false);
  });

  it('an engine error is printed as code: message with the code once', async () => {
    // A table whose tree fails verify: its checkpoint page is fine, so only verify sees it.
    const r = cli(['verify', '-h', join(root, 'no-such-home')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ENOENT: home /);
    expect(r.stderr).not.toMatch(/ENOENT: ENOENT/);
    const bad = cli(['load', '-h', join(root, 'bad-dump'), '--create'], 'not a dump\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^EINVAL: dump /);
    expect(bad.stderr).not.toMatch(/^EINVAL: EINVAL/);
  });

  it('--help prints usage and exits 0', () => {
    const all = cli(['--help']);
    expect(all.code).toBe(0);
    for (const c of ['verify', 'stat', 'dump', 'load', 'log']) expect(all.stdout).toContain(`latchkey ${c} -h <home>`);
    const dump = cli(['dump', '--help']);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toMatch(/^usage: latchkey dump -h <home> <table> \[--format text\|json\] \[--svg file.svg\]/);
  });
});

describe('latchkey log, and verify of a home with a log', () => {
  /** A home whose last writes are only in the log (the process ended without a checkpoint). */
  async function loggedHome(): Promise<string> {
    const dir = mkdtempSync(join(root, 'log-'));
    const conn = await open({ home: dir, pageSize: 4096 });
    const s = conn.openSession();
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const c = s.openCursor<string, string>('table:t');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) c.put(`k${round}-${i}`, 'v');
      c.remove(`k${round}-0`);
      await s.flush();
    }
    conn.core.unregister(); // no close: no checkpoint
    return dir;
  }

  it('lists each segment with its positions, term and records by type, and where replay starts', async () => {
    const dir = await loggedHome();
    const r = cli(['log', '-h', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^checkpoint: none \(replay starts at 0\)$/m);
    expect(r.stdout).toMatch(/^wal-0{16}  0\.\.\d+  term 1 \(term start\)  1 term-start$/m);
    expect(r.stdout).toMatch(/^wal-\d{16}  \d+\.\.\d+  term 1  1 create, 50 put, 1 remove$/m);
    expect(r.stdout).toMatch(/^4 segments$/m);
    const j = JSON.parse(cli(['log', '-h', dir, '--json']).stdout);
    expect(j.segments).toHaveLength(4);
    expect(j.segments[3].records).toEqual({ put: 50, remove: 1 });
    // verify replays the log: the writes that only the log holds are there.
    const v = cli(['verify', '-h', dir]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^table:t: ok/m);
    const st = cli(['stat', '-h', dir, '--json']);
    expect(JSON.parse(st.stdout).tables['table:t'].entries).toBe(147);
  });

  it('a damaged segment before the last: log names it (exit 1), and verify fails with ECORRUPT naming segment and position', async () => {
    const dir = await loggedHome();
    const names = readdirSync(dir).filter((n) => n.startsWith('wal-')).sort();
    const file = join(dir, names[2]);
    const b = readFileSync(file);
    b[32 + 40] ^= 1;
    writeFileSync(file, b);
    const r = cli(['log', '-h', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${names[2]}`);
    expect(r.stdout).toMatch(/BAD at log position \d+: record checksum mismatch/);
    expect(r.stderr).toMatch(new RegExp(`^ECORRUPT: log: segment ${names[2]}, log position \\d+: record checksum mismatch`, 'm'));
    const v = cli(['verify', '-h', dir]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(new RegExp(`^ECORRUPT: log: segment ${names[2]}, log position \\d+: record checksum mismatch`, 'm'));
  });

  it('a last segment of the first log format is not a torn tail: log names it (exit 1), verify fails with ECORRUPT', async () => {
    const dir = await loggedHome();
    const last = readdirSync(dir).filter((n) => n.startsWith('wal-')).sort().at(-1)!;
    const b = readFileSync(join(dir, last));
    b.write('LKLG', 0, 'latin1');
    writeFileSync(join(dir, last), b);
    const r = cli(['log', '-h', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ECORRUPT: log: segment ${last}, log position \\d+: a segment of the first log format`, 'm'));
    const v = cli(['verify', '-h', dir]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(new RegExp(`ECORRUPT: log: segment ${last}, log position \\d+: a segment of the first log format`));
  });
});

// The commands on a nats:// home: a real nats-server (test/servers.ts). Without nats-server on
// PATH these are skipped (test/nats.test.ts says how to install it, and fails under
// LATCHKEY_REQUIRE_NATS=1, as CI runs).
describe.skipIf(!onPath('nats-server'))('latchkey on a nats:// home', () => {
  let nats: NatsCluster;
  beforeAll(async () => { nats = await startNats({ nodes: 1 }); });
  afterAll(async () => { await nats?.stop(); });

  it('load --create, then stat, verify, dump and log read the home from the servers', () => {
    const dir = nats.url('cli');
    const dump = cli(['dump', '-h', home, 'table:str']);
    expect(dump.code).toBe(0);
    const missing = cli(['load', '-h', dir], dump.out);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ENOENT: /);
    const load = cli(['load', '-h', dir, '--create'], dump.out);
    expect(load.stderr).toBe('');
    expect(load.stdout).toBe(`table:str: loaded ${strModel.size} entries into ${dir}\n`);
    const st = JSON.parse(cli(['stat', '-h', dir, '--json']).stdout);
    expect(st.home).toBe(dir);
    expect(st.tables['table:str'].entries).toBe(strModel.size);
    expect(cli(['verify', '-h', dir]).stdout).toMatch(/^table:str: ok \(\d+ pages, \d+ levels?\)\n$/);
    const again = cli(['dump', '-h', dir, 'table:str']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(dump.stdout);
    const log = cli(['log', '-h', dir, '--json']);
    expect(log.code).toBe(0);
    const facts = JSON.parse(log.stdout);
    expect(facts.checkpoint.seq).toBe(st.latest.seq);
    expect(facts.segments.length).toBeGreaterThan(0);
    for (const g of facts.segments) expect(g.bad).toBeUndefined();
  });

  it('a home not on the servers is ENOENT, exit 1', () => {
    const r = cli(['verify', '-h', nats.url('nothere')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ENOENT: /);
  });
});
