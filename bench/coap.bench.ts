// CoAP decode/encode: the WASM codec vs npm:coap-packet and vs the plain-TS yardstick, on the
// messages a gateway handles most. `deno bench -A bench/coap.bench.ts` prints ratios per group
// (the WASM codec is the baseline).
import * as coapPacket from "coap-packet";
import { Buffer } from "node:buffer";
import {
  type CoapMessage,
  type CoapPeek,
  decodeCoap,
  encodeCoap,
  encodeCoapInto,
  encodeUint,
  newCoapPeek,
  peekCoapInto,
  uriOptions,
} from "../core-wasm/mod.ts";
import { decodeCoapTs, encodeCoapTs } from "./yardstick/coap_ts.ts";

const te = new TextEncoder();
// A node's NON POST /server with a short text payload (pyaiot's node -> gateway traffic).
const post: CoapMessage = {
  type: 1,
  code: 2,
  messageId: 0x1234,
  token: new Uint8Array([0xa1, 0xb2, 0xc3, 0xd4]),
  options: uriOptions("server"),
  payload: te.encode("temperature:21.4°C"),
};
// A 2.05 notification: Observe + Content-Format (JSON) + 100-byte payload.
const notify: CoapMessage = {
  type: 1,
  code: 69,
  messageId: 0x4321,
  token: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
  options: [{ number: 6, value: encodeUint(123456) }, { number: 12, value: encodeUint(50) }],
  payload: te.encode(`{"temperature":21.4,"unit":"C","pad":"${"x".repeat(60)}"}`),
};
if (notify.payload.length !== 100) throw new Error(`payload is ${notify.payload.length}`);

// coap-packet's shape of the same messages.
function toPacket(m: CoapMessage) {
  const names: Record<number, string> = { 6: "Observe", 11: "Uri-Path", 12: "Content-Format" };
  return {
    confirmable: m.type === 0,
    ack: m.type === 2,
    reset: m.type === 3,
    code: `${m.code >> 5}.${String(m.code & 31).padStart(2, "0")}`,
    messageId: m.messageId,
    token: Buffer.from(m.token),
    options: m.options.map((o) => ({ name: names[o.number], value: Buffer.from(o.value) })),
    payload: Buffer.from(m.payload),
  };
}

let sink = 0;
const scratch = new Uint8Array(1500);
const peek: CoapPeek = newCoapPeek();
for (const [name, msg] of [["POST /server", post], ["2.05 Observe", notify]] as const) {
  const bytes = encodeCoap(msg);
  const buf = Buffer.from(bytes);
  const group = `decode ${name}`;
  Deno.bench(`wasm decodeCoap ${name}`, { group, baseline: true }, () => {
    sink += decodeCoap(bytes).options.length;
  });
  Deno.bench(`wasm peekCoapInto ${name}`, { group }, () => {
    const r = peekCoapInto(bytes, peek);
    sink += r === peek ? peek.payloadOffset : 0;
  });
  Deno.bench(`ts yardstick decode ${name}`, { group }, () => {
    sink += decodeCoapTs(bytes).options.length;
  });
  Deno.bench(`coap-packet parse ${name}`, { group }, () => {
    sink += coapPacket.parse(buf).options.length;
  });
  // What a Deno gateway pays: datagrams arrive as Uint8Array, coap-packet wants a Buffer (a view
  // here, no copy).
  Deno.bench(`coap-packet parse from Uint8Array ${name}`, { group }, () => {
    sink += coapPacket.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).options
      .length;
  });

  const egroup = `encode ${name}`;
  const packet = toPacket(msg);
  Deno.bench(`wasm encodeCoap ${name}`, { group: egroup, baseline: true }, () => {
    sink += encodeCoap(msg).length;
  });
  Deno.bench(`wasm encodeCoapInto ${name}`, { group: egroup }, () => {
    sink += encodeCoapInto(msg, scratch);
  });
  Deno.bench(`ts yardstick encode ${name}`, { group: egroup }, () => {
    sink += encodeCoapTs(msg).length;
  });
  Deno.bench(`coap-packet generate ${name}`, { group: egroup }, () => {
    sink += coapPacket.generate(packet).length;
  });
}
globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
