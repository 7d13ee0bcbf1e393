// RFC 7252 message layer (section 4): confirmable retransmission with exponential back-off,
// duplicate detection by (peer, message id) with the cached reply re-sent, piggy-backed and
// separate responses, empty ACKs, RST. It knows nothing of tokens or resources: requests go up to
// one handler, responses to another (the exchanges layer), like aiocoap's message manager.
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  type CoapOptionValue,
  CoapType,
  decodeCoap,
  decodeUint,
  encodeCoap,
  getOption,
} from "../../core-wasm/mod.ts";
import { createLogger } from "../../common/log.ts";
import { type CoapParams, withDefaults } from "./params.ts";
import { type Peer, peerKey } from "./udp_endpoint.ts";

const log = createLogger("coap-msg");
const EMPTY = new Uint8Array(0);

/** What the message layer needs from a socket (a UdpEndpoint in practice). */
export interface Transport {
  send(bytes: Uint8Array, peer: Peer): void;
  onDatagram(handler: (bytes: Uint8Array, peer: Peer) => void): void;
}

/** A response as a request handler builds it; the layer adds type, id and token. */
export interface Reply {
  code: number;
  options?: CoapOptionValue[];
  payload?: Uint8Array;
}

export type RequestHandler = (req: CoapMessage, peer: Peer) => Reply | Promise<Reply>;
/** Returns true when the response belonged to a live exchange; false makes the layer send RST. */
export type ResponseHandler = (res: CoapMessage, peer: Peer) => boolean;
export type ResetHandler = (peer: Peer, messageId: number) => void;

/** Critical options (odd numbers) a server built on this layer understands or safely ignores. */
const KNOWN_CRITICAL = new Set([1, 3, 5, 7, 11, 15, 17, 23, 27, 35, 39]);

/**
 * RFC 7252 5.4.1: a request with an unrecognised critical option must be answered 4.02 Bad
 * Option. Returns that reply, or null when every critical option is known.
 */
export function rejectUnknownCritical(req: CoapMessage): Reply | null {
  for (const o of req.options) {
    if (o.number & 1 && !KNOWN_CRITICAL.has(o.number)) return { code: CoapCode.BAD_OPTION };
  }
  return null;
}

/**
 * RFC 7967 No-Response: true when the request says it does not want a response of this code's
 * class (bit 2 for 2.xx, 8 for 4.xx, 16 for 5.xx). Battery nodes post values this way so that no
 * answer wakes their radio.
 */
export function responseSuppressed(req: CoapMessage, code: number): boolean {
  const v = getOption(req, CoapOption.NO_RESPONSE);
  if (v === undefined || v.length > 1) return false;
  return (decodeUint(v) & (1 << ((code >> 5) - 1))) !== 0;
}

/** No-Response for 2.xx: "tell me only if something went wrong" (a node posting values). */
export const NO_RESPONSE_2XX: CoapOptionValue = {
  number: CoapOption.NO_RESPONSE,
  value: new Uint8Array([2]),
};

function handlerFailed(err: unknown, peer: Peer): Reply {
  log.warn("request handler threw", { peer: peerKey(peer), err });
  return { code: CoapCode.INTERNAL_SERVER_ERROR };
}

export class CoapResetError extends Error {
  constructor(peer: Peer) {
    super(`reset by ${peerKey(peer)}`);
    this.name = "CoapResetError";
  }
}
export class CoapTimeoutError extends Error {
  constructor(peer: Peer, what: string) {
    super(`${what} to ${peerKey(peer)} timed out`);
    this.name = "CoapTimeoutError";
  }
}

export interface MessageStats {
  received: number;
  malformed: number;
  duplicates: number;
  retransmissions: number;
  timeouts: number;
  resets: number;
  requests: number;
  responses: number;
  /** Responses not sent because the request asked for none (RFC 7967). */
  suppressed: number;
}

interface Pending {
  bytes: Uint8Array;
  peer: Peer;
  tries: number;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: (ack: CoapMessage) => void;
  reject: (err: Error) => void;
}

interface Seen {
  at: number;
  /** What we answered (ACK, RST or NON response), re-sent for a duplicate; null while handling. */
  reply: Uint8Array | null;
}

export interface MessageLayerOptions {
  params?: Partial<CoapParams>;
  random?: () => number;
  now?: () => number;
}

export class MessageLayer {
  readonly stats: MessageStats = {
    received: 0,
    malformed: 0,
    duplicates: 0,
    retransmissions: 0,
    timeouts: 0,
    resets: 0,
    requests: 0,
    responses: 0,
    suppressed: 0,
  };
  readonly params: CoapParams;
  #transport: Transport;
  #random: () => number;
  #now: () => number;
  #mid: number;
  #pending = new Map<string, Pending>();
  #seen = new Map<string, Seen>();
  #separate = new Set<Promise<unknown>>();
  #onRequest: RequestHandler = () => ({ code: 132 }); // 4.04 until somebody serves something
  #onResponse: ResponseHandler = () => false;
  #onReset: ResetHandler = () => {};
  #closed = false;

  constructor(transport: Transport, opts: MessageLayerOptions = {}) {
    this.params = withDefaults(opts.params);
    this.#transport = transport;
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? Date.now;
    this.#mid = Math.floor(this.#random() * 0x10000);
    transport.onDatagram((bytes, peer) => this.#receive(bytes, peer));
  }

  onRequest(h: RequestHandler): void {
    this.#onRequest = h;
  }
  onResponse(h: ResponseHandler): void {
    this.#onResponse = h;
  }
  onReset(h: ResetHandler): void {
    this.#onReset = h;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  nextMessageId(): number {
    this.#mid = (this.#mid + 1) & 0xffff;
    return this.#mid;
  }

  /**
   * Sends a confirmable message and retransmits it until an ACK or RST arrives (RFC 7252 4.2).
   * Resolves with the ACK (empty, or carrying a piggy-backed response); rejects with
   * CoapResetError or, after MAX_RETRANSMIT retransmissions, CoapTimeoutError.
   */
  sendCon(
    msg: Omit<CoapMessage, "type" | "messageId">,
    peer: Peer,
    signal?: AbortSignal,
  ): Promise<CoapMessage> {
    const messageId = this.nextMessageId();
    const bytes = encodeCoap({ ...msg, type: CoapType.CON, messageId });
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error("message layer closed"));
      if (signal?.aborted) return reject(new Error("aborted"));
      const { ackTimeoutMs, ackRandomFactor } = this.params;
      const p: Pending = {
        bytes,
        peer,
        tries: 0,
        timeoutMs: ackTimeoutMs * (1 + this.#random() * (ackRandomFactor - 1)),
        timer: undefined,
        resolve,
        reject,
      };
      const key = `${peerKey(peer)}#${messageId}`;
      this.#pending.set(key, p);
      this.#transport.send(bytes, peer);
      p.timer = setTimeout(() => this.#retransmit(key), p.timeoutMs);
      // The exchange is over (answered separately, or given up): stop retransmitting.
      signal?.addEventListener("abort", () => {
        if (this.#pending.get(key) !== p) return;
        this.#pending.delete(key);
        clearTimeout(p.timer);
        reject(new Error("aborted"));
      }, { once: true });
    });
  }

  /** Sends a non-confirmable message; returns its message id (an RST would name it). */
  sendNon(msg: Omit<CoapMessage, "type" | "messageId">, peer: Peer): number {
    const messageId = this.nextMessageId();
    this.#transport.send(encodeCoap({ ...msg, type: CoapType.NON, messageId }), peer);
    return messageId;
  }

  /** Stops every retransmission; pending sends reject, separate responses are abandoned. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error("message layer closed"));
    }
    this.#pending.clear();
    await Promise.allSettled([...this.#separate]);
    this.#seen.clear();
  }

  #retransmit(key: string): void {
    const p = this.#pending.get(key);
    if (!p) return;
    if (p.tries >= this.params.maxRetransmit) {
      this.#pending.delete(key);
      this.stats.timeouts++;
      p.reject(new CoapTimeoutError(p.peer, "confirmable message"));
      return;
    }
    p.tries++;
    p.timeoutMs *= 2;
    this.stats.retransmissions++;
    this.#transport.send(p.bytes, p.peer);
    p.timer = setTimeout(() => this.#retransmit(key), p.timeoutMs);
  }

  #receive(bytes: Uint8Array, peer: Peer): void {
    if (this.#closed) return;
    this.stats.received++;
    let msg: CoapMessage;
    try {
      msg = decodeCoap(bytes);
    } catch (err) {
      this.stats.malformed++;
      log.debug("malformed datagram", { peer: peerKey(peer), err, len: bytes.length });
      // RFC 7252 4.2: a confirmable message with a format error is rejected with RST.
      if (bytes.length >= 4 && bytes[0] >> 6 === 1 && ((bytes[0] >> 4) & 3) === CoapType.CON) {
        this.#sendEmpty(CoapType.RST, (bytes[2] << 8) | bytes[3], peer);
      }
      return;
    }
    const code = msg.code;
    switch (msg.type) {
      case CoapType.ACK:
        return this.#receiveAck(msg, peer);
      case CoapType.RST:
        return this.#receiveRst(msg, peer);
    }
    // CON or NON from here on.
    if (code === 0) {
      // CoAP ping (CON) gets RST; an empty NON means nothing.
      if (msg.type === CoapType.CON) this.#sendEmpty(CoapType.RST, msg.messageId, peer);
      return;
    }
    if (code >= 64 && msg.type === CoapType.NON) {
      // NON responses (notifications, mostly) need no duplicate cache: nothing is re-sent for
      // them, and a repeated notification is not fresher, so the observe layer drops it.
      this.stats.responses++;
      if (!this.#safeResponse(msg, peer)) this.#sendEmpty(CoapType.RST, msg.messageId, peer);
      return;
    }
    const key = `${peerKey(peer)}#${msg.messageId}`;
    const seen = this.#seen.get(key);
    if (seen) {
      this.stats.duplicates++;
      if (seen.reply) this.#transport.send(seen.reply, peer);
      return;
    }
    this.#sweepSeen();
    const entry: Seen = { at: this.#now(), reply: null };
    this.#seen.set(key, entry);
    if (code < 32) {
      this.stats.requests++;
      this.#serve(msg, peer, entry);
    } else if (code >= 64) {
      this.stats.responses++;
      const wanted = this.#safeResponse(msg, peer);
      entry.reply = this.#sendEmpty(wanted ? CoapType.ACK : CoapType.RST, msg.messageId, peer);
    } else if (msg.type === CoapType.CON) {
      // Class 1 codes are reserved: reject.
      entry.reply = this.#sendEmpty(CoapType.RST, msg.messageId, peer);
    }
  }

  #receiveAck(msg: CoapMessage, peer: Peer): void {
    const key = `${peerKey(peer)}#${msg.messageId}`;
    const p = this.#pending.get(key);
    if (!p) return; // duplicate or late ACK
    this.#pending.delete(key);
    clearTimeout(p.timer);
    if (msg.code >= 64) {
      this.stats.responses++;
      this.#safeResponse(msg, peer);
    }
    p.resolve(msg);
  }

  #receiveRst(msg: CoapMessage, peer: Peer): void {
    this.stats.resets++;
    const key = `${peerKey(peer)}#${msg.messageId}`;
    const p = this.#pending.get(key);
    if (p) {
      this.#pending.delete(key);
      clearTimeout(p.timer);
      p.reject(new CoapResetError(peer));
      return;
    }
    try {
      this.#onReset(peer, msg.messageId);
    } catch (err) {
      log.warn("reset handler threw", { err });
    }
  }

  #safeResponse(msg: CoapMessage, peer: Peer): boolean {
    try {
      return this.#onResponse(msg, peer);
    } catch (err) {
      log.warn("response handler threw", { peer: peerKey(peer), err });
      return true; // do not RST a response merely because our own code failed
    }
  }

  #serve(req: CoapMessage, peer: Peer, entry: Seen): void {
    let result: Reply | Promise<Reply>;
    try {
      result = this.#onRequest(req, peer);
    } catch (err) {
      result = handlerFailed(err, peer);
    }
    // Most handlers answer at once: reply now, with no timer and no promise per request (at
    // 10k CON/s those were most of the gateway's CPU).
    if (result instanceof Promise) this.#serveLater(req, peer, entry, result);
    else this.#respond(req, peer, entry, result);
  }

  /** A handler that answers later: past piggybackMs a CON gets an empty ACK first (5.2.2). */
  #serveLater(req: CoapMessage, peer: Peer, entry: Seen, pending: Promise<Reply>): void {
    let done = false;
    let separate = false;
    const timer = req.type === CoapType.CON
      ? setTimeout(() => {
        if (done || this.#closed) return;
        separate = true;
        entry.reply = this.#sendEmpty(CoapType.ACK, req.messageId, peer);
      }, this.params.piggybackMs)
      : undefined;
    const work = (async () => {
      let reply: Reply;
      try {
        reply = await pending;
      } catch (err) {
        reply = handlerFailed(err, peer);
      }
      done = true;
      clearTimeout(timer);
      if (this.#closed) return;
      if (!separate) return this.#respond(req, peer, entry, reply);
      if (responseSuppressed(req, reply.code)) {
        this.stats.suppressed++;
        return;
      }
      await this.sendCon({
        code: reply.code,
        token: req.token,
        options: reply.options ?? [],
        payload: reply.payload ?? EMPTY,
      }, peer).catch((err) =>
        log.debug("separate response not acknowledged", { peer: peerKey(peer), err })
      );
    })();
    this.#separate.add(work);
    work.finally(() => this.#separate.delete(work));
  }

  /** Piggy-backed on the ACK of a CON, or a NON response to a NON; kept for duplicates. */
  #respond(req: CoapMessage, peer: Peer, entry: Seen, reply: Reply): void {
    const confirmable = req.type === CoapType.CON;
    if (responseSuppressed(req, reply.code)) {
      // A CON still needs its (empty) ACK, or the node would retransmit (RFC 7967 2.1).
      this.stats.suppressed++;
      if (confirmable) entry.reply = this.#sendEmpty(CoapType.ACK, req.messageId, peer);
      return;
    }
    const bytes = encodeCoap({
      type: confirmable ? CoapType.ACK : CoapType.NON,
      code: reply.code,
      messageId: confirmable ? req.messageId : this.nextMessageId(),
      token: req.token,
      options: reply.options ?? [],
      payload: reply.payload ?? EMPTY,
    });
    entry.reply = bytes;
    this.#transport.send(bytes, peer);
  }

  #sendEmpty(type: number, messageId: number, peer: Peer): Uint8Array {
    const bytes = encodeCoap({
      type,
      code: 0,
      messageId,
      token: EMPTY,
      options: [],
      payload: EMPTY,
    });
    this.#transport.send(bytes, peer);
    return bytes;
  }

  /** Entries are inserted in time order, so expired ones are always at the front. */
  #sweepSeen(): void {
    const limit = this.#now() - this.params.exchangeLifetimeMs;
    for (const [key, s] of this.#seen) {
      if (s.at >= limit && this.#seen.size < this.params.maxDedupEntries) break;
      this.#seen.delete(key);
    }
  }
}
