// bench/nats.js --case failover: a leader and two followers, each in a process of its own
// (test/workers/elect-child.js: it writes ten puts then flush() while it leads, and prints each
// write only after its flush resolved), on a NATS home (one nats-server) with an etcd election
// (one member), lease TTL --ttls seconds. The leader is SIGKILLed --kills times and made to resign
// (close()) --resigns times; a fresh follower process replaces the node each time.
//
// Measured in this process, at the arrival of each child's lines (one machine, one clock):
//   kill -> elected       SIGKILL sent -> another child prints its rolechange to leader
//   kill -> first write   SIGKILL sent -> the new leader prints its first write (its flush resolved)
//   resign -> elected     close() asked -> another child prints its rolechange to leader
//   close() resolved      close() asked -> the resigning child answers (its final checkpoint,
//                         and the log truncation after it, come before the resign)
// A check that fails (a write some leader reported missing on its successor, two leaders at
// once) exits 1; nothing asserts on a timing.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable } from './format.js';

const CHILD = fileURLToPath(new URL('../test/workers/elect-child.js', import.meta.url));
/** How long a child may take to answer (a shared, slow machine). */
const ANSWER_MS = 120_000;

/** One child process, its stdout as timestamped lines, waited on by pattern. */
class Child {
  constructor(home, election, ttl) {
    this.lines = [];
    this.waiters = new Set();
    this.p = spawn(process.execPath, [CHILD, home, election, String(ttl)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    this.p.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.lines.push({ text: buf.slice(0, i), at: performance.now() });
        buf = buf.slice(i + 1);
      }
      for (const w of [...this.waiters]) w();
    });
    this.p.once('exit', () => { for (const w of [...this.waiters]) w(); });
  }

  /** The `n`th line matching `re` at index `from` or later (default the first): { text, at, index }. */
  line(re, from = 0, n = 1, what = String(re)) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let seen = 0;
        const index = this.lines.findIndex((l, i) => i >= from && re.test(l.text) && ++seen === n);
        if (index >= 0) { done(); resolve({ ...this.lines[index], index }); } else if (this.p.exitCode !== null) { done(); reject(new Error(`nats.js failover: child ${this.p.pid} exited waiting for ${what}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`nats.js failover: child ${this.p.pid}: no ${what} within ${ANSWER_MS} ms`)); }, ANSWER_MS);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a command; resolves with its answer's text (after "> "). */
  async ask(cmd) {
    const from = this.lines.length;
    this.p.stdin.write(`${cmd}\n`);
    return (await this.line(/^> /, from, 1, `an answer to ${cmd}`)).text.slice(2);
  }

  /** Keys this child reported flushed. */
  reported() {
    return this.lines.filter((l) => l.text.startsWith('w ')).flatMap((l) => l.text.split(' ').slice(1));
  }

  kill() {
    if (this.p.exitCode !== null || this.p.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => { this.p.once('exit', () => resolve()); this.p.kill('SIGKILL'); });
  }
}

const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? `${q(s, 0.5).toFixed(0)} / ${s[s.length - 1].toFixed(0)} ms` : '-';
};

/** One TTL's run: returns its table row. */
async function failover(nats, etcd, ttl, kills, resigns) {
  const name = `failover-${process.pid}-${ttl}`;
  const home = nats.url(name);
  const election = etcd.url(name);
  const nodes = [new Child(home, election, ttl)];
  try {
    await nodes[0].line(/^open leader$/);
    nodes.push(new Child(home, election, ttl), new Child(home, election, ttl));
    for (const n of nodes.slice(1)) await n.line(/^open follower$/);
    let leader = nodes[0];
    const reported = new Set();
    const m = { killElected: [], killWrite: [], resignElected: [], resignWrite: [], closed: [] };
    for (let k = 0; k < kills + resigns; k++) {
      const resign = k >= kills;
      const roles = await Promise.all(nodes.map((n) => n.ask('role')));
      if (roles.filter((r) => r === 'leader').length !== 1) throw new Error(`nats.js failover: roles ${roles.join(' ')}: not exactly one leader`);
      // It writes a while (20 reported writes since it led), then is killed or resigns.
      const from = leader.lines.findLastIndex((l) => /^(open|role) leader/.test(l.text));
      await leader.line(/^w /, from, 20);
      const others = nodes.filter((n) => n !== leader);
      const marks = others.map((n) => n.lines.length);
      const t0 = performance.now();
      if (resign) leader.p.stdin.write('close\n');
      else await leader.kill();
      // The first of the others to announce it leads (the other's wait ends in its timeout, ignored).
      const won = await Promise.race(others.map((n, i) => n.line(/^role leader follower$/, marks[i]).then((l) => ({ n, l }), (e) => (i === 0 ? Promise.reject(e) : new Promise(() => {})))));
      const first = await won.n.line(/^w /, won.l.index);
      (resign ? m.resignElected : m.killElected).push(won.l.at - t0);
      (resign ? m.resignWrite : m.killWrite).push(first.at - t0);
      const closed = resign ? (await leader.line(/^> closed$/)).at - t0 : undefined;
      if (resign) m.closed.push(closed);
      console.error(`  ttl ${ttl} s, ${resign ? `resign ${k - kills}` : `kill ${k}`}: elected after ${(won.l.at - t0).toFixed(0)} ms, first write ${(first.at - t0).toFixed(0)} ms${resign ? `, close() resolved ${closed.toFixed(0)} ms` : ''}`);
      for (const key of leader.reported()) reported.add(key);
      const keys = new Set((await won.n.ask('dump')).split(' ').slice(1));
      const missing = [...reported].filter((key) => !keys.has(key));
      if (missing.length) throw new Error(`nats.js failover: ${missing.length} writes reported flushed are missing on the new leader (${missing.slice(0, 3).join(' ')} ...)`);
      await leader.kill();
      const fresh = new Child(home, election, ttl);
      nodes.splice(nodes.indexOf(leader), 1, fresh);
      await fresh.line(/^open follower$/);
      leader = won.n;
    }
    return [`${ttl} s`, `${kills}`, stat(m.killElected), stat(m.killWrite), `${resigns}`, stat(m.resignElected), stat(m.resignWrite), stat(m.closed), `${reported.size}`];
  } finally {
    for (const n of nodes) await n.kill();
  }
}

/** --case failover: one row per lease TTL. */
export async function failoverCase({ startNats, startEtcd, ttls, kills, resigns }) {
  console.log(`failover on a NATS home (1 nats-server) with an etcd election (1 member): a leader and two followers, each a process (test/workers/elect-child.js); ${kills} SIGKILLs and ${resigns} resigns (close()) of the leader per lease TTL`);
  const [nats, etcd] = await Promise.all([startNats({ nodes: 1 }), startEtcd({ members: 1 })]);
  const rows = [];
  try {
    for (const ttl of ttls) rows.push(await failover(nats, etcd, ttl, kills, resigns));
  } finally {
    await Promise.all([nats.stop(), etcd.stop()]);
  }
  printTable(['lease TTL', 'kills', 'kill -> elected p50 / max', 'kill -> first write p50 / max', 'resigns', 'resign -> elected p50 / max', 'resign -> first write p50 / max', 'close() resolved p50 / max', 'reported writes, all found'], rows);
}
