// Turning a node's response body into the value the broker forwards: text as text (RIOT's
// `23.4°C`), JSON (ct 50) parsed, CBOR (ct 60) transcoded to JSON by core-wasm. Anything that
// cannot be decoded is refused, never forwarded half-decoded.
import { cborToJson, ContentFormat } from "../../core-wasm/mod.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

/** Text as a node sends it; trailing NULs dropped (some RIOT apps pad replies to 64 bytes). */
export function payloadText(bytes: Uint8Array): string | null {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  try {
    return utf8.decode(bytes.subarray(0, end));
  } catch {
    return null;
  }
}

export function decodePayload(bytes: Uint8Array, contentFormat: number | undefined): Decoded {
  switch (contentFormat) {
    case undefined:
    case ContentFormat.TEXT:
    case ContentFormat.LINK_FORMAT: {
      const text = payloadText(bytes);
      return text === null ? { ok: false, reason: "not UTF-8" } : { ok: true, value: text };
    }
    case ContentFormat.JSON: {
      const text = payloadText(bytes);
      if (text === null) return { ok: false, reason: "not UTF-8" };
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        return { ok: false, reason: "invalid JSON" };
      }
    }
    case ContentFormat.CBOR:
      try {
        return { ok: true, value: JSON.parse(cborToJson(bytes)) };
      } catch (err) {
        return { ok: false, reason: `invalid CBOR: ${(err as Error).message}` };
      }
    default:
      return { ok: false, reason: `unsupported content format ${contentFormat}` };
  }
}
