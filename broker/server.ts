// The broker service: one Hono app on one port with pyaiot's `/gw` and `/ws` websockets
// (spec 2.1), the REST API and `/metrics`, over http or https (Deno.serve).
import { type Context, Hono } from "hono";
import { createLogger } from "../common/log.ts";
import type { Keys } from "../common/keys.ts";
import { authenticateGateway, BINARY_SUBPROTOCOL, sameSecret } from "./auth.ts";
import { loadCborDecoder } from "./binary.ts";
import { attach } from "./connection.ts";
import {
  DEFAULT_CLIENT_RATE,
  DEFAULT_GATEWAY_RATE,
  DEFAULT_MAX_FRAME_BYTES,
  type RateLimit,
} from "./limits.ts";
import { BrokerMetrics } from "./metrics.ts";
import { restRoutes } from "./rest.ts";
import { type ClientEntry, CLOSE, type GatewayEntry, Relay } from "./relay.ts";

const log = createLogger("broker");

export interface BrokerOptions {
  /** Bind address; default "0.0.0.0" (pyaiot listens on all interfaces). */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  keys: Keys;
  /** When set, web clients may write only if they connected with `/ws?token=<writeToken>`. */
  writeToken?: string;
  /** PEM text, or paths to PEM files. */
  tls?: { cert: string; key: string };
  /** Largest accepted frame, text or binary; default 64 KiB. */
  maxFrameBytes?: number;
  /** Replay window for gateway tokens; default 300 s; 0 turns it off (pyaiot). */
  tokenMaxAgeSeconds?: number;
  /** Per web-client connection. */
  rateLimit?: RateLimit;
  /** Per gateway connection (gateways replay whole caches, so this is much higher). */
  gatewayRateLimit?: RateLimit;
  /** Accept the binary CBOR gateway link when core-wasm can transcode it; default true. */
  binary?: boolean;
  /** Unsent bytes a web client may have queued before frames to it are dropped (16 MiB). */
  clientBufferBytes?: number;
}

export interface RunningBroker {
  port: number;
  /** http(s)://host:port */
  url: string;
  relay: Relay;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8000;
export const DEFAULT_TOKEN_MAX_AGE_S = 300;
/** Gateway names appear in logs, metrics labels and JSON: keep them plain. */
const GATEWAY_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const SHUTDOWN_GRACE_MS = 2000;

type Env = { Bindings: Deno.ServeHandlerInfo<Deno.NetAddr> };

function remoteOf(c: Context<Env>): string {
  const addr = c.env?.remoteAddr;
  return addr ? `${addr.hostname}:${addr.port}` : "?";
}

function isUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** A bug of ours in a socket's set-up must not take the broker down: log it, close that socket. */
function guard(socket: WebSocket, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error("error setting up a connection", { err });
    try {
      socket.close(1011, "Internal error");
    } catch { /* already closing */ }
  }
}

async function pem(textOrPath: string): Promise<string> {
  return textOrPath.includes("-----BEGIN") ? textOrPath : await Deno.readTextFile(textOrPath);
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxAge = opts.tokenMaxAgeSeconds ?? DEFAULT_TOKEN_MAX_AGE_S;
  const clientRate = opts.rateLimit ?? DEFAULT_CLIENT_RATE;
  const gatewayRate = opts.gatewayRateLimit ?? DEFAULT_GATEWAY_RATE;
  const decodeBinary = opts.binary === false ? undefined : await loadCborDecoder();
  const metrics = new BrokerMetrics();
  const relay = new Relay(metrics, {
    writesOpen: opts.writeToken === undefined,
    clientBufferBytes: opts.clientBufferBytes,
  });
  const sockets = new Set<WebSocket>();
  let closing = false;

  const track = (ws: WebSocket) => {
    sockets.add(ws);
    ws.addEventListener("close", () => sockets.delete(ws));
  };

  const app = new Hono<Env>();

  app.get("/gw", async (c) => {
    const req = c.req.raw;
    if (closing) return c.text("Shutting down", 503);
    if (!isUpgrade(req)) return c.text('Can "Upgrade" only to "WebSocket".', 400);
    const remote = remoteOf(c);
    const requested = c.req.query("name");
    if (requested !== undefined && !GATEWAY_NAME.test(requested)) {
      metrics.authFailure("/gw", "bad_name");
      log.warn("gateway refused: bad name", { remote, name: requested.slice(0, 80) });
      return c.text("Invalid gateway name", 400);
    }
    const auth = await authenticateGateway(req.headers.get("sec-websocket-protocol"), opts.keys, {
      maxAgeSeconds: maxAge,
      binary: decodeBinary !== undefined,
    });
    if (!auth.ok) {
      metrics.authFailure("/gw", auth.reason);
      log.warn("gateway refused", { remote, name: requested ?? "-", reason: auth.reason });
      return c.text(auth.body, 401);
    }
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(req);
    } catch (err) {
      return c.text(`Bad websocket handshake: ${(err as Error).message}`, 400);
    }
    const { socket, response } = upgraded;
    // Set by hand: Deno's own `protocol` option splits the request list on ", " only, and
    // Tornado (pyaiot's gateways) joins it with a bare ",".
    response.headers.set("sec-websocket-protocol", auth.protocol);
    track(socket);
    const binary = auth.protocol === BINARY_SUBPROTOCOL;
    let entry: GatewayEntry | undefined;
    socket.onopen = () =>
      guard(socket, () => {
        const name = requested ?? relay.anonymousName();
        entry = {
          name,
          peer: attach(socket, relay, {
            kind: "gateway",
            label: name,
            maxFrameBytes,
            rate: gatewayRate,
            decodeBinary: binary ? decodeBinary : undefined,
            onFrame: (msg) => relay.onGatewayFrame(entry!, msg),
            onClose: () => relay.removeGateway(entry!),
          }),
          binary,
          remote,
          connectedAt: Date.now(),
          nodes: new Map(),
          messagesIn: 0,
        };
        relay.addGateway(entry);
      });
    return response;
  });

  app.get("/ws", (c) => {
    const req = c.req.raw;
    if (closing) return c.text("Shutting down", 503);
    if (!isUpgrade(req)) return c.text('Can "Upgrade" only to "WebSocket".', 400);
    const remote = remoteOf(c);
    const presented = c.req.query("token");
    let canWrite = opts.writeToken === undefined;
    if (opts.writeToken !== undefined && presented !== undefined) {
      // A wrong write token is refused outright rather than silently downgraded to read-only.
      if (!sameSecret(presented, opts.writeToken)) {
        metrics.authFailure("/ws", "write_token");
        log.warn("web client refused: wrong write token", { remote });
        return c.text("Invalid token", 401);
      }
      canWrite = true;
    }
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(req);
    } catch (err) {
      return c.text(`Bad websocket handshake: ${(err as Error).message}`, 400);
    }
    const { socket, response } = upgraded;
    track(socket);
    socket.onopen = () =>
      guard(socket, () => {
        const id = crypto.randomUUID();
        const entry: ClientEntry = {
          id,
          remote,
          canWrite,
          registered: false,
          peer: attach(socket, relay, {
            kind: "client",
            label: id,
            maxFrameBytes,
            rate: clientRate,
            onFrame: (msg) => relay.onClientFrame(entry, msg),
            onClose: () => relay.removeClient(entry),
          }),
        };
        relay.addClient(entry);
      });
    return response;
  });

  app.route("/", restRoutes(relay));

  const tls = opts.tls ? { cert: await pem(opts.tls.cert), key: await pem(opts.tls.key) } : {};
  const server = Deno.serve({
    hostname: opts.host ?? "0.0.0.0",
    port: opts.port ?? DEFAULT_PORT,
    ...tls,
    onListen: () => {},
    onError: (err) => {
      // Never a 500 with a traceback (pyaiot's quirk): log and answer plainly.
      log.error("request failed", { err });
      return new Response("Internal error", { status: 500 });
    },
  }, (req, info) => app.fetch(req, info));

  const addr = server.addr;
  const scheme = opts.tls ? "https" : "http";
  const shownHost = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `${scheme}://${shownHost}:${addr.port}`;
  log.info("broker listening", {
    url,
    tls: !!opts.tls,
    writeToken: opts.writeToken !== undefined,
    tokenMaxAge: maxAge,
    binaryLink: decodeBinary !== undefined,
  });

  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      closing = true;
      const pending = [...sockets].map((ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.addEventListener("close", () => resolve());
        })
      );
      // Lets refusal closes deferred by connection.ts (0 ms timers) run first.
      await new Promise((r) => setTimeout(r, 1));
      for (const ws of sockets) {
        if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
          try {
            ws.close(CLOSE.GOING_AWAY, "Broker shutting down");
          } catch { /* closing already */ }
        }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(pending),
        new Promise((r) => timer = setTimeout(r, SHUTDOWN_GRACE_MS)),
      ]);
      clearTimeout(timer);
      await server.shutdown();
      log.info("broker stopped", { url });
    })();

  return { port: addr.port, url, relay, close };
}
