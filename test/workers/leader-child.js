// A child process of test/takeover.test.ts: a leader (or a would-be leader) of a directory home,
// driven line by line over stdin, so the test can kill it (kill -9) while it leads.
//
//   node leader-child.js <home> [race|quiet]
//     (with race: waits for a "go" line first, so that several children open at once; with quiet:
//     its log's background flusher waits a minute, so that its log is written only by its own
//     checkpoints and closes, and a test knows when it finds itself fenced)
//     opens <home> as leader: prints "leader <term>", or "<code> <message>" if open fails;
//     then runs commands from stdin, one a line, printing "ok" or "<code> <message>" for each:
//       put <table> <key> <value>   a write (the table is created if needed)
//       checkpoint
//       close                       (the process keeps running afterwards)
//     and never exits by itself: the test kills it.
import { createInterface } from 'node:readline';
import { open } from '../../dist/index.js';
import { waitToBeKilled } from './wait-killed.js';

const [home, mode] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (s) => process.stdout.write(`${s.replace(/\n/g, ' ')}\n`);
const failed = (e) => say(`${e.code ?? 'ERROR'} ${e.message}`);

if (mode === 'race') await lines.next();
let conn;
try {
  conn = await open(mode === 'quiet' ? { home, log: { flushInterval: 60_000 } } : { home });
  say(`leader ${conn.term}`);
} catch (e) {
  failed(e);
}
const s = conn?.openSession();
for (;;) {
  const { value, done } = await lines.next();
  if (done) break;
  const [cmd, ...args] = value.split(' ');
  try {
    if (cmd === 'put') {
      s.create(`table:${args[0]}`, { keyFormat: 'S', valueFormat: 'S' });
      s.openCursor(`table:${args[0]}`).put(args[1], args[2]);
    } else if (cmd === 'checkpoint') await s.checkpoint();
    else if (cmd === 'close') await conn.close();
    else throw new Error(`unknown command ${cmd}`);
    say('ok');
  } catch (e) {
    failed(e);
  }
}
await waitToBeKilled();
