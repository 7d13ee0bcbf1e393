// Random valid MQTT-SN messages for property, differential and bench use, from a seeded PRNG
// so every failure is reproducible. Only the fields a type carries are set, as decode yields.
import type { MqttSnMessage, QoS } from "../../core-wasm/mqttsn.ts";

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

export const ALL_TYPES = [
  0x00,
  0x01,
  0x02,
  0x04,
  0x05,
  0x06,
  0x07,
  0x08,
  0x09,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0x0e,
  0x0f,
  0x10,
  0x12,
  0x13,
  0x14,
  0x15,
  0x16,
  0x17,
  0x18,
  0x1a,
  0x1b,
  0x1c,
  0x1d,
  0xfe,
];

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789/+#_-é°€";

export function randomMessage(r: () => number, maxVar = 40): MqttSnMessage {
  const int = (n: number) => Math.floor(r() * n);
  const u16 = () => int(65536);
  const u8 = () => int(256);
  const bool = () => r() < 0.5;
  const q = (): QoS => [0, 1, 2, -1][int(4)] as QoS;
  // Mostly short bodies, sometimes long enough to need the long header.
  const len = () => r() < 0.05 ? 250 + int(400) : int(maxVar);
  const bytes = () => {
    const b = new Uint8Array(len());
    for (let i = 0; i < b.length; i++) b[i] = u8();
    return b;
  };
  const text = (n = len()) => {
    let s = "";
    for (let i = 0; i < n; i++) s += ALPHABET[int(ALPHABET.length)];
    return s;
  };
  const short = () => "ab0xyz/"[int(7)] + "cd9+#/"[int(6)];
  const type = ALL_TYPES[int(ALL_TYPES.length)];
  switch (type) {
    case 0x00:
      return { type, gwId: u8(), duration: u16() };
    case 0x01:
      return { type, radius: u8() };
    case 0x02: {
      const gwAdd = bytes();
      return gwAdd.length ? { type, gwId: u8(), gwAdd } : { type, gwId: u8() };
    }
    case 0x04:
      return {
        type,
        will: bool(),
        cleanSession: bool(),
        protocolId: r() < 0.9 ? 1 : u8(),
        duration: u16(),
        clientId: text(),
      };
    case 0x05:
    case 0x1b:
    case 0x1d:
      return { type, returnCode: u8() };
    case 0x07:
    case 0x1a:
      return bool() ? { type, qos: q(), retain: bool(), willTopic: text() } : { type };
    case 0x09:
    case 0x1c:
      return { type, willMsg: bytes() };
    case 0x0a:
      return { type, topicId: u16(), msgId: u16(), topicName: text() };
    case 0x0b:
    case 0x0d:
      return { type, topicId: u16(), msgId: u16(), returnCode: u8() };
    case 0x0c:
      return {
        type,
        dup: bool(),
        qos: q(),
        retain: bool(),
        topicIdType: int(3) as 0 | 1 | 2,
        topicId: u16(),
        msgId: u16(),
        data: bytes(),
      };
    case 0x0e:
    case 0x0f:
    case 0x10:
    case 0x15:
      return { type, msgId: u16() };
    case 0x12:
    case 0x14: {
      const tt = int(3) as 0 | 1 | 2;
      const m: MqttSnMessage = type === 0x12
        ? { type, dup: bool(), qos: q(), topicIdType: tt, msgId: u16() }
        : { type, topicIdType: tt, msgId: u16() };
      if (tt === 1) m.topicId = u16();
      else m.topicName = tt === 2 ? short() : text();
      return m;
    }
    case 0x13:
      return { type, qos: q(), topicId: u16(), msgId: u16(), returnCode: u8() };
    case 0x16: {
      const id = text(int(24));
      return id ? { type, clientId: id } : { type };
    }
    case 0x18:
      return bool() ? { type, duration: u16() } : { type };
    case 0xfe: {
      const id = new Uint8Array(int(17));
      for (let i = 0; i < id.length; i++) id[i] = u8();
      // The inner message is opaque to the codec beyond its own header: a PINGREQ.
      const cid = new TextEncoder().encode(text(int(10)));
      const inner = new Uint8Array(2 + cid.length);
      inner[0] = inner.length;
      inner[1] = 0x16;
      inner.set(cid, 2);
      return { type, ctrl: int(4), nodeId: id, inner };
    }
    default:
      return { type };
  }
}

/** Hex string to bytes; whitespace ignored ("0C 04 04 01 003C ..."). */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
