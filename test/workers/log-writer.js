// A process for test/log.test.ts's kill loops: opens a home (recovery), then writes forever and
// reports on stdout each position it knows durable, until it is killed (SIGKILL).
//
//   argv: home, first (the next step to write), debug (1/0)
//   step n: put k<n> = v<n>; every third step also a batch putting a<n> and b<n> (both or none
//   after a crash); after every few steps a flush, then "acked <n>" (steps <= n are durable).
// Plain JS: loads the built package.
import { open } from '../../dist/index.js';

const [home, first, debug] = process.argv.slice(2);
const conn = await open({ home, debug: debug === '1', pageSize: 4096, cacheSize: '64MB' });
const s = conn.openSession();
s.create('table:k', { keyFormat: 'S', valueFormat: 'S' });
s.create('table:ab', { keyFormat: 'S', valueFormat: 'S' });
const c = s.openCursor('table:k');
const pad = (n) => String(n).padStart(8, '0');
process.stdout.write('open\n');
for (let n = Number(first); ; n++) {
  c.put(`k${pad(n)}`, `v${n}`);
  if (n % 3 === 0) {
    s.batch([
      { type: 'put', uri: 'table:ab', key: `a${pad(n)}`, value: `${n}` },
      { type: 'put', uri: 'table:ab', key: `b${pad(n)}`, value: `${n}` },
    ]);
  }
  if (n % 7 === 0) {
    await s.flush();
    process.stdout.write(`acked ${n}\n`);
  }
  if (n % 500 === 0) await s.checkpoint();
}
