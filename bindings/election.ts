/**
 * Elections on etcd (Node only; loaded by platform-node.ts on first use, so neither the browser
 * bundle nor a connection without `election` ever loads the `etcd3` client, an optional peer
 * dependency). One `EtcdElection` a connection: it campaigns for `name` with a lease of `ttl`
 * seconds and tells its connection when to step up and when to step down:
 *
 *   campaign   a lease, then the etcd3 client's Campaign on it (one key under the election's
 *              prefix; the oldest key leads)
 *   elected    `up()`: the connection steps up (claims its term, replays the log to its end).
 *              A step-up that fails resigns, and the campaign starts again after a pause.
 *   lost       `down()` at once when the lease may have lapsed: etcd says so, the client gives
 *              up, or no keepalive was acknowledged for `ttl` less a margin (LEASE_MARGIN). The
 *              last is checked here, not left to the client: etcd3 1.1.2 reports a lapse only
 *              after 2 TTLs without contact, when another node may have led for a whole TTL.
 *              Then a new campaign on a new lease.
 *   close      `down()` is the caller's (its final checkpoint comes first), then resign: the
 *              lease is revoked and the next candidate is elected at once.
 *
 * The local check counts from the moment a keepalive was *sent* (etcd extends the lease from the
 * moment it receives it, later), so while it passes, the lease is alive on the server as long as
 * this clock does not run slower than etcd's. None of this is what keeps two leaders from
 * writing: a node stopped past its lease (SIGSTOP, a long pause) still believes it leads when it
 * wakes; its next append is refused by the page store (create-if-absent), as for any fenced node.
 */
import { LatchkeyError, peerMissing } from './errors.js';
import type { ElectionTarget } from './core.js';
import type { ElectionOptions } from './config.js';

type Etcd3Module = typeof import('etcd3');
type Client = InstanceType<Etcd3Module['Etcd3']>;
type Campaign = ReturnType<ReturnType<Client['election']>['campaign']>;
/** The lease under a Campaign: etcd3 1.1.2 keeps it in a private field (the version is pinned). */
type Lease = ReturnType<Client['lease']>;

/** How long before its local deadline a lease counts as lost: a fifth of the TTL. */
const LEASE_MARGIN = 0.2;
/** A campaign that failed (etcd unreachable, a failed step-up) starts again after this. */
const RETRY_MS = 500;

let client: Promise<Etcd3Module> | undefined;
function loadClient(): Promise<Etcd3Module> {
  return client ??= import('etcd3').catch((e: unknown) => {
    client = undefined;
    throw peerMissing('an election needs the etcd3 client', e, 'etcd3 (1.x, an optional peer dependency of latchkey)');
  });
}

export class EtcdElection {
  private readonly where: string;
  private readonly etcd: Client;
  private readonly election: ReturnType<Client['election']>;
  private campaign: Campaign | undefined;
  private lease: Lease | undefined;
  /** When the newest acknowledged keepalive (or the grant) was sent; keepalives in flight. */
  private validFrom = 0;
  private readonly sent: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private leading = false;
  private closed = false;
  private deaf = false;
  /** Serializes up/down calls. */
  private chain: Promise<void> = Promise.resolve();
  /** The last failure of the background campaign (etcd unreachable, a step-up that failed). */
  error: LatchkeyError | undefined;

  private constructor(mod: Etcd3Module, private readonly opts: ElectionOptions, private readonly ttl: number,
    private readonly id: string, private readonly target: ElectionTarget) {
    this.where = `etcd://${opts.endpoints.join(',')}/${opts.name}`;
    const timeout = opts.timeout;
    this.etcd = new mod.Etcd3({
      hosts: opts.endpoints.map((h) => `http://${h}`),
      dialTimeout: timeout,
      // A deadline on every call but the keepalive and watch streams (etcd3 would wait without one).
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
    this.election = this.etcd.election(opts.name, ttl);
  }

  /**
   * Joins the election; resolves once it has a leader: this node (stepped up by then) or another
   * (this node a follower, campaigning). EIO naming the endpoints if etcd does not answer within
   * the timeout.
   */
  static async start(opts: ElectionOptions, ttl: number, id: string, target: ElectionTarget): Promise<EtcdElection> {
    const mod = await loadClient();
    const e = new EtcdElection(mod, opts, ttl, id, target);
    try {
      await e.first();
    } catch (err) {
      await e.close().catch(() => {});
      throw err;
    }
    return e;
  }

  private unreachable(what: string): LatchkeyError {
    return new LatchkeyError('EIO', `election ${this.where}: ${what}; accepted: a reachable etcd (v3 API) at ${this.opts.endpoints.join(', ')}`);
  }

  private async first(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unreachable(`no answer from etcd within ${this.opts.timeout} ms`)), this.opts.timeout);
    });
    try {
      const elected = this.campaignOnce();
      // Someone leads once the election has a leader value (ours: wait for our step-up).
      const settled = (async () => {
        for (;;) {
          const leader = await this.election.leader();
          if (leader !== undefined && leader !== this.id) return;
          if (leader === this.id) return elected;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.race([settled, timeout]);
    } catch (e) {
      if (e instanceof LatchkeyError) throw e;
      throw this.unreachable((e as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One campaign on a fresh lease; resolves once this node has stepped up (if it wins while the
   * campaign lasts). Its end (lease lost, error) starts the next one.
   */
  private campaignOnce(): Promise<void> {
    const started = Date.now();
    const campaign = this.election.campaign(this.id);
    const lease = (campaign as unknown as { lease: Lease }).lease;
    this.campaign = campaign;
    this.lease = lease;
    this.validFrom = started;
    this.sent.length = 0;
    lease.on('keepaliveFired', () => { this.sent.push(Date.now()); });
    lease.on('keepaliveSucceeded', () => { const t = this.sent.shift(); if (t !== undefined) this.validFrom = t; });
    lease.on('keepaliveFailed', () => { this.sent.shift(); });
    clearInterval(this.timer);
    this.timer = setInterval(() => this.check(campaign), Math.max(50, (this.ttl * 1000) / 20));
    (this.timer as { unref?: () => void }).unref?.();
    return new Promise<void>((resolve) => {
      campaign.on('elected', () => {
        if (campaign !== this.campaign || this.closed) return resolve();
        this.serial(async () => {
          if (campaign !== this.campaign || this.closed) return;
          try {
            await this.target.up();
            this.leading = true;
            this.error = undefined;
          } catch (e) {
            this.error = e as LatchkeyError;
            this.restart(campaign, `the step-up failed: ${(e as Error).message}`);
          }
        }).then(resolve);
      });
      campaign.on('error', (e: Error) => {
        resolve();
        this.restart(campaign, `the lease was lost: ${e.message}`);
      });
    });
  }

  /** The local lease deadline (see the file comment). */
  private check(campaign: Campaign): void {
    if (this.deaf || campaign !== this.campaign || this.closed) return;
    if (Date.now() >= this.validFrom + this.ttl * 1000 * (1 - LEASE_MARGIN)) {
      this.restart(campaign, `no keepalive acknowledged within ${Math.round(this.ttl * 1000 * (1 - LEASE_MARGIN))} ms of the ${this.ttl} s lease`);
    }
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Ends `campaign` (stepping down at once if it led) and starts a new one after a pause. */
  private restart(campaign: Campaign, why: string): void {
    if (campaign !== this.campaign || this.closed || this.deaf) return;
    this.campaign = undefined;
    clearInterval(this.timer);
    const wasLeading = this.leading;
    this.leading = false;
    campaign.removeAllListeners().on('error', () => {}); // a late lease loss must not throw
    campaign.resign().catch(() => {}); // revokes the lease where etcd is reachable
    if (wasLeading) void this.serial(async () => { await this.target.down(why).catch(() => {}); });
    this.error ??= this.unreachable(why);
    const t = setTimeout(() => {
      if (this.closed || this.campaign !== undefined) return;
      this.campaignOnce().catch(() => {});
    }, RETRY_MS);
    (t as { unref?: () => void }).unref?.();
  }

  /** The connection was fenced (ESTALE) while it led: it is a follower now; resign and campaign again. */
  demoted(): void {
    if (!this.leading || !this.campaign) return;
    this.leading = false;
    this.restart(this.campaign, 'this node was fenced by a newer term');
  }

  /** @internal Tests: stop keepalives and the local deadline: this node goes on believing it leads while its lease lapses. */
  deafen(): void {
    this.deaf = true;
    clearInterval(this.timer);
    this.lease?.release();
  }

  /** Resigns (the next candidate is elected at once) and closes the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const campaign = this.campaign;
    this.campaign = undefined;
    campaign?.removeAllListeners().on('error', () => {});
    try {
      if (campaign && !this.deaf) await campaign.resign();
    } finally {
      this.etcd.close();
    }
  }
}
