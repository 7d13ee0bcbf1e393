// CBOR benchmarks, side by side (deno bench prints each group's ratios to its baseline):
// core-wasm vs npm:cbor-x and npm:cbor2, and CBOR->JSON in WASM vs the JS path (cbor-x decode +
// JSON.stringify) and the plain-TS yardstick. Run: deno bench -A bench/cbor.bench.ts
import { Decoder, Encoder } from "cbor-x";
import { decode as cbor2Decode, encode as cbor2Encode } from "cbor2";
import { cborToJson, decodeCbor, encodeCbor, jsonToCbor } from "../core-wasm/mod.ts";
import { cborToJsonTs } from "./yardstick/cbor_ts.ts";

const cborx = new Encoder({ useRecords: false, mapsAsObjects: true });
// int64AsNumber (JSON.stringify throws on BigInt) is missing from cbor-x's typings.
const cborxDec = new Decoder(
  { useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<
    typeof Decoder
  >[0],
);

// Live data varies: each benchmark walks a pool of distinct messages, so V8's number-to-string
// cache cannot serve repeats (the last group shows the one-message-repeated case too).
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const sensorAt = (i: number) => ({
  id: `node-${10 + (i % 90)}`,
  temperature: Math.round((15 + rnd() * 15) * 10) / 10,
  pressure: Math.round((990 + rnd() * 40) * 4) / 4,
  humidity: Math.round((30 + rnd() * 40) * 10) / 10,
  led: i & 1,
});
const floatsAt = () => Array.from({ length: 100 }, () => Math.round((rnd() - 0.5) * 2e5) / 1e3);

// Every contender reads the same bytes: the preferred serialization.
interface Pool {
  values: unknown[];
  bytes: Uint8Array[];
  json: string[];
}
function pool(n: number, make: (i: number) => unknown): Pool {
  const values = Array.from({ length: n }, (_, i) => make(i));
  return { values, bytes: values.map(encodeCbor), json: values.map((v) => JSON.stringify(v)) };
}
const sensors = pool(8192, sensorAt);
const floatArrays = pool(512, floatsAt);
const messages: Record<string, Pool> = {
  [`sensor object (~${sensors.bytes[0].length} B)`]: sensors,
  [`100 floats (~${floatArrays.bytes[0].length} B)`]: floatArrays,
};

let sink = 0;
let i = 0;

for (const [name, p] of Object.entries(messages)) {
  const n = p.bytes.length;
  const bytes = () => p.bytes[i++ % n];
  const json = () => p.json[i++ % n];
  const value = () => p.values[i++ % n];

  const gj = `cbor->json ${name}`;
  Deno.bench(`${gj}: core-wasm cborToJson`, { group: gj }, () => {
    sink += cborToJson(bytes()).length;
  });
  Deno.bench(`${gj}: cbor-x decode + JSON.stringify`, { group: gj, baseline: true }, () => {
    sink += JSON.stringify(cborxDec.decode(bytes())).length;
  });
  Deno.bench(`${gj}: cbor2 decode + JSON.stringify`, { group: gj }, () => {
    sink += JSON.stringify(cbor2Decode(bytes())).length;
  });
  Deno.bench(`${gj}: TS yardstick`, { group: gj }, () => {
    sink += cborToJsonTs(bytes()).length;
  });

  const gc = `json->cbor ${name}`;
  Deno.bench(`${gc}: core-wasm jsonToCbor`, { group: gc }, () => {
    sink += jsonToCbor(json()).length;
  });
  Deno.bench(`${gc}: JSON.parse + cbor-x encode`, { group: gc, baseline: true }, () => {
    sink += cborx.encode(JSON.parse(json())).length;
  });
  Deno.bench(`${gc}: JSON.parse + cbor2 encode`, { group: gc }, () => {
    sink += cbor2Encode(JSON.parse(json())).length;
  });

  const gd = `decode ${name}`;
  Deno.bench(`${gd}: core-wasm decodeCbor`, { group: gd }, () => {
    sink += decodeCbor(bytes()) ? 1 : 0;
  });
  Deno.bench(`${gd}: cbor-x`, { group: gd, baseline: true }, () => {
    sink += cborxDec.decode(bytes()) ? 1 : 0;
  });
  Deno.bench(`${gd}: cbor2`, { group: gd }, () => {
    sink += cbor2Decode(bytes()) ? 1 : 0;
  });

  const ge = `encode ${name}`;
  Deno.bench(`${ge}: core-wasm encodeCbor`, { group: ge }, () => {
    sink += encodeCbor(value()).length;
  });
  Deno.bench(`${ge}: cbor-x`, { group: ge, baseline: true }, () => {
    sink += cborx.encode(value()).length;
  });
  Deno.bench(`${ge}: cbor2`, { group: ge }, () => {
    sink += cbor2Encode(value()).length;
  });
}

// One message over and over: V8 then serves the JS paths' number strings from its cache.
const one = sensors.bytes[0];
const g1 = "cbor->json one sensor message repeated";
Deno.bench(`${g1}: core-wasm cborToJson`, { group: g1 }, () => {
  sink += cborToJson(one).length;
});
Deno.bench(`${g1}: cbor-x decode + JSON.stringify`, { group: g1, baseline: true }, () => {
  sink += JSON.stringify(cborxDec.decode(one)).length;
});
Deno.bench(`${g1}: TS yardstick`, { group: g1 }, () => {
  sink += cborToJsonTs(one).length;
});

addEventListener("unload", () => {
  if (sink === 0) console.log("unreachable");
});
