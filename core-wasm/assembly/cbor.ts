// CBOR (RFC 8949) entry points of core-wasm. Every exported name starts with `cbor_`.
//
// decode: `cbor_decode(len, maxDepth)` checks the well-formedness of the CBOR item in IN and
// writes a token tape (16 bytes per data item, in document order) that the JS binding turns into
// values: numbers and offsets out, no objects made here. Strings stay in the caller's bytes.
// transcode: `cbor_to_json` / `cbor_from_json` (cbor_tojson.ts, json_tocbor.ts) go straight
// from bytes to bytes in OUT.
import {
  begin,
  DEPTH_CAP,
  end,
  errAt,
  errKind,
  fail,
  halfToF64,
  hArg,
  head,
  hInfo,
  hMajor,
  IN,
  IN_CAP,
  INVALID,
  LENGTH_PAST_END,
  maxDepth,
  OUT,
  OUT_CAP,
  pos,
  sawHigh,
  TAPE,
  TAPE_ITEMS,
  TOO_DEEP,
  TOO_LONG,
  TRUNCATED,
  validUtf8,
} from "./cbor_common";

export { cbor_to_json } from "./cbor_tojson";
export { cbor_from_json } from "./json_tocbor";

export function cbor_in(): usize {
  return IN;
}
export function cbor_out(): usize {
  return OUT;
}
export function cbor_tape(): usize {
  return TAPE;
}
export function cbor_in_cap(): i32 {
  return IN_CAP;
}
export function cbor_out_cap(): i32 {
  return OUT_CAP;
}
export function cbor_tape_items(): i32 {
  return TAPE_ITEMS;
}
export function cbor_depth_cap(): i32 {
  return DEPTH_CAP;
}
/** Byte offset of the last error (-1 if none). */
export function cbor_err_at(): i32 {
  return errAt;
}

// Tape entry: i32 kind (| ASCII_FLAG), i32 aux, 8-byte value (u64 or f64).
const K_UINT: i32 = 1; // value: n
const K_NINT: i32 = 2; // value: n, meaning -1 - n
const K_BYTES: i32 = 3; // aux: input offset, value: length
const K_TEXT: i32 = 4; // aux: input offset, value: length; ASCII_FLAG when all bytes < 0x80
const K_BYTES_INDEF: i32 = 5; // aux: chunk count; the chunks follow as K_BYTES
const K_TEXT_INDEF: i32 = 6; // aux: chunk count; the chunks follow as K_TEXT
const K_ARRAY: i32 = 7; // aux: item count; the items follow
const K_MAP: i32 = 8; // aux: pair count; key, value, key, value... follow
const K_TAG: i32 = 9; // value: tag number; the tagged item follows
const K_SIMPLE: i32 = 10; // aux: simple value (20 false, 21 true, 22 null, 23 undefined, ...)
const K_FLOAT: i32 = 11; // value: f64
const ASCII_FLAG: i32 = 0x100;

let tp: usize = 0;
let tend: usize = 0;

// @ts-ignore: decorator
@inline function emit(kind: i32, aux: i32, val: u64): bool {
  if (tp >= tend) return fail(TOO_LONG, pos);
  store<i32>(tp, kind);
  store<i32>(tp, aux, 4);
  store<u64>(tp, val, 8);
  tp += 16;
  return true;
}

/** A definite string of `len` bytes at pos (head already read); validates text. */
function str(major: i32, len: u64, start: usize): bool {
  if (len > <u64>(end - pos)) return fail(LENGTH_PAST_END, start);
  const n = <usize>len;
  let kind = K_BYTES;
  if (major == 3) {
    if (!validUtf8(pos, pos + n)) return false;
    kind = sawHigh ? K_TEXT : K_TEXT | ASCII_FLAG;
  }
  if (!emit(kind, <i32>(pos - IN), len)) return false;
  pos += n;
  return true;
}

function item(depth: i32): bool {
  const start = pos;
  if (!head()) return false;
  const major = hMajor;
  const info = hInfo;
  const arg = hArg;
  if (info == 31) {
    if (major == 2 || major == 3) {
      // Indefinite string: definite chunks of the same major type until break.
      const at = tp;
      if (!emit(major == 2 ? K_BYTES_INDEF : K_TEXT_INDEF, 0, 0)) return false;
      let count = 0;
      while (true) {
        if (pos >= end) return fail(TRUNCATED, end);
        if (load<u8>(pos) == 0xff) {
          pos++;
          break;
        }
        const cstart = pos;
        if (!head()) return false;
        if (hMajor != major || hInfo == 31) return fail(INVALID, cstart);
        if (!str(major, hArg, cstart)) return false;
        count++;
      }
      store<i32>(at, count, 4);
      return true;
    }
    if (major == 4 || major == 5) {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      const at = tp;
      if (!emit(major == 4 ? K_ARRAY : K_MAP, 0, 0)) return false;
      let count = 0;
      while (true) {
        if (pos >= end) return fail(TRUNCATED, end);
        if (load<u8>(pos) == 0xff) {
          pos++;
          break;
        }
        if (!item(depth + 1)) return false;
        if (major == 5 && !item(depth + 1)) return false;
        count++;
      }
      store<i32>(at, count, 4);
      return true;
    }
    // Indefinite length on an integer or tag, or a break where an item belongs.
    return fail(INVALID, start);
  }
  switch (major) {
    case 0:
      return emit(K_UINT, 0, arg);
    case 1:
      return emit(K_NINT, 0, arg);
    case 2:
    case 3:
      return str(major, arg, start);
    case 4: {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      // Every item takes at least one byte: a longer count cannot be real.
      if (arg > <u64>(end - pos)) return fail(LENGTH_PAST_END, start);
      if (!emit(K_ARRAY, <i32>arg, 0)) return false;
      const n = <i32>arg;
      for (let i = 0; i < n; i++) if (!item(depth + 1)) return false;
      return true;
    }
    case 5: {
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      if (arg > <u64>(end - pos) >> 1) return fail(LENGTH_PAST_END, start);
      if (!emit(K_MAP, <i32>arg, 0)) return false;
      const n = <i32>arg << 1;
      for (let i = 0; i < n; i++) if (!item(depth + 1)) return false;
      return true;
    }
    case 6:
      if (depth >= maxDepth) return fail(TOO_DEEP, start);
      if (!emit(K_TAG, 0, arg)) return false;
      return item(depth + 1);
    default: {
      // major 7
      if (info < 24) return emit(K_SIMPLE, info, 0);
      if (info == 24) {
        // Simple values 0..31 must use the one-byte form (RFC 8949 3.3).
        if (arg < 32) return fail(INVALID, start);
        return emit(K_SIMPLE, <i32>arg, 0);
      }
      let v: f64;
      if (info == 25) v = halfToF64(<u32>arg);
      else if (info == 26) v = <f64>reinterpret<f32>(<u32>arg);
      else v = reinterpret<f64>(arg);
      return emit(K_FLOAT, 0, reinterpret<u64>(v));
    }
  }
}

/**
 * Checks the one CBOR data item in IN[0, len) and writes its tape. Returns the number of tape
 * entries, or -kind with the byte offset in cbor_err_at().
 */
export function cbor_decode(len: i32, depth: i32): i32 {
  if (!begin(len, depth)) return -errKind;
  tp = TAPE;
  tend = TAPE + (<usize>TAPE_ITEMS << 4);
  if (!item(0)) return -errKind;
  if (pos != end) {
    fail(INVALID, pos); // trailing bytes after the item
    return -errKind;
  }
  return <i32>((tp - TAPE) >> 4);
}
