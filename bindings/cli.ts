#!/usr/bin/env node
/**
 * `latchkey`, the command line (package.json "bin"; Node only: nothing imports this file), in the
 * manner of WiredTiger's `wt` utility, over a directory home or a `nats://` one (NatsPageStore):
 *
 *   latchkey verify -h <home> [table ...]          verify tables (all if none named)
 *   latchkey stat   -h <home> [table ...] [--json] home facts and per-table statistics
 *   latchkey dump   -h <home> <table> [--format text|json] [--svg file.svg]
 *   latchkey load   -h <home> [-f file] [--create] a dump (dump-format.ts) into a table
 *   latchkey log    -h <home> [--json]             the write-ahead log's segments, each checked
 *   latchkey -h | --help | help                    usage;  latchkey --version  the package version
 *
 * `-h` is the home after a command (`latchkey verify -h /data/db`) and help when it is the only
 * argument; `latchkey -h /data/db verify` is bad usage naming the right order.
 *
 * verify, stat and dump open the home as a FOLLOWER over a read-only view of the directory
 * (DirectoryPageStore's read-only view, store-dir.ts), or as a follower of a nats:// home (a
 * follower publishes nothing): they load the latest checkpoint and change nothing, so they are
 * safe beside a running leader. load opens it as the LEADER: a home that a live process leads is EBUSY
 * (bindings/leader.ts) unless --takeover, which claims a new term and so fences that leader (its
 * next checkpoint fails with ESTALE); it writes the table, and closing checkpoints it. A failed
 * load checkpoints nothing.
 *
 * Exit codes: 0 done (verify: every table clean); 1 an error from the engine or the file system,
 * printed as `code: message` (verify: a table failed, or the checkpoint itself is corrupt); 2 bad
 * usage (a bad option value too, e.g. --cache-size), printed naming what was wrong and what is
 * accepted.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { open, parseConfig, type Connection, type Session } from './index.js';
import { LatchkeyError } from './errors.js';
import { latestRecord, readRecord, recordName, type LogRecord } from './checkpoint.js';
import { DirectoryPageStore } from './store-dir.js';
import { isRemoteHome, openRemote } from './core.js';
import type { PageStore } from './store.js';
import { inspectLog } from './log.js';
import { renderTreeSvg } from './svg.js';
import * as dumpFormat from './dump-format.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  options: Options;
  run(v: Values, positionals: string[]): Promise<number>;
}

/** Bad usage: exit code 2. */
class UsageError extends Error {
  constructor(readonly command: string, what: string, accepted: string) {
    super(`latchkey${command ? ` ${command}` : ''}: ${what}; accepted: ${accepted}`);
  }
}

const COMMON: Options = {
  home: { type: 'string', short: 'h' },
  'cache-size': { type: 'string' },
  help: { type: 'boolean' },
};
const COMMON_USAGE = `  -h, --home <dir>     the database directory, or nats://host:port[,...]/name (required)
  --cache-size <size>  memory for the tables, e.g. 512MB (default 256MB)
  --help               this text`;

const COMMANDS: Record<string, Command> = {
  verify: {
    usage: `latchkey verify -h <home> [table ...]
  Opens the home as a follower (read-only), which loads the latest checkpoint and replays the
  log after it (checking every record), and verifies each table (all if none is named): one line
  per table; exit 0 if all are clean, 1 otherwise (or if the checkpoint or the log is corrupt).`,
    options: {},
    run: verify,
  },
  stat: {
    usage: `latchkey stat -h <home> [table ...] [--json]
  The home's latest record, checkpoint and page size, and each table's statistics
  (all tables if none is named). Opens the home as a follower (read-only).
  --json               one JSON object instead of text`,
    options: { json: { type: 'boolean' } },
    run: stat,
  },
  dump: {
    usage: `latchkey dump -h <home> <table> [--format text|json] [--svg file.svg]
  Writes the table's entries in key order to stdout (text: like wt dump, every byte string
  escaped so that it loads back exactly, integers in decimal; json: strings as JSON strings,
  bytes as hex, integers as JSON numbers).
  Opens the home as a follower (read-only).
  --format text|json   the dump format (default text)
  --svg <file>         write a picture of the table's tree to <file> instead`,
    options: { format: { type: 'string' }, svg: { type: 'string' } },
    run: dump,
  },
  load: {
    usage: `latchkey load -h <home> [-f file] [--create] [--takeover]
  Reads a dump (text or json, from <file> or stdin) and loads it: opens the home as the LEADER
  (EBUSY while a live process leads it, unless --takeover), creates the table with the dump's
  formats, puts every entry (overwriting), checkpoints and closes. On an error nothing is
  checkpointed.
  -f, --file <file>    the dump to read (default: stdin)
  --create             create the home if it holds no database (with the dump's page size)
  --takeover           fence a live leader of the home (its next checkpoint fails with ESTALE)`,
    options: { file: { type: 'string', short: 'f' }, create: { type: 'boolean' }, takeover: { type: 'boolean' } },
    run: load,
  },
  log: {
    usage: `latchkey log -h <home> [--json]
  The write-ahead log: each segment of the home (wal-<position>) with its log positions, term,
  and records by type, each record checked (crc, position, lengths); then the latest
  checkpoint's position, where replay starts. Exit 1 if a segment before the last is damaged
  (a damaged last segment is a torn tail: replay ends before it). Reads only.
  --json               one JSON object instead of text`,
    options: { json: { type: 'boolean' } },
    run: logCommand,
  },
};
const NAMES = Object.keys(COMMANDS);

const USAGE = `usage: latchkey <command> -h <home> [options]
       latchkey -h | --help | help        this text
       latchkey --version                 the package version

commands:
${NAMES.map((n) => `  ${COMMANDS[n].usage.split('\n')[0]}`).join('\n')}

common options:
${COMMON_USAGE}

latchkey <command> --help describes a command. Exit codes: 0 done, 1 engine error
(printed as "code: message"; verify: a table is corrupt), 2 bad usage.`;

// ---- output ----

const out = {
  buf: '',
  async write(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length >= 1 << 16) await this.flush();
  },
  async flush(): Promise<void> {
    const b = this.buf;
    this.buf = '';
    if (b && !process.stdout.write(b)) await once(process.stdout, 'drain');
  },
};

// ---- helpers ----

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function optionList(cmd: Command): string {
  const all = { ...COMMON, ...cmd.options };
  return Object.entries(all).map(([k, o]) => `${o.short ? `-${o.short}/` : ''}--${k}`).join(', ');
}

function home(command: string, v: Values): string {
  if (typeof v.home !== 'string' || v.home === '') throw new UsageError(command, 'missing home', '-h <dir> or --home <dir>, the database directory (or a nats:// home)');
  return v.home;
}

/** --cache-size, checked before anything opens: a bad size is usage (exit 2), named as the option. */
function cacheSize(command: string, v: Values): { cacheSize?: string } {
  const size = v['cache-size'];
  if (typeof size !== 'string') return {};
  try {
    parseConfig({ cacheSize: size });
  } catch (e) {
    if (!(e instanceof LatchkeyError)) throw e;
    const [what, ...accepted] = e.message.replace(/^cacheSize/, '--cache-size').split('; accepted: ');
    throw new UsageError(command, what, accepted.join('; accepted: '));
  }
  return { cacheSize: size };
}

/**
 * `fn` on the home's store: a read-only view of a directory (ENOENT if it is not there), or an
 * existing nats:// home's buckets (ENOENT if they are missing), let go of after.
 */
async function withStore<T>(dir: string, fn: (store: PageStore) => Promise<T>): Promise<T> {
  if (!isRemoteHome(dir)) return fn(await DirectoryPageStore.open(dir, false, true));
  const store = await openRemote(dir, false);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Table arguments as uris ('users' means 'table:users'); ENOENT naming the tables there are. */
function tableUris(s: Session, dir: string, names: string[]): string[] {
  const live = s.tables();
  if (names.length === 0) return live;
  return names.map((n) => {
    const uri = n.startsWith('table:') ? n : `table:${n}`;
    if (!live.includes(uri)) {
      throw new LatchkeyError('ENOENT', `no table ${uri} in home ${JSON.stringify(dir)}; accepted: ${live.length ? live.join(', ') : '(the home has no tables)'}`);
    }
    return uri;
  });
}

/** `fn` on a follower of the home, with the latest record read before it loaded; closed after. */
async function withFollower<T>(command: string, dir: string, v: Values, fn: (s: Session, conn: Connection, latest: LogRecord, store: PageStore) => Promise<T>): Promise<T> {
  const size = cacheSize(command, v);
  return withStore(dir, async (store) => {
    const latest = await latestRecord(store);
    if (!latest) {
      throw new LatchkeyError('ENOENT', `home ${JSON.stringify(dir)} holds no latchkey checkpoints; accepted: a home a leader has checkpointed (latchkey load --create makes one)`);
    }
    const conn = await open({ home: store, role: 'follower', create: false, ...size });
    try {
      return await fn(conn.openSession(), conn, latest, store);
    } finally {
      await conn.close();
    }
  });
}

// ---- commands ----

async function verify(v: Values, args: string[]): Promise<number> {
  const dir = home('verify', v);
  return withFollower('verify', dir, v, async (s) => {
    const uris = tableUris(s, dir, args);
    const failed: string[] = [];
    for (const uri of uris) {
      try {
        const r = s.verify(uri);
        await out.write(`${uri}: ok (${plural(r.pages, 'page')}, ${plural(r.levels, 'level')})\n`);
      } catch (e) {
        if (!(e instanceof LatchkeyError)) throw e;
        failed.push(`${e.code}: ${e.message}`);
        await out.write(`${uri}: ${e.code}: ${e.message}\n`);
      }
    }
    if (uris.length === 0) await out.write(`no tables in ${dir}\n`);
    await out.flush();
    for (const m of failed) process.stderr.write(`${m}\n`);
    return failed.length ? 1 : 0;
  });
}

async function stat(v: Values, args: string[]): Promise<number> {
  const dir = home('stat', v);
  return withFollower('stat', dir, v, async (s, conn, latest, store) => {
    const ckpt = latest.checkpoint ? (latest.checkpoint === latest.seq ? latest : await readRecord(store, latest.checkpoint)) : undefined;
    const tables: Record<string, ReturnType<Session['stats']>> = {};
    for (const uri of tableUris(s, dir, args)) tables[uri] = s.stats(uri);
    const facts = {
      home: dir,
      latest: { record: recordName(latest.seq), seq: latest.seq, kind: latest.kind, term: latest.term },
      checkpoint: ckpt ? { seq: ckpt.seq, term: ckpt.term, tables: ckpt.tables?.length ?? 0 } : null,
      pageSize: conn.pageSize,
      tables,
    };
    if (v.json) {
      await out.write(`${JSON.stringify(facts, null, 2)}\n`);
    } else {
      await out.write(`home: ${dir}\n`
        + `latest record: ${facts.latest.record} (seq ${latest.seq}, a ${latest.kind} record of term ${latest.term})\n`
        + `checkpoint: ${ckpt ? `seq ${ckpt.seq} (term ${ckpt.term}), ${facts.checkpoint!.tables} tables` : 'none (the empty image)'}\n`
        + `page size: ${conn.pageSize}\n`);
      for (const [uri, st] of Object.entries(tables)) {
        await out.write(`${uri}\n${Object.entries(st).map(([k, n]) => `  ${k.padEnd(12)} ${n}\n`).join('')}`);
      }
    }
    await out.flush();
    return 0;
  });
}

async function dump(v: Values, args: string[]): Promise<number> {
  const dir = home('dump', v);
  if (args.length !== 1) {
    throw new UsageError('dump', args.length === 0 ? 'missing table' : `one table at a time, got ${args.length} (${args.join(' ')})`, 'one table name, e.g. users or table:users');
  }
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('dump', `--format ${JSON.stringify(format)}`, 'text or json');
  if (v.svg !== undefined && v.format !== undefined) throw new UsageError('dump', '--svg with --format', 'one of --svg <file> (a picture) or --format (the entries)');
  return withFollower('dump', dir, v, async (s, conn) => {
    const [uri] = tableUris(s, dir, args);
    if (typeof v.svg === 'string') {
      await writeFile(v.svg, renderTreeSvg(s.treeShape(uri)));
      return 0;
    }
    const h: dumpFormat.DumpHeader = { uri, ...s.tableFormats(uri), pageSize: conn.pageSize };
    const c = s.openRawCursor(uri);
    try {
      if (format === 'text') {
        await out.write(dumpFormat.textHeader(h));
        for (const [k, val] of c.range()) await out.write(dumpFormat.textEntry(h, k, val));
      } else {
        await out.write(dumpFormat.jsonHeader(h));
        let first = true;
        for (const [k, val] of c.range()) {
          await out.write(dumpFormat.jsonEntry(h, k, val, first));
          first = false;
        }
        await out.write(dumpFormat.JSON_END);
      }
    } finally {
      c.close();
    }
    await out.flush();
    return 0;
  });
}

async function readInput(file: string | undefined): Promise<string> {
  let bytes: Uint8Array;
  if (file !== undefined) bytes = await readFile(file);
  else {
    if (process.stdin.isTTY) throw new UsageError('load', 'no dump to read (stdin is a terminal)', '-f <file>, or a dump piped to stdin');
    const chunks: Buffer[] = [];
    for await (const ch of process.stdin) chunks.push(ch as Buffer);
    bytes = Buffer.concat(chunks);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new LatchkeyError('EINVAL', `dump ${file ?? '(stdin)'} is not UTF-8 text; accepted: the output of latchkey dump`);
  }
}

async function logCommand(v: Values, args: string[]): Promise<number> {
  const dir = home('log', v);
  if (args.length) throw new UsageError('log', `unexpected arguments ${args.join(' ')}`, 'latchkey log -h <home> [--json]');
  const { ckpt, segments } = await withStore(dir, async (store) => {
    const latest = await latestRecord(store);
    return { ckpt: latest?.checkpoint ? await readRecord(store, latest.checkpoint) : undefined, segments: await inspectLog(store) };
  });
  // A bad last segment is a torn tail (replay ends there), unless it is of a format this build does not read.
  const damaged = segments.filter((g, i) => g.bad && (i < segments.length - 1 || g.bad.format));
  if (v.json) {
    await out.write(`${JSON.stringify({ home: dir, checkpoint: ckpt ? { seq: ckpt.seq, lsn: ckpt.lsn ?? 0 } : null, segments }, null, 2)}\n`);
  } else {
    await out.write(`home: ${dir}\ncheckpoint: ${ckpt ? `seq ${ckpt.seq}, log position ${ckpt.lsn ?? 0} (replay starts there)` : 'none (replay starts at 0)'}\n`);
    for (const g of segments) {
      const counts = Object.entries(g.records).map(([t, n]) => `${n} ${t}`).join(', ') || 'no records';
      await out.write(`${g.name}  ${g.start}..${g.end}  term ${g.term}${g.termStart ? ' (term start)' : ''}  ${counts}`
        + `${g.bad ? `  BAD at log position ${g.bad.lsn}: ${g.bad.why}` : ''}\n`);
    }
    await out.write(`${plural(segments.length, 'segment')}${damaged.length ? `, ${damaged.length} damaged` : ''}\n`);
  }
  await out.flush();
  for (const g of damaged) process.stderr.write(`ECORRUPT: log: segment ${g.name}, log position ${g.bad!.lsn}: ${g.bad!.why}\n`);
  return damaged.length ? 1 : 0;
}

async function load(v: Values, args: string[]): Promise<number> {
  const dir = home('load', v);
  const size = cacheSize('load', v);
  if (args.length) throw new UsageError('load', `unexpected argument ${JSON.stringify(args[0])}`, 'no table argument: the table is named in the dump');
  const d = dumpFormat.parseDump(await readInput(v.file as string | undefined));
  // A home with no records is created with the dump's page size; an existing one keeps its own.
  let fresh = true;
  try {
    fresh = !(await withStore(dir, latestRecord));
  } catch (e) {
    if (!(e instanceof LatchkeyError && e.code === 'ENOENT')) throw e;
  }
  if (fresh && !v.create) {
    throw new LatchkeyError('ENOENT', `home ${JSON.stringify(dir)} holds no latchkey database; accepted: an existing home, or --create to make one`);
  }
  const conn = await open({ home: dir, create: true, takeover: v.takeover === true, ...(fresh ? { pageSize: d.pageSize } : {}), ...size });
  const s = conn.openSession();
  s.create(d.uri, { keyFormat: d.keyFormat, valueFormat: d.valueFormat });
  const c = s.openCursor(d.uri);
  for (const [k, val] of d.entries) c.put(k, val);
  c.close();
  await conn.close(); // the leader's close checkpoints
  await out.write(`${d.uri}: loaded ${d.entries.length} entries into ${dir}\n`);
  await out.flush();
  return 0;
}

// ---- main ----

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`latchkey: missing command; accepted: ${NAMES.join(', ')}\n\n${USAGE}\n`);
    return 2;
  }
  // -h alone is help; after a command it is the home (-h <dir>), and before one it is refused below.
  if ((name === '-h' && rest.length === 0) || name === '--help' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    const after = name === '-h' || name === '--home' ? ` (the home goes after it: latchkey ${rest[1] ?? '<command>'} -h ${rest[0]})` : '';
    throw new UsageError('', name.startsWith('-') ? `expected a command first, got option ${JSON.stringify(name)}` : `unknown command ${JSON.stringify(name)}`, `${NAMES.join(', ')}${after} (latchkey --help)`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (!err.code?.startsWith('ERR_PARSE_ARGS')) throw e;
    const opt = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const what = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${JSON.stringify(opt)}`
      : /argument missing/.test(err.message) ? `option ${opt} needs a value`
        : err.message.split('. ')[0].replace(/^Option/, 'option');
    throw new UsageError(name, what, `${optionList(cmd)} (latchkey ${name} --help)`);
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${cmd.usage}\n\noptions:\n${COMMON_USAGE}\n`);
    return 0;
  }
  return cmd.run(parsed.values as Values, parsed.positionals);
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0); // the reader went away (| head): stop quietly
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    // `code: message` (a LatchkeyError's message never starts with its code; Node's fs errors' do).
    const err = e as Error & { code?: unknown };
    const msg = typeof err.code === 'string' && err.message?.startsWith(`${err.code}:`)
      ? err.message
      : `${typeof err.code === 'string' ? err.code : err.name ?? 'Error'}: ${err.message ?? String(e)}`;
    process.stderr.write(`${msg}\n`);
    process.exitCode = 1;
  },
);
