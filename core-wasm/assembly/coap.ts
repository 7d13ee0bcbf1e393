// CoAP (RFC 7252) message framing. The stub runtime never frees, so nothing here allocates: the
// binding (core-wasm/coap.ts) copies a datagram into IN, `coap_decode` validates it and writes
// numbers and offsets (header fields into RES, one [number, offset, length] triple per option
// into OPT); no object crosses the boundary. For encoding the binding writes the token and the
// option values into IN and the option table into OPT, and `coap_encode` sorts the table
// (stable: repeated options keep their order), computes the deltas with the 13/14 extended
// forms and lays out header + token + options (+ payload marker) into OUT. The payload never
// enters WASM memory: the binding copies it straight from the caller into the result.

// Room for the largest UDP datagram (65507 octets) with margin.
const IO_SIZE: i32 = 65536;
const IN: usize = memory.data(IO_SIZE, 16);
const OUT: usize = memory.data(IO_SIZE + 16, 16);
// More options than this in one message is hostile input, not CoAP: refused as too_long.
const MAX_OPTIONS: i32 = 4096;
const OPT: usize = memory.data(MAX_OPTIONS * 12, 16);
// RES slots (i32): 0 type, 1 code, 2 message id, 3 token length, 4 option count,
// 5 payload offset (== length when no payload), 6 error offset, 7 Content-Format, 8 Observe
// (7 and 8: the first such option; -1 when absent, -2 when longer than 3 octets, which no
// valid value is), 9 offset and 10 length of the first Uri-Path value (-1, 0 when none),
// 11 number of Uri-Path options.
const RES: usize = memory.data(64, 16);

// Error kinds, in the order of CoreErrorKind in core-wasm/errors.ts (1-based).
const TRUNCATED: i32 = 1;
const BAD_OPTION_DELTA: i32 = 2;
const RESERVED: i32 = 3;
const LENGTH_PAST_END: i32 = 4;
const TOO_LONG: i32 = 6;
const INVALID: i32 = 7;
// Not an error: coap_decode needs more of the message copied into IN.
const NEED_MORE: i32 = -100;

export function coap_in(): usize {
  return IN;
}
export function coap_out(): usize {
  return OUT;
}
export function coap_opt(): usize {
  return OPT;
}
export function coap_res(): usize {
  return RES;
}
export function coap_io_size(): i32 {
  return IO_SIZE;
}
export function coap_max_options(): i32 {
  return MAX_OPTIONS;
}
export function coap_need_more(): i32 {
  return NEED_MORE;
}

@inline function rd16(p: usize): i32 {
  return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1);
}
@inline function res(i: i32, v: i32): void {
  store<i32>(RES + (<usize>i << 2), v);
}
function fail(kind: i32, offset: i32): i32 {
  res(6, offset);
  return -kind;
}
// Small unsigned option value (Content-Format, Observe): -2 when longer than 3 octets.
@inline function smallUint(p: usize, l: i32): i32 {
  if (l > 3) return -2;
  let v: i32 = 0;
  for (let i: i32 = 0; i < l; i++) v = (v << 8) | <i32>load<u8>(p + <usize>i);
  return v;
}

/**
 * Validates a `len`-octet message of which the first `avail` octets are in IN. With `table` != 0
 * it also fills OPT (offsets relative to the message start). Returns the option count (>= 0),
 * -kind with the error offset in RES[6], or NEED_MORE when it has to read past `avail`: the
 * binding copies only a prefix first, so a payload (never read here) is never copied in.
 */
export function coap_decode(len: i32, avail: i32, table: i32): i32 {
  if (len < 4) return fail(TRUNCATED, len);
  if (len > IO_SIZE) return fail(TOO_LONG, IO_SIZE);
  if (avail > len) avail = len;
  if (avail < 4) return NEED_MORE;
  const b0 = <i32>load<u8>(IN);
  if ((b0 >> 6) != 1) return fail(INVALID, 0); // unknown version: RFC 7252 3
  const tkl = b0 & 15;
  if (tkl > 8) return fail(RESERVED, 0); // token lengths 9-15 are reserved
  const code = <i32>load<u8>(IN + 1);
  res(0, (b0 >> 4) & 3);
  res(1, code);
  res(2, rd16(IN + 2));
  res(3, tkl);
  res(7, -1);
  res(8, -1);
  res(9, -1);
  res(10, 0);
  res(11, 0);
  if (code == 0) {
    // An Empty message is exactly the 4-byte header (RFC 7252 4.1).
    if (tkl != 0) return fail(INVALID, 0);
    if (len != 4) return fail(INVALID, 4);
    res(4, 0);
    res(5, 4);
    return 0;
  }
  let p: i32 = 4 + tkl;
  if (p > len) return fail(TRUNCATED, len);
  let num: i32 = 0;
  let n: i32 = 0;
  let payload: i32 = len;
  let cf: i32 = -1;
  let obs: i32 = -1;
  let pathOff: i32 = -1;
  let pathLen: i32 = 0;
  let pathCount: i32 = 0;
  while (p < len) {
    const start = p;
    // Header and extended fields take at most 5 octets; Content-Format/Observe values are read.
    if (p + 5 > avail && avail < len) return NEED_MORE;
    const b = <i32>load<u8>(IN + <usize>p);
    if (b == 0xff) {
      // A marker followed by nothing is a message format error (RFC 7252 3).
      if (p + 1 == len) return fail(TRUNCATED, len);
      payload = p + 1;
      break;
    }
    let d = b >> 4;
    let l = b & 15;
    p++;
    if (d == 13) {
      if (p >= len) return fail(TRUNCATED, len);
      d = <i32>load<u8>(IN + <usize>p) + 13;
      p++;
    } else if (d == 14) {
      if (p + 2 > len) return fail(TRUNCATED, len);
      d = rd16(IN + <usize>p) + 269;
      p += 2;
    } else if (d == 15) {
      return fail(BAD_OPTION_DELTA, start);
    }
    if (l == 13) {
      if (p >= len) return fail(TRUNCATED, len);
      l = <i32>load<u8>(IN + <usize>p) + 13;
      p++;
    } else if (l == 14) {
      if (p + 2 > len) return fail(TRUNCATED, len);
      l = rd16(IN + <usize>p) + 269;
      p += 2;
    } else if (l == 15) {
      return fail(RESERVED, start);
    }
    const first = d != 0 || n == 0; // the first of a run of repeated options
    num += d;
    if (num > 0xffff) return fail(BAD_OPTION_DELTA, start); // option numbers are 16-bit
    if (l > len - p) return fail(LENGTH_PAST_END, start);
    if (table != 0) {
      if (n >= MAX_OPTIONS) return fail(TOO_LONG, start);
      const e = OPT + <usize>(n * 12);
      store<i32>(e, num);
      store<i32>(e, p, 4);
      store<i32>(e, l, 8);
    }
    if (num == 11) {
      if (pathCount == 0) {
        pathOff = p;
        pathLen = l;
      }
      pathCount++;
    } else if ((num == 12 || num == 6) && first) {
      if (p + (l < 3 ? l : 3) > avail) return NEED_MORE;
      if (num == 12) cf = smallUint(IN + <usize>p, l);
      else obs = smallUint(IN + <usize>p, l);
    }
    n++;
    p += l;
  }
  res(4, n);
  res(5, payload);
  res(7, cf);
  res(8, obs);
  res(9, pathOff);
  res(10, pathLen);
  res(11, pathCount);
  return n;
}

/**
 * Lays out a message into OUT from the token (IN[0..tkl]) and `nopts` option entries in OPT
 * ([number, offset into IN, length]). Returns the length of header + token + options, plus one
 * for the payload marker when `payloadLen` > 0, or -kind with the error offset in RES[6]
 * (the index of the offending option, or -1).
 */
export function coap_encode(type: i32, code: i32, mid: i32, tkl: i32, nopts: i32, payloadLen: i32): i32 {
  if (<u32>type > 3 || <u32>code > 255 || <u32>mid > 0xffff) return fail(INVALID, -1);
  if (<u32>tkl > 8) return fail(TOO_LONG, -1);
  if (<u32>nopts > <u32>MAX_OPTIONS) return fail(TOO_LONG, -1);
  if (payloadLen < 0) return fail(INVALID, -1);
  if (code == 0 && (tkl != 0 || nopts != 0 || payloadLen != 0)) return fail(INVALID, -1);
  // Stable insertion sort by option number: linear on the usual already-sorted table.
  for (let i: i32 = 1; i < nopts; i++) {
    const e = OPT + <usize>(i * 12);
    const key = load<i32>(e);
    if (load<i32>(e - 12) <= key) continue;
    const off = load<i32>(e, 4);
    const l = load<i32>(e, 8);
    let j = i - 1;
    while (j >= 0 && load<i32>(OPT + <usize>(j * 12)) > key) {
      const s = OPT + <usize>(j * 12);
      store<i32>(s + 12, load<i32>(s));
      store<i32>(s + 12, load<i32>(s, 4), 4);
      store<i32>(s + 12, load<i32>(s, 8), 8);
      j--;
    }
    const d = OPT + <usize>((j + 1) * 12);
    store<i32>(d, key);
    store<i32>(d, off, 4);
    store<i32>(d, l, 8);
  }
  store<u8>(OUT, <u8>((1 << 6) | (type << 4) | tkl));
  store<u8>(OUT + 1, <u8>code);
  store<u8>(OUT + 2, <u8>(mid >> 8));
  store<u8>(OUT + 3, <u8>mid);
  let p: i32 = 4;
  for (let i: i32 = 0; i < tkl; i++) store<u8>(OUT + <usize>(p + i), load<u8>(IN + <usize>i));
  p += tkl;
  let prev: i32 = 0;
  for (let i: i32 = 0; i < nopts; i++) {
    const e = OPT + <usize>(i * 12);
    const num = load<i32>(e);
    const off = load<i32>(e, 4);
    const l = load<i32>(e, 8);
    if (<u32>num > 0xffff) return fail(INVALID, i);
    if (<u32>l > <u32>(0xffff + 269) || <u32>off > <u32>IO_SIZE || l > IO_SIZE - off) return fail(TOO_LONG, i);
    const d = num - prev;
    prev = num;
    if (p + 5 + l > IO_SIZE) return fail(TOO_LONG, i);
    const dh = d < 13 ? d : d < 269 ? 13 : 14;
    const lh = l < 13 ? l : l < 269 ? 13 : 14;
    store<u8>(OUT + <usize>p, <u8>((dh << 4) | lh));
    p++;
    if (dh == 13) {
      store<u8>(OUT + <usize>p, <u8>(d - 13));
      p++;
    } else if (dh == 14) {
      store<u8>(OUT + <usize>p, <u8>((d - 269) >> 8));
      store<u8>(OUT + <usize>p + 1, <u8>(d - 269));
      p += 2;
    }
    if (lh == 13) {
      store<u8>(OUT + <usize>p, <u8>(l - 13));
      p++;
    } else if (lh == 14) {
      store<u8>(OUT + <usize>p, <u8>((l - 269) >> 8));
      store<u8>(OUT + <usize>p + 1, <u8>(l - 269));
      p += 2;
    }
    if (l < 16) {
      for (let k: i32 = 0; k < l; k++) {
        store<u8>(OUT + <usize>(p + k), load<u8>(IN + <usize>(off + k)));
      }
    } else {
      memory.copy(OUT + <usize>p, IN + <usize>off, <usize>l);
    }
    p += l;
  }
  if (payloadLen > 0) {
    if (p + 1 > IO_SIZE) return fail(TOO_LONG, -1);
    store<u8>(OUT + <usize>p, 0xff);
    p++;
  }
  return p;
}
