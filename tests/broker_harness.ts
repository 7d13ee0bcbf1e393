// Shared harness for the broker tests: a real broker on 127.0.0.1:0, real websocket peers with
// a message queue, and a raw HTTP handshake for checking exact status codes and bodies.
import { fernetEncrypt } from "../common/fernet.ts";
import { generateKeys, type Keys } from "../common/keys.ts";
import { type BrokerOptions, type RunningBroker, startBroker } from "../broker/server.ts";

export const TIMEOUT_MS = 10_000;

// Deno's WebSocket takes an options object (protocols, TLS client). A test file that pulls in
// the DOM lib hides that overload when all tests are type-checked together, hence the cast.
type DenoWebSocketCtor = new (
  url: string,
  opts: { protocols?: string[]; client?: Deno.HttpClient },
) => WebSocket;
const DenoWebSocket = WebSocket as unknown as DenoWebSocketCtor;

export async function testBroker(
  extra: Partial<BrokerOptions> = {},
): Promise<RunningBroker & { keys: Keys; ws: string }> {
  const keys = extra.keys ?? generateKeys();
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys, ...extra });
  return { ...broker, keys, ws: broker.url.replace(/^http/, "ws") };
}

export interface Closed {
  code: number;
  reason: string;
}

/** A websocket peer whose incoming frames are queued and awaited one by one. */
export class Peer {
  readonly frames: (string | ArrayBuffer)[] = [];
  #waiters: (() => void)[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => {
      this.frames.push(ev.data);
      for (const w of this.#waiters.splice(0)) w();
    };
    this.opened = new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("websocket failed to open"));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      ws.onclose = (ev) => {
        resolve({ code: ev.code, reason: ev.reason });
        for (const w of this.#waiters.splice(0)) w();
      };
    });
  }

  send(v: unknown): void {
    this.ws.send(typeof v === "string" || v instanceof Uint8Array ? v : JSON.stringify(v));
  }

  /** The next JSON frame matching `pred` (frames before it are consumed). */
  async next(
    pred: (m: Record<string, unknown>) => boolean = () => true,
    timeoutMs = TIMEOUT_MS,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      while (this.frames.length > 0) {
        const f = this.frames.shift()!;
        const m = JSON.parse(typeof f === "string" ? f : new TextDecoder().decode(f));
        if (pred(m)) return m;
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error("socket closed while waiting");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a frame");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  }

  /** Proves silence: no frame matching `pred` arrives within `ms`. */
  async none(pred: (m: Record<string, unknown>) => boolean, ms = 300): Promise<void> {
    try {
      const m = await this.next(pred, ms);
      throw new Error(`unexpected frame ${JSON.stringify(m)}`);
    } catch (err) {
      if ((err as Error).message.startsWith("unexpected frame")) throw err;
    }
  }

  async close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close();
    }
    return await this.closed;
  }
}

export async function gatewayToken(keys: Keys, nowSeconds?: number): Promise<string> {
  return await fernetEncrypt(keys.private, keys.secret, nowSeconds);
}

export async function openGateway(
  b: { ws: string; keys: Keys },
  opts: { name?: string; binary?: boolean; client?: Deno.HttpClient } = {},
): Promise<Peer> {
  const url = new URL(`${b.ws}/gw`);
  if (opts.name) url.searchParams.set("name", opts.name);
  const token = await gatewayToken(b.keys);
  const protocols = opts.binary ? ["token", token, "aiot.cbor"] : ["token", token];
  const peer = new Peer(new DenoWebSocket(url.href, { protocols, client: opts.client }));
  await peer.opened;
  return peer;
}

export async function openClient(
  b: { ws: string },
  opts: { token?: string; register?: boolean; client?: Deno.HttpClient } = {},
): Promise<Peer> {
  const url = new URL(`${b.ws}/ws`);
  if (opts.token !== undefined) url.searchParams.set("token", opts.token);
  const peer = new Peer(new DenoWebSocket(url.href, { client: opts.client }));
  await peer.opened;
  if (opts.register !== false) peer.send({ type: "new", data: "client" });
  return peer;
}

/** Waits until `cond` holds (state on the broker side settles asynchronously). */
export async function until(cond: () => boolean, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** A hand-written websocket handshake over TCP, to see exactly what the broker answers. */
export async function rawHandshake(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16384);
    let text = "";
    const deadline = Date.now() + TIMEOUT_MS;
    while (Date.now() < deadline) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      text = new TextDecoder().decode(concat(chunks));
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      const head = text.slice(0, end).split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const hs = new Map<string, string>();
      for (const h of head.slice(1)) {
        const i = h.indexOf(":");
        hs.set(h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim());
      }
      if (status === 101) return { status, headers: hs, body: "" };
      const len = Number(hs.get("content-length") ?? "NaN");
      const body = text.slice(end + 4);
      if (Number.isFinite(len) && new TextEncoder().encode(body).length >= len) {
        return { status, headers: hs, body };
      }
    }
    throw new Error(`incomplete response: ${JSON.stringify(text.slice(0, 300))}`);
  } finally {
    conn.close();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export const WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export function upgradeHeaders(protocols?: string): Record<string, string> {
  const h: Record<string, string> = {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": WS_KEY,
    "Sec-WebSocket-Version": "13",
  };
  if (protocols !== undefined) h["Sec-WebSocket-Protocol"] = protocols;
  return h;
}
