// CBOR <-> JSON specifics: RFC 8949 6.1 conversions that the random tests rarely reach, JSON
// text errors with their kinds and offsets, and the gateway hot path shape.
import { deepEqual, equal, throws } from "node:assert/strict";
import {
  CborTag,
  cborToJson,
  type CoreError,
  decodeCbor,
  encodeCbor,
  jsonToCbor,
} from "../core-wasm/mod.ts";
import { hex, unhex } from "./core_cbor_model.ts";

const bytes = (...x: number[]) => Uint8Array.from(x);

Deno.test("6.1: byte strings as base64url, with tag 21/22/23 hints applied to nested bytes", () => {
  const b = bytes(0xfb, 0xff, 0xbf);
  equal(cborToJson(encodeCbor(b)), '"-_-_"');
  equal(cborToJson(encodeCbor(new CborTag(22, b))), '"+/+/"');
  equal(cborToJson(encodeCbor(new CborTag(22, bytes(1)))), '"AQ=="'); // base64 pads
  equal(cborToJson(encodeCbor(new CborTag(22, bytes(1, 2)))), '"AQI="');
  equal(cborToJson(encodeCbor(new CborTag(21, bytes(1)))), '"AQ"');
  equal(cborToJson(encodeCbor(new CborTag(23, [b, { k: b }]))), '["fbffbf",{"k":"fbffbf"}]');
  // The innermost hint wins, and the hint ends with its tag.
  equal(
    cborToJson(encodeCbor([new CborTag(23, [new CborTag(22, b), b]), b])),
    '[["+/+/","fbffbf"],"-_-_"]',
  );
  // Indefinite byte strings encode as one string across chunk boundaries.
  equal(cborToJson(unhex("5f41014102410343040506ff")), '"AQIDBAUG"');
  equal(cborToJson(unhex("d6" + "5f41014102ff")), '"AQI="');
});

Deno.test("6.1: non-string map keys become the JSON text of their value, as a string", () => {
  const m = new Map<unknown, unknown>([
    [1, "a"],
    [-2, "b"],
    [true, "c"],
    [null, "d"],
    [1.5, "e"],
    [bytes(1), "f"],
    [[1, "x"], "g"],
    [new Map([["q", '"\\']]), "h"],
  ]);
  const json = cborToJson(encodeCbor(m));
  equal(
    json,
    '{"1":"a","-2":"b","true":"c","null":"d","1.5":"e","\\"AQ\\"":"f","[1,\\"x\\"]":"g",' +
      '"{\\"q\\":\\"\\\\\\"\\\\\\\\\\"}":"h"}',
  );
  deepEqual(Object.keys(JSON.parse(json)), [
    "1",
    "-2",
    "true",
    "null",
    "1.5",
    '"AQ"',
    '[1,"x"]',
    '{"q":"\\"\\\\"}',
  ]);
});

Deno.test("6.1: integers of every width, bignums, floats, simple values", () => {
  const cases: [unknown, string][] = [
    [2n ** 64n - 1n, "18446744073709551615"],
    [-(2n ** 64n), "-18446744073709551616"],
    [2n ** 200n, (2n ** 200n).toString()],
    [-(2n ** 200n) - 5n, (-(2n ** 200n) - 5n).toString()],
    [-0, "0"],
    [2 ** 60, "1152921504606847000"],
    [1e21, "1e+21"],
    [1e-7, "1e-7"],
    [123e-9, "1.23e-7"],
    [0.000001, "0.000001"],
    [undefined, "null"],
  ];
  for (const [v, want] of cases) equal(cborToJson(encodeCbor(v)), want, String(v));
  // A bignum longer than 256 bytes keeps the generic tag rule: its bytes as base64url.
  const big = new Uint8Array(300).fill(0xab);
  const head = bytes(0xc2, 0x59, 0x01, 0x2c);
  const json = cborToJson(Uint8Array.from([...head, ...big]));
  equal(json.length, 2 + 400);
  // Leading zero bytes and empty bignums.
  equal(cborToJson(unhex("c243000001")), "1");
  equal(cborToJson(unhex("c240")), "0");
  equal(cborToJson(unhex("c340")), "-1");
  equal(decodeCbor(unhex("c340")), -1n);
});

Deno.test("text escapes follow JSON.stringify exactly, and invalid UTF-8 is refused", () => {
  let all = "";
  for (let c = 0; c < 0x80; c++) all += String.fromCharCode(c);
  all += "\u00e9\u2028\u{1f600}\uffff";
  equal(cborToJson(encodeCbor(all)), JSON.stringify(all));
  equal(cborToJson(encodeCbor({ [all]: all })), JSON.stringify({ [all]: all }));
  throws(() => cborToJson(unhex("a162c3286161")), { kind: "bad_utf8", offset: 2 });
  throws(() => decodeCbor(unhex("7f61617f")), { kind: "invalid", offset: 3 });
});

Deno.test("malformed JSON gives kind and byte offset", () => {
  const cases: [string, string, number][] = [
    ["", "truncated", 0],
    ["   ", "truncated", 3],
    ["[1,]", "invalid", 3],
    ["[1 2]", "invalid", 3],
    ['{"a" 1}', "invalid", 5],
    ["{1:2}", "invalid", 1],
    ['{"a":1,}', "invalid", 7],
    ["01", "invalid", 1],
    ["1.", "truncated", 2],
    ["1.e5", "invalid", 2],
    ["-", "truncated", 1],
    ["+1", "invalid", 0],
    ["1e", "truncated", 2],
    ["tru", "truncated", 3],
    ["nul1", "invalid", 3],
    ['"abc', "truncated", 4],
    ['"a\\x"', "invalid", 2],
    ['"\\u12G4"', "invalid", 5],
    ['"a\nb"', "invalid", 2],
    ["[1] x", "invalid", 4],
    ["NaN", "invalid", 0],
    ["[", "truncated", 1],
    ['{"é":1', "truncated", 7],
  ];
  for (const [text, kind, offset] of cases) {
    throws(() => jsonToCbor(text), (e: CoreError) => {
      equal(e.kind, kind, text);
      equal(e.offset, offset, text);
      return true;
    });
  }
});

Deno.test("gateway hot path: node CBOR to browser JSON and back", () => {
  const msg = { id: "node-42", temperature: 23.4, pressure: 1013.25, humidity: 45.1, led: 1 };
  const cbor = encodeCbor(msg);
  equal(hex(cbor), hex(jsonToCbor(JSON.stringify(msg))));
  const json = cborToJson(cbor);
  equal(json, JSON.stringify(msg));
  deepEqual(decodeCbor(cbor), msg);
  // Many calls in a row reuse the same WASM scratch without interfering.
  for (let i = 0; i < 1000; i++) {
    const m = { ...msg, temperature: i / 10, led: i & 1 };
    equal(cborToJson(encodeCbor(m)), JSON.stringify(m));
  }
});
