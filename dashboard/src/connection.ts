// The page's websocket to the broker's web-client endpoint (`/ws`, shared/spec 2.3): registers
// as a client on every open, hands each JSON frame to the caller, and reconnects with
// exponential back-off, reporting its state so the page can say what is happening.
// Uses only the WebSocket global, so it runs in browsers and under `deno test` alike.

export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; retryAt: number; reason: string }
  | { kind: "closed" };

export interface ConnectionOptions {
  url: string;
  onFrame: (frame: unknown) => void;
  onState?: (state: ConnectionState) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class BrokerConnection {
  #opts: Required<Omit<ConnectionOptions, "onState">> & Pick<ConnectionOptions, "onState">;
  #ws?: WebSocket;
  #timer?: ReturnType<typeof setTimeout>;
  #backoff: number;
  #attempt = 0;
  #stopped = false;
  state: ConnectionState = { kind: "closed" };

  constructor(opts: ConnectionOptions) {
    this.#opts = { minBackoffMs: 500, maxBackoffMs: 10_000, ...opts };
    this.#backoff = this.#opts.minBackoffMs;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(frame: unknown): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** Stops for good and resolves once the socket has closed. */
  close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#ws = undefined;
    this.#setState({ kind: "closed" });
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.addEventListener("close", () => resolve(), { once: true });
      ws.close();
    });
  }

  #setState(state: ConnectionState): void {
    this.state = state;
    this.#opts.onState?.(state);
  }

  #connect(): void {
    this.#attempt++;
    this.#setState({ kind: "connecting", attempt: this.#attempt });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#opts.url);
    } catch (err) {
      this.#retry(err instanceof Error ? err.message : String(err));
      return;
    }
    this.#ws = ws;
    let reason = "connection failed";
    ws.addEventListener("open", () => {
      this.#attempt = 0;
      this.#backoff = this.#opts.minBackoffMs;
      ws.send(JSON.stringify({ type: "new", data: "client" }));
      this.#setState({ kind: "open" });
    });
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") return;
      let frame: unknown;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return; // not ours to fix; the broker only sends JSON
      }
      this.#opts.onFrame(frame);
    });
    ws.addEventListener("close", (e) => {
      if (this.#ws !== ws) return; // closed on purpose
      this.#ws = undefined;
      if (e.reason) reason = e.reason;
      else if (this.state.kind === "open") reason = "connection lost";
      this.#retry(reason);
    });
  }

  #retry(reason: string): void {
    if (this.#stopped) return;
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.#opts.maxBackoffMs);
    this.#setState({ kind: "waiting", retryAt: Date.now() + wait, reason });
    this.#timer = setTimeout(() => this.#connect(), wait);
  }
}
