// The binary gateway link (docs/architecture.md): gateway frames arrive as CBOR and leave the
// broker as JSON text, transcoded by core-wasm. Loaded once; when this build's core-wasm has no
// transcoder the broker simply does not offer the link and gateways fall back to JSON text.
import { createLogger } from "../common/log.ts";

const log = createLogger("broker");

export type BinaryDecoder = (bytes: Uint8Array) => string;

let loaded: Promise<BinaryDecoder | undefined> | undefined;

export function loadCborDecoder(): Promise<BinaryDecoder | undefined> {
  loaded ??= (async () => {
    try {
      const core = await import("../core-wasm/mod.ts") as Record<string, unknown>;
      const cborToJson = core.cborToJson;
      if (typeof cborToJson !== "function") {
        log.info("core-wasm has no cborToJson: binary gateway link disabled");
        return undefined;
      }
      return cborToJson as BinaryDecoder;
    } catch (err) {
      log.warn("core-wasm failed to load: binary gateway link disabled", { err });
      return undefined;
    }
  })();
  return loaded;
}
