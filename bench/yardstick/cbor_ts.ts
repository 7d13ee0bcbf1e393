// A careful plain-TypeScript CBOR -> JSON transcoder (RFC 8949 section 6.1), written to be fast
// in V8 without WASM: one pass, no intermediate values, short-ASCII fast paths, native number
// formatting. It is the yardstick that proves (or disproves) the WASM transcoder in
// core-wasm/assembly/cbor_tojson.ts is worth having: bench/cbor.bench.ts runs both side by side.
// Same conversions as the WASM one; errors are CoreErrors with the same kinds.
import { CoreError } from "../../core-wasm/errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const MAX_DEPTH = 64;

let b: Uint8Array = new Uint8Array(0);
let dv = new DataView(b.buffer);
let p = 0;

function need(n: number): void {
  if (p + n > b.length) throw new CoreError("truncated", b.length);
}

/** The argument of the head at p (advancing p); -1 for indefinite; bigint past 2^53. */
function arg(info: number): number | bigint {
  if (info < 24) return info;
  switch (info) {
    case 24:
      need(1);
      return b[p++];
    case 25:
      need(2);
      p += 2;
      return dv.getUint16(p - 2);
    case 26:
      need(4);
      p += 4;
      return dv.getUint32(p - 4);
    case 27: {
      need(8);
      const hi = dv.getUint32(p), lo = dv.getUint32(p + 4);
      p += 8;
      return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
    }
    case 31:
      return -1;
  }
  throw new CoreError("reserved", p - 1);
}

function base64url(s: number, e: number): string {
  let out = "";
  let i = s;
  for (; i + 3 <= e; i += 3) {
    const t = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += B64[t >> 18] + B64[(t >> 12) & 63] + B64[(t >> 6) & 63] + B64[t & 63];
  }
  if (e - i === 1) out += B64[b[i] >> 2] + B64[(b[i] & 3) << 4];
  else if (e - i === 2) {
    const t = (b[i] << 8) | b[i + 1];
    out += B64[t >> 10] + B64[(t >> 4) & 63] + B64[(t & 15) << 2];
  }
  return out;
}

/** Text bytes [s, e) as a JSON string literal. */
function textJson(s: number, e: number): string {
  if (e - s < 32) {
    let out = '"';
    let i = s;
    for (; i < e; i++) {
      const c = b[i];
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) break;
      out += String.fromCharCode(c);
    }
    if (i === e) return out + '"';
  }
  try {
    return JSON.stringify(utf8.decode(b.subarray(s, e)));
  } catch {
    throw new CoreError("bad_utf8", s);
  }
}

function length(n: number | bigint, start: number): number {
  if (typeof n === "bigint" || n > b.length - p) throw new CoreError("length_past_end", start);
  return n;
}

function string(major: number, n: number | bigint, start: number): string {
  if (n === -1) {
    let bytes: number[] | null = major === 2 ? [] : null;
    let text = "";
    for (;;) {
      need(1);
      if (b[p] === 0xff) {
        p++;
        break;
      }
      const cs = p;
      const h = b[p++];
      if (h >> 5 !== major || (h & 31) === 31) throw new CoreError("invalid", cs);
      const len = length(arg(h & 31), cs);
      if (bytes) { for (let i = p; i < p + len; i++) bytes.push(b[i]); }
      else text += JSON.parse(textJson(p, p + len));
      p += len;
    }
    if (bytes) {
      const saved = b, savedP = p;
      b = Uint8Array.from(bytes);
      const out = '"' + base64url(0, b.length) + '"';
      b = saved;
      p = savedP;
      bytes = null;
      return out;
    }
    return JSON.stringify(text);
  }
  const len = length(n, start);
  p += len;
  return major === 3 ? textJson(p - len, p) : '"' + base64url(p - len, p) + '"';
}

function half(h: number): number {
  const e = (h >> 10) & 31, f = h & 1023;
  const v = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? NaN : Infinity) : (1024 + f) * 2 ** (e - 25);
  return h & 0x8000 ? -v : v;
}

function num(v: number): string {
  return Number.isFinite(v) ? "" + v : "null";
}

function item(depth: number): string {
  const start = p;
  need(1);
  const h = b[p++];
  const major = h >> 5, info = h & 31;
  if (major === 7) {
    if (info < 20 || info === 22 || info === 23) return "null";
    if (info === 20) return "false";
    if (info === 21) return "true";
    if (info === 24) {
      need(1);
      if (b[p++] < 32) throw new CoreError("invalid", start);
      return "null";
    }
    if (info === 25) {
      need(2);
      p += 2;
      return num(half(dv.getUint16(p - 2)));
    }
    if (info === 26) {
      need(4);
      p += 4;
      return num(dv.getFloat32(p - 4));
    }
    if (info === 27) {
      need(8);
      p += 8;
      return num(dv.getFloat64(p - 8));
    }
    if (info === 31) throw new CoreError("invalid", start);
    throw new CoreError("reserved", start);
  }
  const n = arg(info);
  switch (major) {
    case 0:
      return "" + n;
    case 1:
      return typeof n === "number" ? "" + (-1 - n) : (-1n - n).toString();
    case 2:
    case 3:
      return string(major, n, start);
    case 4: {
      if (depth >= MAX_DEPTH) throw new CoreError("too_deep", start);
      let out = "[";
      if (n === -1) {
        for (let i = 0;; i++) {
          need(1);
          if (b[p] === 0xff) {
            p++;
            break;
          }
          out += (i ? "," : "") + item(depth + 1);
        }
      } else {
        const len = length(n, start);
        for (let i = 0; i < len; i++) out += (i ? "," : "") + item(depth + 1);
      }
      return out + "]";
    }
    case 5: {
      if (depth >= MAX_DEPTH) throw new CoreError("too_deep", start);
      let out = "{";
      const len = n === -1 ? Infinity : length(n, start);
      if (n !== -1 && len > (b.length - p) / 2) throw new CoreError("length_past_end", start);
      for (let i = 0; i < len; i++) {
        need(1);
        if (n === -1 && b[p] === 0xff) {
          p++;
          break;
        }
        const isText = b[p] >> 5 === 3;
        const k = item(depth + 1);
        out += (i ? "," : "") + (isText ? k : JSON.stringify(k)) + ":" + item(depth + 1);
      }
      return out + "}";
    }
    case 6: {
      if (n === -1) throw new CoreError("invalid", start);
      if (depth >= MAX_DEPTH) throw new CoreError("too_deep", start);
      if ((n === 2 || n === 3) && p < b.length && b[p] >> 5 === 2 && (b[p] & 31) !== 31) {
        const s = p++;
        const len = length(arg(b[s] & 31), s);
        let v = 0n;
        for (let i = p; i < p + len; i++) v = (v << 8n) | BigInt(b[i]);
        p += len;
        return (n === 2 ? v : -1n - v).toString();
      }
      return item(depth + 1); // other tags: convert the content
    }
  }
  throw new CoreError("invalid", start);
}

/** One CBOR data item to JSON text. */
export function cborToJsonTs(bytes: Uint8Array): string {
  b = bytes;
  dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p = 0;
  const out = item(0);
  if (p !== b.length) throw new CoreError("invalid", p);
  return out;
}
