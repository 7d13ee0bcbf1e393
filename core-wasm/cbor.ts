// Typed binding of the CBOR codec (RFC 8949) in core-wasm/assembly/cbor*.ts and json_tocbor.ts.
//
// - decodeCbor: WASM checks well-formedness (lengths, UTF-8, nesting, breaks) and writes a token
//   tape; this side only turns the tape into JS values (strings come from the caller's bytes).
// - cborToJson / jsonToCbor: bytes to bytes inside WASM, no JS values in between; this side
//   copies the input into static WASM memory and decodes / slices the output.
// - encodeCbor walks JS values, so it runs here in TS and writes bytes into one reused buffer:
//   handing a JS object graph to WASM would cost more than writing the bytes directly.
import * as wasm from "./build/core.wasm";
import { CoreError, type CoreErrorKind } from "./errors.ts";

/** A tagged item (RFC 8949 3.4) whose tag has no native JS form. */
export class CborTag {
  constructor(readonly tag: number | bigint, readonly value: unknown) {}
}

/** A simple value (major type 7) other than false/true/null/undefined: 0-19 and 32-255. */
export class CborSimple {
  constructor(readonly value: number) {
    if (!Number.isInteger(value) || value < 0 || value > 255 || (value >= 24 && value < 32)) {
      throw new RangeError(`not a CBOR simple value: ${value}`);
    }
  }
}

export interface CborLimits {
  /** Deepest nesting of arrays, maps and tags (default 64, at most 1000). */
  maxDepth?: number;
  /** Largest input in bytes (default and ceiling: the WASM input buffer, 256 KiB). */
  maxLength?: number;
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

const IN = wasm.cbor_in();
const OUT = wasm.cbor_out();
const TAPE = wasm.cbor_tape();
/** Size of the WASM input buffer: no input may be longer. */
export const CBOR_MAX_INPUT: number = wasm.cbor_in_cap();
const DEFAULT_DEPTH = 64;

// Views over WASM memory, re-taken if anything ever grows it (our code never allocates, but the
// module is shared with other codecs).
let mem: ArrayBufferLike = wasm.memory.buffer;
let u8 = new Uint8Array(mem);
let i32 = new Int32Array(mem);
let u32 = new Uint32Array(mem);
let f64 = new Float64Array(mem);
function views(): void {
  if (wasm.memory.buffer !== mem) {
    mem = wasm.memory.buffer;
    u8 = new Uint8Array(mem);
    i32 = new Int32Array(mem);
    u32 = new Uint32Array(mem);
    f64 = new Float64Array(mem);
  }
}

function coreError(code: number): CoreError {
  return new CoreError(KINDS[-code - 1] ?? "invalid", wasm.cbor_err_at());
}

function depthOf(opts?: CborLimits): number {
  return opts?.maxDepth ?? DEFAULT_DEPTH;
}

/** Copies `bytes` into the WASM input buffer, enforcing the length limit. */
function load(bytes: Uint8Array, opts?: CborLimits): void {
  const max = Math.min(opts?.maxLength ?? CBOR_MAX_INPUT, CBOR_MAX_INPUT);
  if (bytes.length > max) throw new CoreError("too_long", max, `input of ${bytes.length} bytes`);
  views();
  u8.set(bytes, IN);
}

// ---------------------------------------------------------------- decode (tape -> values)

const K_UINT = 1, K_NINT = 2, K_BYTES = 3, K_TEXT = 4, K_BYTES_INDEF = 5, K_TEXT_INDEF = 6;
const K_ARRAY = 7, K_MAP = 8, K_TAG = 9, K_SIMPLE = 10, K_FLOAT = 11, ASCII_FLAG = 0x100;
const TWO32 = 4294967296;

const utf8 = new TextDecoder();
const EMPTY = new Uint8Array(0);
let src: Uint8Array = EMPTY;
let t = 0; // current tape entry, as an i32 index

function readU64(hi: number, lo: number): number | bigint {
  return hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

// Short ASCII strings (map keys, node ids) repeat from message to message: a small cache keyed
// by a hash of the bytes returns the same string without building it again.
const CACHE_SLOTS = 4096;
const cache: (string | undefined)[] = new Array(CACHE_SLOTS).fill(undefined);

function text(off: number, len: number, ascii: boolean): string {
  if (!ascii || len > 32) return utf8.decode(src.subarray(off, off + len));
  const end = off + len;
  let h = len;
  for (let i = off; i < end; i++) h = (Math.imul(h, 31) + src[i]) | 0;
  const slot = h & (CACHE_SLOTS - 1);
  const hit = cache[slot];
  if (hit !== undefined && hit.length === len) {
    let i = 0;
    while (i < len && hit.charCodeAt(i) === src[off + i]) i++;
    if (i === len) return hit;
  }
  const s = String.fromCharCode.apply(null, src.subarray(off, end) as unknown as number[]);
  cache[slot] = s;
  return s;
}

function bigFromBytes(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function build(): unknown {
  const e = t;
  t += 4;
  const kind = i32[e];
  const aux = i32[e + 1];
  switch (kind & 0xff) {
    case K_UINT:
      return readU64(u32[e + 3], u32[e + 2]);
    case K_NINT: {
      const hi = u32[e + 3], lo = u32[e + 2];
      // -1 - n stays a safe integer while n <= 2^53 - 2.
      if (hi < 0x200000 && hi * TWO32 + lo <= 9007199254740990) return -1 - (hi * TWO32 + lo);
      return -1n - ((BigInt(hi) << 32n) | BigInt(lo));
    }
    case K_BYTES:
      return src.slice(aux, aux + u32[e + 2]);
    case K_TEXT:
      return text(aux, u32[e + 2], (kind & ASCII_FLAG) !== 0);
    case K_BYTES_INDEF: {
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < aux; i++) {
        const p = build() as Uint8Array;
        parts.push(p);
        total += p.length;
      }
      const out = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    }
    case K_TEXT_INDEF: {
      let s = "";
      for (let i = 0; i < aux; i++) s += build() as string;
      return s;
    }
    case K_ARRAY: {
      const a = new Array(aux);
      for (let i = 0; i < aux; i++) a[i] = build();
      return a;
    }
    case K_MAP:
      return buildMap(aux);
    case K_TAG: {
      const tag = readU64(u32[e + 3], u32[e + 2]);
      const value = build();
      // Bignums (RFC 8949 3.4.3) have a native JS form.
      if ((tag === 2 || tag === 3) && value instanceof Uint8Array) {
        const n = bigFromBytes(value);
        return tag === 2 ? n : -1n - n;
      }
      return new CborTag(tag, value);
    }
    case K_SIMPLE:
      return aux === 20
        ? false
        : aux === 21
        ? true
        : aux === 22
        ? null
        : aux === 23
        ? undefined
        : new CborSimple(aux);
    case K_FLOAT:
      return f64[(e >> 1) + 1];
  }
  throw new CoreError("invalid", -1, `corrupt tape entry ${kind}`);
}

function buildMap(pairs: number): Record<string, unknown> | Map<unknown, unknown> {
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < pairs; i++) {
    const key = build();
    if (typeof key !== "string") {
      // A non-string key: this map must be a Map; carry over what was read so far.
      const map = new Map<unknown, unknown>(Object.entries(obj));
      map.set(key, build());
      for (let j = i + 1; j < pairs; j++) {
        const k = build();
        map.set(k, build());
      }
      return map;
    }
    const value = build();
    if (key === "__proto__") {
      Object.defineProperty(obj, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else obj[key] = value;
  }
  return obj;
}

/**
 * Decodes one CBOR data item. Integers are numbers when |n| <= 2^53-1, else bigints; bignum tags
 * 2/3 become bigints; maps are plain objects when every key is a string, else Maps.
 * Throws CoreError on malformed input or trailing bytes.
 */
export function decodeCbor(bytes: Uint8Array, opts?: CborLimits): unknown {
  load(bytes, opts);
  const n = wasm.cbor_decode(bytes.length, depthOf(opts));
  if (n < 0) throw coreError(n);
  src = bytes;
  t = TAPE >> 2;
  try {
    return build();
  } finally {
    src = EMPTY; // do not keep the caller's bytes alive
  }
}

// ---------------------------------------------------------------- CBOR <-> JSON in WASM

/** CBOR to JSON text inside WASM (RFC 8949 6.1); see core-wasm/assembly/cbor_tojson.ts. */
export function cborToJson(bytes: Uint8Array, opts?: CborLimits): string {
  load(bytes, opts);
  const n = wasm.cbor_to_json(bytes.length, depthOf(opts));
  if (n < 0) throw coreError(n);
  // (Measured: Deno's UTF-8 decoder beats "latin1" and String.fromCharCode even on ASCII.)
  return utf8.decode(u8.subarray(OUT, OUT + n));
}

/**
 * The CBOR of a JSON text, inside WASM, with preferred serialization: equal to
 * encodeCbor(JSON.parse(json)) except that integers without fraction or exponent keep all 64
 * bits. Throws CoreError on malformed JSON. The result is a view like encodeCbor's.
 */
export function jsonToCbor(json: string, opts?: CborLimits): Uint8Array {
  const max = Math.min(opts?.maxLength ?? CBOR_MAX_INPUT, CBOR_MAX_INPUT);
  if (json.length > max) throw new CoreError("too_long", max);
  views();
  const { read, written } = encoder.encodeInto(json, u8.subarray(IN, IN + max));
  if (read < json.length) throw new CoreError("too_long", max);
  const n = wasm.cbor_from_json(written, depthOf(opts));
  if (n < 0) throw coreError(n);
  return own(u8.subarray(OUT, OUT + n));
}

// Results are carved out of 64 KiB slabs that are never reused (a slab is dropped once full and
// lives on only through the views into it): a fresh ArrayBuffer per small result costs ~10x
// more in Deno than a view. Large results get their own buffer.
const SLAB = 64 * 1024;
let slab = new Uint8Array(SLAB);
let slabPos = 0;

/** A copy of `bytes` that no later call overwrites. */
function own(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > SLAB >> 3) return bytes.slice();
  if (slabPos + n > SLAB) {
    slab = new Uint8Array(SLAB);
    slabPos = 0;
  }
  slab.set(bytes, slabPos);
  const out = slab.subarray(slabPos, slabPos + n);
  slabPos += (n + 7) & ~7; // keep views 8-byte aligned
  return out;
}

// ---------------------------------------------------------------- encode (values -> bytes)

const encoder = new TextEncoder();
let buf = new Uint8Array(8192);
let dv = new DataView(buf.buffer);
let p = 0;
const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);
const ENCODE_DEPTH = 1000;

function ensure(n: number): void {
  if (p + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < p + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, p));
  buf = next;
  dv = new DataView(buf.buffer);
}

function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < TWO32 ? 5 : 9;
}

/** A head with a number argument (0 <= n <= 2^53-1); room for 9 bytes is checked here. */
function writeHead(major: number, n: number): void {
  ensure(9);
  const m = major << 5;
  if (n < 24) buf[p++] = m | n;
  else if (n < 0x100) {
    buf[p++] = m | 24;
    buf[p++] = n;
  } else if (n < 0x10000) {
    buf[p++] = m | 25;
    dv.setUint16(p, n);
    p += 2;
  } else if (n < TWO32) {
    buf[p++] = m | 26;
    dv.setUint32(p, n);
    p += 4;
  } else {
    buf[p++] = m | 27;
    dv.setUint32(p, Math.floor(n / TWO32));
    dv.setUint32(p + 4, n >>> 0);
    p += 8;
  }
}

/** binary16 bits of a float32-exact value when a half holds it exactly, else -1. */
function halfBits(v: number): number {
  f32[0] = v;
  const bits = f32bits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : 0x7e00;
  if (exp === 0) return mant === 0 ? sign : -1;
  const e = exp - 127;
  if (e >= -14 && e <= 15) return mant & 0x1fff ? -1 : sign | ((e + 15) << 10) | (mant >>> 13);
  if (e >= -24 && e < -14) {
    const full = mant | 0x800000;
    const shift = -1 - e;
    return full & ((1 << shift) - 1) ? -1 : sign | (full >>> shift);
  }
  return -1;
}

function writeFloat(v: number): void {
  ensure(9);
  if (v !== v) {
    buf[p++] = 0xf9;
    buf[p++] = 0x7e;
    buf[p++] = 0;
    return;
  }
  if (Math.fround(v) === v) {
    const h = halfBits(v);
    if (h >= 0) {
      buf[p++] = 0xf9;
      dv.setUint16(p, h);
      p += 2;
    } else {
      buf[p++] = 0xfa;
      dv.setFloat32(p, v);
      p += 4;
    }
    return;
  }
  buf[p++] = 0xfb;
  dv.setFloat64(p, v);
  p += 8;
}

const U64_END = 1n << 64n;

/** A head with a bigint argument below 2^64, in its shortest form. */
function writeHeadBig(major: number, n: bigint): void {
  if (n < 9007199254740992n) return writeHead(major, Number(n));
  ensure(9);
  buf[p++] = (major << 5) | 27;
  dv.setBigUint64(p, n);
  p += 8;
}

function writeBigInt(v: bigint): void {
  const neg = v < 0n;
  const n = neg ? -1n - v : v;
  if (n < U64_END) return writeHeadBig(neg ? 1 : 0, n);
  // Beyond 64 bits: a bignum, tag 2 or 3 over the big-endian magnitude.
  let hex = n.toString(16);
  if (hex.length & 1) hex = "0" + hex;
  writeHead(6, neg ? 3 : 2);
  writeHead(2, hex.length >> 1);
  ensure(hex.length >> 1);
  for (let i = 0; i < hex.length; i += 2) buf[p++] = parseInt(hex.slice(i, i + 2), 16);
}

function writeString(s: string): void {
  const len = s.length;
  if (len < 24) {
    // Short strings: write ASCII directly, fall back on the first non-ASCII character.
    ensure(len + 1);
    const start = p;
    buf[p++] = 0x60 | len;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i === len) return;
    p = start;
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: reserve that head, shrink it afterwards.
  const max = len * 3;
  const hs = headSize(max);
  ensure(hs + max);
  const { written } = encoder.encodeInto(s, buf.subarray(p + hs, p + hs + max));
  const need = headSize(written);
  if (need < hs) buf.copyWithin(p + need, p + hs, p + hs + written);
  const end = p + need + written;
  writeHead(3, written);
  p = end;
}

function enc(v: unknown, depth: number): void {
  switch (typeof v) {
    case "number":
      if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) {
        writeHead(v >= 0 ? 0 : 1, v >= 0 ? v : -1 - v);
      } else writeFloat(v);
      return;
    case "string":
      writeString(v);
      return;
    case "boolean":
      ensure(1);
      buf[p++] = v ? 0xf5 : 0xf4;
      return;
    case "undefined":
      ensure(1);
      buf[p++] = 0xf7;
      return;
    case "bigint":
      writeBigInt(v);
      return;
    case "object":
      break;
    default:
      throw new TypeError(`cannot encode a ${typeof v} as CBOR`);
  }
  if (v === null) {
    ensure(1);
    buf[p++] = 0xf6;
    return;
  }
  if (depth >= ENCODE_DEPTH) throw new CoreError("too_deep", -1, "nesting (or a cycle)");
  if (Array.isArray(v)) {
    writeHead(4, v.length);
    for (let i = 0; i < v.length; i++) enc(v[i], depth + 1);
  } else if (v instanceof Uint8Array) {
    writeHead(2, v.length);
    ensure(v.length);
    buf.set(v, p);
    p += v.length;
  } else if (v instanceof Map) {
    writeHead(5, v.size);
    for (const [k, x] of v) {
      enc(k, depth + 1);
      enc(x, depth + 1);
    }
  } else if (v instanceof CborTag) {
    const tag = BigInt(v.tag);
    if (tag < 0n || tag >= U64_END) throw new RangeError(`CBOR tag out of range: ${v.tag}`);
    writeHeadBig(6, tag);
    enc(v.value, depth + 1);
  } else if (v instanceof CborSimple) {
    ensure(2);
    if (v.value < 24) buf[p++] = 0xe0 | v.value;
    else (buf[p++] = 0xf8), (buf[p++] = v.value);
  } else {
    const keys = Object.keys(v);
    writeHead(5, keys.length);
    for (const k of keys) {
      writeString(k);
      enc((v as Record<string, unknown>)[k], depth + 1);
    }
  }
}

/**
 * CBOR with preferred serialization (RFC 8949 4.2.2): shortest heads, safe integers as
 * integers, other numbers as the shortest float that holds them exactly (NaN as f97e00),
 * bigints as 64-bit integers or bignum tags 2/3 beyond. Encodes arrays, Uint8Array, Map, plain
 * objects (own enumerable string keys), CborTag, CborSimple, strings, booleans, null, undefined.
 * The result is a view that no later call overwrites; small results share an ArrayBuffer, so
 * use `.slice()` where an exactly sized buffer is needed.
 */
export function encodeCbor(value: unknown): Uint8Array {
  p = 0;
  enc(value, 0);
  return own(buf.subarray(0, p));
}
