// MQTT-SN v1.2 codec: the spec appendix datagrams, header forms, hostile input, round-trip
// properties, a differential test against the plain-TS yardstick, and a bounded-memory fuzz.
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import * as wasm from "../core-wasm/build/core.wasm";
import {
  CoreError,
  decodeMqttSn,
  encodeMqttSn,
  type MqttSnMessage,
  MqttSnType as T,
} from "../core-wasm/mod.ts";
import { decodeMqttSnTs, encodeMqttSnTs } from "../bench/yardstick/mqttsn_ts.ts";
import { hex, prng, randomMessage, toHex } from "./helpers/mqttsn_gen.ts";

const te = new TextEncoder();

function kindOf(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof CoreError)) throw e;
    return `${e.kind}@${e.offset}`;
  }
}

Deno.test("appendix A datagrams decode to the annotated fields and re-encode byte for byte", () => {
  const cases: [string, MqttSnMessage][] = [
    ["0C 04 04 01 003C 736E2D737562", {
      type: T.CONNECT,
      will: false,
      cleanSession: true,
      protocolId: 1,
      duration: 60,
      clientId: "sn-sub",
    }],
    ["03 05 00", { type: T.CONNACK, returnCode: 0 }],
    ["0C 12 20 0001 736E2F74657374", {
      type: T.SUBSCRIBE,
      dup: false,
      qos: 1,
      topicIdType: 0,
      msgId: 1,
      topicName: "sn/test",
    }],
    ["0D 0A 0000 0001 736E2F74657374", {
      type: T.REGISTER,
      topicId: 0,
      msgId: 1,
      topicName: "sn/test",
    }],
    ["07 0B 0001 0001 00", { type: T.REGACK, topicId: 1, msgId: 1, returnCode: 0 }],
    ["14 0C 20 0001 0002 68656C6C6F2D736E2D716F7331", {
      type: T.PUBLISH,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: 0,
      topicId: 1,
      msgId: 2,
      data: te.encode("hello-sn-qos1"),
    }],
    ["07 0D 0000 0002 00", { type: T.PUBACK, topicId: 0, msgId: 2, returnCode: 0 }],
    ["17 0C 02 6162 0000 73686F72742D746F7069632D716F7330", {
      type: T.PUBLISH,
      dup: false,
      qos: 0,
      retain: false,
      topicIdType: 2,
      topicId: 0x6162,
      msgId: 0,
      data: te.encode("short-topic-qos0"),
    }],
    ["03 01 00", { type: T.SEARCHGW, radius: 0 }],
    ["03 02 01", { type: T.GWINFO, gwId: 1 }],
    ["08 13 20 0000 0001 00", { type: T.SUBACK, qos: 1, topicId: 0, msgId: 1, returnCode: 0 }],
    ["09 0C 61 0001 0000 6869", {
      type: T.PUBLISH,
      dup: false,
      qos: -1,
      retain: false,
      topicIdType: 1,
      topicId: 1,
      msgId: 0,
      data: te.encode("hi"),
    }],
    ["04 18 003C", { type: T.DISCONNECT, duration: 60 }],
    ["02 18", { type: T.DISCONNECT }],
    ["08 16 736E2D737562", { type: T.PINGREQ, clientId: "sn-sub" }],
    ["02 16", { type: T.PINGREQ }],
    ["02 17", { type: T.PINGRESP }],
    ["05 00 07 0384", { type: T.ADVERTISE, gwId: 7, duration: 900 }],
    ["02 06", { type: T.WILLTOPICREQ }],
    ["02 08", { type: T.WILLMSGREQ }],
    ["09 07 30 6C7374617465", { type: T.WILLTOPIC, qos: 1, retain: true, willTopic: "lstate" }],
    ["02 07", { type: T.WILLTOPIC }],
    ["07 09 6465616400", { type: T.WILLMSG, willMsg: hex("6465616400") }],
    ["06 1A 40 612F62", { type: T.WILLTOPICUPD, qos: 2, retain: false, willTopic: "a/b" }],
    ["04 1C 6F6B", { type: T.WILLMSGUPD, willMsg: te.encode("ok") }],
    ["03 1B 00", { type: T.WILLTOPICRESP, returnCode: 0 }],
    ["03 1D 03", { type: T.WILLMSGRESP, returnCode: 3 }],
    ["04 0F 0005", { type: T.PUBREC, msgId: 5 }],
    ["04 10 0005", { type: T.PUBREL, msgId: 5 }],
    ["04 0E 0005", { type: T.PUBCOMP, msgId: 5 }],
    ["07 12 A1 0009 0007", {
      type: T.SUBSCRIBE,
      dup: true,
      qos: 1,
      topicIdType: 1,
      msgId: 9,
      topicId: 7,
    }],
    ["07 14 02 000A 6162", { type: T.UNSUBSCRIBE, topicIdType: 2, msgId: 10, topicName: "ab" }],
    ["04 15 000A", { type: T.UNSUBACK, msgId: 10 }],
    // forwarder: header 3 + node id "N1", Ctrl radius 1, then a PINGREQ
    ["05 FE 01 4E31 02 16", {
      type: T.ENCAPSULATED,
      ctrl: 1,
      nodeId: te.encode("N1"),
      inner: hex("0216"),
    }],
  ];
  for (const [h, want] of cases) {
    const bytes = hex(h);
    deepEqual(decodeMqttSn(bytes), want, h);
    deepEqual(decodeMqttSnTs(bytes), want, `yardstick ${h}`);
    equal(toHex(encodeMqttSn(want)), toHex(bytes), `encode ${h}`);
    equal(toHex(encodeMqttSnTs(want)), toHex(bytes), `yardstick encode ${h}`);
  }
});

Deno.test("RSMB quirks: stray SUBACK flag bits are masked, PUBACK TopicId 0 decodes", () => {
  deepEqual(decodeMqttSn(hex("08 13 34 0001 0001 00")), {
    type: T.SUBACK,
    qos: 1,
    topicId: 1,
    msgId: 1,
    returnCode: 0,
  });
});

Deno.test("long header: used above 255 octets, accepted for any size", () => {
  const data = new Uint8Array(300).fill(0x41);
  const big = encodeMqttSn({ type: T.PUBLISH, qos: 1, topicId: 1, msgId: 2, data });
  equal(big.length, 309);
  equal(toHex(big.subarray(0, 4)), "0101350c");
  deepEqual(decodeMqttSn(big).data, data);
  // 255 total stays short; 256 needs the long form (258 with it)
  const at255 = encodeMqttSn({ type: T.PUBLISH, data: new Uint8Array(248) });
  equal(at255.length, 255);
  equal(at255[0], 255);
  const at256 = encodeMqttSn({ type: T.PUBLISH, data: new Uint8Array(249) });
  equal(at256.length, 258);
  equal(at256[0], 1);
  // long form of a tiny message
  deepEqual(decodeMqttSn(hex("01 0006 18 003C")), { type: T.DISCONNECT, duration: 60 });
  deepEqual(decodeMqttSn(hex("01 0005 01 00")), { type: T.SEARCHGW, radius: 0 });
  // forwarder header in the long form
  deepEqual(decodeMqttSn(hex("01 0006 FE 00 41 02 17")), {
    type: T.ENCAPSULATED,
    ctrl: 0,
    nodeId: te.encode("A"),
    inner: hex("0217"),
  });
});

Deno.test("framing errors: Length vs datagram, header, reserved values, fixed sizes, UTF-8", () => {
  const cases: [string, string][] = [
    ["", "truncated@0"],
    ["05", "truncated@1"],
    ["00 18", "invalid@0"], // first octet 0x00
    ["01 00", "truncated@2"], // long form needs 4 octets
    ["01 0003 18", "invalid@0"], // Length below the long header
    ["01 18", "truncated@2"], // 0x01 announces the long form
    ["04 18 00", "length_past_end@0"], // Length past the datagram
    ["03 03 00", "reserved@1"], // reserved type
    ["02 FF", "reserved@1"],
    ["02 19", "reserved@1"],
    ["07 0C 03 0001 0000", "reserved@2"], // TopicIdType 3
    ["05 12 03 0001", "reserved@2"],
    ["04 05 00 00", "invalid@3"], // CONNACK with an extra octet
    ["02 05", "truncated@2"],
    ["03 18 00", "truncated@3"], // DISCONNECT with a 1-octet duration
    ["06 0C 00 0001 00", "truncated@6"], // PUBLISH without the second MsgId octet
    ["06 12 02 0001 61", "truncated@6"], // short name of 1 octet
    ["08 0A 0000 0001 C328", "bad_utf8@6"], // topic name not UTF-8
    ["04 FE 00 41", "truncated@4"], // forwarder without inner message
    ["04 FE 00 41 05 16", "length_past_end@4"], // inner Length past the datagram
    ["04 FE 00 41 00 16", "invalid@4"],
  ];
  for (const [h, want] of cases) {
    equal(kindOf(() => decodeMqttSn(hex(h))), want, `wasm ${h}`);
    equal(kindOf(() => decodeMqttSnTs(hex(h))), want, `yardstick ${h}`);
  }
  // Octets past Length are ignored (emcute's rule).
  deepEqual(decodeMqttSn(hex("03 05 00 DEADBEEF")), { type: T.CONNACK, returnCode: 0 });
  deepEqual(decodeMqttSn(hex("05 FE 01 4E31 02 16 FFFF")).inner, hex("0216"));
  // encode refuses out-of-range fields, a wrong short name and oversize messages
  throws(() => encodeMqttSn({ type: T.PUBLISH, topicId: 70000 }), CoreError);
  throws(() => encodeMqttSn({ type: T.REGACK, returnCode: -1 }), CoreError);
  throws(() => encodeMqttSn({ type: T.SUBSCRIBE, topicIdType: 2, topicName: "abc" }), CoreError);
  throws(() => encodeMqttSn({ type: 0x03 }), CoreError);
  throws(() => encodeMqttSn({ type: T.PUBLISH, data: new Uint8Array(65530) }), CoreError);
  throws(() => encodeMqttSn({ type: T.ENCAPSULATED, nodeId: new Uint8Array(253) }), CoreError);
});

Deno.test("property: decode(encode(m)) == m for random messages of every type", () => {
  const r = prng(1);
  for (let i = 0; i < 20_000; i++) {
    const m = randomMessage(r);
    const bytes = encodeMqttSn(m);
    deepEqual(decodeMqttSn(bytes), m, toHex(bytes));
    if (m.type !== T.ENCAPSULATED) {
      ok(bytes[0] === 1 ? bytes.length > 255 : bytes.length === bytes[0]);
    }
  }
});

Deno.test("differential: WASM and the plain-TS yardstick agree on random messages and bytes", () => {
  const r = prng(2);
  for (let i = 0; i < 20_000; i++) {
    const m = randomMessage(r);
    const a = encodeMqttSn(m);
    equal(toHex(a), toHex(encodeMqttSnTs(m)));
    deepEqual(decodeMqttSnTs(a), decodeMqttSn(a));
  }
  // Random and mutated datagrams: same message or the same error kind at the same offset.
  const outcome = (f: () => MqttSnMessage) => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      return `${e.kind}@${e.offset}`;
    }
  };
  for (let i = 0; i < 30_000; i++) {
    const b = mutate(r, encodeMqttSn(randomMessage(r)));
    deepEqual(outcome(() => decodeMqttSn(b)), outcome(() => decodeMqttSnTs(b)), toHex(b));
  }
});

function mutate(r: () => number, src: Uint8Array): Uint8Array {
  const int = (n: number) => Math.floor(r() * n);
  let b = src.slice();
  const kind = int(5);
  if (kind === 0) {
    b = new Uint8Array(int(24));
    for (let i = 0; i < b.length; i++) b[i] = int(256);
  } else if (kind === 1) b = b.subarray(0, int(b.length + 1)); // truncate
  else if (kind === 2 && b.length) b[int(b.length)] = int(256); // flip an octet
  else if (kind === 3 && b.length) b[int(Math.min(2, b.length))] = int(256); // header/type
  else {
    const extra = new Uint8Array(b.length + 1 + int(8));
    extra.set(b);
    for (let i = b.length; i < extra.length; i++) extra[i] = int(256);
    b = extra;
  }
  return b;
}

Deno.test("fuzz: 1e6 random and mutated datagrams never trap and WASM memory stays put", () => {
  const r = prng(3);
  const seeds = Array.from({ length: 256 }, () => encodeMqttSn(randomMessage(r)));
  const before = wasm.memory.buffer.byteLength;
  let errors = 0;
  const big = new Uint8Array(70_000); // longer than any legal datagram
  for (let i = 0; i < 1_000_000; i++) {
    const b = i % 100_000 === 0 ? big : mutate(r, seeds[i & 255]);
    try {
      decodeMqttSn(b);
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      errors++;
    }
  }
  ok(errors > 100_000, `hostile inputs produce errors (${errors})`);
  equal(wasm.memory.buffer.byteLength, before);
});
