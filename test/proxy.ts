/**
 * A TCP proxy for fault tests: listens on 127.0.0.1 (a port the kernel hands out) and forwards
 * every connection to a target, so that a test can cut a node's network while its process runs.
 *
 *   const p = await startProxy(4222);    // p.address is '127.0.0.1:<port>': give it to the node
 *   p.cut()                              // a silent partition: nothing forwarded either way
 *   p.heal()                             // forwarding resumes
 *   p.reset()                            // every connection destroyed (the peers see a reset)
 *   p.cutAfter(/\$KV\.latchkey-db\.wal\./)  // once a client chunk matching it has been forwarded,
 *                                        // stop the server -> client direction (its answer is lost)
 *   await p.close()                      // its listener and every socket it opened
 *
 * A CUT is a pulled cable, not a closed socket: the sockets stay open and the proxy stops reading
 * from them, so what the peers send meanwhile waits in the kernel's buffers (as TCP retransmits
 * across a pulled cable) and arrives after heal(), late. No one is told: a client notices only by
 * its own timeouts. A connection accepted during a cut is held unconnected until heal(). Nothing
 * is ever dropped or reordered within a connection: a protocol on top stays in step.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Proxy {
  /** `127.0.0.1:<port>`: where the node under test connects. */
  readonly address: string;
  readonly port: number;
  /** Is forwarding stopped (in either direction)? */
  readonly isCut: boolean;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Stops forwarding both ways, the sockets kept open (a silent partition). */
  cut(): void;
  /** Resumes forwarding both ways (what waited is delivered now, in order). */
  heal(): void;
  /** Destroys every open connection, both sides (each peer sees its connection reset); new ones are forwarded unless cut. */
  reset(): void;
  /**
   * Arms a one-shot trap: the first client -> server chunk matching `pattern` (within one chunk
   * and the end of the one before) is forwarded, and then the server -> client direction stops
   * (the server got the request; its answer waits until heal()). Resolves when it has fired.
   */
  cutAfter(pattern: RegExp): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  server: Socket | undefined;
  /** The end of the last client chunk, so that a match split across chunks is still found. */
  tail: string;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  const pairs = new Set<Pair>();
  let upCut = false; // client -> server stopped
  let downCut = false; // server -> client stopped
  let accepted = 0;
  let trap: { pattern: RegExp; fired: () => void } | undefined;

  const apply = (p: Pair) => {
    if (upCut) p.client.pause(); else p.client.resume();
    if (!p.server) return;
    if (downCut) p.server.pause(); else p.server.resume();
  };
  const link = (p: Pair) => {
    const server = connect(targetPort, targetHost);
    p.server = server;
    server.on('data', (d: Buffer) => { if (!p.client.destroyed) p.client.write(d); });
    server.on('error', () => p.client.destroy());
    server.on('close', () => { p.client.destroy(); pairs.delete(p); });
    apply(p);
  };

  const listener: Server = createServer({ pauseOnConnect: true }, (client) => {
    accepted++;
    const p: Pair = { client, server: undefined, tail: '' };
    pairs.add(p);
    client.on('data', (d: Buffer) => {
      p.server!.write(d);
      if (!trap) return;
      const text = p.tail + d.toString('latin1');
      p.tail = text.slice(-256);
      if (trap.pattern.test(text)) {
        // Synchronously, before the server's answer can be read: it stays in the socket.
        const { fired } = trap;
        trap = undefined;
        downCut = true;
        for (const q of pairs) apply(q);
        fired();
      }
    });
    client.on('error', () => p.server?.destroy());
    client.on('close', () => { p.server?.destroy(); pairs.delete(p); });
    if (upCut || downCut) return; // held: linked on heal()
    link(p);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (listener.address() as { port: number }).port;

  return {
    address: `127.0.0.1:${port}`,
    port,
    get isCut() { return upCut || downCut; },
    get accepted() { return accepted; },
    cut() {
      upCut = downCut = true;
      for (const p of pairs) apply(p);
    },
    heal() {
      upCut = downCut = false;
      for (const p of pairs) if (p.server) apply(p); else link(p);
    },
    reset() {
      for (const p of pairs) {
        p.client.resetAndDestroy();
        p.server?.resetAndDestroy();
      }
      pairs.clear();
    },
    cutAfter(pattern) {
      return new Promise<void>((resolve) => { trap = { pattern, fired: resolve }; });
    },
    async close() {
      trap = undefined;
      for (const p of pairs) {
        p.client.destroy();
        p.server?.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
