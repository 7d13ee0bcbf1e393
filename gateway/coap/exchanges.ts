// Request/response matching by (peer, token) on top of the message layer (RFC 7252 5.3): one
// token per exchange, responses piggy-backed on the ACK or sent separately, an overall deadline,
// and long-lived tokens for observations whose notifications keep arriving.
import { type CoapMessage, type CoapOptionValue, CoapType } from "../../core-wasm/mod.ts";
import { CoapTimeoutError, type MessageLayer } from "./message_layer.ts";
import { type Peer, peerKey } from "./udp_endpoint.ts";

const EMPTY = new Uint8Array(0);

export interface RequestSpec {
  code: number;
  options?: CoapOptionValue[];
  payload?: Uint8Array;
  /** NON instead of CON. */
  nonConfirmable?: boolean;
  /** Deadline for the response, counted from sending (default: the exchanges' own). */
  timeoutMs?: number;
}

type Listener = (res: CoapMessage, peer: Peer) => void;

interface Open {
  peer: Peer;
  /** Called for every response carrying the token; one-shot exchanges remove themselves. */
  listener: Listener;
  /** One-shot exchanges: ends them with an error (on close). */
  fail?: (err: Error) => void;
}

export interface ExchangeStats {
  requests: number;
  timeouts: number;
  unmatched: number;
}

export class Exchanges {
  readonly stats: ExchangeStats = { requests: 0, timeouts: 0, unmatched: 0 };
  #layer: MessageLayer;
  #open = new Map<string, Open>();
  #counter: number;
  #prefix: number;
  #defaultTimeoutMs: number;

  constructor(layer: MessageLayer, opts: { timeoutMs?: number; random?: () => number } = {}) {
    this.#layer = layer;
    const random = opts.random ?? Math.random;
    this.#prefix = Math.floor(random() * 0x10000);
    this.#counter = Math.floor(random() * 0x10000);
    this.#defaultTimeoutMs = opts.timeoutMs ?? 30_000;
    layer.onResponse((res, peer) => this.#dispatch(res, peer));
  }

  get openCount(): number {
    return this.#open.size;
  }

  /** A fresh 4-byte token: a random per-process prefix and a counter, unique among open ones. */
  newToken(): Uint8Array {
    this.#counter = (this.#counter + 1) & 0xffff;
    const c = this.#counter, p = this.#prefix;
    return new Uint8Array([p >> 8, p & 0xff, c >> 8, c & 0xff]);
  }

  /** One request, one response (the first one carrying our token). */
  request(peer: Peer, spec: RequestSpec): Promise<CoapMessage> {
    const token = this.newToken();
    const key = tokenKey(peer, token);
    this.stats.requests++;
    return new Promise<CoapMessage>((resolve, reject) => {
      const abort = new AbortController();
      const finish = () => {
        clearTimeout(timer);
        this.#open.delete(key);
        abort.abort();
      };
      const timer = setTimeout(() => {
        finish();
        this.stats.timeouts++;
        reject(new CoapTimeoutError(peer, "request"));
      }, spec.timeoutMs ?? this.#defaultTimeoutMs);
      this.#open.set(key, {
        peer,
        listener: (res) => {
          finish();
          resolve(res);
        },
        fail: (err) => {
          finish();
          reject(err);
        },
      });
      this.#send(peer, token, spec, abort.signal).catch((err) => {
        finish();
        reject(err);
      });
    });
  }

  /**
   * Opens a long-lived token (Observe): every response carrying it goes to `listener` until
   * `release()`. After release, later notifications are unmatched and the layer answers RST.
   */
  openStream(peer: Peer, listener: Listener, token = this.newToken()): {
    token: Uint8Array;
    send: (spec: RequestSpec) => Promise<void>;
    release: () => void;
  } {
    const key = tokenKey(peer, token);
    this.#open.set(key, { peer, listener });
    return {
      token,
      send: (spec) => this.#send(peer, token, spec),
      release: () => {
        if (this.#open.get(key)?.listener === listener) this.#open.delete(key);
      },
    };
  }

  /** Ends every open exchange (they reject) and forgets every stream. */
  close(): void {
    const open = [...this.#open.values()];
    this.#open.clear();
    for (const o of open) o.fail?.(new Error("exchanges closed"));
  }

  async #send(
    peer: Peer,
    token: Uint8Array,
    spec: RequestSpec,
    signal?: AbortSignal,
  ): Promise<void> {
    const msg = {
      code: spec.code,
      token,
      options: spec.options ?? [],
      payload: spec.payload ?? EMPTY,
    };
    if (spec.nonConfirmable) {
      this.#layer.sendNon(msg, peer);
      return;
    }
    // Resolves on the ACK; a piggy-backed response has already reached #dispatch by then.
    await this.#layer.sendCon(msg, peer, signal);
  }

  #dispatch(res: CoapMessage, peer: Peer): boolean {
    const open = this.#open.get(tokenKey(peer, res.token));
    if (!open) {
      this.stats.unmatched++;
      // An ACK cannot be rejected; anything else unmatched gets RST from the layer.
      return res.type === CoapType.ACK;
    }
    open.listener(res, peer);
    return true;
  }
}

function tokenKey(peer: Peer, token: Uint8Array): string {
  let hex = "";
  for (const b of token) hex += (b < 16 ? "0" : "") + b.toString(16);
  return `${peerKey(peer)}/${hex}`;
}
