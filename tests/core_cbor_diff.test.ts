// Property and differential tests of the CBOR codec against npm:cbor2 (an independent
// implementation) and a plain-JS RFC 8949 6.1 reference, on seeded random values.
import { deepEqual, equal } from "node:assert/strict";
import { decode as cbor2Decode, encode as cbor2Encode } from "cbor2";
import { cborToJson, decodeCbor, encodeCbor, jsonToCbor } from "../core-wasm/mod.ts";
import { fromCbor2, Gen, hex, prng, refJson, sloppy, toCbor2 } from "./core_cbor_model.ts";

const N = 3000;

/** JSON.parse keeping integer literals past 2^53 exact (up to 64 bits), as jsonToCbor does. */
function parseExact(text: string): unknown {
  // deno-lint-ignore no-explicit-any
  return JSON.parse(text, (_k, value, ctx?: any) => {
    if (typeof value === "number" && !Number.isSafeInteger(value) && ctx?.source) {
      const src: string = ctx.source;
      if (/^-?\d+$/.test(src)) {
        const b = BigInt(src);
        if (b >= -(1n << 64n) && b < 1n << 64n) return b;
      }
    }
    return value;
  });
}

Deno.test("encodeCbor equals cbor2's preferred serialization on random values", () => {
  const g = new Gen(prng(1));
  for (let i = 0; i < N; i++) {
    const v = g.value();
    equal(hex(encodeCbor(v)), hex(cbor2Encode(toCbor2(v))), refJson(v));
  }
});

Deno.test("decodeCbor(encodeCbor(v)) is v, and agrees with cbor2's decoding", () => {
  const g = new Gen(prng(2));
  for (let i = 0; i < N; i++) {
    const v = g.value();
    const bytes = encodeCbor(v);
    const mine = decodeCbor(bytes);
    deepEqual(mine, v);
    deepEqual(mine, fromCbor2(cbor2Decode(bytes, { ignoreGlobalTags: true })));
  }
});

Deno.test("non-preferred and indefinite-length encodings decode like cbor2 and to the value", () => {
  const g = new Gen(prng(3));
  for (let i = 0; i < N; i++) {
    const v = g.value();
    const bytes = sloppy(v, g);
    const mine = decodeCbor(bytes);
    deepEqual(mine, v, hex(bytes));
    deepEqual(mine, fromCbor2(cbor2Decode(bytes, { ignoreGlobalTags: true })), hex(bytes));
    // Decoding then encoding gives the preferred form, as cbor2 does.
    equal(hex(encodeCbor(mine)), hex(cbor2Encode(toCbor2(v))));
  }
});

Deno.test("cborToJson matches the section 6.1 reference, preferred and sloppy encodings", () => {
  const g = new Gen(prng(4));
  for (let i = 0; i < N; i++) {
    const v = g.value();
    const want = refJson(v);
    equal(cborToJson(encodeCbor(v)), want);
    const s = sloppy(v, g);
    equal(cborToJson(s), want, hex(s));
  }
});

Deno.test("cborToJson of cbor2-encoded values matches JSON.stringify of cbor2's decoding", () => {
  // Values JSON holds natively: the 6.1 rules reduce to JSON.stringify.
  const g = new Gen(prng(5));
  const plain = (d: number): unknown => {
    const k = g.int(d > 0 ? 6 : 4);
    if (k === 0) return g.number();
    if (k === 1) return g.string();
    if (k === 2) return g.pick([true, false, null]);
    if (k === 3) return g.int(100000) - 50000;
    if (k === 4) return Array.from({ length: g.int(5) }, () => plain(d - 1));
    return Object.fromEntries(Array.from({ length: g.int(5) }, () => [g.key(), plain(d - 1)]));
  };
  for (let i = 0; i < N; i++) {
    const v = plain(4);
    const bytes = cbor2Encode(v);
    equal(cborToJson(bytes), JSON.stringify(cbor2Decode(bytes)));
  }
});

Deno.test("jsonToCbor(text) equals encodeCbor(JSON.parse(text)) (64-bit integers exact)", () => {
  const g = new Gen(prng(6));
  for (let i = 0; i < N; i++) {
    const text = refJson(g.value());
    const want = parseExact(text);
    deepEqual(decodeCbor(jsonToCbor(text)), want, text);
    // Byte equality too, unless JSON.parse reordered integer-like keys ("1") of an object.
    if (!/"\d+":/.test(text)) equal(hex(jsonToCbor(text)), hex(encodeCbor(want)), text);
    // And back: the same text, unless integers past 64 bits became doubles on the way.
    const back = cborToJson(jsonToCbor(text));
    deepEqual(parseExact(back), want);
    if (!/\d{20}/.test(text)) equal(back, text);
  }
});

Deno.test("jsonToCbor handles JSON layout: whitespace, escapes, exponents, surrogates", () => {
  const g = new Gen(prng(7));
  for (let i = 0; i < 500; i++) {
    const v = JSON.parse(refJson(g.value()));
    const text = JSON.stringify(v, null, g.pick([0, 1, "\t", " \r\n "]));
    equal(hex(jsonToCbor(text)), hex(encodeCbor(parseExact(text))), text); // parsed order
  }
  const cases = [
    '"\\u0041\\u00e9\\u6c34\\ud83d\\ude00\\/\\b\\f\\n\\r\\t"',
    '"\\ud800"', // lone surrogates become U+FFFD, as TextEncoder makes them
    '"\\udc00x"',
    '"\\ud800\\u0041"',
    "[1E3, 1e-3, 2.5E+2, -0, -0.0, 0.1e1, 123456789012345678901234567890, 1e400, -1e400, 5e-324]",
    "[1.7976931348623157e308, 4.9406564584124654e-324, 2.2250738585072011e-308, 9007199254740993]",
    '{"a":{"b":{"c":[[[]]]}},"":""}',
  ];
  for (const text of cases) equal(hex(jsonToCbor(text)), hex(encodeCbor(parseExact(text))), text);
});

Deno.test("doubles print like JavaScript and parse correctly rounded (random bit patterns)", () => {
  const rnd = prng(8);
  const dv = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 20000; i++) {
    dv.setUint32(0, (rnd() * 2 ** 32) >>> 0);
    dv.setUint32(4, (rnd() * 2 ** 32) >>> 0);
    let v = dv.getFloat64(0);
    if (i % 3 === 1) v = Math.fround(v);
    if (!Number.isFinite(v)) continue;
    equal(cborToJson(encodeCbor(v)), JSON.stringify(v));
    for (const text of [String(v), v.toExponential(i % 22), v.toPrecision(1 + (i % 21))]) {
      const back = decodeCbor(jsonToCbor(text));
      const want = parseExact(text);
      if (typeof want === "number") equal(Object.is(back, want), true, `${text} -> ${back}`);
    }
  }
});

Deno.test("short decimals and exact binary fractions print like JavaScript (fast paths)", () => {
  const rnd = prng(9);
  for (let i = 0; i < 40000; i++) {
    const digits = 1 + Math.floor(rnd() * 17);
    const mant = Math.floor(rnd() * 10 ** digits);
    const exp = Math.floor(rnd() * 40) - 25;
    const sign = rnd() < 0.5 ? -1 : 1;
    const values = [
      sign * Number(`${mant}e${exp}`), // short decimal
      sign * mant / 2 ** Math.floor(rnd() * 24), // exact binary fraction
      Math.fround(sign * Number(`${mant}e${exp % 10}`)), // float32 widened to double
    ];
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      equal(cborToJson(encodeCbor(v)), JSON.stringify(v));
      equal(cborToJson(encodeCbor([v, -v])), JSON.stringify([v, -v]));
    }
  }
});

Deno.test("results of encodeCbor and jsonToCbor stay intact across later calls", () => {
  const g = new Gen(prng(10));
  const kept: [Uint8Array, string][] = [];
  for (let i = 0; i < 5000; i++) {
    const v = g.value();
    const bytes = i % 2 ? encodeCbor(v) : jsonToCbor(refJson(v));
    kept.push([bytes, hex(bytes)]);
  }
  for (const [bytes, h] of kept) equal(hex(bytes), h);
});
