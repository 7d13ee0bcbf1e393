// Typed binding of the MQTT-SN v1.2 codec in core-wasm/assembly/mqttsn.ts. WASM validates the
// framing and finds every field; this side only copies the datagram in and builds the flat
// MqttSnMessage from numbers and offsets (strings and byte fields are sliced from the caller's
// own bytes, so nothing is read back from WASM memory on decode).
import * as wasm from "./build/core.wasm";
import { CoreError, type CoreErrorKind } from "./errors.ts";

export const MqttSnType = {
  ADVERTISE: 0x00,
  SEARCHGW: 0x01,
  GWINFO: 0x02,
  CONNECT: 0x04,
  CONNACK: 0x05,
  WILLTOPICREQ: 0x06,
  WILLTOPIC: 0x07,
  WILLMSGREQ: 0x08,
  WILLMSG: 0x09,
  REGISTER: 0x0a,
  REGACK: 0x0b,
  PUBLISH: 0x0c,
  PUBACK: 0x0d,
  PUBCOMP: 0x0e,
  PUBREC: 0x0f,
  PUBREL: 0x10,
  SUBSCRIBE: 0x12,
  SUBACK: 0x13,
  UNSUBSCRIBE: 0x14,
  UNSUBACK: 0x15,
  PINGREQ: 0x16,
  PINGRESP: 0x17,
  DISCONNECT: 0x18,
  WILLTOPICUPD: 0x1a,
  WILLTOPICRESP: 0x1b,
  WILLMSGUPD: 0x1c,
  WILLMSGRESP: 0x1d,
  ENCAPSULATED: 0xfe,
} as const;

export const TopicIdType = { NORMAL: 0, PREDEFINED: 1, SHORT: 2 } as const;

/** Return codes [5.3.10]. */
export const MqttSnReturnCode = {
  ACCEPTED: 0,
  CONGESTION: 1,
  INVALID_TOPIC_ID: 2,
  NOT_SUPPORTED: 3,
} as const;

export type QoS = 0 | 1 | 2 | -1;

/** One flat shape; fields are present only for the message types that carry them. */
export interface MqttSnMessage {
  type: number;
  dup?: boolean;
  qos?: QoS;
  retain?: boolean;
  will?: boolean;
  cleanSession?: boolean;
  topicIdType?: 0 | 1 | 2;
  protocolId?: number;
  duration?: number;
  clientId?: string;
  gwId?: number;
  gwAdd?: Uint8Array;
  radius?: number;
  topicId?: number;
  msgId?: number;
  returnCode?: number;
  /** REGISTER, SUBSCRIBE/UNSUBSCRIBE by name or short name (2 characters). */
  topicName?: string;
  /** PUBLISH payload. */
  data?: Uint8Array;
  willTopic?: string;
  willMsg?: Uint8Array;
  /** ENCAPSULATED (forwarder): Ctrl octet, Wireless Node Id, and the whole inner message. */
  ctrl?: number;
  nodeId?: Uint8Array;
  inner?: Uint8Array;
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

const IN = wasm.mqttsn_in();
const OUT = wasm.mqttsn_out();
const RES = wasm.mqttsn_res() >>> 2;
const IO_SIZE = wasm.mqttsn_io_size();

// Views are re-taken when another module grows the shared memory (growth detaches them).
let mem = new Uint8Array(wasm.memory.buffer);
let res = new Int32Array(wasm.memory.buffer);
function views(): void {
  // A detached view has length 0: cheaper to test than fetching memory.buffer on every call.
  if (mem.byteLength === 0) {
    mem = new Uint8Array(wasm.memory.buffer);
    res = new Int32Array(wasm.memory.buffer);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Out = new TextEncoder();

function text(bytes: Uint8Array, off: number, len: number): string {
  // ASCII (checked by WASM while it framed the message) needs no UTF-8 decoder.
  if (len <= 64 && res[RES + 10] === 1) {
    return String.fromCharCode.apply(null, bytes.subarray(off, off + len) as unknown as number[]);
  }
  try {
    return utf8.decode(bytes.subarray(off, off + len));
  } catch {
    throw new CoreError("bad_utf8", off);
  }
}

function qosOf(flags: number): QoS {
  const q = (flags >> 5) & 3;
  return q === 3 ? -1 : q as QoS;
}

function kindError(code: number, offset: number, detail?: string): CoreError {
  return new CoreError(KINDS[code - 1] ?? "invalid", offset, detail);
}

/**
 * Decodes one MQTT-SN datagram (short or long header). Octets past Length are ignored; a Length
 * past the datagram or below the header, a reserved type or TopicIdType 3, a fixed-size body of
 * the wrong size, or a name that is not UTF-8 throw CoreError.
 */
export function decodeMqttSn(bytes: Uint8Array): MqttSnMessage {
  views();
  const n = bytes.length < IO_SIZE ? bytes.length : IO_SIZE;
  if (n <= 32) {
    // Acks and pings are a few octets: a plain loop costs a fraction of TypedArray.set's set-up.
    const m = mem;
    for (let i = 0; i < n; i++) m[IN + i] = bytes[i];
  } else {
    mem.set(n === bytes.length ? bytes : bytes.subarray(0, n), IN);
  }
  const t = wasm.mqttsn_decode(n);
  if (t < 0) throw kindError(-t, res[RES + 8]);
  const flags = res[RES + 1];
  const n1 = res[RES + 2];
  const n2 = res[RES + 3];
  const n3 = res[RES + 4];
  const vOff = res[RES + 5];
  const vLen = res[RES + 6];
  const opt = res[RES + 7];
  switch (t) {
    case 0x00:
      return { type: t, gwId: n1, duration: n2 };
    case 0x01:
      return { type: t, radius: n1 };
    case 0x02:
      return vLen > 0
        ? { type: t, gwId: n1, gwAdd: bytes.slice(vOff, vOff + vLen) }
        : { type: t, gwId: n1 };
    case 0x04:
      return {
        type: t,
        will: (flags & 0x08) !== 0,
        cleanSession: (flags & 0x04) !== 0,
        protocolId: n1,
        duration: n2,
        clientId: text(bytes, vOff, vLen),
      };
    case 0x05:
    case 0x1b:
    case 0x1d:
      return { type: t, returnCode: n1 };
    case 0x07:
    case 0x1a:
      return opt
        ? {
          type: t,
          qos: qosOf(flags),
          retain: (flags & 0x10) !== 0,
          willTopic: text(bytes, vOff, vLen),
        }
        : { type: t };
    case 0x09:
    case 0x1c:
      return { type: t, willMsg: bytes.slice(vOff, vOff + vLen) };
    case 0x0a:
      return { type: t, topicId: n1, msgId: n2, topicName: text(bytes, vOff, vLen) };
    case 0x0b:
    case 0x0d:
      return { type: t, topicId: n1, msgId: n2, returnCode: n3 };
    case 0x0c:
      return {
        type: t,
        dup: (flags & 0x80) !== 0,
        qos: qosOf(flags),
        retain: (flags & 0x10) !== 0,
        topicIdType: (flags & 3) as 0 | 1 | 2,
        topicId: n1,
        msgId: n2,
        data: bytes.slice(vOff, vOff + vLen),
      };
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      return { type: t, msgId: n1 };
    case 0x12:
    case 0x14: {
      const tt = (flags & 3) as 0 | 1 | 2;
      const m: MqttSnMessage = t === 0x12
        ? { type: t, dup: (flags & 0x80) !== 0, qos: qosOf(flags), topicIdType: tt, msgId: n1 }
        : { type: t, topicIdType: tt, msgId: n1 };
      if (tt === 1) m.topicId = n2;
      else m.topicName = text(bytes, vOff, vLen);
      return m;
    }
    case 0x13:
      return { type: t, qos: qosOf(flags), topicId: n1, msgId: n2, returnCode: n3 };
    case 0x16:
      return vLen > 0 ? { type: t, clientId: text(bytes, vOff, vLen) } : { type: t };
    case 0x18:
      return opt ? { type: t, duration: n1 } : { type: t };
    case 0xfe:
      return {
        type: t,
        ctrl: n1,
        nodeId: bytes.slice(vOff, vOff + vLen),
        inner: bytes.slice(n2, n2 + n3),
      };
    default: // WILLTOPICREQ, WILLMSGREQ, PINGRESP
      return { type: t };
  }
}

function num(v: number | undefined, max: number, field: string): number {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0 || x > max) {
    throw new CoreError("invalid", -1, `${field} out of range: ${v}`);
  }
  return x;
}

function qosBits(q: QoS | undefined): number {
  switch (q ?? 0) {
    case 0:
      return 0;
    case 1:
      return 0x20;
    case 2:
      return 0x40;
    case -1:
      return 0x60;
    default:
      throw new CoreError("invalid", -1, `qos ${q}`);
  }
}

function tidType(t: number | undefined): number {
  const x = t ?? 0;
  if (x !== 0 && x !== 1 && x !== 2) throw new CoreError("invalid", -1, `topicIdType ${t}`);
  return x;
}

/** Writes a string at IN + at; returns its UTF-8 length. */
function putText(s: string, at: number): number {
  if (at + s.length * 3 <= IO_SIZE) {
    return utf8Out.encodeInto(s, mem.subarray(IN + at, IN + IO_SIZE)).written;
  }
  return putBytes(utf8Out.encode(s), at);
}

function putBytes(b: Uint8Array, at: number): number {
  if (at + b.length > IO_SIZE) throw new CoreError("too_long", -1);
  mem.set(b, IN + at);
  return b.length;
}

/**
 * Encodes one message; the short header is used when the total is below 256 octets, the long
 * one otherwise. Fields a type does not carry are ignored; out-of-range numbers and a message
 * over 65535 octets throw CoreError. Returns a fresh copy.
 */
export function encodeMqttSn(msg: MqttSnMessage): Uint8Array {
  views();
  const t = msg.type;
  let flags = 0, n1 = 0, n2 = 0, n3 = 0, opt = 0, v = 0;
  switch (t) {
    case 0x00:
      n1 = num(msg.gwId, 255, "gwId");
      n2 = num(msg.duration, 65535, "duration");
      break;
    case 0x01:
      n1 = num(msg.radius, 255, "radius");
      break;
    case 0x02:
      n1 = num(msg.gwId, 255, "gwId");
      if (msg.gwAdd) v = putBytes(msg.gwAdd, 0);
      break;
    case 0x04:
      flags = (msg.will ? 0x08 : 0) | (msg.cleanSession ? 0x04 : 0);
      n1 = num(msg.protocolId ?? 1, 255, "protocolId");
      n2 = num(msg.duration, 65535, "duration");
      v = putText(msg.clientId ?? "", 0);
      break;
    case 0x05:
    case 0x1b:
    case 0x1d:
      n1 = num(msg.returnCode, 255, "returnCode");
      break;
    case 0x07:
    case 0x1a:
      if (msg.willTopic !== undefined) {
        opt = 1;
        flags = qosBits(msg.qos) | (msg.retain ? 0x10 : 0);
        v = putText(msg.willTopic, 0);
      }
      break;
    case 0x09:
    case 0x1c:
      if (msg.willMsg) v = putBytes(msg.willMsg, 0);
      break;
    case 0x0a:
      n1 = num(msg.topicId, 65535, "topicId");
      n2 = num(msg.msgId, 65535, "msgId");
      v = putText(msg.topicName ?? "", 0);
      break;
    case 0x0b:
    case 0x0d:
      n1 = num(msg.topicId, 65535, "topicId");
      n2 = num(msg.msgId, 65535, "msgId");
      n3 = num(msg.returnCode, 255, "returnCode");
      break;
    case 0x0c:
      flags = (msg.dup ? 0x80 : 0) | qosBits(msg.qos) | (msg.retain ? 0x10 : 0) |
        tidType(msg.topicIdType);
      n1 = num(msg.topicId, 65535, "topicId");
      n2 = num(msg.msgId, 65535, "msgId");
      if (msg.data) v = putBytes(msg.data, 0);
      break;
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      n1 = num(msg.msgId, 65535, "msgId");
      break;
    case 0x12:
    case 0x14: {
      const tt = tidType(msg.topicIdType);
      flags = tt | (t === 0x12 ? (msg.dup ? 0x80 : 0) | qosBits(msg.qos) : 0);
      n1 = num(msg.msgId, 65535, "msgId");
      if (tt === 1) n2 = num(msg.topicId, 65535, "topicId");
      else {
        v = putText(msg.topicName ?? "", 0);
        if (tt === 2 && v !== 2) throw new CoreError("invalid", -1, "short topic name is 2 octets");
      }
      break;
    }
    case 0x13:
      flags = qosBits(msg.qos);
      n1 = num(msg.topicId, 65535, "topicId");
      n2 = num(msg.msgId, 65535, "msgId");
      n3 = num(msg.returnCode, 255, "returnCode");
      break;
    case 0x16:
      if (msg.clientId) v = putText(msg.clientId, 0);
      break;
    case 0x18:
      if (msg.duration !== undefined) {
        opt = 1;
        n1 = num(msg.duration, 65535, "duration");
      }
      break;
    case 0xfe:
      n1 = num(msg.ctrl, 255, "ctrl");
      n2 = msg.nodeId ? putBytes(msg.nodeId, 0) : 0;
      v = n2 + (msg.inner ? putBytes(msg.inner, n2) : 0);
      break;
    case 0x06:
    case 0x08:
    case 0x17:
      break;
    default:
      throw new CoreError("reserved", -1, `message type ${t}`);
  }
  const len = wasm.mqttsn_encode(t, flags, n1, n2, n3, opt, v);
  if (len < 0) throw kindError(-len, -1);
  return mem.slice(OUT, OUT + len);
}
