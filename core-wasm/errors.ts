// The one error type every core-wasm decoder throws, with a machine-readable reason.

export type CoreErrorKind =
  | "truncated"
  | "bad_option_delta"
  | "reserved"
  | "length_past_end"
  | "too_deep"
  | "too_long"
  | "invalid"
  | "bad_utf8";

export class CoreError extends Error {
  constructor(readonly kind: CoreErrorKind, readonly offset = -1, detail?: string) {
    super(`${kind}${offset >= 0 ? ` at byte ${offset}` : ""}${detail ? `: ${detail}` : ""}`);
    this.name = "CoreError";
  }
}
