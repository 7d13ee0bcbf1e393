export function coap_version(): i32 { return 1; }
