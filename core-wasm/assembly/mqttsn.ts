export function mqttsn_version(): i32 { return 1; }
