export function cbor_version(): i32 { return 1; }
