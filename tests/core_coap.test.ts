// CoAP codec: RFC 7252 / 7641 / 7959 examples built from the RFC figures, every message-format
// error with its kind and offset, option helpers, and round-trip properties on random messages
// (also checked byte for byte against the plain-TS yardstick).
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  CoapType,
  codeToString,
  ContentFormat,
  CoreError,
  decodeBlock,
  decodeCoap,
  decodeUint,
  encodeBlock,
  encodeCoap,
  encodeCoapInto,
  encodeUint,
  getContentFormat,
  getObserve,
  getOption,
  getOptions,
  getUriPath,
  getUriQuery,
  newCoapPeek,
  peekCoap,
  peekCoapInto,
  peekPathIs,
  uriOptions,
} from "../core-wasm/mod.ts";
import { getSize1, getSize2 } from "../core-wasm/coap.ts";
import { decodeCoapTs, encodeCoapTs } from "../bench/yardstick/coap_ts.ts";

const te = new TextEncoder();
const td = new TextDecoder();
const bytes = (...parts: (number | string)[]) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...te.encode(p)] : [p]));

function kindOf(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof CoreError)) throw e;
    return `${e.kind}@${e.offset}`;
  }
}

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

// ---- RFC examples ----

Deno.test("RFC 7252 Appendix A figure 16: CON GET /temperature and its piggybacked 2.05", () => {
  const req = bytes(0x40, 0x01, 0x7d, 0x34, 0xbb, "temperature");
  const m = decodeCoap(req);
  equal(m.type, CoapType.CON);
  equal(m.code, CoapCode.GET);
  equal(m.messageId, 0x7d34);
  equal(m.token.length, 0);
  equal(getUriPath(m), "temperature");
  equal(m.payload.length, 0);
  deepEqual(encodeCoap(m), req);
  deepEqual(
    encodeCoap({
      type: CoapType.CON,
      code: CoapCode.GET,
      messageId: 0x7d34,
      token: new Uint8Array(0),
      options: uriOptions("/temperature"),
      payload: new Uint8Array(0),
    }),
    req,
  );

  const res = bytes(0x60, 0x45, 0x7d, 0x34, 0xff, "22.3 C");
  const r = decodeCoap(res);
  equal(r.type, CoapType.ACK);
  equal(codeToString(r.code), "2.05");
  equal(td.decode(r.payload), "22.3 C");
  deepEqual(encodeCoap(r), res);
});

Deno.test("RFC 7252 Appendix A figures 17-20: tokens, empty ACK, separate response, NON", () => {
  // Figure 17: token 0x20.
  const req = bytes(0x41, 0x01, 0x7d, 0x35, 0x20, 0xbb, "temperature");
  const m = decodeCoap(req);
  deepEqual([...m.token], [0x20]);
  equal(getUriPath(m), "temperature");
  // Figure 18: 4.04 Not Found with a text payload.
  const nf = decodeCoap(bytes(0x61, 0x84, 0x7d, 0x35, 0x20, 0xff, "Not found"));
  equal(codeToString(nf.code), "4.04");
  equal(nf.code, CoapCode.NOT_FOUND);
  // Figure 19: empty ACK, then the separate CON 2.05 with token 0x23bbb27c.
  const empty = decodeCoap(bytes(0x60, 0x00, 0x7d, 0x38));
  equal(empty.code, CoapCode.EMPTY);
  equal(empty.type, CoapType.ACK);
  deepEqual(encodeCoap(empty), bytes(0x60, 0x00, 0x7d, 0x38));
  const sep = decodeCoap(bytes(0x44, 0x45, 0xa5, 0x0e, 0x23, 0xbb, 0xb2, 0x7c, 0xff, "22.5 C"));
  deepEqual([...sep.token], [0x23, 0xbb, 0xb2, 0x7c]);
  equal(sep.type, CoapType.CON);
  // Figure 20: NON GET, NON 2.05 response.
  const non = decodeCoap(bytes(0x51, 0x45, 0xa1, 0x3f, 0x70, 0xff, "22.3 C"));
  equal(non.type, CoapType.NON);
  equal(td.decode(non.payload), "22.3 C");
});

Deno.test("RFC 7641 figure 2: GET /temperature with Observe 0, notifications with sequence", () => {
  // Observe (6) then Uri-Path (11): deltas 6 and 5.
  const reg = bytes(0x41, 0x01, 0x00, 0x01, 0x4a, 0x60, 0x5b, "temperature");
  const m = decodeCoap(reg);
  equal(getObserve(m), 0);
  equal(getUriPath(m), "temperature");
  deepEqual(
    encodeCoap({
      type: CoapType.CON,
      code: CoapCode.GET,
      messageId: 1,
      token: new Uint8Array([0x4a]),
      options: [...uriOptions("temperature"), { number: CoapOption.OBSERVE, value: encodeUint(0) }],
      payload: new Uint8Array(0),
    }),
    reg,
    "encode sorts Observe before Uri-Path",
  );
  // Notification: ACK 2.05, Observe 12, "22.9 Cel".
  const n1 = bytes(0x61, 0x45, 0x00, 0x01, 0x4a, 0x61, 0x0c, 0xff, "22.9 Cel");
  const d = decodeCoap(n1);
  equal(getObserve(d), 12);
  const peek = peekCoap(n1);
  ok(!(peek instanceof CoreError));
  equal(peek.observe, 12);
  equal(peek.payloadOffset, 8);
  // Observe 44 with Content-Format text/plain (0, zero-length value).
  const n2 = bytes(0x51, 0x45, 0x00, 0x02, 0x4a, 0x61, 0x2c, 0x60, 0xff, "23.5 Cel");
  const d2 = decodeCoap(n2);
  equal(getObserve(d2), 44);
  equal(getContentFormat(d2), ContentFormat.TEXT);
  const p2 = peekCoap(n2);
  ok(!(p2 instanceof CoreError));
  equal(p2.contentFormat, 0);
  equal(p2.optionCount, 2);
});

Deno.test("RFC 7959 figures 2 and 5: Block2 0/1/128, 2:2/0/128, Block1 with 2.31 Continue", () => {
  deepEqual(decodeBlock(new Uint8Array([0x0b])), { num: 0, more: true, szx: 3, size: 128 });
  deepEqual(decodeBlock(new Uint8Array([0x1b])), { num: 1, more: true, szx: 3, size: 128 });
  deepEqual(decodeBlock(new Uint8Array([0x23])), { num: 2, more: false, szx: 3, size: 128 });
  deepEqual(decodeBlock(new Uint8Array(0)), { num: 0, more: false, szx: 0, size: 16 });
  deepEqual(encodeBlock(0, true, 3), new Uint8Array([0x0b]));
  deepEqual(encodeBlock(2, false, 3), new Uint8Array([0x23]));
  deepEqual(encodeBlock(0, false, 0), new Uint8Array(0));
  // The 20-bit maximum takes 3 bytes.
  deepEqual(encodeBlock(0xfffff, true, 6), new Uint8Array([0xff, 0xff, 0xfe]));
  deepEqual(decodeBlock(new Uint8Array([0xff, 0xff, 0xfe])), {
    num: 0xfffff,
    more: true,
    szx: 6,
    size: 1024,
  });
  equal(kindOf(() => decodeBlock(new Uint8Array([0x0f]))), "reserved@0"); // SZX 7
  equal(kindOf(() => decodeBlock(new Uint8Array(4))), "too_long@3");
  equal(kindOf(() => encodeBlock(0x100000, false, 0)), "invalid@-1");
  equal(kindOf(() => encodeBlock(0, false, 7)), "invalid@-1");

  // Figure 5: CON PUT /options with Block1 0/1/128 and 128 bytes; ACK 2.31 Continue 0/1/128.
  const body = new Uint8Array(128).fill(0x61);
  const put: CoapMessage = {
    type: CoapType.CON,
    code: CoapCode.PUT,
    messageId: 1234,
    token: new Uint8Array(0),
    options: [
      { number: CoapOption.SIZE1, value: encodeUint(300) },
      { number: CoapOption.BLOCK1, value: encodeBlock(0, true, 3) },
      ...uriOptions("options"),
    ],
    payload: body,
  };
  const wire = encodeCoap(put);
  // Uri-Path (11, "options"), Block1 (27: delta 16 -> 13-form), Size1 (60: delta 33 -> 13-form).
  deepEqual(
    wire.subarray(0, 4 + 8 + 3 + 4),
    bytes(0x40, 0x03, 0x04, 0xd2, 0xb7, "options", 0xd1, 0x03, 0x0b, 0xd2, 0x14, 0x01, 0x2c),
  );
  const back = decodeCoap(wire);
  deepEqual(decodeBlock(getOption(back, CoapOption.BLOCK1)!), {
    num: 0,
    more: true,
    szx: 3,
    size: 128,
  });
  equal(getSize1(back), 300);
  equal(back.payload.length, 128);
  const cont = decodeCoap(bytes(0x60, CoapCode.CONTINUE, 0x04, 0xd2, 0xd1, 0x0e, 0x0b));
  equal(codeToString(cont.code), "2.31");
  equal(decodeBlock(getOption(cont, CoapOption.BLOCK1)!).more, true);
  // Size2 (28) right after Block2 (23): delta 5.
  const s2 = decodeCoap(bytes(0x60, 0x45, 0, 1, 0xd1, 0x0a, 0x0b, 0x52, 0x04, 0x00, 0xff, "x"));
  equal(getSize2(s2), 1024);
  equal(decodeBlock(getOption(s2, CoapOption.BLOCK2)!).size, 128);
});

Deno.test("extended delta/length forms: 13 and 14 at their boundaries", () => {
  const cases: [number, number][] = [
    [12, 12],
    [13, 13],
    [268, 268],
    [269, 269],
    [270, 1000],
    [65535, 65535 - 300],
  ];
  for (const [num, len] of cases) {
    const value = new Uint8Array(len).map((_, i) => i);
    const m: CoapMessage = {
      type: 0,
      code: 1,
      messageId: 9,
      token: new Uint8Array(0),
      options: [{ number: num, value }],
      payload: new Uint8Array(0),
    };
    const wire = encodeCoap(m);
    const dh = num < 13 ? num : num < 269 ? 13 : 14;
    const lh = len < 13 ? len : len < 269 ? 13 : 14;
    equal(wire[4], (dh << 4) | lh, `header byte for ${num}/${len}`);
    const d = decodeCoap(wire);
    equal(d.options[0].number, num);
    deepEqual(d.options[0].value, value);
    deepEqual(wire, encodeCoapTs(m));
  }
  // Request-Tag (292) after Uri-Path: delta 281 = 269 + 12 in the 14-form.
  const w = encodeCoap({
    type: 0,
    code: 2,
    messageId: 1,
    token: new Uint8Array(0),
    options: [{ number: CoapOption.REQUEST_TAG, value: new Uint8Array([7]) }, ...uriOptions("a")],
    payload: new Uint8Array(0),
  });
  deepEqual(w, bytes(0x40, 0x02, 0, 1, 0xb1, "a", 0xe1, 0x00, 0x0c, 0x07));
});

// ---- message format errors ----

Deno.test("message format errors are CoreErrors with kind and offset", () => {
  const cases: [string, Uint8Array, string][] = [
    ["empty input", bytes(), "truncated@0"],
    ["3-byte header", bytes(0x40, 1, 0), "truncated@3"],
    ["version 0", bytes(0x00, 1, 0, 0), "invalid@0"],
    ["version 2", bytes(0x80, 1, 0, 0), "invalid@0"],
    ["token length 9", bytes(0x49, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), "reserved@0"],
    ["token length 15", bytes(0x4f, 1, 0, 0), "reserved@0"],
    ["token past end", bytes(0x44, 1, 0, 0, 1, 2), "truncated@6"],
    ["empty message with token", bytes(0x41, 0, 0, 0, 1), "invalid@0"],
    ["empty message with bytes", bytes(0x40, 0, 0, 0, 0xff, 1), "invalid@4"],
    ["payload marker, no payload", bytes(0x40, 1, 0, 0, 0xff), "truncated@5"],
    ["marker after option, no payload", bytes(0x40, 1, 0, 0, 0xb1, "a", 0xff), "truncated@7"],
    ["option delta 15", bytes(0x40, 1, 0, 0, 0xf0), "bad_option_delta@4"],
    ["option length 15", bytes(0x40, 1, 0, 0, 0xbf), "reserved@4"],
    ["delta 13, missing ext byte", bytes(0x40, 1, 0, 0, 0xd0), "truncated@5"],
    ["delta 14, one ext byte", bytes(0x40, 1, 0, 0, 0xe0, 0), "truncated@6"],
    ["length 13, missing ext byte", bytes(0x40, 1, 0, 0, 0x1d), "truncated@5"],
    ["length 14, one ext byte", bytes(0x40, 1, 0, 0, 0x1e, 1), "truncated@6"],
    ["value past end", bytes(0x40, 1, 0, 0, 0xb3, "ab"), "length_past_end@4"],
    ["ext length past end", bytes(0x40, 1, 0, 0, 0x1d, 0x00, 1), "length_past_end@4"],
    [
      "option number over 65535",
      bytes(0x40, 1, 0, 0, 0xe0, 0xfe, 0xf2, 0x10),
      "bad_option_delta@7",
    ],
    ["first delta over 65535", bytes(0x40, 1, 0, 0, 0xe0, 0xff, 0xff), "bad_option_delta@4"],
    [
      "value past end after a NEED_MORE window",
      bytes(0x40, 1, 0, 0, ...new Array(30).fill(0x10), 0xb9, "ab"),
      "length_past_end@34",
    ],
  ];
  for (const [name, input, want] of cases) {
    equal(kindOf(() => decodeCoap(input)), want, name);
    equal(kindOf(() => decodeCoapTs(input)), want, `yardstick: ${name}`);
    const p = peekCoap(input);
    ok(p instanceof CoreError, name);
    equal(`${p.kind}@${p.offset}`, want, `peek: ${name}`);
  }
  equal(kindOf(() => decodeCoap(new Uint8Array(65537))), "too_long@65536");
});

Deno.test("peekCoap routes pyaiot's one-segment paths without decoding", () => {
  const post = (path: string) =>
    encodeCoap({
      type: CoapType.NON,
      code: CoapCode.POST,
      messageId: 7,
      token: bytes(1, 2, 3),
      options: [...uriOptions(path), { number: CoapOption.CONTENT_FORMAT, value: encodeUint(0) }],
      payload: bytes("temperature:21.4"),
    });
  const server = te.encode("server");
  const out = newCoapPeek();
  const wire = post("/server");
  ok(peekCoapInto(wire, out) === out);
  equal(out.uriPathCount, 1);
  equal(out.uriPathOffset, 4 + 3 + 1);
  equal(out.uriPathLength, 6);
  equal(out.contentFormat, 0);
  ok(peekPathIs(wire, out, server));
  ok(peekCoapInto(post("/alive"), out) === out);
  ok(!peekPathIs(post("/alive"), out, server));
  ok(peekCoapInto(post("/server/x"), out) === out);
  equal(out.uriPathCount, 2);
  ok(!peekPathIs(post("/server/x"), out, server));
  ok(peekCoapInto(post(""), out) === out);
  equal(out.uriPathOffset, -1);
  ok(!peekPathIs(post(""), out, server));
});

Deno.test("encode refuses what it cannot frame", () => {
  const base: CoapMessage = {
    type: 0,
    code: 1,
    messageId: 1,
    token: new Uint8Array(0),
    options: [],
    payload: new Uint8Array(0),
  };
  equal(kindOf(() => encodeCoap({ ...base, token: new Uint8Array(9) })), "too_long@-1");
  equal(kindOf(() => encodeCoap({ ...base, messageId: 0x10000 })), "invalid@-1");
  equal(kindOf(() => encodeCoap({ ...base, type: 4 })), "invalid@-1");
  equal(kindOf(() => encodeCoap({ ...base, code: 256 })), "invalid@-1");
  equal(kindOf(() => encodeCoap({ ...base, code: 1.5 })), "invalid@-1");
  equal(kindOf(() => encodeCoap({ ...base, messageId: -1 })), "invalid@-1");
  equal(kindOf(() => encodeCoap({ ...base, type: NaN })), "invalid@-1");
  equal(
    kindOf(() =>
      encodeCoap({
        ...base,
        options: [{ number: 11, value: bytes() }, { number: 2.5, value: bytes() }],
      })
    ),
    "invalid@1",
  );
  equal(kindOf(() => encodeCoap({ ...base, code: 0, payload: bytes(1) })), "invalid@-1");
  equal(
    kindOf(() => encodeCoap({ ...base, options: [{ number: 70000, value: bytes() }] })),
    "invalid@0",
  );
  equal(
    kindOf(() => encodeCoap({ ...base, options: [{ number: 1, value: new Uint8Array(70000) }] })),
    "too_long@-1",
  );
  const m = { ...base, payload: bytes("hello") };
  equal(kindOf(() => encodeCoapInto(m, new Uint8Array(5))), "too_long@5");
  const out = new Uint8Array(64);
  const n = encodeCoapInto(m, out);
  deepEqual(out.subarray(0, n), encodeCoap(m));
});

// ---- helpers ----

Deno.test("codes, options and uint helpers", () => {
  equal(codeToString(CoapCode.CONTENT), "2.05");
  equal(codeToString(CoapCode.GET), "0.01");
  equal(codeToString(CoapCode.REQUEST_ENTITY_INCOMPLETE), "4.08");
  equal(codeToString(CoapCode.REQUEST_ENTITY_TOO_LARGE), "4.13");
  equal(codeToString(CoapCode.PROXYING_NOT_SUPPORTED), "5.05");
  // Every named code is class << 5 | detail with a valid class.
  for (const [name, code] of Object.entries(CoapCode)) {
    ok([0, 2, 4, 5].includes(code >> 5), name);
  }
  deepEqual(encodeUint(0), new Uint8Array(0));
  deepEqual(encodeUint(255), new Uint8Array([255]));
  deepEqual(encodeUint(256), new Uint8Array([1, 0]));
  deepEqual(encodeUint(0xffffff), new Uint8Array([255, 255, 255]));
  deepEqual(encodeUint(2 ** 32), new Uint8Array([1, 0, 0, 0, 0]));
  equal(kindOf(() => encodeUint(-1)), "invalid@-1");
  equal(kindOf(() => encodeUint(1.5)), "invalid@-1");
  const rand = prng(7);
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(rand() * 2 ** (1 + Math.floor(rand() * 48)));
    equal(decodeUint(encodeUint(n)), n);
  }
  equal(decodeUint(new Uint8Array([0, 0, 5])), 5); // leading zeros tolerated

  const msg = {
    options: [
      ...uriOptions("/a/b/", ["x=1", "y"]),
      { number: CoapOption.CONTENT_FORMAT, value: encodeUint(ContentFormat.CBOR) },
    ],
  };
  deepEqual(msg.options.map((o) => o.number), [11, 11, 11, 15, 15, 12]);
  equal(getUriPath(msg), "a/b/"); // RFC 7252 6.4: a trailing slash is an empty last segment
  deepEqual(getUriQuery(msg), ["x=1", "y"]);
  equal(getContentFormat(msg), 60);
  equal(getObserve(msg), undefined);
  deepEqual(getOptions(msg, CoapOption.URI_PATH).map((v) => td.decode(v)), ["a", "b", ""]);
  equal(getOption(msg, CoapOption.ETAG), undefined);
  deepEqual(uriOptions("/"), []);
  deepEqual(uriOptions(""), []);
  equal(getUriPath({ options: uriOptions("température/x") }), "température/x");
  // Not UTF-8: total, with U+FFFD.
  equal(getUriPath({ options: [{ number: 11, value: new Uint8Array([0xff]) }] }), "\ufffd");
});

Deno.test("decoded fields are views of the input (documented aliasing)", () => {
  const wire = encodeCoap({
    type: 1,
    code: 2,
    messageId: 5,
    token: bytes(1, 2),
    options: uriOptions("server"),
    payload: bytes("v=1"),
  });
  const copy = wire.slice();
  const m = decodeCoap(copy);
  equal(m.payload.buffer, copy.buffer);
  copy[copy.length - 1] = 0x32;
  equal(td.decode(m.payload), "v=2");
  // encodeCoap results never overlap one another.
  const a = encodeCoap(m);
  const b = encodeCoap({ ...m, payload: bytes("zzz") });
  equal(td.decode(decodeCoap(a).payload), "v=2");
  equal(td.decode(decodeCoap(b).payload), "zzz");
});

// ---- properties ----

const INTERESTING_NUMBERS = [1, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 17, 20, 23, 27, 28, 35, 39, 60];
const INTERESTING_LENGTHS = [0, 1, 2, 12, 13, 14, 268, 269, 270];

function randomMessage(rand: () => number): CoapMessage {
  const int = (n: number) => Math.floor(rand() * n);
  const blob = (n: number) => new Uint8Array(n).map(() => int(256));
  const type = int(4);
  const messageId = int(0x10000);
  if (rand() < 0.05) {
    return { type, code: 0, messageId, token: blob(0), options: [], payload: blob(0) };
  }
  const options = [];
  const count = rand() < 0.1 ? int(40) : int(6);
  for (let i = 0; i < count; i++) {
    const r = rand();
    const number = r < 0.6
      ? INTERESTING_NUMBERS[int(INTERESTING_NUMBERS.length)]
      : r < 0.9
      ? int(1000)
      : int(0x10000);
    const len = rand() < 0.2 ? INTERESTING_LENGTHS[int(INTERESTING_LENGTHS.length)] : int(12);
    options.push({ number, value: blob(len) });
  }
  const plen = rand() < 0.3 ? 0 : rand() < 0.9 ? int(64) : int(2000);
  return { type, code: 1 + int(255), messageId, token: blob(int(9)), options, payload: blob(plen) };
}

Deno.test("round trip: decode(encode(m)) is m with options stably sorted (5000 messages)", () => {
  const rand = prng(0xc0a9);
  const scratch = new Uint8Array(70000);
  for (let i = 0; i < 5000; i++) {
    const m = randomMessage(rand);
    const wire = encodeCoap(m);
    const d = decodeCoap(wire);
    const sorted = m.options.map((o, k) => ({ o, k }))
      .sort((a, b) => a.o.number - b.o.number || a.k - b.k).map((x) => x.o);
    deepEqual(
      { ...d, token: [...d.token], payload: [...d.payload] },
      { ...m, options: sorted, token: [...m.token], payload: [...m.payload] },
      `message ${i}`,
    );
    // Same bytes as the yardstick, through encodeCoapInto, and back again.
    deepEqual(wire, encodeCoapTs(m), `yardstick bytes ${i}`);
    const n = encodeCoapInto(m, scratch);
    deepEqual(scratch.subarray(0, n), wire);
    deepEqual(encodeCoap(d), wire);
    const p = peekCoap(wire);
    ok(!(p instanceof CoreError));
    equal(p.optionCount, m.options.length);
    equal(p.tokenLength, m.token.length);
    equal(p.payloadOffset, wire.length - m.payload.length);
    const cf = getOption(d, CoapOption.CONTENT_FORMAT);
    equal(p.contentFormat, cf === undefined ? -1 : cf.length > 3 ? -2 : decodeUint(cf));
  }
});

Deno.test("decoding at a non-zero byteOffset and of messages with long option runs", () => {
  const rand = prng(99);
  for (let i = 0; i < 500; i++) {
    const m = randomMessage(rand);
    const wire = encodeCoap(m);
    const host = new Uint8Array(wire.length + 13);
    host.set(wire, 13);
    const view = host.subarray(13);
    deepEqual(encodeCoap(decodeCoap(view)), wire);
  }
  // 4096 options (the limit) decode; one more is refused as too_long.
  const many = (n: number) =>
    encodeCoap({
      type: 0,
      code: 1,
      messageId: 1,
      token: bytes(),
      options: Array.from({ length: n }, () => ({ number: 11, value: bytes() })),
      payload: bytes(),
    });
  equal(decodeCoap(many(4096)).options.length, 4096);
  equal(kindOf(() => encodeCoap(decodeCoap(many(4096)))), "ok");
  const big = new Uint8Array(4 + 4097).fill(0);
  big[0] = 0x40;
  big[1] = 1;
  equal(kindOf(() => decodeCoap(big)), "too_long@4100");
  const p = peekCoap(big);
  ok(!(p instanceof CoreError), "peek keeps no table, so it has no option limit");
  equal(p.optionCount, 4097);
});
