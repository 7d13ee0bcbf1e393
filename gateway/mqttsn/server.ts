// The MQTT-SN endpoint: one UDP socket, per-source rate limit, framing with core-wasm, forwarder
// encapsulation [5.5], SEARCHGW/GWINFO and ADVERTISE [6.1]; sessions.ts does the rest. It is a
// small local MQTT-SN broker: gateway.ts puts pyaiot's node protocol on top of it.
import { createLogger } from "../../common/log.ts";
import {
  CoreError,
  decodeMqttSn,
  encodeMqttSn,
  type MqttSnMessage,
  MqttSnType as T,
} from "../../core-wasm/mod.ts";
import { PredefinedTopics } from "./predefined.ts";
import { RateLimiter } from "./rate_limit.ts";
import type { Route } from "./session.ts";
import { SessionManager, type SessionOptions } from "./sessions.ts";

const log = createLogger("mqttsn");

export interface MqttSnServerOptions {
  host?: string;
  /** UDP port; 0 picks a free one. */
  port?: number;
  /** GwId in GWINFO and ADVERTISE. */
  gwId?: number;
  predefined?: Record<string, number> | PredefinedTopics;
  onPublish?: SessionOptions["onPublish"];
  retryMs?: number;
  maxRetries?: number;
  maxClients?: number;
  maxBuffered?: number;
  maxTopicsPerClient?: number;
  /** Supervision and retransmission check period (ms). */
  tickMs?: number;
  /** Per source address; `false` turns it off (load benchmarks on one host). */
  rateLimit?: { perSecond: number; burst: number } | false;
  /** Where to send ADVERTISE (a broadcast or multicast address) and how often. */
  advertise?: { host: string; port: number; intervalS: number };
  /** ADVERTISE only while this says so (the gateway: while its broker link is up) [6.1]. */
  advertiseWhile?: () => boolean;
}

export interface ServerStats {
  datagrams: number;
  malformed: number;
  /** Exceptions while handling a well-formed message: bugs, counted instead of crashing. */
  handlerErrors: number;
  rateLimited: number;
  sent: number;
  sendErrors: number;
  searchGw: number;
  advertised: number;
  encapsulated: number;
}

export interface MqttSnServer {
  port: number;
  sessions: SessionManager;
  stats: ServerStats;
  /** Publishes into the local topic space (to matching subscribers). */
  publish(topic: string, payload: Uint8Array, qos?: 0 | 1 | 2): number;
  close(): Promise<void>;
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function startMqttSnServer(opts: MqttSnServerOptions = {}): MqttSnServer {
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: opts.host ?? "127.0.0.1",
    port: opts.port ?? 1885,
  });
  const port = (conn.addr as Deno.NetAddr).port;
  const gwId = opts.gwId ?? 1;
  const stats: ServerStats = {
    datagrams: 0,
    malformed: 0,
    handlerErrors: 0,
    rateLimited: 0,
    sent: 0,
    sendErrors: 0,
    searchGw: 0,
    advertised: 0,
    encapsulated: 0,
  };
  const limiter = opts.rateLimit === false
    ? undefined
    : new RateLimiter(opts.rateLimit ?? { perSecond: 100, burst: 200 });
  let closed = false;
  let pendingSends = 0;

  const sendTo = (addr: Deno.NetAddr, bytes: Uint8Array) => {
    if (closed) return;
    pendingSends++;
    stats.sent++;
    conn.send(bytes, addr).catch((err) => {
      stats.sendErrors++;
      if (!closed) log.debug("send failed", { err });
    }).finally(() => pendingSends--);
  };

  const send = (route: Route, bytes: Uint8Array) => {
    if (route.nodeId) {
      bytes = encodeMqttSn({ type: T.ENCAPSULATED, ctrl: 0, nodeId: route.nodeId, inner: bytes });
    }
    sendTo(route.addr, bytes);
  };

  const predefined = opts.predefined instanceof PredefinedTopics
    ? opts.predefined
    : new PredefinedTopics(opts.predefined);
  const sessions = new SessionManager({
    predefined,
    send,
    onPublish: opts.onPublish,
    retryMs: opts.retryMs,
    maxRetries: opts.maxRetries,
    maxClients: opts.maxClients,
    maxBuffered: opts.maxBuffered,
    maxTopicsPerClient: opts.maxTopicsPerClient,
  });

  const onDatagram = (data: Uint8Array, addr: Deno.NetAddr) => {
    stats.datagrams++;
    const addrKey = `${addr.hostname}:${addr.port}`;
    if (limiter && !limiter.allow(addrKey)) {
      stats.rateLimited++;
      return;
    }
    let m: MqttSnMessage;
    let route: Route = { addr };
    let key = addrKey;
    try {
      m = decodeMqttSn(data);
      if (m.type === T.ENCAPSULATED) {
        stats.encapsulated++;
        route = { addr, nodeId: m.nodeId };
        key = `${addrKey}/${hex(m.nodeId!)}`;
        m = decodeMqttSn(m.inner!);
        if (m.type === T.ENCAPSULATED) throw new CoreError("invalid", 0, "nested encapsulation");
      }
    } catch (err) {
      stats.malformed++;
      log.debug("malformed datagram", { from: addrKey, err });
      return;
    }
    try {
      if (m.type === T.SEARCHGW) {
        // Answered at once, to the searcher (no multicast needed on loopback) [6.1].
        stats.searchGw++;
        return send(route, encodeMqttSn({ type: T.GWINFO, gwId }));
      }
      if (m.type === T.ADVERTISE || m.type === T.GWINFO) return; // other gateways, clients
      sessions.handle(key, route, m);
    } catch (err) {
      // A bug must not take the gateway down with it: count and keep serving.
      stats.handlerErrors++;
      log.warn("error handling message", { from: key, type: m.type, err });
    }
  };

  const buf = new Uint8Array(65536 + 512);
  const loop = (async () => {
    while (!closed) {
      let r: [Uint8Array, Deno.Addr];
      try {
        r = await conn.receive(buf);
      } catch (err) {
        if (closed) break;
        log.debug("receive failed", { err });
        continue;
      }
      onDatagram(r[0], r[1] as Deno.NetAddr);
    }
  })();

  const ticker = setInterval(() => {
    sessions.tick();
  }, opts.tickMs ?? 250);
  const pruner = limiter ? setInterval(() => limiter.prune(), 10_000) : undefined;

  let advertiser: ReturnType<typeof setInterval> | undefined;
  if (opts.advertise) {
    const a = opts.advertise;
    const target: Deno.NetAddr = { transport: "udp", hostname: a.host, port: a.port };
    const advertise = () => {
      if (opts.advertiseWhile && !opts.advertiseWhile()) return;
      stats.advertised++;
      sendTo(target, encodeMqttSn({ type: T.ADVERTISE, gwId, duration: a.intervalS }));
    };
    advertise();
    advertiser = setInterval(advertise, a.intervalS * 1000);
  }

  log.debug("MQTT-SN listening", { port });
  return {
    port,
    sessions,
    stats,
    publish: (topic, payload, qos = 1) => sessions.publish(topic, payload, qos),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      if (pruner !== undefined) clearInterval(pruner);
      if (advertiser !== undefined) clearInterval(advertiser);
      // Let queued sends settle so no async op outlives the server.
      for (let i = 0; i < 200 && pendingSends > 0; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      conn.close();
      await loop;
    },
  };
}
