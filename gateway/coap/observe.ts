// RFC 7641 client side: register with Observe 0, accept only notifications fresher than the last
// one (section 3.4, with the 128 s rule), re-register when the relation lapses (no notification
// within Max-Age plus some slack), deregister with Observe 1, and let late notifications of a
// released token be rejected with RST by the layers below.
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  decodeBlock,
  decodeUint,
  encodeUint,
  getObserve,
  getOption,
  uriOptions,
} from "../../core-wasm/mod.ts";
import { createLogger } from "../../common/log.ts";
import { requestBlockwise } from "./blockwise.ts";
import type { Exchanges } from "./exchanges.ts";
import { type Peer, peerKey } from "./udp_endpoint.ts";

const log = createLogger("coap-observe");

const HALF = 1 << 23;
/** RFC 7641 3.4: after this long, any notification counts as newer. */
export const FRESHNESS_WINDOW_MS = 128_000;
const DEFAULT_MAX_AGE_S = 60;

/**
 * True when notification (v2, t2) is newer than (v1, t1): sequence numbers are 24-bit and wrap;
 * a gap of more than 128 s makes any number acceptable.
 */
export function isFresher(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) ||
    t2 > t1 + FRESHNESS_WINDOW_MS;
}

export type ObservationEnd = "cancelled" | "error-response" | "failed";

export interface ObservationOptions {
  exchanges: Exchanges;
  peer: Peer;
  /** Resource path without the leading slash. */
  path: string;
  /** Every fresh 2.05 notification (body reassembled when it came block-wise). */
  onValue: (res: CoapMessage) => void;
  /** The relation ended on its own (error response, e.g. 4.04), not re-registered. */
  onEnd?: (why: ObservationEnd, res?: CoapMessage) => void;
  /** Added to Max-Age before the relation counts as lapsed. */
  slackMs?: number;
  /** Wait before retrying a registration that timed out or was reset. */
  retryMs?: number;
  /** Deadline for the registration's first response. */
  timeoutMs?: number;
  now?: () => number;
}

export interface ObservationStats {
  notifications: number;
  stale: number;
  registrations: number;
}

export class Observation {
  readonly stats: ObservationStats = { notifications: 0, stale: 0, registrations: 0 };
  #o: Required<Omit<ObservationOptions, "onEnd">> & Pick<ObservationOptions, "onEnd">;
  #stream: ReturnType<Exchanges["openStream"]> | null = null;
  #lastSeq = -1;
  #lastAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(opts: ObservationOptions) {
    // `??` per field: an explicit undefined in opts must not erase a default.
    this.#o = {
      ...opts,
      slackMs: opts.slackMs ?? 5_000,
      retryMs: opts.retryMs ?? 30_000,
      timeoutMs: opts.timeoutMs ?? 30_000,
      now: opts.now ?? Date.now,
      path: opts.path.replace(/^\/+/, ""),
    };
  }

  get active(): boolean {
    return this.#stream !== null && !this.#closed;
  }

  get path(): string {
    return this.#o.path;
  }

  /** Registers; resolves once the first response (or failure) is in. */
  start(): Promise<void> {
    return this.#register();
  }

  /**
   * Ends the relation. With `deregister`, tells the server (GET with Observe 1 on the same
   * token, RFC 7641 3.6); without (node gone), only forgets the token so a stray notification
   * gets RST.
   */
  async cancel(deregister = true): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const stream = this.#stream;
    this.#stream = null;
    if (stream && deregister) {
      // Deregistration is best effort: the server also drops us on the next RST.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        stream.send({
          code: CoapCode.GET,
          options: [
            { number: CoapOption.OBSERVE, value: encodeUint(1) },
            ...uriOptions(this.#o.path),
          ],
        }).catch(() => {}),
        new Promise<void>((r) => timer = setTimeout(r, 2_000)),
      ]);
      clearTimeout(timer);
    }
    stream?.release();
    this.#o.onEnd?.("cancelled");
  }

  #register(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#stream?.release(); // the lapsed relation's token: late notifications now get RST
    this.#lastSeq = -1;
    this.stats.registrations++;
    let firstSeen!: () => void;
    const first = new Promise<void>((r) => firstSeen = r);
    const stream = this.#o.exchanges.openStream(this.#o.peer, (res) => {
      firstSeen();
      this.#onNotification(res, stream);
    });
    this.#stream = stream;
    stream.send({
      code: CoapCode.GET,
      options: [{ number: CoapOption.OBSERVE, value: encodeUint(0) }, ...uriOptions(this.#o.path)],
    }).catch((err) => {
      firstSeen();
      this.#failed(stream, err);
    });
    // No answer at all within the deadline: treat as a failed registration.
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      firstSeen();
      this.#failed(stream, new Error("no response to registration"));
    }, this.#o.timeoutMs);
    return first;
  }

  #failed(stream: ReturnType<Exchanges["openStream"]>, err: unknown): void {
    if (this.#closed || this.#stream !== stream) return;
    log.debug("observe registration failed", {
      peer: peerKey(this.#o.peer),
      path: this.#o.path,
      err,
    });
    stream.release();
    this.#stream = null;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#register(), this.#o.retryMs);
  }

  #onNotification(res: CoapMessage, stream: ReturnType<Exchanges["openStream"]>): void {
    if (this.#closed || this.#stream !== stream) return;
    if (res.code !== CoapCode.CONTENT && res.code !== CoapCode.VALID) {
      // An error response ends the relation (RFC 7641 3.2); never forward it as a value.
      stream.release();
      this.#stream = null;
      clearTimeout(this.#timer);
      this.#o.onEnd?.("error-response", res);
      return;
    }
    const seq = getObserve(res);
    const now = this.#o.now();
    if (
      seq !== undefined && this.#lastSeq >= 0 && !isFresher(this.#lastSeq, this.#lastAt, seq, now)
    ) {
      this.stats.stale++;
      return;
    }
    this.stats.notifications++;
    const maxAgeRaw = getOption(res, CoapOption.MAX_AGE);
    const maxAgeS = maxAgeRaw ? decodeUint(maxAgeRaw) : DEFAULT_MAX_AGE_S;
    clearTimeout(this.#timer);
    if (seq === undefined) {
      // The server did not accept the observation: fall back to asking again after Max-Age.
      stream.release();
      this.#stream = null;
      this.#timer = setTimeout(() => this.#register(), maxAgeS * 1000);
    } else {
      this.#lastSeq = seq;
      this.#lastAt = now;
      this.#timer = setTimeout(() => {
        log.debug("observe relation lapsed, re-registering", { path: this.#o.path });
        this.#register();
      }, maxAgeS * 1000 + this.#o.slackMs);
    }
    const b2 = getOption(res, CoapOption.BLOCK2);
    if (b2 && safeMore(b2)) {
      // A notification larger than one block: fetch the rest with plain GETs (RFC 7959 3.4).
      requestBlockwise(this.#o.exchanges, this.#o.peer, {
        code: CoapCode.GET,
        options: uriOptions(this.#o.path),
      }).then((full) => {
        if (!this.#closed && full.code === CoapCode.CONTENT) this.#o.onValue(full);
      }).catch((err) => log.debug("block-wise notification failed", { err }));
      return;
    }
    this.#o.onValue(res);
  }
}

function safeMore(raw: Uint8Array): boolean {
  try {
    return decodeBlock(raw).more;
  } catch {
    return false;
  }
}
