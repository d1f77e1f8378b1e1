// A child process of test/election.test.ts: a connection on <home> campaigning in <election>,
// driven line by line over stdin, so the test can kill it (kill -9) while it leads.
//
//   node elect-child.js <home> <election> <ttl>
//     prints "open <role>" once open() resolved (or "openerr <code> <message>"), and
//     "role <role> <previous>" at every rolechange event (conn.role checked equal to it).
//     While it leads, writes table:t keys "<pid>-<n>", ten puts then flush(), again and again;
//     prints "w <key> ..." only after that flush resolved ("werr <code> <message>" ends it).
//     A follower picks up the log every 500 ms (refreshInterval), so a step-up replays little.
//     Commands, one a line; each answer starts with "> ":
//       dump      "> keys k1 k2 ..." (every key of table:t)
//       role      "> <role>"
//       close     close() (resign): "> closed"
//     and never exits by itself: the test kills it.
import { createInterface } from 'node:readline';
import { open } from '../../dist/index.js';

const [home, election, ttl] = process.argv.slice(2);
const say = (s) => process.stdout.write(`${s.replace(/\n/g, ' ')}\n`);
let conn;
let writing = false;

async function writeLoop() {
  if (writing) return;
  writing = true;
  const s = conn.openSession();
  try {
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
    const c = s.openCursor('table:t');
    for (let n = 0; conn.role === 'leader'; n += 10) {
      const keys = Array.from({ length: 10 }, (_, i) => `${process.pid}-${n + i}`);
      for (const key of keys) c.put(key, 'v');
      await s.flush();
      say(`w ${keys.join(' ')}`);
    }
  } catch (e) {
    say(`werr ${e.code ?? 'ERROR'} ${e.message}`);
  } finally {
    s.close();
    writing = false;
  }
}

try {
  conn = await open({ home, election, electionTtl: Number(ttl), cacheSize: '32MB', refreshInterval: 500 });
} catch (e) {
  say(`openerr ${e.code ?? 'ERROR'} ${e.message}`);
  await new Promise(() => {});
}
conn.addEventListener('rolechange', (e) => {
  say(`role ${e.role} ${e.previous}${conn.role === e.role ? '' : ` MISMATCH ${conn.role}`}`);
  if (e.role === 'leader') setImmediate(writeLoop);
});
say(`open ${conn.role}`);
if (conn.role === 'leader') setImmediate(writeLoop);

for await (const line of createInterface({ input: process.stdin })) {
  try {
    if (line === 'dump') {
      const s = conn.openSession();
      let keys = [];
      try { keys = [...s.openCursor('table:t').range()].map(([k]) => k); } catch { /* no table yet */ }
      s.close();
      say(`> keys ${keys.join(' ')}`);
    } else if (line === 'role') say(`> ${conn.role}`);
    else if (line === 'close') { await conn.close(); say('> closed'); }
    else say(`> unknown ${line}`);
  } catch (e) {
    say(`> ${e.code ?? 'ERROR'} ${e.message}`);
  }
}
await new Promise(() => {});
