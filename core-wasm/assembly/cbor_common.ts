// Shared state and primitives of the CBOR codec (RFC 8949) and its JSON transcoders.
// The stub runtime never frees, so nothing here allocates: every buffer is a static region,
// every cursor a module global. The JS binding writes input into IN and reads results out of
// OUT / TAPE through views on the WASM memory.

// Capacities. IN holds one whole message (CBOR or JSON text); OUT the transcoded result.
// Inputs larger than IN and outputs that would pass OUT fail with TOO_LONG, never overflow.
export const IN_CAP: i32 = 1 << 18; // 256 KiB
export const OUT_CAP: i32 = 1 << 18; // 256 KiB
// decodeCbor's token tape: 16 bytes per data item; every item takes at least one input byte.
export const TAPE_ITEMS: i32 = 1 << 16;
// Hard cap on nesting whatever the caller asks: recursion depth is WASM stack depth.
export const DEPTH_CAP: i32 = 1000;

// +16 slack: head() may load 8 bytes at once near the end of a full buffer.
export const IN: usize = memory.data(IN_CAP + 16, 16);
// +64 slack: scalar writers check room once per token, then write up to ~40 bytes.
export const OUT: usize = memory.data(OUT_CAP + 64, 16);
export const TAPE: usize = memory.data(TAPE_ITEMS << 4, 16);

// Error kinds, 1-based in the order of CoreErrorKind in core-wasm/errors.ts.
export const TRUNCATED: i32 = 1;
export const RESERVED: i32 = 3;
export const LENGTH_PAST_END: i32 = 4;
export const TOO_DEEP: i32 = 5;
export const TOO_LONG: i32 = 6;
export const INVALID: i32 = 7;
export const BAD_UTF8: i32 = 8;

// Cursor over IN and the current error (first one wins).
export let pos: usize = 0;
export let end: usize = 0;
export let errKind: i32 = 0;
export let errAt: i32 = -1;
export let maxDepth: i32 = 64;

// Output cursor over OUT.
export let o: usize = 0;
export let oend: usize = 0;

// The head last read by head(): major type, additional info, argument.
export let hMajor: i32 = 0;
export let hInfo: i32 = 0;
export let hArg: u64 = 0;

export function setPos(p: usize): void {
  pos = p;
}
export function setO(p: usize): void {
  o = p;
}

/** Starts a run over `len` input bytes; returns false (with TOO_LONG) if they cannot fit. */
export function begin(len: i32, depth: i32): bool {
  errKind = 0;
  errAt = -1;
  pos = IN;
  end = IN + <usize>max(len, 0);
  o = OUT;
  oend = OUT + <usize>OUT_CAP;
  maxDepth = depth < 0 ? 0 : depth > DEPTH_CAP ? DEPTH_CAP : depth;
  if (len > IN_CAP) {
    errKind = TOO_LONG;
    errAt = IN_CAP;
    return false;
  }
  return true;
}

/** Records the first error at absolute address `at`; always returns false. */
export function fail(kind: i32, at: usize): bool {
  if (!errKind) {
    errKind = kind;
    errAt = <i32>(at - IN);
  }
  return false;
}

/** Room for `n` more output bytes (plus the fixed slack), else TOO_LONG. */
// @ts-ignore: decorator
@inline export function room(n: usize): bool {
  if (o + n > oend) return fail(TOO_LONG, pos);
  return true;
}

/** Reads one CBOR head at pos: sets hMajor, hInfo, hArg. Info 31 is left for the caller. */
export function head(): bool {
  if (pos >= end) return fail(TRUNCATED, end);
  const b = <i32>load<u8>(pos);
  pos++;
  hMajor = b >> 5;
  const info = b & 31;
  hInfo = info;
  if (info < 24) {
    hArg = <u64>info;
    return true;
  }
  if (info < 28) {
    const n = <usize>1 << <usize>(info - 24);
    if (pos + n > end) return fail(TRUNCATED, end);
    if (info == 24) hArg = <u64>load<u8>(pos);
    else if (info == 25) hArg = <u64>bswap<u16>(load<u16>(pos));
    else if (info == 26) hArg = <u64>bswap<u32>(load<u32>(pos));
    else hArg = bswap<u64>(load<u64>(pos));
    pos += n;
    return true;
  }
  if (info == 31) {
    hArg = 0;
    return true;
  }
  return fail(RESERVED, pos - 1);
}

/** Is the byte at pos the "break" stop code? (caller checked pos < end) */
// @ts-ignore: decorator
@inline export function atBreak(): bool {
  return load<u8>(pos) == 0xff;
}

/**
 * Length of the valid multi-byte UTF-8 sequence at p (lead byte >= 0x80) within [p, e), or 0
 * (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
 */
export function utf8Seq(p: usize, e: usize): usize {
  const c = <u32>load<u8>(p);
  if (c < 0xc2) return 0;
  if (c < 0xe0) {
    if (p + 2 > e || (<u32>load<u8>(p + 1) & 0xc0) != 0x80) return 0;
    return 2;
  }
  if (c < 0xf0) {
    if (p + 3 > e) return 0;
    const b1 = <u32>load<u8>(p + 1);
    const lo: u32 = c == 0xe0 ? 0xa0 : 0x80;
    const hi: u32 = c == 0xed ? 0x9f : 0xbf;
    if (b1 < lo || b1 > hi || (<u32>load<u8>(p + 2) & 0xc0) != 0x80) return 0;
    return 3;
  }
  if (c < 0xf5) {
    if (p + 4 > e) return 0;
    const b1 = <u32>load<u8>(p + 1);
    const lo: u32 = c == 0xf0 ? 0x90 : 0x80;
    const hi: u32 = c == 0xf4 ? 0x8f : 0xbf;
    if (
      b1 < lo || b1 > hi || (<u32>load<u8>(p + 2) & 0xc0) != 0x80 ||
      (<u32>load<u8>(p + 3) & 0xc0) != 0x80
    ) return 0;
    return 4;
  }
  return 0;
}

// Set by validUtf8: whether the last validated run had any byte >= 0x80.
export let sawHigh: bool = false;

/** Validates UTF-8 in [p, e); records BAD_UTF8 at the first bad sequence. */
export function validUtf8(p: usize, e: usize): bool {
  sawHigh = false;
  while (p < e) {
    // Eight ASCII bytes at a time: the common case for keys and values from sensors.
    if (p + 8 <= e && (load<u64>(p) & 0x8080808080808080) == 0) {
      p += 8;
      continue;
    }
    if (load<u8>(p) < 0x80) {
      p++;
      continue;
    }
    sawHigh = true;
    const n = utf8Seq(p, e);
    if (!n) return fail(BAD_UTF8, p);
    p += n;
  }
  return true;
}

/** IEEE 754 half (binary16) bits to double, exactly. */
export function halfToF64(h: u32): f64 {
  const sign: u64 = <u64>(h & 0x8000) << 48;
  const e = (h >> 10) & 0x1f;
  const f = <u64>(h & 0x3ff);
  if (e == 0) {
    const v = <f64>f * 5.960464477539063e-8; // f * 2^-24, exact
    return sign ? -v : v;
  }
  if (e == 31) return reinterpret<f64>(sign | 0x7ff0000000000000 | (f << 42));
  return reinterpret<f64>(sign | (<u64>(e + 1008) << 52) | (f << 42));
}

/**
 * The binary16 bits of `v` when a half float holds it exactly, else -1. NaN maps to the
 * canonical quiet NaN 0x7e00 (preferred serialization does not keep NaN payloads).
 */
export function f64ToHalf(v: f64): i32 {
  const bits = reinterpret<u64>(v);
  const sign = <i32>(bits >> 48) & 0x8000;
  const exp = <i32>(bits >> 52) & 0x7ff;
  const mant = bits & 0xfffffffffffff;
  if (exp == 0x7ff) return mant == 0 ? sign | 0x7c00 : 0x7e00;
  if (exp == 0) return mant == 0 ? sign : -1;
  const e = exp - 1023;
  if (e >= -14 && e <= 15) {
    if (mant & 0x3ffffffffff) return -1;
    return sign | ((e + 15) << 10) | <i32>(mant >> 42);
  }
  if (e >= -24 && e < -14) {
    const shift = <u64>(28 - e); // value = full * 2^(e-52) = (full >> shift) * 2^-24
    const full = mant | 0x10000000000000;
    if (full & ((<u64>1 << shift) - 1)) return -1;
    return sign | <i32>(full >> shift);
  }
  return -1;
}
