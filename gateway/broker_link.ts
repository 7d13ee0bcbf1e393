// The gateway's websocket to the broker: authenticates with a fresh Fernet token per attempt,
// reconnects with capped exponential back-off, re-announces every node on (re)connect, replays
// its cache to web clients that ask, and hands web clients' writes to the protocol gateway.
// npm's `ws` rather than Deno's WebSocket: Deno's client sets TCP_NODELAY off, and Nagle plus the
// broker's delayed ACKs held small frames for 40 ms at a time (p99 26 ms -> 2 ms at 10k
// updates/s, bench:e2e). `ws` turns Nagle off and keeps the same event API; its bufferedAmount
// stays 0 under Deno, so unsent bytes are counted from its send callbacks instead.
import NodeWebSocket from "ws";
import { createLogger } from "../common/log.ts";
import { fernetEncrypt } from "../common/fernet.ts";
import type { Keys } from "../common/keys.ts";
import type { NodeRecord } from "../common/node.ts";
import { asClientWrite, checkFrame, GATEWAY_ALIVE_TEXT } from "../common/wire.ts";
import type { NodeRegistry, RegistryEvent } from "./registry.ts";

const log = createLogger("broker-link");

export type WriteHandler = (
  node: NodeRecord,
  endpoint: string,
  payload: string,
) => void | Promise<void>;

export interface BrokerLinkOptions {
  /** `ws(s)://host:port/gw`; the link adds `?name=`. */
  url: string;
  keys: Keys;
  name: string;
  registry: NodeRegistry;
  onWrite: WriteHandler;
  /** Offer the binary CBOR link (docs/protocol.md); falls back to JSON text when refused. */
  binary?: boolean;
  /** PEM certificate(s) to trust for a `wss://` broker, beyond the system's (self-signed). */
  ca?: string;
  /** pyaiot's gateway keep-alive period (30 s). */
  aliveMs?: number;
  /** Back-off bounds for reconnects. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Above this many buffered bytes, updates are held back (counted as dropped): the registry
   * keeps the newest value, which is sent once the socket has drained.
   */
  maxBufferedBytes?: number;
}

export interface LinkStats {
  connects: number;
  /** Frames sent, keep-alives included. */
  sent: number;
  received: number;
  dropped: number;
  /** Held-back updates sent later with their newest value. */
  resent: number;
  writes: number;
  badFrames: number;
}

/** The part of npm's `ws` client the link uses. */
interface LinkSocket {
  readonly protocol: string;
  readonly readyState: number;
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string | Uint8Array, done: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
}

const CLOSED = 3;

export class BrokerLink {
  readonly stats: LinkStats = {
    connects: 0,
    sent: 0,
    received: 0,
    dropped: 0,
    resent: 0,
    writes: 0,
    badFrames: 0,
  };
  #opts: Required<Omit<BrokerLinkOptions, "binary" | "ca">> & { binary: boolean; ca?: string };
  #ws: LinkSocket | null = null;
  /** Bytes handed to the socket and not yet written out, for the current connection. */
  #unsent = { bytes: 0 };
  #open = false;
  #closing = false;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #aliveTimer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => void) | null = null;
  #closed: Promise<void> = Promise.resolve();
  #encodeBinary: ((value: unknown) => Uint8Array) | null = null;
  #binaryRefused = false;
  /** Resources whose update was held back by backpressure: uid -> endpoints. */
  #behind = new Map<string, Set<string>>();
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: BrokerLinkOptions) {
    // Options passed through as `undefined` (a flag not given) keep their defaults: spread alone
    // would set them to undefined, and setInterval(fn, undefined) fires every millisecond.
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    this.#opts = {
      aliveMs: 30_000,
      minBackoffMs: 500,
      maxBackoffMs: 15_000,
      maxBufferedBytes: 4 * 1024 * 1024,
      binary: false,
      ...given as BrokerLinkOptions,
    };
  }

  get connected(): boolean {
    return this.#open;
  }

  /** True when the broker accepted the binary CBOR link for the current connection. */
  get binaryActive(): boolean {
    return this.#encodeBinary !== null;
  }

  start(): void {
    this.#unsubscribe = this.#opts.registry.on((e) => this.#onRegistry(e));
    this.#connect();
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#unsubscribe?.();
    clearTimeout(this.#retryTimer);
    clearInterval(this.#aliveTimer);
    clearTimeout(this.#drainTimer);
    const ws = this.#ws;
    if (ws && ws.readyState !== CLOSED) {
      ws.close(1000, "gateway stopping");
    }
    await this.#closed;
  }

  #connect(): void {
    if (this.#closing) return;
    const { url, name, keys } = this.#opts;
    const offerBinary = this.#opts.binary && !this.#binaryRefused;
    fernetEncrypt(keys.private, keys.secret).then((token) => {
      if (this.#closing) return;
      const target = new URL(url);
      target.searchParams.set("name", name);
      const protocols = offerBinary ? ["token", token, "aiot.cbor"] : ["token", token];
      let ws: LinkSocket;
      try {
        const tls = this.#opts.ca ? { ca: this.#opts.ca } : undefined;
        ws = new NodeWebSocket(target.href, protocols, tls) as unknown as LinkSocket;
      } catch (err) {
        log.error("cannot open broker websocket", { url: target.href, err });
        this.#scheduleRetry();
        return;
      }
      ws.binaryType = "arraybuffer";
      this.#ws = ws;
      this.#unsent = { bytes: 0 };
      let resolveClosed!: () => void;
      this.#closed = new Promise((r) => resolveClosed = r);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.#onOpen(ws);
      };
      ws.onmessage = (ev) => this.#onFrame(ev.data);
      ws.onerror = () => {/* onclose follows and says it */};
      ws.onclose = (ev) => {
        const wasOpen = this.#open;
        this.#open = false;
        this.#encodeBinary = null;
        clearInterval(this.#aliveTimer);
        // The next connection announces every node with its newest values anyway.
        this.#behind.clear();
        clearTimeout(this.#drainTimer);
        this.#drainTimer = undefined;
        if (this.#ws === ws) this.#ws = null;
        resolveClosed();
        if (this.#closing) return;
        if (!opened && offerBinary) {
          // A pyaiot broker answers 401 to three subprotocols: retry with JSON text only.
          this.#binaryRefused = true;
        }
        if (wasOpen) log.warn("broker connection lost", { code: ev.code, reason: ev.reason });
        else log.debug("broker connection failed", { code: ev.code });
        this.#scheduleRetry();
      };
    }).catch((err) => {
      log.error("cannot make a gateway token (bad keys?)", { err });
      this.#scheduleRetry();
    });
  }

  #scheduleRetry(): void {
    if (this.#closing) return;
    const { minBackoffMs, maxBackoffMs } = this.#opts;
    const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** this.#attempt);
    // Half fixed, half jitter: a fleet of gateways does not reconnect in lock-step.
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    this.#attempt = Math.min(this.#attempt + 1, 20);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  async #onOpen(ws: LinkSocket): Promise<void> {
    this.#open = true;
    this.#attempt = 0;
    this.stats.connects++;
    if (ws.protocol === "aiot.cbor") {
      const core = await import("../core-wasm/mod.ts") as unknown as {
        encodeCbor: (value: unknown) => Uint8Array;
      };
      if (this.#ws !== ws) return;
      this.#encodeBinary = core.encodeCbor;
    }
    log.info("connected to broker", {
      url: this.#opts.url,
      name: this.#opts.name,
      nodes: this.#opts.registry.size,
      binary: this.binaryActive,
    });
    this.#aliveTimer = setInterval(() => this.#sendText(GATEWAY_ALIVE_TEXT), this.#opts.aliveMs);
    for (const node of this.#opts.registry.all()) this.#announce(node, "all");
  }

  /** `new` then one `update` per resource, in insertion order (pyaiot's cache replay). */
  #announce(node: NodeRecord, dst: string): void {
    this.#send({ type: "new", uid: node.uid, dst });
    for (const [endpoint, state] of node.resources) {
      this.#send(updateFrame(node.uid, endpoint, state.value, state.meta, dst));
    }
  }

  #onRegistry(e: RegistryEvent): void {
    if (!this.#open) return; // the registry keeps the newest values; (re)connect announces them
    switch (e.kind) {
      case "new":
        this.#send({ type: "new", uid: e.node.uid, dst: "all" });
        break;
      case "update":
        if (
          this.#behind.size > 0 ||
          !this.#send(updateFrame(e.node.uid, e.endpoint, e.state.value, e.state.meta, "all"), true)
        ) {
          this.#holdBack(e.node.uid, e.endpoint);
        }
        break;
      case "out":
        this.#send({ type: "out", uid: e.node.uid });
        break;
      case "reset":
        this.#send({ type: "reset", uid: e.node.uid });
        break;
    }
  }

  #onFrame(data: unknown): void {
    this.stats.received++;
    try {
      const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
      const checked = checkFrame(text);
      if (!checked.ok) {
        this.stats.badFrames++;
        log.warn("bad frame from broker", { reason: checked.reason });
        return;
      }
      const msg = checked.msg;
      if (msg.type === "new") {
        if (typeof msg.src !== "string") {
          this.stats.badFrames++;
          return; // pyaiot crashed here; a replay needs somebody to send it to
        }
        for (const node of this.#opts.registry.all()) this.#announce(node, msg.src);
        return;
      }
      if (msg.type === "update") {
        const write = asClientWrite(msg);
        if (!write) {
          this.stats.badFrames++;
          log.debug("ignoring malformed client write", { frame: text.slice(0, 200) });
          return;
        }
        const node = this.#opts.registry.get(write.data.uid);
        if (!node) return;
        this.stats.writes++;
        Promise.resolve(this.#opts.onWrite(node, write.data.endpoint, write.data.payload)).catch(
          (err) => log.warn("write to node failed", { uid: node.uid, err }),
        );
      }
      // Client `out`/`reset` frames mean nothing to a gateway (pyaiot ignores them too).
    } catch (err) {
      // Never let one frame end the link (pyaiot's broker task died for good here).
      this.stats.badFrames++;
      log.warn("error handling broker frame", { err });
    }
  }

  /** Returns false when a droppable frame was not sent because the socket is too far behind. */
  #send(msg: Record<string, unknown>, droppable = false): boolean {
    const ws = this.#ws;
    if (!ws || !this.#open) return true; // (re)connect announces everything
    if (droppable && this.#unsent.bytes > this.#opts.maxBufferedBytes) return false;
    try {
      this.#write(ws, this.#encodeBinary ? this.#encodeBinary(msg) : JSON.stringify(msg));
      this.stats.sent++;
    } catch (err) {
      this.stats.dropped++;
      log.debug("send failed", { err });
    }
    return true;
  }

  /**
   * An update that could not go now (a cache replay or a burst filled the socket): remember the
   * resource, not the value, so a later change overwrites it and only the newest is sent. Once
   * something is held back, later updates queue behind it, so values never arrive out of order.
   */
  #holdBack(uid: string, endpoint: string): void {
    let set = this.#behind.get(uid);
    if (!set) this.#behind.set(uid, set = new Set());
    if (!set.has(endpoint)) {
      set.add(endpoint);
      this.stats.dropped++;
    }
    this.#drainTimer ??= setTimeout(() => this.#drain(), 10);
  }

  #drain(): void {
    this.#drainTimer = undefined;
    const ws = this.#ws;
    if (!ws || !this.#open) return;
    const low = this.#opts.maxBufferedBytes / 2;
    for (const [uid, endpoints] of this.#behind) {
      if (this.#unsent.bytes > low) break;
      this.#behind.delete(uid);
      const node = this.#opts.registry.get(uid);
      if (!node) continue; // gone since: its `out` was sent
      for (const endpoint of endpoints) {
        const state = node.resources.get(endpoint);
        if (!state) continue;
        this.#send(updateFrame(uid, endpoint, state.value, state.meta, "all"));
        this.stats.resent++;
      }
    }
    if (this.#behind.size > 0) this.#drainTimer = setTimeout(() => this.#drain(), 10);
  }

  #write(ws: LinkSocket, data: string | Uint8Array): void {
    const unsent = this.#unsent;
    const n = typeof data === "string" ? data.length : data.byteLength;
    unsent.bytes += n;
    ws.send(data, () => unsent.bytes -= n);
  }

  #sendText(text: string): void {
    const ws = this.#ws;
    if (!ws || !this.#open) return;
    try {
      this.#write(ws, text);
      this.stats.sent++;
    } catch { /* the close handler reconnects */ }
  }
}

function updateFrame(
  uid: string,
  endpoint: string,
  data: unknown,
  meta: unknown,
  dst: string,
): Record<string, unknown> {
  const frame: Record<string, unknown> = { type: "update", uid, endpoint, data, dst };
  if (meta !== undefined) frame.meta = meta;
  return frame;
}
