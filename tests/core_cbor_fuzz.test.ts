// Hostile input: random and mutated bytes into decodeCbor and cborToJson, random and mutated
// text into jsonToCbor. Every call returns or throws a CoreError with a kind and an in-range
// offset; the two CBOR paths agree on what is well-formed (and with cbor2); jsonToCbor agrees
// with JSON.parse; WASM memory never grows.
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { decode as cbor2Decode } from "cbor2";
import * as wasm from "../core-wasm/build/core.wasm";
import {
  CBOR_MAX_INPUT,
  cborToJson,
  CoreError,
  decodeCbor,
  encodeCbor,
  jsonToCbor,
} from "../core-wasm/mod.ts";
import { Gen, hex, prng, refJson, sloppy, unhex } from "./core_cbor_model.ts";

const KINDS = new Set([
  "truncated",
  "reserved",
  "length_past_end",
  "too_deep",
  "too_long",
  "invalid",
  "bad_utf8",
]);

/** Runs f; returns its value or the CoreError it threw (anything else fails the test). */
function attempt<T>(f: () => T, len: number): T | CoreError {
  try {
    return f();
  } catch (e) {
    ok(e instanceof CoreError, `not a CoreError: ${e}`);
    ok(KINDS.has(e.kind), e.kind);
    ok(e.offset >= 0 && e.offset <= len, `offset ${e.offset} of ${len}`);
    return e;
  }
}

const INTERESTING = [
  0x00,
  0x17,
  0x18,
  0x1b,
  0x1c,
  0x1d,
  0x1e,
  0x1f,
  0x3f,
  0x5f,
  0x7f,
  0x9f,
  0xbf,
  0xdf,
  0xf8,
  0xf9,
  0xfb,
  0xfc,
  0xff,
  0x80,
  0xc0,
  0xed,
  0xf4,
];

function mutate(b: Uint8Array, g: Gen): Uint8Array {
  const out = Array.from(b);
  for (let n = 1 + g.int(3); n > 0; n--) {
    const at = g.int(out.length + 1);
    switch (g.int(5)) {
      case 0:
        if (out.length) out[at % out.length] ^= 1 << g.int(8);
        break;
      case 1:
        if (out.length) out[at % out.length] = g.pick(INTERESTING);
        break;
      case 2:
        out.splice(at, 0, g.pick(INTERESTING));
        break;
      case 3:
        out.splice(at, 1 + g.int(3));
        break;
      default:
        out.length = at; // truncate
    }
  }
  return Uint8Array.from(out);
}

Deno.test("fuzz: random and mutated CBOR into decodeCbor and cborToJson", () => {
  const g = new Gen(prng(11));
  let accepted = 0, rejected = 0, cbor2Disagrees = 0;
  for (let i = 0; i < 20000; i++) {
    let bytes: Uint8Array;
    if (i % 4 === 0) {
      bytes = Uint8Array.from({ length: g.int(24) }, () => g.int(256));
    } else {
      const v = g.value(3);
      bytes = mutate(i % 2 ? encodeCbor(v) : sloppy(v, g), g);
    }
    const d = attempt(() => decodeCbor(bytes), bytes.length);
    const j = attempt(() => cborToJson(bytes), bytes.length);
    // Both paths check well-formedness the same way, to the same error.
    equal(d instanceof CoreError, j instanceof CoreError, hex(bytes));
    if (d instanceof CoreError) {
      rejected++;
      equal((j as CoreError).kind, d.kind, hex(bytes));
      equal((j as CoreError).offset, d.offset, hex(bytes));
    } else {
      accepted++;
      // Same JSON; parsed, because duplicate map keys stay in the text but collapse in a Map.
      deepEqual(JSON.parse(j as string), JSON.parse(refJson(d)), hex(bytes));
    }
    // cbor2 (tags left alone) accepts exactly what we accept.
    let theirs = true;
    try {
      cbor2Decode(bytes, { ignoreGlobalTags: true });
    } catch {
      theirs = false;
    }
    if (theirs !== !(d instanceof CoreError)) cbor2Disagrees++;
  }
  ok(accepted > 2000 && rejected > 2000, `${accepted} accepted, ${rejected} rejected`);
  equal(cbor2Disagrees, 0);
});

Deno.test("fuzz: random and mutated JSON text into jsonToCbor agrees with JSON.parse", () => {
  const g = new Gen(prng(12));
  const alphabet = ' \t\n\r{}[]:,"\\/-+.0123456789eEtrufalsn\u00e9\u0001';
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let text: string;
    if (i % 3 === 0) {
      text = Array.from({ length: g.int(16) }, () => g.pick([...alphabet])).join("");
    } else {
      const t = [...refJson(g.value(3))];
      for (let n = 1 + g.int(2); n > 0; n--) {
        const at = g.int(t.length + 1);
        if (g.int(2)) t.splice(at, 1);
        else t.splice(at, 0, g.pick([...alphabet]));
      }
      text = t.join("");
    }
    const len = new TextEncoder().encode(text).length;
    const mine = attempt(() => jsonToCbor(text), len);
    let parsed: unknown;
    let valid = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      valid = false;
    }
    equal(!(mine instanceof CoreError), valid, text);
    if (valid) {
      accepted++;
      // Mutations can make unsafe integers; compare after decoding, as numbers.
      const back = decodeCbor(mine as Uint8Array);
      deepEqual(
        JSON.stringify(back, (_k, x) => typeof x === "bigint" ? Number(x) : x),
        JSON.stringify(parsed),
      );
    }
  }
  ok(accepted > 2000, `${accepted} accepted`);
});

Deno.test("hostile CBOR: each malformation gives its kind and offset", () => {
  const cases: [string, string, number][] = [
    ["", "truncated", 0],
    ["18", "truncated", 1],
    ["1b000000", "truncated", 4],
    ["1c", "reserved", 0],
    ["3d", "reserved", 0],
    ["5e", "reserved", 0],
    ["1f", "invalid", 0], // indefinite integer
    ["df", "invalid", 0], // indefinite tag
    ["ff", "invalid", 0], // break outside an indefinite item
    ["8201ff", "invalid", 2],
    ["bf01ff", "invalid", 2], // break where a map value belongs
    ["5f01ff", "invalid", 1], // chunk of the wrong type
    ["5f5f4101ffff", "invalid", 1], // nested indefinite chunk
    ["7f4101ff", "invalid", 1],
    ["9f01", "truncated", 2],
    ["f818", "invalid", 0], // two-byte simple below 32
    ["62c328", "bad_utf8", 1],
    ["63eda080", "bad_utf8", 1], // surrogate
    ["62c0af", "bad_utf8", 1], // overlong
    ["64f4908080", "bad_utf8", 1], // past U+10FFFF
    ["4401", "length_past_end", 0],
    ["5bffffffffffffffff", "length_past_end", 0],
    ["9bffffffffffffffff", "length_past_end", 0],
    ["bb7fffffffffffffff", "length_past_end", 0],
    ["0102", "invalid", 1], // trailing bytes
  ];
  for (const [h, kind, offset] of cases) {
    for (const f of [decodeCbor, cborToJson]) {
      throws(() => f(unhex(h)), (e: CoreError) => {
        equal(e.kind, kind, h);
        equal(e.offset, offset, h);
        return true;
      });
    }
  }
});

Deno.test("hostile CBOR: nesting and size limits", () => {
  const deep = (n: number) => new Uint8Array(n).fill(0x81).map((x, i) => (i === n - 1 ? 0 : x));
  equal(cborToJson(deep(64)), "[".repeat(63) + "0" + "]".repeat(63));
  throws(() => decodeCbor(deep(66)), { kind: "too_deep", offset: 64 });
  throws(() => cborToJson(deep(66)), { kind: "too_deep", offset: 64 });
  throws(() => decodeCbor(deep(200_000)), { kind: "too_deep" });
  deepEqual(decodeCbor(deep(3), { maxDepth: 2 }), [[0]]);
  throws(() => decodeCbor(deep(3), { maxDepth: 1 }), { kind: "too_deep", offset: 1 });
  // The hard cap (1000) is reachable without exhausting the WASM stack.
  const n = 1000;
  equal(cborToJson(deep(n + 1), { maxDepth: 5000 }).length, 2 * n + 1);
  equal((decodeCbor(deep(n + 1), { maxDepth: 1000 }) as unknown[]).length, 1);
  throws(() => decodeCbor(deep(n + 2), { maxDepth: 5000 }), { kind: "too_deep", offset: 1000 });
  equal(jsonToCbor("[".repeat(n) + "]".repeat(n), { maxDepth: 1000 }).length, n);
  // encodeCbor stops on cycles instead of overflowing the stack.
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  throws(() => encodeCbor(cyclic), { kind: "too_deep" });
  // Tags nest too.
  throws(() => cborToJson(new Uint8Array(100).fill(0xc6)), { kind: "too_deep" });
  // Caller's length limit and the hard ceiling.
  throws(() => decodeCbor(new Uint8Array(10), { maxLength: 9 }), { kind: "too_long" });
  throws(() => cborToJson(new Uint8Array(CBOR_MAX_INPUT + 1)), { kind: "too_long" });
  throws(() => jsonToCbor(" ".repeat(CBOR_MAX_INPUT + 1)), { kind: "too_long" });
  // JSON longer than the output buffer: 40000 control characters -> 240000 bytes of escapes.
  const ctl = new Uint8Array(40003);
  ctl.set([0x79, 0x9c, 0x40]); // text(40000)
  equal(cborToJson(ctl).length, 40000 * 6 + 2);
  const ctl2 = new Uint8Array(50003);
  ctl2.set([0x79, 0xc3, 0x50]); // text(50000): 300000 bytes of JSON
  throws(() => cborToJson(ctl2), { kind: "too_long" });
  // A failed call leaves nothing behind.
  equal(cborToJson(unhex("a1616101")), '{"a":1}');
  // Deep JSON.
  throws(() => jsonToCbor("[".repeat(65) + "]".repeat(65)), { kind: "too_deep", offset: 64 });
  deepEqual(
    decodeCbor(jsonToCbor("[".repeat(64) + "]".repeat(64))),
    JSON.parse("[".repeat(64) + "]".repeat(64)),
  );
});

Deno.test("WASM memory stays bounded over a million malformed inputs", () => {
  const g = new Gen(prng(13));
  const bad: Uint8Array[] = [];
  while (bad.length < 1000) {
    const b = mutate(encodeCbor(g.value(3)), g);
    try {
      decodeCbor(b);
    } catch {
      bad.push(b);
    }
  }
  const texts = bad.map((b) => hex(b).slice(0, 40) + "{[");
  const before = wasm.memory.buffer.byteLength;
  let errors = 0;
  const t0 = performance.now();
  for (let i = 0; i < 1_000_000; i++) {
    const b = bad[i % bad.length];
    try {
      if (i % 3 === 0) decodeCbor(b);
      else if (i % 3 === 1) cborToJson(b);
      else jsonToCbor(texts[i % texts.length]);
    } catch (e) {
      if (e instanceof CoreError) errors++;
    }
    if (performance.now() - t0 > 45_000) break; // bounded in time on a busy machine
  }
  ok(errors >= 100_000, `${errors} errors`);
  equal(wasm.memory.buffer.byteLength, before);
});
