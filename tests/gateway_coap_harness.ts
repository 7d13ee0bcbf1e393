// Shared harness for the CoAP gateway tests: a raw UDP CoAP peer that records every datagram it
// gets (decoded with core-wasm) and sends exact messages, plus small waiting helpers.
import {
  type CoapMessage,
  type CoapOptionValue,
  CoapType,
  decodeCoap,
  encodeCoap,
} from "../core-wasm/mod.ts";
import { startBroker } from "../broker/server.ts";
import { generateKeys } from "../common/keys.ts";
import { setLogLevel } from "../common/log.ts";
import {
  type CoapGatewayOptions,
  type RunningCoapGateway,
  startCoapGateway,
} from "../gateway/coap/gateway.ts";

// Tests stay quiet unless asked (AIOT_LOG=debug shows every step).
if (!Deno.env.get("AIOT_LOG")) setLogLevel("warn");

export const EMPTY = new Uint8Array(0);
export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

export interface Received {
  msg: CoapMessage;
  bytes: Uint8Array;
  from: Deno.NetAddr;
  at: number;
}

/** A bare UDP socket speaking CoAP byte by byte: the test decides every reply. */
export class RawPeer {
  readonly conn: Deno.DatagramConn;
  readonly port: number;
  readonly log: Received[] = [];
  #queue: Received[] = [];
  #waiters: (() => void)[] = [];
  #loop: Promise<void>;
  #closed = false;
  /** Answers requests as they arrive (a scripted node); return undefined to stay silent. */
  autoReply: ((req: CoapMessage) => CoapMessage | undefined) | null = null;

  constructor() {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.port = (this.conn.addr as Deno.NetAddr).port;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        const [bytes, addr] = await this.conn.receive();
        let msg: CoapMessage;
        try {
          msg = decodeCoap(bytes);
        } catch {
          continue;
        }
        const r = { msg, bytes: bytes.slice(), from: addr as Deno.NetAddr, at: performance.now() };
        this.log.push(r);
        const answer = msg.code >= 1 && msg.code < 32 ? this.autoReply?.(msg) : undefined;
        if (answer) this.conn.send(encodeCoap(answer), addr).catch(() => {});
        this.#queue.push(r);
        for (const w of this.#waiters.splice(0)) w();
      } catch {
        return;
      }
    }
  }

  send(msg: CoapMessage | Uint8Array, port: number): Promise<number> {
    const bytes = msg instanceof Uint8Array ? msg : encodeCoap(msg);
    return this.conn.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
  }

  /** The next datagram matching `pred` (earlier non-matching ones stay queued). */
  async next(pred: (m: CoapMessage) => boolean = () => true, timeoutMs = 5_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const i = this.#queue.findIndex((r) => pred(r.msg));
      if (i >= 0) return this.#queue.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching datagram in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Datagrams still queued (for "nothing else arrived" checks). */
  pending(pred: (m: CoapMessage) => boolean = () => true): Received[] {
    return this.#queue.filter((r) => pred(r.msg));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.conn.close();
    await this.#loop;
    for (const w of this.#waiters.splice(0)) w();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A piggy-backed reply to `req` (ACK for CON, NON otherwise). */
export function answer(
  req: CoapMessage,
  code: number,
  payload: string | Uint8Array = EMPTY,
  options: CoapOptionValue[] = [],
): CoapMessage {
  return {
    type: req.type === CoapType.CON ? CoapType.ACK : CoapType.NON,
    code,
    messageId: req.type === CoapType.CON ? req.messageId : (req.messageId + 1) & 0xffff,
    token: req.token,
    options,
    payload: typeof payload === "string" ? enc(payload) : payload,
  };
}

// ---- a real broker, a CoAP gateway on it, and a web client ----

/** A browser stand-in: registers with `new` and records every frame. */
export class WebClient {
  readonly frames: Record<string, unknown>[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => {
        this.ws.send(JSON.stringify({ type: "new", data: "client" }));
        resolve();
      };
      this.ws.onerror = () => reject(new Error("web client failed"));
    });
    this.closed = new Promise((r) => this.ws.addEventListener("close", () => r()));
    this.ws.onmessage = (ev) => this.frames.push(JSON.parse(ev.data));
  }

  async next(pred: (f: Record<string, unknown>) => boolean, what: string, timeoutMs = 10_000) {
    let found: Record<string, unknown> | undefined;
    await waitFor(() => (found = this.frames.find(pred)) !== undefined, what, timeoutMs);
    return found!;
  }

  write(uid: string, endpoint: string, payload: string): void {
    this.ws.send(JSON.stringify({ type: "update", data: { uid, endpoint, payload } }));
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

export interface Stack {
  gateway: RunningCoapGateway;
  brokerPort: number;
  client(): Promise<WebClient>;
  close(): Promise<void>;
}

/** A real broker on 127.0.0.1:0 and a CoAP gateway dialled into it. */
export async function startStack(extra: Partial<CoapGatewayOptions> = {}): Promise<Stack> {
  const keys = generateKeys();
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  const gateway = await startCoapGateway({
    brokerUrl: `ws://127.0.0.1:${broker.port}/gw`,
    keys,
    name: "coap-test",
    host: "127.0.0.1",
    port: 0,
    nodePort: "source",
    requestTimeoutMs: 2_000,
    params: { ackTimeoutMs: 200, maxRetransmit: 2 },
    ...extra,
  });
  const clients: WebClient[] = [];
  await waitFor(() => gateway.link.connected, "gateway connected to broker");
  return {
    gateway,
    brokerPort: broker.port,
    async client() {
      const c = new WebClient(`ws://127.0.0.1:${broker.port}/ws`);
      clients.push(c);
      await c.opened;
      return c;
    },
    async close() {
      for (const c of clients) await c.close();
      await gateway.close();
      await broker.close();
    },
  };
}
