// Typed binding of the CoAP (RFC 7252) codec in core-wasm/assembly/coap.ts, plus the option
// helpers (Uri-Path/Query, Content-Format, Observe RFC 7641, Block1/Block2/Size1/Size2 RFC 7959).
//
// Decoding: the header and options are copied into WASM scratch memory (a payload almost never
// is), WASM validates the message and writes numbers and offsets, and the message object is
// built from views of the caller's own bytes. The token, the option values and the payload of a
// decoded message are views that ALIAS the input: copy them (or the input) if the input buffer
// is reused afterwards. peekCoap/peekCoapInto validate the same way but build no object.
// Encoding: the token and option values go into scratch memory, WASM sorts the options (stable)
// and lays out header, token and options; the payload goes straight from the caller into the
// result.
//
// CoreError kinds (offset = byte where the problem starts):
//   truncated         shorter than 4 bytes, token or an extended delta/length cut off, a payload
//                     marker with no payload after it (RFC 7252 3)
//   reserved          token length 9-15, option length nibble 15
//   bad_option_delta  option delta nibble 15 outside the payload marker, option number > 65535
//   length_past_end   an option value running past the end
//   invalid           version != 1, an Empty (0.00) message with a token or any byte after the
//                     header; on encode, header fields or option numbers out of range
//   too_long          input over 65536 bytes or more than 4096 options; on encode, a token over
//                     8 bytes or an output buffer too small
import * as wasm from "./build/core.wasm";
import { CoreError, type CoreErrorKind } from "./errors.ts";

export const CoapType = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;

/** Method and response codes (class << 5 | detail): RFC 7252 12.1, RFC 7959 2.9, RFC 8132. */
export const CoapCode = {
  EMPTY: 0,
  GET: 1,
  POST: 2,
  PUT: 3,
  DELETE: 4,
  FETCH: 5,
  PATCH: 6,
  IPATCH: 7,
  CREATED: 65, // 2.01
  DELETED: 66, // 2.02
  VALID: 67, // 2.03
  CHANGED: 68, // 2.04
  CONTENT: 69, // 2.05
  CONTINUE: 95, // 2.31 (RFC 7959)
  BAD_REQUEST: 128, // 4.00
  UNAUTHORIZED: 129, // 4.01
  BAD_OPTION: 130, // 4.02
  FORBIDDEN: 131, // 4.03
  NOT_FOUND: 132, // 4.04
  METHOD_NOT_ALLOWED: 133, // 4.05
  NOT_ACCEPTABLE: 134, // 4.06
  REQUEST_ENTITY_INCOMPLETE: 136, // 4.08 (RFC 7959)
  CONFLICT: 137, // 4.09 (RFC 8132)
  PRECONDITION_FAILED: 140, // 4.12
  REQUEST_ENTITY_TOO_LARGE: 141, // 4.13
  UNSUPPORTED_CONTENT_FORMAT: 143, // 4.15
  UNPROCESSABLE_ENTITY: 150, // 4.22 (RFC 8132)
  TOO_MANY_REQUESTS: 157, // 4.29 (RFC 8516)
  INTERNAL_SERVER_ERROR: 160, // 5.00
  NOT_IMPLEMENTED: 161, // 5.01
  BAD_GATEWAY: 162, // 5.02
  SERVICE_UNAVAILABLE: 163, // 5.03
  GATEWAY_TIMEOUT: 164, // 5.04
  PROXYING_NOT_SUPPORTED: 165, // 5.05
  HOP_LIMIT_REACHED: 168, // 5.08 (RFC 8768)
} as const;

/** Option numbers: RFC 7252 12.2, RFC 7641, RFC 7959, RFC 8613, RFC 8768, RFC 9175. */
export const CoapOption = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  OSCORE: 9,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  HOP_LIMIT: 16,
  ACCEPT: 17,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
  ECHO: 252,
  NO_RESPONSE: 258,
  REQUEST_TAG: 292,
} as const;

/** Content-Format numbers (RFC 7252 12.3 and the IANA registry). */
export const ContentFormat = {
  TEXT: 0,
  LINK_FORMAT: 40,
  XML: 41,
  OCTETS: 42,
  EXI: 47,
  JSON: 50,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
} as const;

export interface CoapOptionValue {
  number: number;
  value: Uint8Array;
}

export interface CoapMessage {
  type: number;
  code: number;
  messageId: number;
  /** 0..8 bytes. */
  token: Uint8Array;
  /** In wire order (sorted by number) after decode; encode sorts them (stable). */
  options: CoapOptionValue[];
  /** Empty when absent. */
  payload: Uint8Array;
}

/** What peekCoap reports: numbers only. */
export interface CoapPeek {
  type: number;
  code: number;
  messageId: number;
  tokenLength: number;
  optionCount: number;
  /** Offset of the first payload byte; the input length when there is no payload. */
  payloadOffset: number;
  /** -1 when absent, -2 when longer than 3 bytes (no valid value is). */
  contentFormat: number;
  /** -1 when absent, -2 when longer than 3 bytes (no valid value is). */
  observe: number;
  /** Number of Uri-Path options. */
  uriPathCount: number;
  /** Offset and length in the input of the first Uri-Path value (-1 and 0 when none): enough to
   * route a one-segment path such as pyaiot's /server without decoding (see peekPathIs). */
  uriPathOffset: number;
  uriPathLength: number;
}

const KINDS: CoreErrorKind[] = [
  "truncated",
  "bad_option_delta",
  "reserved",
  "length_past_end",
  "too_deep",
  "too_long",
  "invalid",
  "bad_utf8",
];

const IN = wasm.coap_in();
const OUT = wasm.coap_out();
const OPT = wasm.coap_opt() >>> 2;
const RES = wasm.coap_res() >>> 2;
const IO_SIZE = wasm.coap_io_size();
const MAX_OPTIONS = wasm.coap_max_options();
const EMPTY: Uint8Array = new Uint8Array(0);

// Views are re-taken when another module grows the shared memory: growth detaches the old
// buffer, which shows as length 0 (much cheaper to test than reading `wasm.memory.buffer`).
let mem = new Uint8Array(wasm.memory.buffer);
let i32 = new Int32Array(wasm.memory.buffer);
function views(): void {
  if (mem.length === 0) {
    mem = new Uint8Array(wasm.memory.buffer);
    i32 = new Int32Array(wasm.memory.buffer);
  }
}

function fail(ret: number): CoreError {
  return new CoreError(KINDS[-ret - 1] ?? "invalid", i32[RES + 6], "CoAP");
}

// The decoder reads the header and the options only, so only those are copied in: the 4 header
// bytes, then a window after the token (which WASM never reads) that doubles each time WASM asks
// for more (NEED_MORE). A payload is thus almost never copied.
const OPT_PREFIX = 12;
const NEED_MORE = wasm.coap_need_more();
const TOO_BIG = -1000;

function copyIn(bytes: Uint8Array, from: number, to: number): void {
  const m = mem;
  if (to - from <= 64) {
    for (let i = from; i < to; i++) m[IN + i] = bytes[i];
  } else {
    m.set(bytes.subarray(from, to), IN + from);
  }
}

function scan(bytes: Uint8Array, table: number): number {
  const len = bytes.length;
  if (len > IO_SIZE) return TOO_BIG;
  if (mem.length === 0) views();
  if (len < 4) return wasm.coap_decode(len, len, table);
  const m = mem;
  m[IN] = bytes[0];
  m[IN + 1] = bytes[1];
  m[IN + 2] = bytes[2];
  m[IN + 3] = bytes[3];
  const tkl = bytes[0] & 15;
  const start = tkl > 8 ? 4 : 4 + tkl;
  let window = OPT_PREFIX;
  let avail = start + window < len ? start + window : len;
  copyIn(bytes, start, avail);
  let n = wasm.coap_decode(len, avail, table);
  while (n === NEED_MORE) {
    window *= 2;
    const next = start + window < len ? start + window : len;
    copyIn(bytes, avail, next);
    avail = next;
    n = wasm.coap_decode(len, avail, table);
  }
  return n;
}

/** Decodes one CoAP message; throws CoreError. Token, option values and payload alias `bytes`. */
export function decodeCoap(bytes: Uint8Array): CoapMessage {
  const n = scan(bytes, 1);
  if (n < 0) throw n === TOO_BIG ? new CoreError("too_long", IO_SIZE, "CoAP") : fail(n);
  const len = bytes.length;
  const r = i32;
  const tkl = r[RES + 3];
  // Views made with the constructor: about a third cheaper than subarray() (no species lookup).
  const buf = bytes.buffer;
  const base = bytes.byteOffset;
  const options: CoapOptionValue[] = [];
  for (let i = 0, e = OPT; i < n; i++, e += 3) {
    options.push({ number: r[e], value: new Uint8Array(buf, base + r[e + 1], r[e + 2]) });
  }
  const pay = r[RES + 5];
  return {
    type: r[RES],
    code: r[RES + 1],
    messageId: r[RES + 2],
    token: tkl === 0 ? EMPTY : new Uint8Array(buf, base + 4, tkl),
    options,
    payload: pay < len ? new Uint8Array(buf, base + pay, len - pay) : EMPTY,
  };
}

/**
 * Validates a whole message and fills `out` with its header numbers, without building any
 * object: the gateways' hot path. Returns `out`, or a CoreError (returned, not thrown).
 */
export function peekCoapInto(bytes: Uint8Array, out: CoapPeek): CoapPeek | CoreError {
  const n = scan(bytes, 0);
  if (n < 0) return n === TOO_BIG ? new CoreError("too_long", IO_SIZE, "CoAP") : fail(n);
  const r = i32;
  out.type = r[RES];
  out.code = r[RES + 1];
  out.messageId = r[RES + 2];
  out.tokenLength = r[RES + 3];
  out.optionCount = n;
  out.payloadOffset = r[RES + 5];
  out.contentFormat = r[RES + 7];
  out.observe = r[RES + 8];
  out.uriPathOffset = r[RES + 9];
  out.uriPathLength = r[RES + 10];
  out.uriPathCount = r[RES + 11];
  return out;
}

/** True when the peeked message's Uri-Path is exactly the one segment `segment` (bytes). */
export function peekPathIs(bytes: Uint8Array, peek: CoapPeek, segment: Uint8Array): boolean {
  if (peek.uriPathCount !== 1 || peek.uriPathLength !== segment.length) return false;
  const off = peek.uriPathOffset;
  for (let i = 0; i < segment.length; i++) if (bytes[off + i] !== segment[i]) return false;
  return true;
}

/** A CoapPeek to reuse with peekCoapInto. */
export function newCoapPeek(): CoapPeek {
  return {
    type: 0,
    code: 0,
    messageId: 0,
    tokenLength: 0,
    optionCount: 0,
    payloadOffset: 0,
    contentFormat: -1,
    observe: -1,
    uriPathCount: 0,
    uriPathOffset: -1,
    uriPathLength: 0,
  };
}

/** peekCoapInto with a fresh result object. */
export function peekCoap(bytes: Uint8Array): CoapPeek | CoreError {
  return peekCoapInto(bytes, newCoapPeek());
}

// Puts token and options into scratch memory and runs the WASM layout; returns the length of
// header + token + options (+ marker) now in OUT.
function layout(msg: CoapMessage): number {
  const token = msg.token ?? EMPTY;
  const options = msg.options ?? EMPTY_OPTIONS;
  const tkl = token.length;
  const n = options.length;
  if (tkl > 8) throw new CoreError("too_long", -1, "CoAP token longer than 8 bytes");
  if (n > MAX_OPTIONS) throw new CoreError("too_long", -1, "CoAP: too many options");
  views();
  const m = mem;
  const r = i32;
  for (let i = 0; i < tkl; i++) m[IN + i] = token[i];
  let off = tkl;
  for (let i = 0, e = OPT; i < n; i++, e += 3) {
    const o = options[i];
    const v = o.value;
    const l = v.length;
    if (off + l > IO_SIZE) throw new CoreError("too_long", -1, "CoAP options too large");
    const num = o.number;
    // Also refuses NaN and fractions, which an Int32Array store would silently truncate.
    if ((num & 0xffff) !== num) throw new CoreError("invalid", i, `option number ${num}`);
    r[e] = num;
    r[e + 1] = off;
    r[e + 2] = l;
    if (l <= 32) {
      for (let k = 0; k < l; k++) m[IN + off + k] = v[k];
    } else {
      m.set(v, IN + off);
    }
    off += l;
  }
  const payloadLen = msg.payload?.length ?? 0;
  const { type, code, messageId } = msg;
  if ((type & 3) !== type || (code & 255) !== code || (messageId & 0xffff) !== messageId) {
    throw new CoreError("invalid", -1, `CoAP header ${type}/${code}/${messageId}`);
  }
  const h = wasm.coap_encode(type, code, messageId, tkl, n, payloadLen);
  if (h < 0) throw fail(h);
  return h;
}
const EMPTY_OPTIONS: CoapOptionValue[] = [];

// Small results are carved out of shared 16 KiB slabs, as Node's Buffer pool does: a view costs
// a fraction of a fresh ArrayBuffer, which dominated encoding. Results never overlap and nothing
// writes into them afterwards; their byteOffset may be non-zero.
const SLAB = 16384;
const SLAB_MAX = 1024;
let slab = new Uint8Array(SLAB);
let slabPos = 0;
function alloc(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabPos + n > SLAB) {
    slab = new Uint8Array(SLAB);
    slabPos = 0;
  }
  const out = new Uint8Array(slab.buffer, slabPos, n);
  slabPos += (n + 7) & ~7;
  return out;
}

/**
 * Encodes a message into new bytes of its own (possibly a view into a shared slab, see alloc);
 * options are sorted (stable). Throws CoreError.
 */
export function encodeCoap(msg: CoapMessage): Uint8Array {
  const h = layout(msg);
  const payload = msg.payload ?? EMPTY;
  const out = alloc(h + payload.length);
  copyOut(out, h);
  if (payload.length > 0) out.set(payload, h);
  return out;
}

/** Encodes into `out`; returns the bytes written. Throws CoreError("too_long") when it is short. */
export function encodeCoapInto(msg: CoapMessage, out: Uint8Array): number {
  const h = layout(msg);
  const payload = msg.payload ?? EMPTY;
  const total = h + payload.length;
  if (total > out.length) throw new CoreError("too_long", out.length, "CoAP output buffer");
  copyOut(out, h);
  if (payload.length > 0) out.set(payload, h);
  return total;
}

function copyOut(out: Uint8Array, h: number): void {
  const m = mem;
  if (h <= 64) {
    for (let i = 0; i < h; i++) out[i] = m[OUT + i];
  } else {
    out.set(m.subarray(OUT, OUT + h));
  }
}

/** 69 -> "2.05". */
export function codeToString(code: number): string {
  const d = code & 31;
  return `${(code >> 5) & 7}.${d < 10 ? "0" : ""}${d}`;
}

// ---- option helpers: total functions over CoapMessage ----

type WithOptions = Pick<CoapMessage, "options">;

/** The first value of option `number`, or undefined. */
export function getOption(msg: WithOptions, number: number): Uint8Array | undefined {
  for (const o of msg.options) if (o.number === number) return o.value;
  return undefined;
}

/** Every value of option `number`, in message order. */
export function getOptions(msg: WithOptions, number: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const o of msg.options) if (o.number === number) out.push(o.value);
  return out;
}

// Not fatal: a helper must not throw on a node's bad bytes (U+FFFD instead).
const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

/** Uri-Path segments joined by "/" (no leading slash): "a/b". Segments are raw (no %-decoding). */
export function getUriPath(msg: WithOptions): string {
  let path = "";
  let first = true;
  for (const o of msg.options) {
    if (o.number !== CoapOption.URI_PATH) continue;
    path += first ? utf8.decode(o.value) : "/" + utf8.decode(o.value);
    first = false;
  }
  return path;
}

/** Uri-Query values, in order ("k=v" strings as sent). */
export function getUriQuery(msg: WithOptions): string[] {
  return getOptions(msg, CoapOption.URI_QUERY).map((v) => utf8.decode(v));
}

/**
 * Uri-Path options for `path` ("a/b", "/a/b"; "" and "/" give none; a trailing slash gives an
 * empty last segment, RFC 7252 6.4) followed by one Uri-Query option per `query` item.
 */
export function uriOptions(path: string, query?: string[]): CoapOptionValue[] {
  const out: CoapOptionValue[] = [];
  const p = path.startsWith("/") ? path.slice(1) : path;
  if (p !== "") {
    for (const seg of p.split("/")) {
      out.push({ number: CoapOption.URI_PATH, value: utf8Out.encode(seg) });
    }
  }
  for (const q of query ?? []) out.push({ number: CoapOption.URI_QUERY, value: utf8Out.encode(q) });
  return out;
}

/** Minimal big-endian uint option value (0 -> zero bytes, RFC 7252 3.2); n in 0..2^53-1. */
export function encodeUint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CoreError("invalid", -1, `not a CoAP uint: ${n}`);
  }
  let len = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) len++;
  const out = new Uint8Array(len);
  for (let i = len - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

/** Big-endian uint; leading zeros tolerated; exact up to 6 bytes (2^48). */
export function decodeUint(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i];
  return v;
}

/** Content-Format number, or undefined when the option is absent. */
export function getContentFormat(msg: WithOptions): number | undefined {
  const v = getOption(msg, CoapOption.CONTENT_FORMAT);
  return v === undefined ? undefined : decodeUint(v);
}

/** Observe sequence number (RFC 7641; 0 = register, 1 = deregister in requests), or undefined. */
export function getObserve(msg: WithOptions): number | undefined {
  const v = getOption(msg, CoapOption.OBSERVE);
  return v === undefined ? undefined : decodeUint(v);
}

/** A Block1/Block2 value (RFC 7959 2.2): block number, more flag, size exponent, 16 << szx. */
export interface BlockValue {
  num: number;
  more: boolean;
  szx: number;
  size: number;
}

/** Decodes a Block1/Block2 option value; CoreError for more than 3 bytes or SZX 7 (reserved). */
export function decodeBlock(b: Uint8Array): BlockValue {
  if (b.length > 3) throw new CoreError("too_long", 3, "Block option longer than 3 bytes");
  const v = decodeUint(b);
  const szx = v & 7;
  if (szx === 7) throw new CoreError("reserved", b.length - 1, "Block SZX 7");
  return { num: v >>> 4, more: (v & 8) !== 0, szx, size: 16 << szx };
}

/** Encodes a Block1/Block2 value: num in 0..2^20-1, szx in 0..6 (16..1024-byte blocks). */
export function encodeBlock(num: number, more: boolean, szx: number): Uint8Array {
  if (!Number.isInteger(num) || num < 0 || num > 0xfffff) {
    throw new CoreError("invalid", -1, `block number out of range: ${num}`);
  }
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) {
    throw new CoreError("invalid", -1, `block SZX out of range: ${szx}`);
  }
  return encodeUint(num * 16 + (more ? 8 : 0) + szx);
}

/** Size1/Size2 (RFC 7959 4): the size in bytes, or undefined when absent. */
export function getSize1(msg: WithOptions): number | undefined {
  const v = getOption(msg, CoapOption.SIZE1);
  return v === undefined ? undefined : decodeUint(v);
}
export function getSize2(msg: WithOptions): number | undefined {
  const v = getOption(msg, CoapOption.SIZE2);
  return v === undefined ? undefined : decodeUint(v);
}
