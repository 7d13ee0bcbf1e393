// JSON text (RFC 8259, UTF-8) -> CBOR with preferred serialization, bytes to bytes, no values
// built. The result equals encodeCbor(JSON.parse(text)), except that integers written without
// fraction or exponent keep their exact value up to 64 bits (JSON.parse would round them past
// 2^53). Strict grammar: no trailing commas, comments, leading zeros or bare control characters.
// Lone surrogate escapes (\ud800) become U+FFFD, as TextEncoder does for the same JS string.
import { bigCompareMidpoint, bigDigit, bigReset } from "./cbor_bignum";
import { decimalToDouble } from "./cbor_ryu";
import {
  begin,
  end,
  errKind,
  f64ToHalf,
  fail,
  INVALID,
  maxDepth,
  o,
  oend,
  OUT,
  pos,
  room,
  TOO_DEEP,
  TOO_LONG,
  TRUNCATED,
  validUtf8,
} from "./cbor_common";

// Exact powers of ten for the fast path (Clinger): m * 10^e is correctly rounded when both are.
// deno-fmt-ignore
const POW10 = memory.data<f64>([1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]);

// @ts-ignore: decorator
@inline function put(c: i32): void {
  store<u8>(o, <u8>c);
  o++;
}

function headSize(v: u64): usize {
  return v < 24 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v <= 0xffffffff ? 5 : 9;
}

/** Writes a CBOR head in its shortest form; the caller checked room for 9 bytes. */
function writeHead(major: i32, v: u64): void {
  const m = major << 5;
  if (v < 24) put(m | <i32>v);
  else if (v < 0x100) {
    put(m | 24);
    put(<i32>v);
  } else if (v < 0x10000) {
    put(m | 25);
    store<u16>(o, bswap<u16>(<u16>v));
    o += 2;
  } else if (v <= 0xffffffff) {
    put(m | 26);
    store<u32>(o, bswap<u32>(<u32>v));
    o += 4;
  } else {
    put(m | 27);
    store<u64>(o, bswap<u64>(v));
    o += 8;
  }
}

/** Writes the head of a container or string whose content already sits at hdr + 1. */
function closeHead(hdr: usize, major: i32, count: u64): bool {
  const hs = headSize(count);
  if (hs > 1) {
    if (!room(hs - 1)) return false;
    memory.copy(hdr + hs, hdr + 1, o - hdr - 1);
    o += hs - 1;
  }
  const saved = o;
  o = hdr;
  writeHead(major, count);
  o = saved;
  return true;
}

/** Shortest of half / single / double that holds `v` exactly (RFC 8949 4.2.2). */
function writeFloat(v: f64): void {
  const h = f64ToHalf(v);
  if (h >= 0) {
    put(0xf9);
    store<u16>(o, bswap<u16>(<u16>h));
    o += 2;
  } else if (<f64><f32>v == v) {
    put(0xfa);
    store<u32>(o, bswap<u32>(reinterpret<u32>(<f32>v)));
    o += 4;
  } else {
    put(0xfb);
    store<u64>(o, bswap<u64>(reinterpret<u64>(v)));
    o += 8;
  }
}

/** A JS number as encodeCbor writes it: safe integers as integers, the rest as floats. */
function writeNumber(v: f64): void {
  const a = abs(v);
  if (a <= 9007199254740991.0 && a == Math.floor(a) && !(v == 0 && 1 / v < 0)) {
    if (v >= 0) writeHead(0, <u64>v);
    else writeHead(1, <u64>a - 1);
  } else writeFloat(v);
}

function skipWs(): void {
  while (pos < end) {
    const c = load<u8>(pos);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) pos++;
    else break;
  }
}

// @ts-ignore: decorator
@inline function isDigit(c: u32): bool {
  return c - 48 < 10;
}

function digits(): bool {
  if (pos >= end) return fail(TRUNCATED, end);
  if (!isDigit(<u32>load<u8>(pos))) return fail(INVALID, pos);
  while (pos < end && isDigit(<u32>load<u8>(pos))) pos++;
  return true;
}

function number(): bool {
  const start = pos;
  const neg = load<u8>(pos) == 45;
  if (neg) pos++;
  if (pos >= end) return fail(TRUNCATED, end);
  const c0 = <u32>load<u8>(pos);
  if (c0 == 48) pos++;
  else if (!digits()) return false;
  const intEnd = pos;
  let isInt = true;
  if (pos < end && load<u8>(pos) == 46) {
    pos++;
    if (!digits()) return false;
    isInt = false;
  }
  if (pos < end && (load<u8>(pos) | 32) == 101) {
    pos++;
    if (pos < end && (load<u8>(pos) == 43 || load<u8>(pos) == 45)) pos++;
    if (!digits()) return false;
    isInt = false;
  }
  if (!room(9)) return false;
  if (isInt) {
    let v: u64 = 0;
    let fits = true;
    for (let p = start + (neg ? 1 : 0); p < intEnd; p++) {
      const d = <u64>(load<u8>(p) - 48);
      if (v > 1844674407370955161 || (v == 1844674407370955161 && d > 5)) {
        // -2^64 is the one integer past u64 that CBOR still holds (major 1, argument 2^64-1).
        if (neg && v == 1844674407370955161 && d == 6 && p + 1 == intEnd) {
          writeHead(1, 0xffffffffffffffff);
          return true;
        }
        fits = false;
        break;
      }
      v = v * 10 + d;
    }
    if (fits) {
      if (!neg) writeHead(0, v);
      else if (v == 0) writeFloat(-0.0);
      else writeHead(1, v - 1);
      return true;
    }
  }
  writeNumber(neg ? -toDouble(start + 1) : toDouble(start));
  return true;
}

// Significant digits kept by the exact slow path: a midpoint between two doubles has fewer than
// 770 of them, so digits past 800 can only break a tie (they act as a sticky bit).
const LONG_DIGITS: i32 = 800;

// Decimal scan results: value = scanM * 10^scanE10 (+ something, when scanSticky).
let scanM: u64 = 0;
let scanE10: i32 = 0;
let scanSticky = false;

/**
 * Scans the (grammar-checked) unsigned decimal in [p, pos), keeping `keep` significant digits (into scanM, or into the bignum when `big`).
 */
function scan(p: usize, keep: i32, big: bool): void {
  let m: u64 = 0;
  let nd = 0;
  let e10 = 0;
  let sticky = false;
  let inFrac = false;
  for (; p < pos; p++) {
    const c = load<u8>(p);
    if (c == 46) {
      inFrac = true;
      continue;
    }
    if (c - 48 >= 10) break; // 'e' / 'E'
    const d = <u32>(c - 48);
    if (nd < keep) {
      if (inFrac) e10--;
      if (nd > 0 || d != 0) {
        if (big) bigDigit(d);
        else m = m * 10 + <u64>d;
        nd++;
      }
    } else {
      if (!inFrac) e10++;
      if (d) sticky = true;
    }
  }
  if (p < pos) {
    // Exponent, clamped: anything this far out is 0 or Infinity anyway.
    p++;
    const eneg = load<u8>(p) == 45;
    if (load<u8>(p) == 45 || load<u8>(p) == 43) p++;
    let x = 0;
    for (; p < pos; p++) if (x < 100000) x = x * 10 + <i32>(load<u8>(p) - 48);
    e10 += eneg ? -x : x;
  }
  scanM = m;
  scanE10 = e10;
  scanSticky = sticky;
}

/**
 * The double nearest to the unsigned decimal in [p, pos) (ties to even). Up to 17 significant
 * digits: Clinger's exact fast path or Ryu's s2d. Longer: s2d brackets the value between two
 * neighbouring doubles and an exact bignum comparison with their midpoint picks one.
 */
function toDouble(p: usize): f64 {
  scan(p, 17, false);
  const m = scanM;
  const e10 = scanE10;
  if (m == 0) return 0;
  if (!scanSticky) {
    if (m < 9007199254740992 && e10 >= -22 && e10 <= 22) {
      const f = <f64>m;
      return e10 >= 0 ? f * load<f64>(POW10 + (<usize>e10 << 3)) : f /
        load<f64>(POW10 + (<usize>-e10 << 3));
    }
    return decimalToDouble(m, e10);
  }
  const r1 = decimalToDouble(m, e10);
  const r2 = decimalToDouble(m + 1, e10);
  if (r1 == r2) return r1;
  bigReset();
  scan(p, LONG_DIGITS, true);
  const bits = reinterpret<u64>(r1);
  const be = <i32>(bits >> 52);
  const m1 = be == 0 ? bits : (bits & 0xfffffffffffff) | 0x10000000000000;
  const e1 = be == 0 ? -1074 : be - 1075;
  const c = bigCompareMidpoint(scanE10, m1, e1);
  if (c < 0) return r1;
  if (c > 0 || scanSticky) return r2;
  return (m1 & 1) == 0 ? r1 : r2;
}

function hex4(): i32 {
  if (pos + 4 > end) {
    fail(TRUNCATED, end);
    return -1;
  }
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = <i32>load<u8>(pos + <usize>i);
    let d: i32;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
    else {
      fail(INVALID, pos + <usize>i);
      return -1;
    }
    v = (v << 4) | d;
  }
  pos += 4;
  return v;
}

function putUtf8(cp: i32): void {
  if (cp < 0x80) put(cp);
  else if (cp < 0x800) {
    put(0xc0 | (cp >> 6));
    put(0x80 | (cp & 63));
  } else if (cp < 0x10000) {
    put(0xe0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 63));
    put(0x80 | (cp & 63));
  } else {
    put(0xf0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 63));
    put(0x80 | ((cp >> 6) & 63));
    put(0x80 | (cp & 63));
  }
}

/** Scans plain string bytes from pos up to '"', '\' or a control character. */
function scanPlain(): void {
  while (pos + 8 <= end) {
    const w = load<u64>(pos);
    const ctl = (w - 0x2020202020202020) & ~w;
    const q = w ^ 0x2222222222222222;
    const b = w ^ 0x5c5c5c5c5c5c5c5c;
    const hit = (ctl | ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b)) &
      0x8080808080808080;
    if (hit) break;
    pos += 8;
  }
  while (pos < end) {
    const c = load<u8>(pos);
    if (c == 0x22 || c == 0x5c || c < 0x20) break;
    pos++;
  }
}

/** A JSON string at pos (on its opening quote) as a CBOR text string. */
function jstring(): bool {
  pos++;
  const s = pos;
  scanPlain();
  if (pos >= end) return fail(TRUNCATED, end);
  let c = load<u8>(pos);
  const n = pos - s;
  if (!validUtf8(s, pos)) return false;
  if (c == 0x22) {
    if (!room(n + 9)) return false;
    writeHead(3, <u64>n);
    memory.copy(o, s, n);
    o += n;
    pos++;
    return true;
  }
  // Escapes: unescaped text is never longer than its source, but its length is only known at
  // the end, so the head is fixed up (and the text moved) once done.
  if (!room(n + 9)) return false;
  const hdr = o;
  o++;
  memory.copy(o, s, n);
  o += n;
  while (true) {
    if (pos >= end) return fail(TRUNCATED, end);
    c = load<u8>(pos);
    if (c == 0x22) {
      pos++;
      break;
    }
    if (c < 0x20) return fail(INVALID, pos);
    if (c != 0x5c) {
      const r = pos;
      scanPlain();
      if (!validUtf8(r, pos)) return false;
      if (!room(pos - r)) return false;
      memory.copy(o, r, pos - r);
      o += pos - r;
      continue;
    }
    const at = pos;
    pos++;
    if (pos >= end) return fail(TRUNCATED, end);
    const e = load<u8>(pos);
    pos++;
    if (!room(4)) return false;
    if (e == 0x22 || e == 0x5c || e == 0x2f) put(e);
    else if (e == 0x62) put(8);
    else if (e == 0x66) put(12);
    else if (e == 0x6e) put(10);
    else if (e == 0x72) put(13);
    else if (e == 0x74) put(9);
    else if (e == 0x75) {
      let cp = hex4();
      if (cp < 0) return false;
      if (cp >= 0xd800 && cp < 0xdc00) {
        // A high surrogate pairs only with an immediately following \u low surrogate.
        if (
          pos + 6 <= end && load<u8>(pos) == 0x5c && load<u8>(pos + 1) == 0x75
        ) {
          const save = pos;
          pos += 2;
          const lo = hex4();
          if (lo < 0) return false;
          if (lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          else {
            pos = save;
            cp = 0xfffd;
          }
        } else cp = 0xfffd;
      } else if (cp >= 0xdc00 && cp < 0xe000) cp = 0xfffd;
      putUtf8(cp);
    } else return fail(INVALID, at);
  }
  return closeHead(hdr, 3, <u64>(o - hdr - 1));
}

function literal(text: u64, n: i32, byte: i32): bool {
  for (let i = 0; i < n; i++) {
    const p = pos + <usize>i;
    if (p >= end) return fail(TRUNCATED, end);
    if (<u64>load<u8>(p) != ((text >> (<u64>i << 3)) & 0xff)) return fail(INVALID, p);
  }
  pos += <usize>n;
  if (!room(1)) return false;
  put(byte);
  return true;
}

function value(depth: i32): bool {
  skipWs();
  if (pos >= end) return fail(TRUNCATED, end);
  const c = load<u8>(pos);
  if (c == 0x22) return jstring();
  if (c == 0x7b || c == 0x5b) {
    if (depth >= maxDepth) return fail(TOO_DEEP, pos);
    const isMap = c == 0x7b;
    const close: u8 = isMap ? 0x7d : 0x5d;
    pos++;
    if (!room(1)) return false;
    const hdr = o;
    o++;
    let count: u64 = 0;
    skipWs();
    if (pos >= end) return fail(TRUNCATED, end);
    if (load<u8>(pos) == close) pos++;
    else {
      while (true) {
        if (isMap) {
          skipWs();
          if (pos >= end) return fail(TRUNCATED, end);
          if (load<u8>(pos) != 0x22) return fail(INVALID, pos);
          if (!jstring()) return false;
          skipWs();
          if (pos >= end) return fail(TRUNCATED, end);
          if (load<u8>(pos) != 0x3a) return fail(INVALID, pos);
          pos++;
        }
        if (!value(depth + 1)) return false;
        count++;
        skipWs();
        if (pos >= end) return fail(TRUNCATED, end);
        const d = load<u8>(pos);
        pos++;
        if (d == close) break;
        if (d != 0x2c) return fail(INVALID, pos - 1);
      }
    }
    return closeHead(hdr, isMap ? 5 : 4, count);
  }
  if (c == 0x2d || isDigit(<u32>c)) return number();
  if (c == 0x74) return literal(0x65757274, 4, 0xf5); // true
  if (c == 0x66) return literal(0x65736c6166, 5, 0xf4); // false
  if (c == 0x6e) return literal(0x6c6c756e, 4, 0xf6); // null
  return fail(INVALID, pos);
}

/**
 * Transcodes the UTF-8 JSON text in IN[0, len) to CBOR in OUT. Returns the CBOR length, or
 * -kind with the byte offset in cbor_err_at().
 */
export function cbor_from_json(len: i32, depth: i32): i32 {
  if (!begin(len, depth)) return -errKind;
  if (!value(0)) return -errKind;
  skipWs();
  if (pos != end) {
    fail(INVALID, pos);
    return -errKind;
  }
  if (o > oend) {
    fail(TOO_LONG, pos);
    return -errKind;
  }
  return <i32>(o - OUT);
}
