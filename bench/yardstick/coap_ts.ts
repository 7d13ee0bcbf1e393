// A careful plain-TypeScript CoAP codec with the same contract as core-wasm/coap.ts (same
// validation, same views into the input, same output bytes): the yardstick that shows whether
// the WASM core earns its place. Benchmarks only; the services use core-wasm/mod.ts.
import { type CoapMessage, type CoapOptionValue, CoreError } from "../../core-wasm/mod.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

export function decodeCoapTs(b: Uint8Array): CoapMessage {
  const len = b.length;
  if (len < 4) throw new CoreError("truncated", len);
  const b0 = b[0];
  if (b0 >> 6 !== 1) throw new CoreError("invalid", 0);
  const tkl = b0 & 15;
  if (tkl > 8) throw new CoreError("reserved", 0);
  const code = b[1];
  const messageId = (b[2] << 8) | b[3];
  const type = (b0 >> 4) & 3;
  if (code === 0) {
    if (tkl !== 0) throw new CoreError("invalid", 0);
    if (len !== 4) throw new CoreError("invalid", 4);
    return { type, code, messageId, token: EMPTY, options: [], payload: EMPTY };
  }
  let p = 4 + tkl;
  if (p > len) throw new CoreError("truncated", len);
  // Views made with the constructor: cheaper than subarray() (no species lookup).
  const buf = b.buffer;
  const base = b.byteOffset;
  const token = tkl === 0 ? EMPTY : new Uint8Array(buf, base + 4, tkl);
  const options: CoapOptionValue[] = [];
  let num = 0;
  let payload = EMPTY;
  while (p < len) {
    const start = p;
    const h = b[p];
    if (h === 0xff) {
      if (p + 1 === len) throw new CoreError("truncated", len);
      payload = new Uint8Array(buf, base + p + 1, len - p - 1);
      break;
    }
    let d = h >> 4;
    let l = h & 15;
    p++;
    if (d === 13) {
      if (p >= len) throw new CoreError("truncated", len);
      d = b[p++] + 13;
    } else if (d === 14) {
      if (p + 2 > len) throw new CoreError("truncated", len);
      d = ((b[p] << 8) | b[p + 1]) + 269;
      p += 2;
    } else if (d === 15) {
      throw new CoreError("bad_option_delta", start);
    }
    if (l === 13) {
      if (p >= len) throw new CoreError("truncated", len);
      l = b[p++] + 13;
    } else if (l === 14) {
      if (p + 2 > len) throw new CoreError("truncated", len);
      l = ((b[p] << 8) | b[p + 1]) + 269;
      p += 2;
    } else if (l === 15) {
      throw new CoreError("reserved", start);
    }
    num += d;
    if (num > 0xffff) throw new CoreError("bad_option_delta", start);
    if (l > len - p) throw new CoreError("length_past_end", start);
    options.push({ number: num, value: new Uint8Array(buf, base + p, l) });
    p += l;
  }
  return { type, code, messageId, token, options, payload };
}

function sorted(options: CoapOptionValue[]): CoapOptionValue[] {
  for (let i = 1; i < options.length; i++) {
    if (options[i - 1].number > options[i].number) {
      return options.slice().sort((a, b) => a.number - b.number); // stable
    }
  }
  return options;
}

// The same slab allocation as core-wasm/coap.ts, so both pay the same for their result bytes.
const SLAB = 16384;
let slab = new Uint8Array(SLAB);
let slabPos = 0;
function alloc(n: number): Uint8Array {
  if (n > 1024) return new Uint8Array(n);
  if (slabPos + n > SLAB) {
    slab = new Uint8Array(SLAB);
    slabPos = 0;
  }
  const out = new Uint8Array(slab.buffer, slabPos, n);
  slabPos += (n + 7) & ~7;
  return out;
}

const ext = (v: number) => (v < 13 ? 0 : v < 269 ? 1 : 2);

export function encodeCoapTs(msg: CoapMessage): Uint8Array {
  const token = msg.token;
  const payload = msg.payload;
  const options = sorted(msg.options);
  const tkl = token.length;
  if (tkl > 8) throw new CoreError("too_long", -1);
  if (msg.code === 0 && (tkl !== 0 || options.length !== 0 || payload.length !== 0)) {
    throw new CoreError("invalid", -1);
  }
  let size = 4 + tkl + (payload.length > 0 ? 1 + payload.length : 0);
  let prev = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i];
    if (o.number < 0 || o.number > 0xffff) throw new CoreError("invalid", i);
    size += 1 + ext(o.number - prev) + ext(o.value.length) + o.value.length;
    prev = o.number;
  }
  const out = alloc(size);
  out[0] = 0x40 | (msg.type << 4) | tkl;
  out[1] = msg.code;
  out[2] = msg.messageId >> 8;
  out[3] = msg.messageId;
  for (let i = 0; i < tkl; i++) out[4 + i] = token[i];
  let p = 4 + tkl;
  prev = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i];
    const d = o.number - prev;
    prev = o.number;
    const v = o.value;
    const l = v.length;
    const dh = d < 13 ? d : d < 269 ? 13 : 14;
    const lh = l < 13 ? l : l < 269 ? 13 : 14;
    out[p++] = (dh << 4) | lh;
    if (dh === 13) out[p++] = d - 13;
    else if (dh === 14) {
      out[p++] = (d - 269) >> 8;
      out[p++] = d - 269;
    }
    if (lh === 13) out[p++] = l - 13;
    else if (lh === 14) {
      out[p++] = (l - 269) >> 8;
      out[p++] = l - 269;
    }
    if (l <= 32) { for (let k = 0; k < l; k++) out[p + k] = v[k]; }
    else out.set(v, p);
    p += l;
  }
  if (payload.length > 0) {
    out[p++] = 0xff;
    out.set(payload, p);
  }
  return out;
}
