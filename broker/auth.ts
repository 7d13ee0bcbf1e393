// Gateway authentication, done before the websocket upgrade (spec 2.2): the subprotocol list is
// `token,<Fernet token>` (optionally `,aiot.cbor`); the token must decrypt to the keys' secret.
// Unlike pyaiot, a token that is not Fernet at all is a 401 too (pyaiot answered 500), and tokens
// older than the replay window are refused.
import { createHash, timingSafeEqual } from "node:crypto";
import { fernetDecrypt, FernetError } from "../common/fernet.ts";
import type { Keys } from "../common/keys.ts";

export const BINARY_SUBPROTOCOL = "aiot.cbor";

export type GatewayAuth =
  | { ok: true; protocol: "token" | typeof BINARY_SUBPROTOCOL; tokenTimestamp: number }
  | {
    ok: false;
    body: "Invalid subprotocols" | "Invalid token";
    /** For logs and metrics only; the HTTP body stays pyaiot's. */
    reason: string;
  };

/** Splits a Sec-WebSocket-Protocol header the way Tornado does: on "," with spaces stripped. */
export function splitSubprotocols(header: string | null): string[] {
  if (header === null) return [];
  return header.split(",").map((s) => s.trim());
}

/**
 * Checks a gateway's handshake. `maxAgeSeconds` 0 or undefined turns the replay window off
 * (pyaiot's behaviour); a binary link is granted only when `binary` says this broker can do it.
 */
export async function authenticateGateway(
  header: string | null,
  keys: Keys,
  opts: { maxAgeSeconds?: number; binary?: boolean } = {},
): Promise<GatewayAuth> {
  const items = splitSubprotocols(header);
  const wantsBinary = items.length === 3 && items[2] === BINARY_SUBPROTOCOL;
  if (items[0] !== "token" || !(items.length === 2 || wantsBinary) || items[1] === "") {
    return { ok: false, body: "Invalid subprotocols", reason: "subprotocols" };
  }
  try {
    const { plain, timestamp } = await fernetDecrypt(keys.private, items[1], {
      maxAgeSeconds: opts.maxAgeSeconds ? opts.maxAgeSeconds : undefined,
    });
    if (!sameSecret(plain, keys.secret)) {
      return { ok: false, body: "Invalid token", reason: "wrong_secret" };
    }
    return {
      ok: true,
      protocol: wantsBinary && opts.binary ? BINARY_SUBPROTOCOL : "token",
      tokenTimestamp: timestamp,
    };
  } catch (err) {
    const reason = err instanceof FernetError ? err.reason : "malformed";
    return { ok: false, body: "Invalid token", reason };
  }
}

function digest(s: string): Uint8Array {
  return createHash("sha256").update(s).digest();
}

/** Constant-time string comparison (hash first so lengths do not leak through timing). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
