// Differential tests against an independent CoAP codec, npm:coap-packet: it parses what we
// encode, we decode what it generates, and for the same message both produce the same bytes.
// coap-packet quirks handled here: options are named ("Uri-Path") or numeric strings for the
// ones it does not know; the type is three booleans; the code is a "c.dd" string; it sorts
// options itself (stable); it drops the payload of a 0.00 message and refuses packets over
// `maxLength` (1280 by default); it parses a payload marker with nothing after it as an empty
// payload (RFC 7252 calls that a format error, and so do we).
import { deepEqual, equal, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as coapPacket from "coap-packet";
import {
  type CoapMessage,
  type CoapOptionValue,
  codeToString,
  CoreError,
  decodeCoap,
  encodeCoap,
} from "../core-wasm/mod.ts";

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// coap-packet's option names (index.js OPTIONS_BY_NAME).
const NAMES: Record<number, string> = {
  1: "If-Match",
  3: "Uri-Host",
  4: "ETag",
  5: "If-None-Match",
  6: "Observe",
  7: "Uri-Port",
  8: "Location-Path",
  9: "OSCORE",
  11: "Uri-Path",
  12: "Content-Format",
  14: "Max-Age",
  15: "Uri-Query",
  16: "Hop-Limit",
  17: "Accept",
  19: "Q-Block1",
  20: "Location-Query",
  23: "Block2",
  27: "Block1",
  28: "Size2",
  31: "Q-Block2",
  35: "Proxy-Uri",
  39: "Proxy-Scheme",
  60: "Size1",
  258: "No-Response",
  2049: "OCF-Accept-Content-Format-Version",
  2053: "OCF-Content-Format-Version",
};
const NUMBERS = Object.fromEntries(Object.entries(NAMES).map(([n, s]) => [s, Number(n)]));
const numberOf = (name: string) => NUMBERS[name] ?? Number(name);
const nameOf = (n: number) => NAMES[n] ?? String(n);

interface Packet {
  code: string;
  confirmable: boolean;
  reset: boolean;
  ack: boolean;
  messageId: number;
  token: Buffer;
  options: { name: string; value: Buffer }[];
  payload: Buffer;
}

function typeOf(p: Packet): number {
  return p.confirmable ? 0 : p.ack ? 2 : p.reset ? 3 : 1;
}

function randomMessage(rand: () => number): CoapMessage {
  const int = (n: number) => Math.floor(rand() * n);
  const blob = (n: number) => new Uint8Array(n).map(() => int(256));
  const known = Object.keys(NAMES).map(Number);
  const options: CoapOptionValue[] = [];
  for (let i = int(8); i > 0; i--) {
    const number = rand() < 0.7 ? known[int(known.length)] : 1 + int(rand() < 0.5 ? 300 : 65535);
    const len = rand() < 0.1 ? [13, 268, 269, 300][int(4)] : int(13);
    options.push({ number, value: blob(len) });
  }
  return {
    type: int(4),
    code: 1 + int(255),
    messageId: int(0x10000),
    token: blob(int(9)),
    options,
    payload: blob(rand() < 0.3 ? 0 : int(200)),
  };
}

const sortStable = (o: CoapOptionValue[]) =>
  o.map((x, i) => ({ x, i })).sort((a, b) => a.x.number - b.x.number || a.i - b.i).map((y) => y.x);

Deno.test("coap-packet parses what encodeCoap produces (3000 random messages)", () => {
  const rand = prng(0x7252);
  for (let i = 0; i < 3000; i++) {
    const m = randomMessage(rand);
    const wire = encodeCoap(m);
    const p = coapPacket.parse(Buffer.from(wire)) as Packet;
    equal(p.code, codeToString(m.code), `code ${i}`);
    equal(typeOf(p), m.type, `type ${i}`);
    equal(p.messageId, m.messageId);
    deepEqual([...p.token], [...m.token]);
    deepEqual(
      p.options.map((o) => [numberOf(o.name), [...o.value]]),
      sortStable(m.options).map((o) => [o.number, [...o.value]]),
      `options ${i}`,
    );
    deepEqual([...p.payload], [...m.payload], `payload ${i}`);
  }
});

Deno.test("decodeCoap reads what coap-packet generates, and encodeCoap makes the same bytes", () => {
  const rand = prng(0x7959);
  for (let i = 0; i < 3000; i++) {
    const m = randomMessage(rand);
    const packet = {
      code: codeToString(m.code),
      confirmable: m.type === 0,
      ack: m.type === 2,
      reset: m.type === 3,
      messageId: m.messageId,
      token: Buffer.from(m.token),
      options: m.options.map((o) => ({ name: nameOf(o.number), value: Buffer.from(o.value) })),
      payload: Buffer.from(m.payload),
    };
    const theirs = new Uint8Array(coapPacket.generate(packet, 70000));
    const d = decodeCoap(theirs);
    equal(d.type, m.type);
    equal(d.code, m.code);
    equal(d.messageId, m.messageId);
    deepEqual([...d.token], [...m.token]);
    deepEqual(
      d.options.map((o) => [o.number, [...o.value]]),
      sortStable(m.options).map((o) => [o.number, [...o.value]]),
      `options ${i}`,
    );
    deepEqual([...d.payload], [...m.payload]);
    deepEqual(encodeCoap(m), theirs, `same bytes ${i}`);
  }
});

Deno.test("where both accept hand-made or mutated bytes, both read the same message", () => {
  const rand = prng(0x7641);
  let agreed = 0;
  for (let i = 0; i < 20000; i++) {
    const wire = encodeCoap(randomMessage(rand)).slice();
    // One to three random byte changes.
    for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
      wire[Math.floor(rand() * wire.length)] = Math.floor(rand() * 256);
    }
    let ours: CoapMessage | CoreError;
    try {
      ours = decodeCoap(wire);
    } catch (e) {
      ok(e instanceof CoreError);
      continue;
    }
    let theirs: Packet;
    try {
      theirs = coapPacket.parse(Buffer.from(wire)) as Packet;
    } catch {
      // coap-packet refuses fewer things; when it refuses, it must be for a reason we also
      // would have (we accepted, so this must not happen).
      throw new Error(`coap-packet refused bytes we accept: ${[...wire]}`);
    }
    equal(theirs.code, codeToString(ours.code));
    equal(typeOf(theirs), ours.type);
    deepEqual([...theirs.token], [...ours.token]);
    deepEqual(
      theirs.options.map((o) => [numberOf(o.name), [...o.value]]),
      ours.options.map((o) => [o.number, [...o.value]]),
    );
    deepEqual([...theirs.payload], [...ours.payload]);
    agreed++;
  }
  ok(agreed > 1000, `only ${agreed} mutated messages were valid`);
});
