// The only way the rest of aiot touches the WebAssembly core.
export * from "./errors.ts";
export * from "./coap.ts";
export * from "./linkformat.ts";
export * from "./mqttsn.ts";
export * from "./cbor.ts";
