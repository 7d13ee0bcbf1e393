// Hostile bytes: a million random and mutated datagrams through decodeCoap and peekCoap. Only
// CoreError may come out, the two entry points and the plain-TS yardstick agree on every input
// (same error kind and offset, or the same message), and WASM memory does not grow.
import { deepEqual, equal, ok } from "node:assert/strict";
import * as wasm from "../core-wasm/build/core.wasm";
import {
  type CoapMessage,
  type CoapPeek,
  CoreError,
  decodeCoap,
  encodeCoap,
  newCoapPeek,
  peekCoapInto,
} from "../core-wasm/mod.ts";
import { decodeCoapTs } from "../bench/yardstick/coap_ts.ts";

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

function outcome(f: () => CoapMessage): string | CoapMessage {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof CoreError)) throw e;
    return `${e.kind}@${e.offset}`;
  }
}

const flat = (m: CoapMessage | string) =>
  typeof m === "string" ? m : JSON.stringify({
    ...m,
    token: [...m.token],
    options: m.options.map((o) => [o.number, ...o.value]),
    payload: [...m.payload],
  });

// Seeds worth mutating: the shapes gateways see, with extended option forms.
function seeds(): Uint8Array[] {
  const te = new TextEncoder();
  const opt = (number: number, value: Uint8Array | string) => ({
    number,
    value: typeof value === "string" ? te.encode(value) : value,
  });
  const base = { type: 0, code: 1, messageId: 0x1234, token: new Uint8Array([1, 2, 3, 4]) };
  return [
    encodeCoap({ ...base, options: [opt(11, "server")], payload: te.encode("t:21.4") }),
    encodeCoap({
      ...base,
      code: 69,
      options: [opt(6, new Uint8Array([1, 2])), opt(12, new Uint8Array([50]))],
      payload: new Uint8Array(40).fill(0x41),
    }),
    encodeCoap({
      ...base,
      code: 3,
      options: [opt(11, "a".repeat(20)), opt(27, new Uint8Array([0x0b])), opt(292, "tag")],
      payload: new Uint8Array(0),
    }),
    encodeCoap({
      ...base,
      options: [opt(3, "x".repeat(300)), opt(15, "q=1")],
      payload: new Uint8Array(0),
    }),
    new Uint8Array([0x60, 0, 0x12, 0x34]),
  ];
}

Deno.test("1e6 random and mutated datagrams: typed errors only, agreement, bounded memory", () => {
  const rand = prng(0xf022);
  const int = (n: number) => Math.floor(rand() * n);
  const pool = seeds();
  const buf = new Uint8Array(512);
  const peek: CoapPeek = newCoapPeek();
  const before = wasm.memory.buffer.byteLength;
  let valid = 0;
  const N = 1_000_000;
  for (let i = 0; i < N; i++) {
    let len: number;
    if (i % 4 === 0) {
      // Random bytes, with a plausible first byte half of the time.
      len = int(48);
      for (let k = 0; k < len; k++) buf[k] = int(256);
      if (len > 0 && rand() < 0.5) buf[0] = 0x40 | (buf[0] & 0x3f);
    } else {
      const s = pool[int(pool.length)];
      len = s.length;
      buf.set(s);
      const r = rand();
      if (r < 0.3) len = int(len + 1); // truncate
      else if (r < 0.5) len = Math.min(buf.length, len + 1 + int(8)); // trailing junk
      for (let k = 1 + int(3); k > 0; k--) {
        if (len === 0) break;
        const at = int(len);
        buf[at] = rand() < 0.5 ? buf[at] ^ (1 << int(8)) : int(256);
      }
    }
    const input = buf.subarray(0, len);
    const p = peekCoapInto(input, peek);
    ok(p === peek || p instanceof CoreError);
    // Full decode and the yardstick on a fifth of the inputs (exceptions carry stack traces).
    if (i % 5 !== 0) continue;
    const ours = outcome(() => decodeCoap(input));
    const yard = outcome(() => decodeCoapTs(input));
    equal(flat(ours), flat(yard), `input ${[...input]}`);
    if (typeof ours === "string") {
      ok(p instanceof CoreError);
      equal(`${p.kind}@${p.offset}`, ours);
    } else {
      valid++;
      ok(p === peek);
      deepEqual(
        [peek.type, peek.code, peek.messageId, peek.tokenLength, peek.optionCount],
        [ours.type, ours.code, ours.messageId, ours.token.length, ours.options.length],
      );
      equal(peek.payloadOffset, len - ours.payload.length);
      const paths = ours.options.filter((o) => o.number === 11);
      equal(peek.uriPathCount, paths.length);
      if (paths.length > 0) {
        equal(peek.uriPathOffset, paths[0].value.byteOffset - input.byteOffset);
        equal(peek.uriPathLength, paths[0].value.length);
      } else equal(peek.uriPathOffset, -1);
    }
  }
  equal(wasm.memory.buffer.byteLength, before, "WASM memory grew");
  ok(valid > 5000, `only ${valid} valid inputs: the mutator is too destructive`);
});

Deno.test("large hostile inputs: long option runs, extended lengths near the end, 65 KB", () => {
  const before = wasm.memory.buffer.byteLength;
  const rand = prng(3);
  for (let i = 0; i < 300; i++) {
    const len = 4 + Math.floor(rand() * 4000);
    const b = new Uint8Array(len);
    b[0] = 0x40;
    b[1] = 1;
    for (let k = 4; k < len; k++) b[k] = rand() < 0.9 ? 0x01 + Math.floor(rand() * 3) : 0xd0;
    const ours = outcome(() => decodeCoap(b));
    equal(flat(ours), flat(outcome(() => decodeCoapTs(b))));
  }
  const huge = new Uint8Array(65536);
  huge[0] = 0x40;
  huge[1] = 1;
  huge.fill(0xff, 4);
  equal(decodeCoap(huge).payload.length, 65536 - 5);
  equal(outcome(() => decodeCoap(new Uint8Array(1 << 20))), "too_long@65536");
  equal(wasm.memory.buffer.byteLength, before);
});
