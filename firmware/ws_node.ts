// A simulated websocket node (shared/spec section 5, as it was meant to work): it connects to
// ws://host:port/node, answers {"request":"discover"} with every value, applies
// {"endpoint","payload"} writes and sends the new value back, and pushes its sensors
// periodically. It reconnects when the gateway goes away, until stopped.
//
// The protocol's frames are JSON text, so the `cbor` option has no effect on this node.
import { createLogger } from "../common/log.ts";
import {
  ALL_RESOURCES,
  type ResourceName,
  SENSOR_RESOURCES,
  Sensors,
  type SimNode,
  type SimNodeOptions,
} from "./sim.ts";

const log = createLogger("ws-node");

export interface WsNodeOptions extends SimNodeOptions {
  /** Full node URL; default `ws://<gatewayHost ?? 127.0.0.1>:<gatewayPort ?? 8001>/node`. */
  url?: string;
  /** Do not send `?id=`: the gateway picks a random uid, as with pyaiot's nodes. */
  anonymous?: boolean;
  /** Resources this node offers; default all of sim.ts's. */
  resources?: ResourceName[];
  /** Mean delay before reconnecting after the gateway closed the socket; default 2000 ms. */
  reconnectMs?: number;
  /** Give up on a handshake after this long; default 10,000 ms. */
  connectTimeoutMs?: number;
}

export class WsNode implements SimNode {
  readonly id: string;
  readonly writes: { endpoint: string; payload: string }[] = [];
  readonly sensors: Sensors;
  #opts: WsNodeOptions;
  #url: string;
  #resources: ResourceName[];
  #ws: WebSocket | null = null;
  #closed: Promise<void> = Promise.resolve();
  #pushTimer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;

  constructor(opts: WsNodeOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.sensors = opts.sensors ?? new Sensors(opts.id);
    this.#resources = opts.resources ?? ALL_RESOURCES;
    const base = opts.url ??
      `ws://${opts.gatewayHost ?? "127.0.0.1"}:${opts.gatewayPort ?? 8001}/node`;
    const url = new URL(base);
    if (!opts.anonymous) url.searchParams.set("id", opts.id);
    this.#url = url.href;
  }

  /** Resolves when the first connection is open. */
  async start(): Promise<void> {
    this.#stopped = false;
    await new Promise<void>((resolve, reject) => this.#connect(resolve, reject));
    this.#pushTimer = setInterval(() => {
      this.sensors.step();
      this.#sendValues(SENSOR_RESOURCES.filter((r) => this.#resources.includes(r)));
    }, this.#opts.intervalMs ?? 5000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pushTimer);
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000, "node stopping");
    await this.#closed;
  }

  #connect(onFirstOpen?: () => void, onFirstFail?: (err: Error) => void): void {
    if (this.#stopped) return;
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    let resolveClosed!: () => void;
    this.#closed = new Promise((r) => resolveClosed = r);
    let opened = false;
    // A handshake that never completes must not hang start() or stop(): give up on it.
    const giveUp = setTimeout(() => ws.close(), this.#opts.connectTimeoutMs ?? 10_000);
    ws.onopen = () => {
      clearTimeout(giveUp);
      opened = true;
      onFirstOpen?.();
    };
    ws.onmessage = (ev) => this.#onMessage(ev.data);
    ws.onerror = () => {/* onclose follows */};
    ws.onclose = (ev) => {
      clearTimeout(giveUp);
      resolveClosed();
      if (this.#ws === ws) this.#ws = null;
      if (!opened && onFirstFail) {
        onFirstFail(new Error(`cannot connect to ${this.#url}`));
        return;
      }
      if (this.#stopped) return;
      log.debug("gateway closed the socket, reconnecting", { id: this.id, code: ev.code });
      // Jittered, so a fleet whose gateway restarts does not reconnect in one burst.
      const delay = (this.#opts.reconnectMs ?? 2000) * (0.5 + Math.random());
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
    };
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return; // a node ignores what it does not understand
    }
    if (msg === null || typeof msg !== "object") return;
    const m = msg as Record<string, unknown>;
    if (m.request === "discover") {
      this.#sendValues(this.#resources);
      return;
    }
    if (typeof m.endpoint === "string" && "payload" in m) {
      const payload = typeof m.payload === "string" ? m.payload : JSON.stringify(m.payload);
      this.writes.push({ endpoint: m.endpoint, payload });
      if (!this.#resources.includes(m.endpoint as ResourceName)) return;
      const accepted = this.sensors.set(m.endpoint as ResourceName, payload);
      log.debug("write", { id: this.id, endpoint: m.endpoint, payload, accepted });
      // The new (or, when refused, unchanged) value goes back so the dashboard shows the truth.
      this.#sendValues([m.endpoint as ResourceName]);
    }
  }

  #sendValues(names: ResourceName[]): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || names.length === 0) return;
    const data: Record<string, string> = {};
    for (const r of names) data[r] = this.sensors.get(r);
    ws.send(JSON.stringify({ type: "update", data }));
  }
}
