// A straightforward plain-TypeScript MQTT-SN v1.2 codec, written independently of the WASM one
// from shared/spec/mqtt-sn-1.2.md. It is the yardstick the WASM codec is benchmarked against
// and the second implementation of the differential test: same message shape, same errors.
import { CoreError } from "../../core-wasm/errors.ts";
import type { MqttSnMessage, QoS } from "../../core-wasm/mqttsn.ts";

const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const enc = new TextEncoder();

function str(b: Uint8Array, start: number, end: number): string {
  try {
    return dec.decode(b.subarray(start, end));
  } catch {
    throw new CoreError("bad_utf8", start);
  }
}

function qos(f: number): QoS {
  const q = (f >> 5) & 3;
  return q === 3 ? -1 : q as QoS;
}

function exactly(bodyLen: number, want: number, hdr: number): void {
  if (bodyLen < want) throw new CoreError("truncated", hdr + bodyLen);
  if (bodyLen > want) throw new CoreError("invalid", hdr + want);
}

function atLeast(bodyLen: number, want: number, hdr: number): void {
  if (bodyLen < want) throw new CoreError("truncated", hdr + bodyLen);
}

/** Header: [headerLength, totalLength] of the message at `at`, validated against `end`. */
function header(b: Uint8Array, at: number, end: number): [number, number] {
  const avail = end - at;
  if (avail < 2) throw new CoreError("truncated", end);
  if (b[at] === 0) throw new CoreError("invalid", at);
  let hdr = 2;
  let total = b[at];
  if (b[at] === 1) {
    if (avail < 4) throw new CoreError("truncated", end);
    total = (b[at + 1] << 8) | b[at + 2];
    hdr = 4;
  }
  if (total < hdr) throw new CoreError("invalid", at);
  if (total > avail) throw new CoreError("length_past_end", at);
  return [hdr, total];
}

export function decodeMqttSnTs(b: Uint8Array): MqttSnMessage {
  const [h, total] = header(b, 0, b.length);
  const type = b[h - 1];
  const n = total - h; // body length
  const u16 = (i: number) => (b[h + i] << 8) | b[h + i + 1];
  switch (type) {
    case 0x00:
      exactly(n, 3, h);
      return { type, gwId: b[h], duration: u16(1) };
    case 0x01:
      exactly(n, 1, h);
      return { type, radius: b[h] };
    case 0x02:
      atLeast(n, 1, h);
      return n > 1 ? { type, gwId: b[h], gwAdd: b.slice(h + 1, total) } : { type, gwId: b[h] };
    case 0x04: {
      atLeast(n, 4, h);
      const f = b[h];
      return {
        type,
        will: (f & 0x08) !== 0,
        cleanSession: (f & 0x04) !== 0,
        protocolId: b[h + 1],
        duration: u16(2),
        clientId: str(b, h + 4, total),
      };
    }
    case 0x05:
    case 0x1b:
    case 0x1d:
      exactly(n, 1, h);
      return { type, returnCode: b[h] };
    case 0x06:
    case 0x08:
    case 0x17:
      exactly(n, 0, h);
      return { type };
    case 0x07:
    case 0x1a: {
      if (n === 0) return { type };
      const f = b[h];
      return { type, qos: qos(f), retain: (f & 0x10) !== 0, willTopic: str(b, h + 1, total) };
    }
    case 0x09:
    case 0x1c:
      return { type, willMsg: b.slice(h, total) };
    case 0x0a:
      atLeast(n, 4, h);
      return { type, topicId: u16(0), msgId: u16(2), topicName: str(b, h + 4, total) };
    case 0x0b:
    case 0x0d:
      exactly(n, 5, h);
      return { type, topicId: u16(0), msgId: u16(2), returnCode: b[h + 4] };
    case 0x0c: {
      atLeast(n, 5, h);
      const f = b[h];
      if ((f & 3) === 3) throw new CoreError("reserved", h);
      return {
        type,
        dup: (f & 0x80) !== 0,
        qos: qos(f),
        retain: (f & 0x10) !== 0,
        topicIdType: (f & 3) as 0 | 1 | 2,
        topicId: u16(1),
        msgId: u16(3),
        data: b.slice(h + 5, total),
      };
    }
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      exactly(n, 2, h);
      return { type, msgId: u16(0) };
    case 0x12:
    case 0x14: {
      atLeast(n, 3, h);
      const f = b[h];
      const tt = f & 3;
      if (tt === 3) throw new CoreError("reserved", h);
      const m: MqttSnMessage = type === 0x12
        ? { type, dup: (f & 0x80) !== 0, qos: qos(f), topicIdType: tt as 0 | 1 | 2, msgId: u16(1) }
        : { type, topicIdType: tt as 0 | 1 | 2, msgId: u16(1) };
      if (tt === 1) {
        exactly(n, 5, h);
        m.topicId = u16(3);
      } else {
        if (tt === 2) exactly(n, 5, h);
        m.topicName = str(b, h + 3, total);
      }
      return m;
    }
    case 0x13:
      exactly(n, 6, h);
      return { type, qos: qos(b[h]), topicId: u16(1), msgId: u16(3), returnCode: b[h + 5] };
    case 0x16:
      return n > 0 ? { type, clientId: str(b, h, total) } : { type };
    case 0x18:
      if (n === 0) return { type };
      exactly(n, 2, h);
      return { type, duration: u16(0) };
    case 0xfe: {
      atLeast(n, 1, h);
      const [, innerTotal] = header(b, total, b.length);
      return {
        type,
        ctrl: b[h],
        nodeId: b.slice(h + 1, total),
        inner: b.slice(total, total + innerTotal),
      };
    }
    default:
      throw new CoreError("reserved", h - 1);
  }
}

function u8(v: number | undefined): number {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0 || x > 255) throw new CoreError("invalid", -1);
  return x;
}
function u16(v: number | undefined): number[] {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0 || x > 65535) throw new CoreError("invalid", -1);
  return [x >> 8, x & 255];
}
function qosBits(q: QoS | undefined): number {
  return q === -1 ? 0x60 : q === 2 ? 0x40 : q === 1 ? 0x20 : 0;
}

export function encodeMqttSnTs(m: MqttSnMessage): Uint8Array {
  const t = m.type;
  let body: number[];
  let tail: Uint8Array = new Uint8Array(0);
  switch (t) {
    case 0x00:
      body = [u8(m.gwId), ...u16(m.duration)];
      break;
    case 0x01:
      body = [u8(m.radius)];
      break;
    case 0x02:
      body = [u8(m.gwId)];
      tail = m.gwAdd ?? tail;
      break;
    case 0x04:
      body = [
        (m.will ? 0x08 : 0) | (m.cleanSession ? 0x04 : 0),
        u8(m.protocolId ?? 1),
        ...u16(m.duration),
      ];
      tail = enc.encode(m.clientId ?? "");
      break;
    case 0x05:
    case 0x1b:
    case 0x1d:
      body = [u8(m.returnCode)];
      break;
    case 0x06:
    case 0x08:
    case 0x17:
      body = [];
      break;
    case 0x07:
    case 0x1a:
      if (m.willTopic === undefined) body = [];
      else {
        body = [qosBits(m.qos) | (m.retain ? 0x10 : 0)];
        tail = enc.encode(m.willTopic);
      }
      break;
    case 0x09:
    case 0x1c:
      body = [];
      tail = m.willMsg ?? tail;
      break;
    case 0x0a:
      body = [...u16(m.topicId), ...u16(m.msgId)];
      tail = enc.encode(m.topicName ?? "");
      break;
    case 0x0b:
    case 0x0d:
      body = [...u16(m.topicId), ...u16(m.msgId), u8(m.returnCode)];
      break;
    case 0x0c:
      body = [
        (m.dup ? 0x80 : 0) | qosBits(m.qos) | (m.retain ? 0x10 : 0) | (m.topicIdType ?? 0),
        ...u16(m.topicId),
        ...u16(m.msgId),
      ];
      tail = m.data ?? tail;
      break;
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      body = u16(m.msgId);
      break;
    case 0x12:
    case 0x14: {
      const tt = m.topicIdType ?? 0;
      const f = t === 0x12 ? (m.dup ? 0x80 : 0) | qosBits(m.qos) | tt : tt;
      body = [f, ...u16(m.msgId)];
      if (tt === 1) body.push(...u16(m.topicId));
      else tail = enc.encode(m.topicName ?? "");
      if (tt === 2 && tail.length !== 2) throw new CoreError("invalid", -1);
      break;
    }
    case 0x13:
      body = [qosBits(m.qos), ...u16(m.topicId), ...u16(m.msgId), u8(m.returnCode)];
      break;
    case 0x16:
      body = [];
      tail = m.clientId ? enc.encode(m.clientId) : tail;
      break;
    case 0x18:
      body = m.duration === undefined ? [] : u16(m.duration);
      break;
    case 0xfe: {
      const id = m.nodeId ?? new Uint8Array(0);
      const inner = m.inner ?? new Uint8Array(0);
      if (id.length > 252) throw new CoreError("too_long", -1);
      const out = new Uint8Array(3 + id.length + inner.length);
      out[0] = 3 + id.length;
      out[1] = 0xfe;
      out[2] = u8(m.ctrl);
      out.set(id, 3);
      out.set(inner, 3 + id.length);
      return out;
    }
    default:
      throw new CoreError("reserved", -1);
  }
  let total = 2 + body.length + tail.length;
  const long = total > 255;
  if (long) total += 2;
  if (total > 65535) throw new CoreError("too_long", -1);
  const out = new Uint8Array(total);
  let p = 0;
  if (long) {
    out[0] = 1;
    out[1] = total >> 8;
    out[2] = total & 255;
    p = 3;
  } else {
    out[0] = total;
    p = 1;
  }
  out[p++] = t;
  out.set(body, p);
  out.set(tail, p + body.length);
  return out;
}
