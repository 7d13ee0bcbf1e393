// The one WASM entry: each protocol module exports its own functions.
export * from "./coap";
export * from "./mqttsn";
export * from "./cbor";
