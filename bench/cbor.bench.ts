// CBOR benchmarks, side by side (deno bench prints each group's ratios to its baseline):
// core-wasm vs npm:cbor-x and npm:cbor2, and CBOR->JSON in WASM vs the JS path (cbor-x decode +
// JSON.stringify) and the plain-TS yardstick. Run: deno bench -A bench/cbor.bench.ts
import { Decoder, Encoder } from "cbor-x";
import { decode as cbor2Decode, encode as cbor2Encode } from "cbor2";
import { cborToJson, decodeCbor, encodeCbor, jsonToCbor } from "../core-wasm/mod.ts";
import { cborToJsonTs } from "./yardstick/cbor_ts.ts";

const sensor = { id: "node-42", temperature: 23.4, pressure: 1013.25, humidity: 45.1, led: 1 };
const floats = Array.from({ length: 100 }, (_, i) => Math.round(Math.sin(i) * 1e5) / 1e3);

const cborx = new Encoder({ useRecords: false, mapsAsObjects: true });
// int64AsNumber (JSON.stringify throws on BigInt) is missing from cbor-x's typings.
const cborxDec = new Decoder(
  { useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<
    typeof Decoder
  >[0],
);

// Every decoder reads the same bytes: the preferred serialization.
const messages = {
  [`sensor object (${encodeCbor(sensor).length} B)`]: sensor,
  [`100 floats (${encodeCbor(floats).length} B)`]: floats,
};

let sink = 0;

for (const [name, value] of Object.entries(messages)) {
  const bytes = encodeCbor(value);
  const json = JSON.stringify(value);

  Deno.bench(`cbor->json ${name}: core-wasm cborToJson`, { group: `cbor->json ${name}` }, () => {
    sink += cborToJson(bytes).length;
  });
  Deno.bench(`cbor->json ${name}: cbor-x decode + JSON.stringify`, {
    group: `cbor->json ${name}`,
    baseline: true,
  }, () => {
    sink += JSON.stringify(cborxDec.decode(bytes)).length;
  });
  Deno.bench(`cbor->json ${name}: cbor2 decode + JSON.stringify`, {
    group: `cbor->json ${name}`,
  }, () => {
    sink += JSON.stringify(cbor2Decode(bytes)).length;
  });
  Deno.bench(`cbor->json ${name}: TS yardstick`, { group: `cbor->json ${name}` }, () => {
    sink += cborToJsonTs(bytes).length;
  });

  Deno.bench(`json->cbor ${name}: core-wasm jsonToCbor`, { group: `json->cbor ${name}` }, () => {
    sink += jsonToCbor(json).length;
  });
  Deno.bench(`json->cbor ${name}: JSON.parse + cbor-x encode`, {
    group: `json->cbor ${name}`,
    baseline: true,
  }, () => {
    sink += cborx.encode(JSON.parse(json)).length;
  });
  Deno.bench(`json->cbor ${name}: JSON.parse + cbor2 encode`, {
    group: `json->cbor ${name}`,
  }, () => {
    sink += cbor2Encode(JSON.parse(json)).length;
  });

  Deno.bench(`decode ${name}: core-wasm decodeCbor`, { group: `decode ${name}` }, () => {
    sink += decodeCbor(bytes) ? 1 : 0;
  });
  Deno.bench(`decode ${name}: cbor-x`, { group: `decode ${name}`, baseline: true }, () => {
    sink += cborxDec.decode(bytes) ? 1 : 0;
  });
  Deno.bench(`decode ${name}: cbor2`, { group: `decode ${name}` }, () => {
    sink += cbor2Decode(bytes) ? 1 : 0;
  });

  Deno.bench(`encode ${name}: core-wasm encodeCbor`, { group: `encode ${name}` }, () => {
    sink += encodeCbor(value).length;
  });
  Deno.bench(`encode ${name}: cbor-x`, { group: `encode ${name}`, baseline: true }, () => {
    sink += cborx.encode(value).length;
  });
  Deno.bench(`encode ${name}: cbor2`, { group: `encode ${name}` }, () => {
    sink += cbor2Encode(value).length;
  });
}

addEventListener("unload", () => {
  if (sink === 0) console.log("unreachable");
});
