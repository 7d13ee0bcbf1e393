// MQTT-SN v1.2 framing (shared/spec/mqtt-sn-1.2.md). The stub runtime never frees, so all state
// lives in static scratch: the binding copies a datagram into IN, `mqttsn_decode` validates it
// and writes numbers and offsets into RES (no objects cross the boundary); for encoding the
// binding puts the variable field into IN and `mqttsn_encode` lays out the message into OUT.

// Room for the longest legal input: a 255-octet forwarder header plus a 65535-octet message.
const IO_SIZE: i32 = 65536 + 256;
const IN: usize = memory.data(IO_SIZE);
const OUT: usize = memory.data(IO_SIZE + 16);
// RES slots (i32): 0 type, 1 flags (-1 when the type has none), 2 n1, 3 n2, 4 n3,
// 5 varOff, 6 varLen, 7 opt (1 when an optional part is present), 8 error offset, 9 length used,
// 10 varField is ASCII.
const RES: usize = memory.data(64);

// Error kinds, in the order of CoreErrorKind in core-wasm/errors.ts (1-based).
const TRUNCATED: i32 = 1;
const RESERVED: i32 = 3;
const LENGTH_PAST_END: i32 = 4;
const TOO_LONG: i32 = 6;
const INVALID: i32 = 7;

export function mqttsn_in(): usize {
  return IN;
}
export function mqttsn_out(): usize {
  return OUT;
}
export function mqttsn_res(): usize {
  return RES;
}
export function mqttsn_io_size(): i32 {
  return IO_SIZE;
}

@inline function rd16(p: usize): i32 {
  return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1);
}
@inline function wr16(p: usize, v: i32): void {
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p + 1, <u8>v);
}
@inline function res(i: i32, v: i32): void {
  store<i32>(RES + (<usize>i << 2), v);
}
function fail(kind: i32, offset: i32): i32 {
  res(8, offset);
  return -kind;
}

// A fixed-size body: shorter is truncated, longer is invalid (no field could hold the rest).
@inline function fixed(blen: i32, want: i32, hdr: i32): i32 {
  if (blen < want) return fail(TRUNCATED, hdr + blen);
  if (blen > want) return fail(INVALID, hdr + want);
  return 0;
}

// Also records whether the field is pure ASCII, so the binding can build short names with
// String.fromCharCode instead of a TextDecoder call (several times faster for topic names).
function varField(off: i32, len: i32): void {
  res(5, off);
  res(6, len);
  let acc: u32 = 0;
  const p = IN + <usize>off;
  for (let i: i32 = 0; i < len; i++) acc |= <u32>load<u8>(p + <usize>i);
  res(10, acc < 0x80 ? 1 : 0);
}

/** Decodes the `len` octets in IN. Returns the type (>= 0) or -kind with the offset in RES[8]. */
export function mqttsn_decode(len: i32): i32 {
  if (len < 2) return fail(TRUNCATED, len);
  if (len > IO_SIZE) return fail(TOO_LONG, IO_SIZE);
  const first = <i32>load<u8>(IN);
  let hdr: i32 = 2;
  let total: i32 = first;
  if (first == 1) {
    if (len < 4) return fail(TRUNCATED, len);
    total = rd16(IN + 1);
    hdr = 4;
  } else if (first == 0) {
    return fail(INVALID, 0);
  }
  if (total < hdr) return fail(INVALID, 0);
  if (total > len) return fail(LENGTH_PAST_END, 0);
  const type = <i32>load<u8>(IN + <usize>hdr - 1);
  const b: usize = IN + <usize>hdr;
  const blen = total - hdr;
  res(0, type);
  res(1, -1);
  res(2, 0);
  res(3, 0);
  res(4, 0);
  res(5, 0);
  res(6, 0);
  res(7, 0);
  res(9, total);
  let e: i32 = 0;
  switch (type) {
    case 0x00: // ADVERTISE GwId Duration
      if ((e = fixed(blen, 3, hdr)) < 0) return e;
      res(2, load<u8>(b));
      res(3, rd16(b + 1));
      break;
    case 0x01: // SEARCHGW Radius
      if ((e = fixed(blen, 1, hdr)) < 0) return e;
      res(2, load<u8>(b));
      break;
    case 0x02: // GWINFO GwId [GwAdd]
      if (blen < 1) return fail(TRUNCATED, hdr);
      res(2, load<u8>(b));
      varField(hdr + 1, blen - 1);
      break;
    case 0x04: // CONNECT Flags ProtocolId Duration ClientId
      if (blen < 4) return fail(TRUNCATED, hdr + blen);
      res(1, load<u8>(b));
      res(2, load<u8>(b + 1));
      res(3, rd16(b + 2));
      varField(hdr + 4, blen - 4);
      break;
    case 0x05: // CONNACK, WILLTOPICRESP, WILLMSGRESP: ReturnCode
    case 0x1b:
    case 0x1d:
      if ((e = fixed(blen, 1, hdr)) < 0) return e;
      res(2, load<u8>(b));
      break;
    case 0x06: // WILLTOPICREQ, WILLMSGREQ, PINGRESP: no body
    case 0x08:
    case 0x17:
      if ((e = fixed(blen, 0, hdr)) < 0) return e;
      break;
    case 0x07: // WILLTOPIC, WILLTOPICUPD: empty form, or Flags WillTopic
    case 0x1a:
      if (blen > 0) {
        res(1, load<u8>(b));
        res(7, 1);
        varField(hdr + 1, blen - 1);
      }
      break;
    case 0x09: // WILLMSG, WILLMSGUPD: WillMsg
    case 0x1c:
      varField(hdr, blen);
      break;
    case 0x0a: // REGISTER TopicId MsgId TopicName
      if (blen < 4) return fail(TRUNCATED, hdr + blen);
      res(2, rd16(b));
      res(3, rd16(b + 2));
      varField(hdr + 4, blen - 4);
      break;
    case 0x0b: // REGACK, PUBACK: TopicId MsgId ReturnCode
    case 0x0d:
      if ((e = fixed(blen, 5, hdr)) < 0) return e;
      res(2, rd16(b));
      res(3, rd16(b + 2));
      res(4, load<u8>(b + 4));
      break;
    case 0x0c: { // PUBLISH Flags TopicId MsgId Data
      if (blen < 5) return fail(TRUNCATED, hdr + blen);
      const f = <i32>load<u8>(b);
      if ((f & 3) == 3) return fail(RESERVED, hdr);
      res(1, f);
      res(2, rd16(b + 1));
      res(3, rd16(b + 3));
      varField(hdr + 5, blen - 5);
      break;
    }
    case 0x0e: // PUBCOMP, PUBREC, PUBREL, UNSUBACK: MsgId
    case 0x0f:
    case 0x10:
    case 0x15:
      if ((e = fixed(blen, 2, hdr)) < 0) return e;
      res(2, rd16(b));
      break;
    case 0x12: // SUBSCRIBE, UNSUBSCRIBE: Flags MsgId then name / id / short name
    case 0x14: {
      if (blen < 3) return fail(TRUNCATED, hdr + blen);
      const f = <i32>load<u8>(b);
      const tt = f & 3;
      if (tt == 3) return fail(RESERVED, hdr);
      res(1, f);
      res(2, rd16(b + 1));
      if (tt == 1) {
        if ((e = fixed(blen, 5, hdr)) < 0) return e;
        res(3, rd16(b + 3));
      } else if (tt == 2) {
        if ((e = fixed(blen, 5, hdr)) < 0) return e;
        varField(hdr + 3, 2);
      } else {
        varField(hdr + 3, blen - 3);
      }
      break;
    }
    case 0x13: // SUBACK Flags TopicId MsgId ReturnCode
      if ((e = fixed(blen, 6, hdr)) < 0) return e;
      res(1, load<u8>(b));
      res(2, rd16(b + 1));
      res(3, rd16(b + 3));
      res(4, load<u8>(b + 5));
      break;
    case 0x16: // PINGREQ [ClientId]
      varField(hdr, blen);
      break;
    case 0x18: // DISCONNECT [Duration]
      if (blen == 2) {
        res(7, 1);
        res(2, rd16(b));
      } else if (blen != 0) {
        return fail(blen < 2 ? TRUNCATED : INVALID, hdr + (blen < 2 ? blen : 2));
      }
      break;
    case 0xfe: { // forwarder encapsulation: Ctrl NodeId, then a whole inner message
      if (blen < 1) return fail(TRUNCATED, hdr);
      res(2, load<u8>(b));
      varField(hdr + 1, blen - 1);
      const ib = IN + <usize>total;
      const avail = len - total;
      if (avail < 2) return fail(TRUNCATED, len);
      const f0 = <i32>load<u8>(ib);
      let ih: i32 = 2;
      let it: i32 = f0;
      if (f0 == 1) {
        if (avail < 4) return fail(TRUNCATED, len);
        it = rd16(ib + 1);
        ih = 4;
      } else if (f0 == 0) {
        return fail(INVALID, total);
      }
      if (it < ih) return fail(INVALID, total);
      if (it > avail) return fail(LENGTH_PAST_END, total);
      res(3, total);
      res(4, it);
      res(9, total + it);
      break;
    }
    default:
      return fail(RESERVED, hdr - 1);
  }
  return type;
}

/**
 * Lays out one message into OUT from numbers and the `varLen` octets the binding put in IN
 * (for ENCAPSULATED: node id then inner message, n2 = node id length). The per-type meaning of
 * n1..n3 mirrors the RES slots of decode. Returns the total length, or -kind.
 */
export function mqttsn_encode(
  type: i32,
  flags: i32,
  n1: i32,
  n2: i32,
  n3: i32,
  opt: i32,
  varLen: i32,
): i32 {
  if (varLen < 0 || varLen > IO_SIZE) return -TOO_LONG;
  if (type == 0xfe) {
    const h = 3 + n2;
    if (n2 < 0 || n2 > varLen || h > 255) return -TOO_LONG;
    store<u8>(OUT, <u8>h);
    store<u8>(OUT + 1, 0xfe);
    store<u8>(OUT + 2, <u8>n1);
    memory.copy(OUT + 3, IN, <usize>varLen);
    return 3 + varLen;
  }
  // Body size first, so the header form is known before writing.
  let fixedLen: i32 = 0;
  let useVar = true;
  switch (type) {
    case 0x00:
      fixedLen = 3;
      useVar = false;
      break;
    case 0x01:
    case 0x05:
    case 0x1b:
    case 0x1d:
      fixedLen = 1;
      useVar = false;
      break;
    case 0x02:
      fixedLen = 1;
      break;
    case 0x04:
      fixedLen = 4;
      break;
    case 0x06:
    case 0x08:
    case 0x17:
      useVar = false;
      break;
    case 0x07:
    case 0x1a:
      fixedLen = opt ? 1 : 0;
      useVar = opt != 0;
      break;
    case 0x09:
    case 0x1c:
    case 0x16:
      break;
    case 0x0a:
      fixedLen = 4;
      break;
    case 0x0b:
    case 0x0d:
      fixedLen = 5;
      useVar = false;
      break;
    case 0x0c:
      fixedLen = 5;
      break;
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      fixedLen = 2;
      useVar = false;
      break;
    case 0x12:
    case 0x14:
      if ((flags & 3) == 1) {
        fixedLen = 5;
        useVar = false;
      } else {
        fixedLen = 3;
      }
      break;
    case 0x13:
      fixedLen = 6;
      useVar = false;
      break;
    case 0x18:
      fixedLen = opt ? 2 : 0;
      useVar = false;
      break;
    default:
      return -RESERVED;
  }
  const vlen = useVar ? varLen : 0;
  let total = 2 + fixedLen + vlen;
  let p: usize = OUT;
  if (total > 255) {
    total += 2;
    if (total > 65535) return -TOO_LONG;
    store<u8>(p, 1);
    wr16(p + 1, total);
    store<u8>(p + 3, <u8>type);
    p += 4;
  } else {
    store<u8>(p, <u8>total);
    store<u8>(p + 1, <u8>type);
    p += 2;
  }
  switch (type) {
    case 0x00:
      store<u8>(p, <u8>n1);
      wr16(p + 1, n2);
      break;
    case 0x01:
    case 0x02:
    case 0x05:
    case 0x1b:
    case 0x1d:
      store<u8>(p, <u8>n1);
      break;
    case 0x04:
      store<u8>(p, <u8>flags);
      store<u8>(p + 1, <u8>n1);
      wr16(p + 2, n2);
      break;
    case 0x07:
    case 0x1a:
      if (opt) store<u8>(p, <u8>flags);
      break;
    case 0x0a:
      wr16(p, n1);
      wr16(p + 2, n2);
      break;
    case 0x0b:
    case 0x0d:
      wr16(p, n1);
      wr16(p + 2, n2);
      store<u8>(p + 4, <u8>n3);
      break;
    case 0x0c:
      store<u8>(p, <u8>flags);
      wr16(p + 1, n1);
      wr16(p + 3, n2);
      break;
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      wr16(p, n1);
      break;
    case 0x12:
    case 0x14:
      store<u8>(p, <u8>flags);
      wr16(p + 1, n1);
      if (!useVar) wr16(p + 3, n2);
      break;
    case 0x13:
      store<u8>(p, <u8>flags);
      wr16(p + 1, n1);
      wr16(p + 3, n2);
      store<u8>(p + 5, <u8>n3);
      break;
    case 0x18:
      if (opt) wr16(p, n1);
      break;
    default:
      break;
  }
  if (vlen > 0) memory.copy(p + <usize>fixedLen, IN, <usize>vlen);
  return total;
}
