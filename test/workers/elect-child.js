// A child process of test/election.test.ts: a connection on <home> (a nats:// home) campaigning
// in <election>, driven line by line over stdin, so the test can kill it (kill -9) while it leads,
// at random moments or at moments it aims at (arm, below).
//
//   node elect-child.js <home> <election> <ttl>
//     prints "open <role>" once open() resolved and its writers are attached (or "openerr <code>
//     <message>"), and "role <role> <previous>" at every rolechange event (conn.role checked
//     equal to it).
//
// THE WRITERS. Four worker threads (test/workers/elect-writer.js), attached with conn.share() ->
// attach(handle), write table:t keys "<pid>-<worker>-<n>" while the connection leads, ten puts
// then session.flush(), again and again; this thread prints "w <term> <key> ..." only after that
// flush resolved (term: conn.term when the worker made the puts), "werr <worker> <code> <message>"
// when a batch failed (the role left leader); a worker starts again at each step-up.
//
// The leader checkpoints by itself every CHECKPOINT_SIZE log bytes (incremental checkpoints, log
// truncation), so a step-up loads an image and replays the log after it.
//
// THE HOME is opened here, as a PageStore object (`home: <store>`): NatsPageStore.open with a
// small inlineMax (checkpoint images go to the Object Store), wrapped so that an armed kill
// fires at a chosen moment: the process prints "dying <kind> <where>" and SIGKILLs itself.
//   checkpoint    during a checkpoint's image write: once the image's upload to the Object Store
//                 landed, before the KV entry pointing at it is written (an inline image: while
//                 its write is out); "arm checkpoint" also starts that checkpoint
//   flush-before  just before a log segment's publish, held back STALL_MS first (its writes are
//                 not durable: none may be reported meanwhile, from any thread)
//   flush-after   just after a segment's publish landed, before it returned (durable, no one told)
// The upload hook wraps NatsPageStore's Object Store (`objects`, an internal field): the one
// moment inside write() that no PageStore method boundary shows.
//
// Commands, one a line; each answer starts with "> ":
//   dump        "> keys k1 k2 ..." (every key of table:t)
//   role        "> <role>"
//   term        "> <conn.term>"
//   arm <kind>  "> armed <kind>" (kind: checkpoint, flush-before, flush-after), then dies
//   close       close() (resign): "> closed"
// and never exits by itself: the test kills it.
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { open } from '../../dist/index.js';
import { waitToBeKilled } from './wait-killed.js';
import { NatsPageStore, parseNatsHome } from '../../dist/store-nats-node.js';

const WRITERS = 4;
/** Blobs above this go to the Object Store: checkpoint images of a few hundred keys, not 10-put segments. */
const INLINE_MAX = 4096;
/** The leader checkpoints by itself every this many log bytes (about a second of the writers' load): step-ups load an image, then the log after it. */
const CHECKPOINT_SIZE = 64 * 1024;
/** How long an armed flush-before holds the segment back before dying: past flushRemote's 50 ms waits and several flush intervals. */
const STALL_MS = 200;
const KINDS = ['checkpoint', 'flush-before', 'flush-after'];
const WRITER = new URL('./elect-writer.js', import.meta.url);

const [homeUrl, election, ttl] = process.argv.slice(2);
const say = (s) => process.stdout.write(`${s.replace(/\n/g, ' ')}\n`); // a pipe: written before the next line runs
let conn;
let armed;

function die(where) {
  say(`dying ${armed} ${where}`);
  process.kill(process.pid, 'SIGKILL');
}

const store = await NatsPageStore.open({ ...parseNatsHome(homeUrl), inlineMax: INLINE_MAX });
const objects = store.objects;
const putBlob = objects.putBlob.bind(objects);
objects.putBlob = async (meta, data) => {
  const info = await putBlob(meta, data);
  if (armed === 'checkpoint' && meta.name.startsWith('ckpt.')) die(`upload ${meta.name} landed, its entry not written`);
  return info;
};
const isSegment = (name) => name.startsWith('wal-');
const home = new Proxy(store, {
  get(target, key) {
    if (key === 'publish') {
      return async (name, data) => {
        if (armed === 'flush-before' && isSegment(name)) {
          // A publish that stalls, then the process dies: what the writers were told meanwhile is checked.
          await new Promise((r) => setTimeout(r, STALL_MS));
          die(`before publishing ${name} (held ${STALL_MS} ms)`);
        }
        const won = await target.publish(name, data);
        if (armed === 'flush-after' && isSegment(name) && won) die(`after publishing ${name}, before it returned`);
        return won;
      };
    }
    if (key === 'write') {
      return (name, data) => {
        const done = target.write(name, data);
        if (armed === 'checkpoint' && name.startsWith('ckpt-') && data.length <= INLINE_MAX) die(`writing ${name} (inline)`);
        return done;
      };
    }
    const v = Reflect.get(target, key);
    return typeof v === 'function' ? v.bind(target) : v;
  },
});

try {
  conn = await open({ home, election, electionTtl: Number(ttl), cacheSize: '64MB', refreshInterval: 500, log: { checkpointSize: CHECKPOINT_SIZE } });
} catch (e) {
  say(`openerr ${e.code ?? 'ERROR'} ${e.message}`);
  await waitToBeKilled();
}

const writers = [];
await Promise.all(Array.from({ length: WRITERS }, (_, worker) => new Promise((resolve, reject) => {
  const w = new Worker(WRITER, { workerData: { handle: conn.share(), worker } });
  w.on('error', (e) => say(`werr ${worker} ERROR ${e.message}`));
  w.on('message', (m) => {
    if (m.ready !== undefined) resolve();
    else if (m.w) say(`w ${m.term} ${m.w.join(' ')}`);
    else if (m.werr) say(`werr ${worker} ${m.werr}`);
  });
  w.once('exit', (code) => { say(`werr ${worker} EXIT ${code}`); reject(new Error(`writer ${worker} exited`)); });
  writers.push(w);
})));

/** The connection leads: the table exists, then every writer goes. */
function lead() {
  if (conn.role !== 'leader') return;
  const s = conn.openSession();
  try {
    s.create('table:t', { keyFormat: 'S', valueFormat: 'S' });
  } catch (e) {
    say(`werr main ${e.code ?? 'ERROR'} ${e.message}`);
    return;
  } finally {
    s.close();
  }
  for (const w of writers) w.postMessage('go');
}

conn.addEventListener('rolechange', (e) => {
  say(`role ${e.role} ${e.previous}${conn.role === e.role ? '' : ` MISMATCH ${conn.role}`}`);
  if (e.role === 'leader') setImmediate(lead);
});
say(`open ${conn.role}`);
setImmediate(lead);

for await (const line of createInterface({ input: process.stdin })) {
  try {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'dump') {
      const s = conn.openSession();
      let keys = [];
      try { keys = [...s.openCursor('table:t').range()].map(([k]) => k); } catch { /* no table yet */ }
      s.close();
      say(`> keys ${keys.join(' ')}`);
    } else if (cmd === 'role') say(`> ${conn.role}`);
    else if (cmd === 'term') say(`> ${conn.term}`);
    else if (cmd === 'arm' && KINDS.includes(arg)) {
      armed = arg;
      say(`> armed ${arg}`);
      if (arg === 'checkpoint') {
        const s = conn.openSession();
        s.checkpoint().then(() => say('checkpoint ended without dying'), (e) => say(`checkpoint failed ${e.code ?? 'ERROR'} ${e.message}`)).finally(() => s.close());
      }
    } else if (cmd === 'close') {
      await conn.close();
      await store.close();
      say('> closed');
    } else say(`> unknown ${line}`);
  } catch (e) {
    say(`> ${e.code ?? 'ERROR'} ${e.message}`);
  }
}
await waitToBeKilled();
