// Shared by the CBOR tests: a seeded generator of random CBOR-representable JS values, the
// conversions to and from npm:cbor2's value model, an independent RFC 8949 section 6.1 JSON
// reference, and a "sloppy" encoder that writes valid but non-preferred CBOR (long heads,
// indefinite lengths, chunked strings) so decoders see every form.
import { Simple, Tag } from "cbor2";
import { CborSimple, CborTag } from "../core-wasm/mod.ts";

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  number(): number {
    const f = new DataView(new ArrayBuffer(8));
    switch (this.int(12)) {
      case 0:
        return this.int(24);
      case 1:
        return -1 - this.int(300);
      case 2:
        return this.int(2 ** 32) * this.pick([1, -1]);
      case 3:
        return Math.floor(this.rnd() * 2 ** 53) * this.pick([1, -1]);
      case 4:
        return this.pick([NaN, Infinity, -Infinity, -0, 0.5, 65504, 5.960464477539063e-8, 1e300]);
      case 5: // exactly representable as half
        return (this.int(2048) - 1024) / this.pick([1, 4, 1024, 2 ** 20]);
      case 6: // single
        return Math.fround((this.rnd() - 0.5) * 10 ** this.int(30));
      case 7:
        return Math.round(this.rnd() * 1e6) / 100; // sensor-like
      case 8:
        return this.rnd() * 10 ** (this.int(40) - 20);
      default: {
        for (let i = 0; i < 8; i++) f.setUint8(i, this.int(256));
        const v = f.getFloat64(0);
        return Number.isNaN(v) ? 0.25 : v;
      }
    }
  }

  bigint(): bigint {
    // Only values that decode back as bigints: outside the safe range.
    const sign = this.int(2) ? 1n : -1n;
    const mag = this.int(3) === 0
      ? BigInt(this.int(2 ** 30)) << BigInt(64 + this.int(100)) // bignum
      : (1n << 53n) + (BigInt(this.int(2 ** 30)) << BigInt(this.int(34))); // 64-bit
    return sign * mag;
  }

  string(): string {
    const n = this.int(this.int(4) === 0 ? 40 : 10);
    let s = "";
    for (let i = 0; i < n; i++) {
      switch (this.int(6)) {
        case 0:
          s += String.fromCharCode(this.int(0x20)); // control characters
          break;
        case 1:
          s += this.pick(['"', "\\", "/", "\u007f", "\u2028"]);
          break;
        case 2: {
          let cp = 0x80 + this.int(0x10ffff - 0x80);
          if (cp >= 0xd800 && cp < 0xe000) cp = 0xe9;
          s += String.fromCodePoint(cp);
          break;
        }
        default:
          s += String.fromCharCode(0x20 + this.int(0x5f));
      }
    }
    return s;
  }

  bytes(): Uint8Array {
    const b = new Uint8Array(this.int(this.int(4) === 0 ? 100 : 8));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    return b;
  }

  key(): string {
    return this.pick(["id", "t", "temperature", "a", "b", "", "é", "1", "k" + this.int(100)]);
  }

  /** A random value; `depth` bounds nesting. */
  value(depth = 4): unknown {
    const scalar = depth <= 0 || this.int(3) > 0;
    if (scalar) {
      switch (this.int(10)) {
        case 0:
        case 1:
          return this.number();
        case 2:
          return this.bigint();
        case 3:
        case 4:
          return this.string();
        case 5:
          return this.bytes();
        case 6:
          return this.pick([true, false, null, undefined]);
        case 7:
          return new CborSimple(this.int(2) ? this.int(20) : 32 + this.int(224));
        default:
          return this.int(1000);
      }
    }
    switch (this.int(4)) {
      case 0:
      case 1: {
        const a: unknown[] = [];
        for (let i = this.int(6); i > 0; i--) a.push(this.value(depth - 1));
        return a;
      }
      case 2: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(6); i > 0; i--) o[this.key()] = this.value(depth - 1);
        return o;
      }
      default: {
        if (this.int(3) === 0) {
          return new CborTag(100000 + this.int(100000), this.value(depth - 1));
        }
        // A map with at least one key that is not a string.
        const m = new Map<unknown, unknown>();
        m.set(this.int(100) - 50, this.value(depth - 1));
        for (let i = this.int(4); i > 0; i--) {
          m.set(
            this.pick([this.key(), this.int(1000), true, null, -1.5, -this.int(1000) - 1]),
            this.value(depth - 1),
          );
        }
        return m;
      }
    }
  }
}

/** Our value model -> cbor2's (for cbor2.encode). */
export function toCbor2(v: unknown): unknown {
  if (v instanceof CborTag) return new Tag(Number(v.tag), toCbor2(v.value));
  if (v instanceof CborSimple) return new Simple(v.value);
  if (Array.isArray(v)) return v.map(toCbor2);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [toCbor2(k), toCbor2(x)]));
  if (v instanceof Uint8Array) return v;
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCbor2(x)]));
  }
  return v;
}

/** cbor2's decoded values (ignoreGlobalTags) -> our value model. */
export function fromCbor2(v: unknown): unknown {
  if (v instanceof Tag) {
    const raw = v.tag as number | bigint;
    const tag = typeof raw === "bigint" && raw < 2n ** 53n ? Number(raw) : raw;
    if ((tag === 2 || tag === 3) && v.contents instanceof Uint8Array) {
      let n = 0n;
      for (const b of v.contents) n = (n << 8n) | BigInt(b);
      return tag === 2 ? n : -1n - n;
    }
    return new CborTag(tag, fromCbor2(v.contents));
  }
  if (v instanceof Simple) return new CborSimple(v.value);
  if (Array.isArray(v)) return v.map(fromCbor2);
  if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [fromCbor2(k), fromCbor2(x)] as const);
    if (entries.every(([k]) => typeof k === "string")) {
      return Object.fromEntries(entries);
    }
    return new Map(entries);
  }
  if (v instanceof Uint8Array) return v;
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromCbor2(x)]));
  }
  return v;
}

function b64(b: Uint8Array, mode: "b64url" | "b64" | "hex"): string {
  if (mode === "hex") return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const s = btoa(String.fromCharCode(...b));
  return mode === "b64" ? s : s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** RFC 8949 6.1 in plain JS, from values: the reference for cborToJson. */
export function refJson(v: unknown, mode: "b64url" | "b64" | "hex" = "b64url"): string {
  switch (typeof v) {
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : "null";
    case "bigint":
      return v.toString();
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return String(v);
    case "undefined":
      return "null";
  }
  if (v === null || v instanceof CborSimple) return "null";
  if (v instanceof Uint8Array) return JSON.stringify(b64(v, mode));
  if (v instanceof CborTag) {
    const t = Number(v.tag);
    return refJson(v.value, t === 21 ? "b64url" : t === 22 ? "b64" : t === 23 ? "hex" : mode);
  }
  if (Array.isArray(v)) return "[" + v.map((x) => refJson(x, mode)).join(",") + "]";
  const entries = v instanceof Map ? [...v] : Object.entries(v as object);
  return "{" +
    entries.map(([k, x]) =>
      (typeof k === "string" ? JSON.stringify(k) : JSON.stringify(refJson(k, mode))) + ":" +
      refJson(x, mode)
    ).join(",") + "}";
}

/** Valid, deliberately non-preferred CBOR for a value: long heads, indefinite lengths, chunks. */
export function sloppy(v: unknown, g: Gen): Uint8Array {
  const out: number[] = [];
  const head = (major: number, n: number | bigint): void => {
    const big = BigInt(n);
    let size = big < 24n ? 0 : big < 0x100n ? 1 : big < 0x10000n ? 2 : big < 0x100000000n ? 4 : 8;
    if (size < 8 && g.int(3) === 0) {
      size = [1, 2, 4, 8].find((s) => s > size && (s === 8 || big < (1n << BigInt(8 * s))))!;
    }
    if (size === 0) {
      out.push((major << 5) | Number(big));
      return;
    }
    out.push((major << 5) | (23 + Math.log2(size) + 1));
    for (let i = size - 1; i >= 0; i--) out.push(Number((big >> BigInt(8 * i)) & 0xffn));
  };
  const walk = (x: unknown): void => {
    if (typeof x === "number") {
      if (Number.isSafeInteger(x) && !Object.is(x, -0)) {
        return head(x >= 0 ? 0 : 1, x >= 0 ? x : -1 - x);
      }
      // Always a double: valid, not preferred.
      const d = new DataView(new ArrayBuffer(8));
      d.setFloat64(0, x);
      out.push(0xfb, ...new Uint8Array(d.buffer));
      return;
    }
    if (typeof x === "bigint") {
      const neg = x < 0n;
      const n = neg ? -1n - x : x;
      if (n < 1n << 64n) return head(neg ? 1 : 0, n);
      let hex = n.toString(16);
      if (hex.length & 1) hex = "0" + hex;
      head(6, neg ? 3 : 2);
      head(2, hex.length / 2);
      for (let i = 0; i < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
      return;
    }
    if (typeof x === "string" || x instanceof Uint8Array) {
      const major = typeof x === "string" ? 3 : 2;
      if (g.int(3) === 0 && typeof x === "string") {
        // Indefinite: chunks split between code points.
        out.push((major << 5) | 31);
        const cps = [...x];
        for (let i = 0; i < cps.length;) {
          const n = 1 + g.int(4);
          const b = new TextEncoder().encode(cps.slice(i, i + n).join(""));
          head(major, b.length);
          out.push(...b);
          i += n;
        }
        if (g.int(2)) head(major, 0); // an empty chunk is valid
        out.push(0xff);
        return;
      }
      const b = typeof x === "string" ? new TextEncoder().encode(x) : x;
      if (g.int(3) === 0 && major === 2) {
        out.push(0x5f);
        for (let i = 0; i < b.length;) {
          const n = 1 + g.int(5);
          const c = b.subarray(i, i + n);
          head(2, c.length);
          out.push(...c);
          i += n;
        }
        out.push(0xff);
        return;
      }
      head(major, b.length);
      out.push(...b);
      return;
    }
    if (x === false) return out.push(0xf4), undefined;
    if (x === true) return out.push(0xf5), undefined;
    if (x === null) return out.push(0xf6), undefined;
    if (x === undefined) return out.push(0xf7), undefined;
    if (x instanceof CborSimple) {
      return x.value < 24 ? out.push(0xe0 | x.value) : out.push(0xf8, x.value), undefined;
    }
    if (x instanceof CborTag) return head(6, x.tag), walk(x.value);
    const indefinite = g.int(3) === 0;
    if (Array.isArray(x)) {
      indefinite ? out.push(0x9f) : head(4, x.length);
      x.forEach(walk);
    } else {
      const entries = x instanceof Map ? [...x] : Object.entries(x as object);
      indefinite ? out.push(0xbf) : head(5, entries.length);
      for (const [k, y] of entries) walk(k), walk(y);
    }
    if (indefinite) out.push(0xff);
  };
  walk(v);
  return Uint8Array.from(out);
}

export const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
