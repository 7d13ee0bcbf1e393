// CBOR -> JSON text (RFC 8949 section 6.1), bytes to bytes, no values built: the gateways' hot
// path (CBOR from nodes, JSON for web clients). One recursive pass checks well-formedness exactly
// as cbor_decode does and writes UTF-8 JSON into OUT.
//
// Conversions for what JSON cannot hold: byte strings -> base64url without padding (inside tag
// 22: base64 with padding, tag 23: lowercase base16); tags are dropped and their content
// converted, except bignums (tags 2/3 over a byte string of at most BIG_MAX bytes) which become
// JSON numbers; NaN, infinities, undefined and other simple values -> null; a map key that is not
// a text string becomes the JSON text of its converted value, as a string (key 1 -> "1").
// Integers print exactly (all 64 bits); floats print like JavaScript's Number#toString (Ryu).
import { digits32, DIGITS2, put32, writeDouble } from "./cbor_ryu";
import {
  BAD_UTF8,
  begin,
  end,
  errKind,
  fail,
  halfToF64,
  hArg,
  head,
  hInfo,
  hMajor,
  INVALID,
  LENGTH_PAST_END,
  maxDepth,
  o,
  oend,
  OUT,
  pos,
  room,
  TOO_DEEP,
  TOO_LONG,
  TRUNCATED,
  utf8Seq,
} from "./cbor_common";

// deno-fmt-ignore
const B64URL = memory.data<u8>([65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80,
  81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108,
  109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 48, 49, 50, 51, 52, 53,
  54, 55, 56, 57, 45, 95]);
// deno-fmt-ignore
const B64STD = memory.data<u8>([65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80,
  81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108,
  109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 48, 49, 50, 51, 52, 53,
  54, 55, 56, 57, 43, 47]);
// deno-fmt-ignore
const HEX = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

// Bignums up to BIG_MAX bytes print as digits; longer ones fall back to the plain tag rule.
const BIG_MAX: i32 = 256;
const LIMBS = memory.data((BIG_MAX >> 2) * 4 + 16, 16);
const CHUNKS = memory.data(4 * 80, 16); // base-1e9 digit groups: 617 digits max -> 69 groups

// Byte-string encoding chosen by the innermost tag 21/22/23 around it.
const ENC_B64URL: i32 = 0;
const ENC_B64: i32 = 1;
const ENC_HEX: i32 = 2;
let enc: i32 = ENC_B64URL;
// Streaming base64 state, so the chunks of an indefinite byte string encode as one string.
let carry: u32 = 0;
let carryN: i32 = 0;

// @ts-ignore: decorator
@inline function put(c: i32): void {
  store<u8>(o, <u8>c);
  o++;
}

function putStr4(v: u32, n: usize): void {
  // Writes the first n (<= 4) ASCII bytes of a little-endian packed literal.
  store<u32>(o, v);
  o += n;
}

function writeU64(v: u64): void {
  if (v <= 0xffffffff) {
    const n = digits32(<u32>v);
    put32(o + n, <u32>v);
    o += n;
    return;
  }
  // Split into 32-bit-sized parts of 9 digits: at most three.
  const lo = <u32>(v % 1000000000);
  const rest = v / 1000000000;
  if (rest <= 0xffffffff) {
    const n = digits32(<u32>rest);
    put32(o + n, <u32>rest);
    o += n;
  } else {
    const mid = <u32>(rest % 1000000000);
    const hi = <u32>(rest / 1000000000);
    const n = digits32(hi);
    put32(o + n, hi);
    o += n;
    put9(mid);
  }
  put9(lo);
}

/** Exactly nine digits, zero-padded. */
function put9(v: u32): void {
  for (let i: usize = 9; i > 1; i -= 2) {
    store<u16>(o + i - 2, load<u16>(DIGITS2 + (<usize>(v % 100) << 1)));
    v /= 100;
  }
  store<u8>(o, <u8>(48 + v));
  o += 9;
}

/** A finite double as JavaScript prints it; NaN and infinities as null. */
function writeF64(v: f64): void {
  if (!isFinite(v)) {
    putStr4(0x6c6c756e, 4); // null
    return;
  }
  if (v == 0) {
    put(48); // -0 prints as 0, like JSON.stringify
    return;
  }
  const a = abs(v);
  if (a < 9007199254740992.0 && a == Math.floor(a)) {
    if (v < 0) put(45);
    writeU64(<u64>a);
    return;
  }
  o += writeDouble(o, v);
}

/**
 * Text content with JSON escapes, validating UTF-8 on the way (one pass: the same checks and
 * error offsets as validUtf8).
 */
function textOut(p: usize, n: usize): bool {
  if (!room(n)) return false;
  const e = p + n;
  while (p < e) {
    if (p + 8 <= e) {
      // Eight bytes at a time when all are ASCII and none is a control character, '"' or '\'.
      const w = load<u64>(p);
      const ctl = (w - 0x2020202020202020) & ~w;
      const q = w ^ 0x2222222222222222;
      const b = w ^ 0x5c5c5c5c5c5c5c5c;
      const hit = (w | ctl | ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b)) &
        0x8080808080808080;
      if (hit == 0) {
        store<u64>(o, w);
        o += 8;
        p += 8;
        continue;
      }
    }
    const c = <i32>load<u8>(p);
    if (c >= 0x80) {
      const len = utf8Seq(p, e);
      if (!len) return fail(BAD_UTF8, p);
      for (let i: usize = 0; i < len; i++) store<u8>(o + i, load<u8>(p + i));
      o += len;
      p += len;
      continue;
    }
    p++;
    if (c >= 0x20 && c != 0x22 && c != 0x5c) {
      put(c);
      continue;
    }
    if (!room(e - p + 6)) return false;
    put(92);
    if (c == 0x22 || c == 0x5c) put(c);
    else if (c == 0x0a) put(110);
    else if (c == 0x0d) put(114);
    else if (c == 0x09) put(116);
    else if (c == 0x08) put(98);
    else if (c == 0x0c) put(102);
    else {
      putStr4(0x30303075, 3); // u00
      put(c < 0x10 ? 48 : 49);
      put(<i32>load<u8>(HEX + <usize>(c & 15)));
    }
  }
  return true;
}

/** Byte-string content in the current encoding; base64 state carries over between chunks. */
function bytesOut(p: usize, n: usize): bool {
  if (enc == ENC_HEX) {
    if (!room(n << 1)) return false;
    for (let e = p + n; p < e; p++) {
      const b = <usize>load<u8>(p);
      put(<i32>load<u8>(HEX + (b >> 4)));
      put(<i32>load<u8>(HEX + (b & 15)));
    }
    return true;
  }
  if (!room((n / 3) * 4 + 8)) return false;
  const alpha = enc == ENC_B64 ? B64STD : B64URL;
  const e = p + n;
  while (carryN > 0 && p < e) {
    carry = (carry << 8) | <u32>load<u8>(p);
    p++;
    if (++carryN == 3) {
      quad(alpha, carry);
      carry = 0;
      carryN = 0;
    }
  }
  while (p + 3 <= e) {
    quad(alpha, (<u32>load<u8>(p) << 16) | (<u32>load<u8>(p + 1) << 8) | <u32>load<u8>(p + 2));
    p += 3;
  }
  while (p < e) {
    carry = (carry << 8) | <u32>load<u8>(p);
    carryN++;
    p++;
  }
  return true;
}

// @ts-ignore: decorator
@inline function quad(alpha: usize, t: u32): void {
  store<u8>(o, load<u8>(alpha + <usize>(t >> 18)));
  store<u8>(o + 1, load<u8>(alpha + <usize>((t >> 12) & 63)));
  store<u8>(o + 2, load<u8>(alpha + <usize>((t >> 6) & 63)));
  store<u8>(o + 3, load<u8>(alpha + <usize>(t & 63)));
  o += 4;
}

/** Ends a byte string: the last 1-2 bytes, padded only for classic base64 (tag 22). */
function bytesEnd(): void {
  if (enc != ENC_HEX && carryN > 0) {
    const alpha = enc == ENC_B64 ? B64STD : B64URL;
    const t = carry << (carryN == 1 ? 16 : 8);
    put(<i32>load<u8>(alpha + <usize>(t >> 18)));
    put(<i32>load<u8>(alpha + <usize>((t >> 12) & 63)));
    if (carryN == 2) put(<i32>load<u8>(alpha + <usize>((t >> 6) & 63)));
    if (enc == ENC_B64) {
      put(61);
      if (carryN == 1) put(61);
    }
  }
  carry = 0;
  carryN = 0;
  put(34);
}

/** A bignum (tag 2, or tag 3 meaning -1 - n) from its big-endian magnitude, as digits. */
function bigOut(neg: bool, p: usize, n: usize): bool {
  const e = p + n;
  while (p < e && load<u8>(p) == 0) p++;
  // Little-endian u32 limbs.
  let k: usize = 0;
  let q = e;
  while (q > p) {
    let limb: u32 = 0;
    for (let s: u32 = 0; s < 32 && q > p; s += 8) {
      q--;
      limb |= <u32>load<u8>(q) << s;
    }
    store<u32>(LIMBS + (k << 2), limb);
    k++;
  }
  if (neg) {
    let i: usize = 0;
    while (true) {
      if (i == k) {
        store<u32>(LIMBS + (k << 2), 1);
        k++;
        break;
      }
      const v = load<u32>(LIMBS + (i << 2)) + 1;
      store<u32>(LIMBS + (i << 2), v);
      if (v != 0) break;
      i++;
    }
  }
  if (!room(n * 3 + 12)) return false;
  if (neg) put(45);
  if (k == 0) {
    put(48);
    return true;
  }
  let groups: usize = 0;
  while (k > 0) {
    let rem: u64 = 0;
    for (let i = <isize>k - 1; i >= 0; i--) {
      const cur = (rem << 32) | <u64>load<u32>(LIMBS + (<usize>i << 2));
      store<u32>(LIMBS + (<usize>i << 2), <u32>(cur / 1000000000));
      rem = cur % 1000000000;
    }
    store<u32>(CHUNKS + (groups << 2), <u32>rem);
    groups++;
    while (k > 0 && load<u32>(LIMBS + ((k - 1) << 2)) == 0) k--;
  }
  writeU64(<u64>load<u32>(CHUNKS + ((groups - 1) << 2)));
  for (let g = <isize>groups - 2; g >= 0; g--) put9(load<u32>(CHUNKS + (<usize>g << 2)));
  return true;
}

/** Turns OUT[ks, o) into the content of a JSON string: escapes '"' and '\'. */
function escapeRegion(ks: usize): bool {
  let extra: usize = 0;
  for (let p = ks; p < o; p++) {
    const c = load<u8>(p);
    if (c == 0x22 || c == 0x5c) extra++;
  }
  if (extra == 0) return true;
  if (!room(extra + 2)) return false;
  let src = o;
  let dst = o + extra;
  o = dst;
  while (src > ks) {
    src--;
    const c = load<u8>(src);
    dst--;
    store<u8>(dst, c);
    if (c == 0x22 || c == 0x5c) {
      dst--;
      store<u8>(dst, 0x5c);
    }
  }
  return true;
}

function strBody(major: i32, len: u64, start: usize): bool {
  if (len > <u64>(end - pos)) return fail(LENGTH_PAST_END, start);
  const n = <usize>len;
  const p = pos;
  pos += n;
  return major == 3 ? textOut(p, n) : bytesOut(p, n);
}

function json(depth: i32): bool {
  const start = pos;
  if (!head()) return false;
  const major = hMajor;
  const info = hInfo;
  const arg = hArg;
  if (!room(32)) return false;
  if (info == 31) {
    if (major == 2 || major == 3) {
      put(34);
      while (true) {
        if (pos >= end) return fail(TRUNCATED, end);
        if (load<u8>(pos) == 0xff) {
          pos++;
          break;
        }
        const cstart = pos;
        if (!head()) return false;
        if (hMajor != major || hInfo == 31) return fail(INVALID, cstart);
        if (!strBody(major, hArg, cstart)) return false;
      }
      if (!room(8)) return false;
      if (major == 2) bytesEnd();
      else put(34);
      return true;
    }
    if (major == 4 || major == 5) {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      put(major == 4 ? 91 : 123);
      let first = true;
      while (true) {
        if (pos >= end) return fail(TRUNCATED, end);
        if (load<u8>(pos) == 0xff) {
          pos++;
          break;
        }
        if (!first) put(44);
        first = false;
        if (major == 4) {
          if (!json(depth + 1)) return false;
        } else if (!pair(depth + 1)) return false;
      }
      if (!room(1)) return false;
      put(major == 4 ? 93 : 125);
      return true;
    }
    return fail(INVALID, start);
  }
  switch (major) {
    case 0:
      writeU64(arg);
      return true;
    case 1:
      put(45);
      if (arg == 0xffffffffffffffff) {
        // -2^64: one past what u64 holds.
        writeU64(1844674407370955161);
        put(54);
      } else writeU64(arg + 1);
      return true;
    case 2:
      put(34);
      if (!strBody(2, arg, start)) return false;
      if (!room(8)) return false;
      bytesEnd();
      return true;
    case 3:
      put(34);
      if (!strBody(3, arg, start)) return false;
      if (!room(1)) return false;
      put(34);
      return true;
    case 4: {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      if (arg > <u64>(end - pos)) return fail(LENGTH_PAST_END, start);
      put(91);
      const n = <i32>arg;
      for (let i = 0; i < n; i++) {
        if (i) put(44);
        if (!json(depth + 1)) return false;
      }
      if (!room(1)) return false;
      put(93);
      return true;
    }
    case 5: {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      if (arg > <u64>(end - pos) >> 1) return fail(LENGTH_PAST_END, start);
      put(123);
      const n = <i32>arg;
      for (let i = 0; i < n; i++) {
        if (i) put(44);
        if (!pair(depth + 1)) return false;
      }
      if (!room(1)) return false;
      put(125);
      return true;
    }
    case 6: {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      if ((arg == 2 || arg == 3) && pos < end) {
        const b = load<u8>(pos);
        if (b >> 5 == 2 && (b & 31) != 31) {
          const s = pos;
          if (!head()) return false;
          if (hArg > <u64>(end - pos)) return fail(LENGTH_PAST_END, s);
          if (hArg <= <u64>BIG_MAX) {
            const n = <usize>hArg;
            const p = pos;
            pos += n;
            return bigOut(arg == 3, p, n);
          }
          pos = s; // too long for digits: convert like any other tag
        }
      }
      if (arg >= 21 && arg <= 23) {
        const saved = enc;
        enc = <i32>arg - 21;
        const ok = json(depth + 1);
        enc = saved;
        return ok;
      }
      return json(depth + 1);
    }
    default: {
      if (info < 20 || info == 22 || info == 23) putStr4(0x6c6c756e, 4); // null
      else if (info == 20) {
        putStr4(0x736c6166, 4); // fals
        put(101);
      } else if (info == 21) putStr4(0x65757274, 4); // true
      else if (info == 24) {
        if (arg < 32) return fail(INVALID, start);
        putStr4(0x6c6c756e, 4);
      } else if (info == 25) writeF64(halfToF64(<u32>arg));
      else if (info == 26) writeF64(<f64>reinterpret<f32>(<u32>arg));
      else writeF64(reinterpret<f64>(arg));
      return true;
    }
  }
}

/** One map entry: key (text as is, anything else as the string of its JSON text), ':', value. */
function pair(depth: i32): bool {
  if (pos >= end) return fail(TRUNCATED, end);
  const b = load<u8>(pos);
  if (b >= 0x60 && b < 0x78) {
    // Short definite text: the usual key, written without going through json().
    const start = pos;
    pos++;
    const n = <usize>(b - 0x60);
    if (n > end - pos) return fail(LENGTH_PAST_END, start);
    if (!room(n + 4)) return false;
    put(34);
    const p = pos;
    pos += n;
    if (!textOut(p, n)) return false;
    if (!room(2)) return false;
    put(34);
  } else if (b >> 5 == 3) {
    if (!json(depth)) return false;
  } else {
    if (!room(2)) return false;
    put(34);
    const ks = o;
    if (!json(depth)) return false;
    if (!escapeRegion(ks)) return false;
    if (!room(1)) return false;
    put(34);
  }
  if (!room(1)) return false;
  put(58);
  return json(depth);
}

/**
 * Transcodes the CBOR item in IN[0, len) to JSON in OUT. Returns the JSON length in bytes, or
 * -kind with the byte offset in cbor_err_at().
 */
export function cbor_to_json(len: i32, depth: i32): i32 {
  if (!begin(len, depth)) return -errKind;
  enc = ENC_B64URL;
  carry = 0;
  carryN = 0;
  if (!json(0)) return -errKind;
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
