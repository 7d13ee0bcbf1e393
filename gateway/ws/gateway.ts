// The websocket gateway (shared/spec section 5), working: nodes connect to
// ws://host:port/node, get a uid, are asked to discover, and stream
// {"type":"update","data":{"<res>":<value>,...}} frames; web clients' writes go to the node as
// {"endpoint":"<res>","payload":<value>}. A node is gone when its socket closes.
//
// Node identity: a node may name itself with `ws://host:port/node?id=<id>` (1-64 of
// [A-Za-z0-9._:-]); otherwise it gets a random uuid4 as in pyaiot. A second socket with the same
// id takes the node over (the reconnect of a node whose old TCP connection is not yet dead)
// and the old socket is closed with 4000, without an `out`.
import { createLogger } from "../../common/log.ts";
import { checkFrame } from "../../common/wire.ts";
import { closeReason, frameTooBig, type RateLimit, TokenBucket } from "../../broker/limits.ts";
import { type GatewayBaseOptions, type RunningGateway, startGatewayCore } from "../common.ts";

const log = createLogger("gateway-ws");

export interface WsGatewayOptions extends GatewayBaseOptions {
  /** Default "0.0.0.0" like pyaiot's; tests pass 127.0.0.1. */
  host?: string;
  /** Default 8001; 0 picks a free port. */
  port?: number;
  /** Largest node frame; larger ones close the socket with 1009. Default 16 KiB. */
  maxFrameBytes?: number;
  /** Per node socket; frames over the budget are dropped and counted. */
  rateLimit?: RateLimit;
  /** Distinct resources one node may have (besides `protocol`). Default 64. */
  maxResources?: number;
  /** Seconds without a pong before Deno closes a node socket (dead TCP peers). Default 30. */
  idleTimeoutS?: number;
}

export interface WsGatewayStats {
  connections: number;
  frames: number;
  /** Frames refused by the frame check (socket closed with 1003) or of a wrong shape. */
  badFrames: number;
  /** Frames over the rate budget, dropped. */
  rateLimited: number;
  /** Sockets closed for an oversized frame. */
  tooBig: number;
  /** Upgrades refused (bad id, too many nodes) and resources over the per-node bound. */
  refused: number;
}

export interface RunningWsGateway extends RunningGateway {
  stats: WsGatewayStats;
  /** `ws://host:port/node` */
  nodeUrl: string;
}

export const DEFAULT_WS_GATEWAY_PORT = 8001;
const DEFAULT_RATE: RateLimit = { messagesPerSecond: 50, burst: 100 };
const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Resource names a node may use: they end up as keys and in log lines. */
const RESOURCE_RE = /^[^\s/+#]{1,64}$/;
const MAX_KEYS_PER_FRAME = 64;

interface NodeConn {
  uid: string;
  ws: WebSocket;
  address: string;
  bucket: TokenBucket;
}

export async function startWsGateway(opts: WsGatewayOptions): Promise<RunningWsGateway> {
  const maxFrame = opts.maxFrameBytes ?? 16 * 1024;
  const maxResources = opts.maxResources ?? 64;
  const stats: WsGatewayStats = {
    connections: 0,
    frames: 0,
    badFrames: 0,
    rateLimited: 0,
    tooBig: 0,
    refused: 0,
  };
  /** The live socket of each node uid. */
  const conns = new Map<string, NodeConn>();
  const sockets = new Set<WebSocket>();

  const core = startGatewayCore(opts, "ws", (node, endpoint, payload) => {
    const conn = conns.get(node.uid);
    if (!conn || conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(JSON.stringify({ endpoint, payload }));
  });
  const { registry } = core;

  // pyaiot's ws nodes have no keep-alive: an open socket is the sign of life. Refresh them so
  // the registry's sweep only removes nodes whose socket is gone (Deno's idle timeout closes
  // sockets of dead peers).
  const refresher = setInterval(() => {
    for (const conn of conns.values()) registry.seen(conn.uid, conn.address);
  }, Math.max(250, Math.min(5000, registry.timeoutMs / 4)));

  function onFrame(conn: NodeConn, data: unknown): void {
    stats.frames++;
    if (conns.get(conn.uid) !== conn) return; // replaced by a newer socket
    if (typeof data !== "string") {
      stats.badFrames++;
      conn.ws.close(1003, "Only text frames are supported.");
      return;
    }
    if (frameTooBig(data, maxFrame)) {
      stats.tooBig++;
      conn.ws.close(1009, `Frame larger than ${maxFrame} bytes.`);
      return;
    }
    if (!conn.bucket.take()) {
      stats.rateLimited++;
      if (stats.rateLimited % 100 === 1) {
        log.warn("node over its rate, dropping", { uid: conn.uid });
      }
      return;
    }
    const checked = checkFrame(data);
    if (!checked.ok) {
      stats.badFrames++;
      log.debug("bad node frame", { uid: conn.uid, reason: checked.reason });
      conn.ws.close(checked.code, closeReason(checked.reason));
      return;
    }
    const msg = checked.msg;
    if (msg.type === "reset") {
      registry.reset(conn.uid);
      return;
    }
    if (msg.type !== "update") return; // pyaiot nodes send only updates; new/out mean nothing
    const body = msg.data;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      stats.badFrames++;
      log.debug("update without a data object", { uid: conn.uid });
      return;
    }
    const node = registry.get(conn.uid);
    if (!node) return;
    let n = 0;
    for (const [endpoint, value] of Object.entries(body)) {
      if (++n > MAX_KEYS_PER_FRAME || !RESOURCE_RE.test(endpoint) || value === undefined) {
        stats.badFrames++;
        continue;
      }
      // `protocol` is the gateway's pseudo-resource, not the node's to change; beyond
      // maxResources new names are refused.
      if (
        endpoint === "protocol" ||
        (!node.resources.has(endpoint) && node.resources.size > maxResources)
      ) {
        stats.refused++;
        continue;
      }
      registry.setValue(conn.uid, endpoint, value);
    }
  }

  function onOpen(ws: WebSocket, uid: string, address: string): void {
    const previous = conns.get(uid);
    const conn: NodeConn = {
      uid,
      ws,
      address,
      bucket: new TokenBucket(opts.rateLimit ?? DEFAULT_RATE),
    };
    conns.set(uid, conn);
    if (previous) previous.ws.close(4000, "Replaced by a new connection.");
    const { created } = registry.seen(uid, address, { protocol: "WebSocket" });
    if (created) log.info("node joined", { uid, address });
    ws.onmessage = (ev) => onFrame(conn, ev.data);
    ws.send(JSON.stringify({ request: "discover" }));
  }

  function onClose(ws: WebSocket, uid: string): void {
    sockets.delete(ws);
    const conn = conns.get(uid);
    if (!conn || conn.ws !== ws) return; // a replaced socket: the node lives on
    conns.delete(uid);
    if (registry.remove(uid, "socket closed")) log.info("node left", { uid });
  }

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: opts.host ?? "0.0.0.0",
      port: opts.port ?? DEFAULT_WS_GATEWAY_PORT,
      onListen: () => {},
    }, (req, info) => {
      const url = new URL(req.url);
      if (url.pathname !== "/node") return new Response("Not Found", { status: 404 });
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("Expected a websocket", { status: 426 });
      }
      const asked = url.searchParams.get("id");
      if (asked !== null && !ID_RE.test(asked)) {
        stats.refused++;
        return new Response("Invalid node id", { status: 400 });
      }
      if (sockets.size >= core.maxNodes) {
        stats.refused++;
        return new Response("Too many nodes", { status: 503 });
      }
      // Read before the upgrade: Deno refuses access to the request's address afterwards.
      const remote = info.remoteAddr as Deno.NetAddr;
      const address = `${remote.hostname}:${remote.port}`;
      const { socket, response } = Deno.upgradeWebSocket(req, {
        idleTimeout: opts.idleTimeoutS ?? 30,
      });
      const uid = asked ?? crypto.randomUUID();
      sockets.add(socket);
      stats.connections++;
      socket.onopen = () => onOpen(socket, uid, address);
      socket.onclose = () => onClose(socket, uid);
      socket.onerror = () => {/* onclose follows */};
      return response;
    });
  } catch (err) {
    // Port taken, bad address: nothing may keep running (the broker link, the refresher).
    clearInterval(refresher);
    await core.close();
    throw err;
  }
  const port = server.addr.port;
  const shownHost = server.addr.hostname.includes(":")
    ? `[${server.addr.hostname}]`
    : server.addr.hostname;
  const nodeUrl = `ws://${shownHost}:${port}/node`;
  log.info("ws gateway listening", { url: nodeUrl });

  let closing: Promise<void> | null = null;
  return {
    name: core.name,
    port,
    nodeUrl,
    registry,
    link: core.link,
    stats,
    close() {
      closing ??= (async () => {
        clearInterval(refresher);
        const closed = [...sockets].map((ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.addEventListener("close", () => resolve());
            try {
              ws.close(1001, "Gateway stopping.");
            } catch {
              resolve();
            }
          })
        );
        await Promise.all(closed);
        await server.shutdown();
        await core.close();
      })();
      return closing;
    },
  };
}
