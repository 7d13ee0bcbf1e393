// Pure parts of the CoAP gateway fed with hostile input: Block1 reassembly (keyed by Request-Tag,
// not token), payload decoding, pyaiot payload parsing, link attributes to ResourceMeta, and the
// address book that maps /server posts to nodes.
import assert from "node:assert/strict";
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  CoapType,
  encodeBlock,
  encodeCbor,
  parseLinkFormat,
  uriOptions,
} from "../core-wasm/mod.ts";
import { Block1Assembler } from "../gateway/coap/blockwise.ts";
import { decodePayload } from "../gateway/coap/payload.ts";
import { AddressBook, parseAlive, parseServerPost } from "../gateway/coap/server.ts";
import { metaFromAttrs, resourcesFromLinks } from "../gateway/coap/discovery.ts";
import { dec, enc } from "./gateway_coap_harness.ts";

const peer = { hostname: "127.0.0.1", port: 40000 };

function block1(
  num: number,
  more: boolean,
  szx: number,
  body: Uint8Array,
  token = [num],
  tag?: number,
): CoapMessage {
  const options = [...uriOptions("server"), {
    number: CoapOption.BLOCK1,
    value: encodeBlock(num, more, szx),
  }];
  if (tag !== undefined) {
    options.push({ number: CoapOption.REQUEST_TAG, value: new Uint8Array([tag]) });
  }
  return {
    type: CoapType.CON,
    code: CoapCode.POST,
    messageId: num,
    token: new Uint8Array(token),
    options,
    payload: body,
  };
}

Deno.test("Block1: reassembles across changing tokens, keyed by Request-Tag", () => {
  const b = new Block1Assembler();
  const text = "temperature:" + "x".repeat(40); // 52 bytes in 16-byte blocks
  const bytes = enc(text);
  const parts = [0, 1, 2, 3].map((i) => bytes.subarray(i * 16, i * 16 + 16));
  const r0 = b.offer(block1(0, true, 0, parts[0], [9, 9], 1), peer);
  assert.equal(r0.kind, "continue");
  // An interleaved transfer with another Request-Tag does not disturb the first.
  assert.equal(b.offer(block1(0, true, 0, parts[0], [1], 2), peer).kind, "continue");
  assert.equal(b.offer(block1(1, true, 0, parts[1], [7], 1), peer).kind, "continue");
  assert.equal(b.offer(block1(2, true, 0, parts[2], [8], 1), peer).kind, "continue");
  const last = b.offer(block1(3, false, 0, parts[3], [6], 1), peer);
  assert.equal(last.kind, "whole");
  assert.equal(last.kind === "whole" && dec(last.payload), text);
  assert.equal(b.size, 1, "only the other tag's transfer is left");
});

Deno.test("Block1: out of order, wrong block size, oversized and unknown continuations are refused", () => {
  const b = new Block1Assembler({ maxBodyBytes: 40 });
  const sixteen = new Uint8Array(16);
  assert.deepEqual(b.offer(block1(2, true, 0, sixteen), peer), {
    kind: "error",
    code: CoapCode.REQUEST_ENTITY_INCOMPLETE,
  });
  b.offer(block1(0, true, 0, sixteen), peer);
  assert.deepEqual(b.offer(block1(2, true, 0, sixteen), peer), {
    kind: "error",
    code: CoapCode.REQUEST_ENTITY_INCOMPLETE,
  });
  b.offer(block1(0, true, 0, sixteen), peer);
  assert.deepEqual(b.offer(block1(1, true, 0, new Uint8Array(5)), peer), {
    kind: "error",
    code: CoapCode.BAD_REQUEST,
  });
  b.offer(block1(0, true, 0, sixteen), peer);
  b.offer(block1(1, true, 0, sixteen), peer);
  assert.deepEqual(b.offer(block1(2, true, 0, sixteen), peer), {
    kind: "error",
    code: CoapCode.REQUEST_ENTITY_TOO_LARGE,
  });
  // A Block1 value with the reserved SZX 7.
  const bad = block1(0, true, 0, sixteen);
  bad.options[bad.options.length - 1].value = new Uint8Array([0x0f]);
  assert.equal(b.offer(bad, peer).kind, "error");
  assert.equal(b.size, 0);
  // No Block1 at all: the body as it is.
  const plain = { ...block1(0, false, 0, enc("a:b")), options: uriOptions("server") };
  assert.equal(b.offer(plain, peer).kind, "whole");
});

Deno.test("Block1: bounded number of partial bodies", () => {
  const b = new Block1Assembler({ maxEntries: 10 });
  for (let i = 0; i < 100; i++) b.offer(block1(0, true, 0, new Uint8Array(16), [i], i), peer);
  assert.ok(b.size <= 10);
});

Deno.test("payload decoding: text, JSON, CBOR; hostile bytes refused", () => {
  assert.deepEqual(decodePayload(enc("23.4°C"), undefined), { ok: true, value: "23.4°C" });
  assert.deepEqual(
    decodePayload(enc("15ppm\0\0\0\0"), 0),
    { ok: true, value: "15ppm" },
    "NUL padding",
  );
  assert.deepEqual(decodePayload(enc('{"lat":1.5}'), 50), { ok: true, value: { lat: 1.5 } });
  assert.deepEqual(decodePayload(encodeCbor(23.5), 60), { ok: true, value: 23.5 });
  assert.deepEqual(decodePayload(encodeCbor({ a: [1, "x"] }), 60), {
    ok: true,
    value: { a: [1, "x"] },
  });
  assert.equal(decodePayload(new Uint8Array([0xff, 0xfe]), 0).ok, false, "invalid UTF-8");
  assert.equal(decodePayload(enc("{nope"), 50).ok, false);
  assert.equal(decodePayload(new Uint8Array([0x9f]), 60).ok, false, "truncated CBOR");
  assert.equal(
    decodePayload(new Uint8Array([0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 60).ok,
    false,
  );
  assert.equal(decodePayload(enc("x"), 42).ok, false, "octet streams are not values");
  // Deep nesting does not blow the stack.
  assert.equal(decodePayload(new Uint8Array(10_000).fill(0x81), 60).ok, false);
});

Deno.test("pyaiot payloads: /alive uid after the last ':', /server split at the first", () => {
  assert.deepEqual(parseAlive("Alive:1234"), { uid: "1234", reset: false });
  assert.deepEqual(parseAlive("reset:abc:def"), { uid: "def", reset: true });
  assert.deepEqual(parseAlive("Reset:x"), { uid: "x", reset: false }, "case-sensitive");
  assert.deepEqual(parseAlive("lonely"), { uid: "lonely", reset: false });
  assert.equal(parseAlive("alive:"), null);
  assert.deepEqual(parseServerPost("imu:[1:2]"), { resource: "imu", value: "[1:2]" });
  assert.deepEqual(parseServerPost("led:"), { resource: "led", value: "" });
  assert.equal(parseServerPost("nothing"), null);
});

Deno.test("link-format to resources and ResourceMeta", () => {
  const links = parseLinkFormat(
    '</.well-known/core>;ct=40,</temperature>;rt="temperature";if="core.s";ct="0 60";obs,' +
      '</a/b>;title="Nested",<coap://other/x>,</led>;ct=bogus,</temperature>;rt=dup,</>',
  );
  const r = resourcesFromLinks(links);
  assert.deepEqual(r.map((x) => x.endpoint), ["temperature", "a/b", "led"]);
  assert.deepEqual(r[0].meta, { rt: "temperature", if: "core.s", ct: 0, obs: true });
  assert.deepEqual(r[1].meta, { title: "Nested" });
  assert.deepEqual(r[2].meta, {});
  assert.deepEqual(metaFromAttrs({ ct: "60" }), { ct: 60 });
  assert.deepEqual(metaFromAttrs({ ct: "99999" }), {});
});

Deno.test("address book: endpoint first, address when unique, takeover and removal", () => {
  const book = new AddressBook();
  const a = { hostname: "10.0.0.1", port: 5683 }, b = { hostname: "10.0.0.1", port: 5684 };
  book.set("A", a);
  assert.equal(book.lookup({ hostname: "10.0.0.1", port: 9999 }), "A", "unique address");
  book.set("B", b);
  assert.equal(book.lookup(a), "A");
  assert.equal(book.lookup(b), "B");
  assert.equal(book.lookup({ hostname: "10.0.0.1", port: 9999 }), undefined, "ambiguous");
  // A rebooted board with a new uid on A's endpoint takes it over.
  book.set("C", a);
  assert.equal(book.lookup(a), "C");
  book.delete("A");
  assert.equal(book.lookup(a), "C", "removing the old owner keeps the new one");
  book.delete("C");
  book.delete("B");
  assert.equal(book.size, 0);
  assert.equal(book.lookup(b), undefined);
});
