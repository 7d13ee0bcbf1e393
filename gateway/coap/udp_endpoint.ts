// The CoAP stack's only contact with the network: one Deno datagram socket, a receive loop, and a
// per-source token bucket so one flooding peer cannot starve the others. Everything above works
// on (bytes, peer) pairs and never touches the socket.
import { createLogger } from "../../common/log.ts";

const log = createLogger("coap-udp");

export interface Peer {
  hostname: string;
  port: number;
}

/** `127.0.0.1:5683`, `[::1]:5683`: one string per endpoint, for maps and logs. */
export function peerKey(p: Peer): string {
  return p.hostname.includes(":") ? `[${p.hostname}]:${p.port}` : `${p.hostname}:${p.port}`;
}

export interface RateLimit {
  /** Sustained datagrams per second allowed from one source endpoint. */
  perSecond: number;
  /** Bucket size: how many may arrive at once. */
  burst: number;
}

export interface UdpStats {
  received: number;
  sent: number;
  rateLimited: number;
  sendErrors: number;
}

export interface UdpEndpointOptions {
  hostname?: string;
  port?: number;
  rateLimit?: RateLimit | null;
  /** Largest datagram accepted; longer ones are truncated by the socket and then fail decoding. */
  maxDatagram?: number;
  now?: () => number;
}

type Handler = (bytes: Uint8Array, peer: Peer) => void;

interface Bucket {
  tokens: number;
  at: number;
}

const BUCKET_IDLE_MS = 60_000;

export class UdpEndpoint {
  readonly stats: UdpStats = { received: 0, sent: 0, rateLimited: 0, sendErrors: 0 };
  readonly port: number;
  readonly hostname: string;
  #conn: Deno.DatagramConn;
  #handler: Handler = () => {};
  #rate: RateLimit | null;
  #buckets = new Map<string, Bucket>();
  #lastBucketSweep = 0;
  #now: () => number;
  #closed = false;
  #maxDatagram: number;
  #loop: Promise<void>;

  private constructor(conn: Deno.DatagramConn, opts: UdpEndpointOptions) {
    this.#conn = conn;
    const addr = conn.addr as Deno.NetAddr;
    this.port = addr.port;
    this.hostname = addr.hostname;
    this.#rate = opts.rateLimit === undefined ? { perSecond: 500, burst: 1000 } : opts.rateLimit;
    this.#now = opts.now ?? Date.now;
    this.#maxDatagram = opts.maxDatagram ?? 65536;
    this.#loop = this.#receiveLoop();
  }

  static listen(opts: UdpEndpointOptions = {}): UdpEndpoint {
    const conn = Deno.listenDatagram({
      transport: "udp",
      hostname: opts.hostname ?? "127.0.0.1",
      port: opts.port ?? 0,
    });
    return new UdpEndpoint(conn, opts);
  }

  /** Where decoded traffic goes; set once by the message layer. */
  onDatagram(handler: Handler): void {
    this.#handler = handler;
  }

  send(bytes: Uint8Array, peer: Peer): void {
    if (this.#closed) return;
    this.stats.sent++;
    this.#conn.send(bytes, { transport: "udp", hostname: peer.hostname, port: peer.port })
      .catch((err) => {
        this.stats.sendErrors++;
        if (!this.#closed) log.debug("send failed", { peer: peerKey(peer), err });
      });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.#loop;
  }

  #allow(key: string): boolean {
    const rate = this.#rate;
    if (!rate) return true;
    const now = this.#now();
    if (now - this.#lastBucketSweep > BUCKET_IDLE_MS) {
      // Forget quiet sources so the map stays proportional to the active peers.
      for (const [k, b] of this.#buckets) if (now - b.at > BUCKET_IDLE_MS) this.#buckets.delete(k);
      this.#lastBucketSweep = now;
    }
    let b = this.#buckets.get(key);
    if (!b) {
      b = { tokens: rate.burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(rate.burst, b.tokens + (now - b.at) * rate.perSecond / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  async #receiveLoop(): Promise<void> {
    // Without a buffer, every receive allocates 64 KiB: at 10k datagrams/s that is most of the
    // gateway's garbage. The datagram is copied out at its size, because the layers above keep
    // views of it (tokens, payloads) across awaits, past the next receive.
    const buf = new Uint8Array(this.#maxDatagram);
    while (!this.#closed) {
      let bytes: Uint8Array, addr: Deno.Addr;
      try {
        [bytes, addr] = await this.#conn.receive(buf);
        bytes = bytes.slice();
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return;
        // ICMP errors surface here on some systems: not fatal for a connectionless socket.
        log.debug("receive error", { err });
        continue;
      }
      this.stats.received++;
      const peer = { hostname: (addr as Deno.NetAddr).hostname, port: (addr as Deno.NetAddr).port };
      if (!this.#allow(peerKey(peer))) {
        this.stats.rateLimited++;
        continue;
      }
      try {
        this.#handler(bytes, peer);
      } catch (err) {
        // A bug in one message's handling must never stop the socket.
        log.warn("datagram handler threw", { peer: peerKey(peer), err });
      }
    }
  }
}
