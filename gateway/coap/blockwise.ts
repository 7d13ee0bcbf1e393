// Block-wise transfers (RFC 7959). Client side: uploads a large request body as Block1 and
// downloads a large response as Block2, each block its own exchange (a fresh token per block is
// allowed, and libcoap does the same). Server side: reassembles a Block1 request body keyed by
// peer, path and Request-Tag, never by token, because libcoap changes the token on every block.
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  type CoapOptionValue,
  decodeBlock,
  encodeBlock,
  encodeUint,
  getOption,
  getUriPath,
} from "../../core-wasm/mod.ts";
import type { Exchanges, RequestSpec } from "./exchanges.ts";
import { type Peer, peerKey } from "./udp_endpoint.ts";

/** SZX 6 = 1024-byte blocks, the largest RFC 7959 allows without BERT. */
export const DEFAULT_SZX = 6;
export const DEFAULT_MAX_BODY = 1 << 20;

export class BlockwiseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BlockwiseError";
  }
}

export interface BlockwiseOptions {
  szx?: number;
  /** A body larger than this is refused (hostile or broken peers must not exhaust memory). */
  maxBodyBytes?: number;
}

function without(options: CoapOptionValue[] | undefined, ...numbers: number[]): CoapOptionValue[] {
  return (options ?? []).filter((o) => !numbers.includes(o.number));
}

/**
 * Sends `spec`, splitting its payload into Block1 blocks when it does not fit one block, and
 * follows Block2 until the whole response body is in. Returns the final response with the
 * assembled payload. Error responses are returned as they are, never thrown.
 */
export async function requestBlockwise(
  ex: Exchanges,
  peer: Peer,
  spec: RequestSpec,
  opts: BlockwiseOptions = {},
): Promise<CoapMessage> {
  let szx = opts.szx ?? DEFAULT_SZX;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const body = spec.payload ?? new Uint8Array(0);
  let res: CoapMessage;
  if (body.length > 16 << szx) {
    res = await upload(ex, peer, spec, body, szx);
  } else {
    res = await ex.request(peer, spec);
  }
  const b2raw = getOption(res, CoapOption.BLOCK2);
  if (!b2raw || res.code >= 128) return res;
  let block = decodeBlock(b2raw);
  if (block.num !== 0) throw new BlockwiseError(`first Block2 is #${block.num}`);
  if (!block.more) return res;
  const etag = getOption(res, CoapOption.ETAG);
  const chunks: Uint8Array[] = [res.payload];
  let total = res.payload.length;
  szx = block.szx;
  // Follow-up requests: same method and options, no body, no Observe (RFC 7959 2.4, 7641 2).
  const base = without(
    spec.options,
    CoapOption.BLOCK1,
    CoapOption.BLOCK2,
    CoapOption.OBSERVE,
    CoapOption.SIZE1,
    CoapOption.SIZE2,
  );
  const code = CoapCode.GET;
  while (block.more) {
    const num = total >> (szx + 4);
    res = await ex.request(peer, {
      ...spec,
      code,
      payload: undefined,
      options: [...base, { number: CoapOption.BLOCK2, value: encodeBlock(num, false, szx) }],
    });
    if (res.code >= 128) return res;
    const raw = getOption(res, CoapOption.BLOCK2);
    if (!raw) throw new BlockwiseError("Block2 option missing in a follow-up response");
    block = decodeBlock(raw);
    if (block.num << (block.szx + 4) !== total) {
      throw new BlockwiseError(`Block2 #${block.num} (szx ${block.szx}) out of order at ${total}`);
    }
    const tag = getOption(res, CoapOption.ETAG);
    if (!sameBytes(tag, etag)) throw new BlockwiseError("resource changed during Block2 transfer");
    szx = block.szx;
    total += res.payload.length;
    if (total > maxBody) throw new BlockwiseError(`body larger than ${maxBody} bytes`);
    chunks.push(res.payload);
  }
  return { ...res, payload: concat(chunks, total) };
}

async function upload(
  ex: Exchanges,
  peer: Peer,
  spec: RequestSpec,
  body: Uint8Array,
  szx: number,
): Promise<CoapMessage> {
  const base = without(spec.options, CoapOption.BLOCK1, CoapOption.SIZE1);
  let offset = 0;
  while (true) {
    const size = 16 << szx;
    const num = offset >> (szx + 4);
    const end = Math.min(body.length, offset + size);
    const more = end < body.length;
    const options = [...base, { number: CoapOption.BLOCK1, value: encodeBlock(num, more, szx) }];
    if (offset === 0) options.push({ number: CoapOption.SIZE1, value: encodeUint(body.length) });
    const res = await ex.request(peer, { ...spec, options, payload: body.subarray(offset, end) });
    if (!more || res.code !== CoapCode.CONTINUE) return res; // final or error response
    const ack = getOption(res, CoapOption.BLOCK1);
    offset = end;
    // The server may ask for smaller blocks (RFC 7959 2.5): continue at the same byte offset.
    if (ack) {
      const b = decodeBlock(ack);
      if (b.szx < szx) szx = b.szx;
    }
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// ---- server side ----

export type Block1Result =
  | { kind: "whole"; payload: Uint8Array }
  | { kind: "continue"; options: CoapOptionValue[] }
  | { kind: "error"; code: number };

interface PartialBody {
  chunks: Uint8Array[];
  total: number;
  szx: number;
  at: number;
}

/**
 * Reassembles Block1 request bodies for a server. Keyed by (peer, path, Request-Tag), not by
 * token. Bounded in entries, bytes per body and age.
 */
export class Block1Assembler {
  #partials = new Map<string, PartialBody>();
  #maxBody: number;
  #maxEntries: number;
  #maxAgeMs: number;
  #now: () => number;

  constructor(
    opts: { maxBodyBytes?: number; maxEntries?: number; maxAgeMs?: number; now?: () => number } =
      {},
  ) {
    this.#maxBody = opts.maxBodyBytes ?? 64 * 1024;
    this.#maxEntries = opts.maxEntries ?? 1000;
    this.#maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#partials.size;
  }

  offer(req: CoapMessage, peer: Peer): Block1Result {
    const raw = getOption(req, CoapOption.BLOCK1);
    if (!raw) return { kind: "whole", payload: req.payload };
    let block;
    try {
      block = decodeBlock(raw);
    } catch {
      return { kind: "error", code: CoapCode.BAD_REQUEST };
    }
    const tag = getOption(req, CoapOption.REQUEST_TAG);
    const key = `${peerKey(peer)} ${getUriPath(req)} ${tag ? [...tag].join(".") : ""}`;
    this.#expire();
    const offset = block.num << (block.szx + 4);
    let p = this.#partials.get(key);
    if (block.num === 0) {
      p = { chunks: [], total: 0, szx: block.szx, at: this.#now() };
      this.#partials.delete(key);
      if (this.#partials.size >= this.#maxEntries) {
        const oldest = this.#partials.keys().next().value;
        if (oldest !== undefined) this.#partials.delete(oldest);
      }
      this.#partials.set(key, p);
    }
    if (!p || offset !== p.total) {
      this.#partials.delete(key);
      return { kind: "error", code: CoapCode.REQUEST_ENTITY_INCOMPLETE };
    }
    if (block.more && req.payload.length !== 16 << block.szx) {
      this.#partials.delete(key);
      return { kind: "error", code: CoapCode.BAD_REQUEST };
    }
    p.total += req.payload.length;
    if (p.total > this.#maxBody) {
      this.#partials.delete(key);
      return { kind: "error", code: CoapCode.REQUEST_ENTITY_TOO_LARGE };
    }
    p.chunks.push(req.payload.slice());
    p.at = this.#now();
    if (block.more) {
      return {
        kind: "continue",
        options: [{ number: CoapOption.BLOCK1, value: encodeBlock(block.num, true, block.szx) }],
      };
    }
    this.#partials.delete(key);
    return { kind: "whole", payload: concat(p.chunks, p.total) };
  }

  #expire(): void {
    const limit = this.#now() - this.#maxAgeMs;
    for (const [k, p] of this.#partials) if (p.at < limit) this.#partials.delete(k);
  }
}
