// Fernet tokens (the spec pyaiot's gateways use for broker auth, shared/spec 2.2) on WebCrypto.
// token = base64url(0x80 | ts(8, BE seconds) | iv(16) | AES-128-CBC(PKCS7(plain)) | HMAC-SHA256)
import { base64url, fromBase64url } from "./keys.ts";

export type FernetFailure = "malformed" | "bad_version" | "bad_hmac" | "bad_cipher" | "expired";

export class FernetError extends Error {
  constructor(readonly reason: FernetFailure) {
    super(`fernet: ${reason}`);
  }
}

interface FernetKeys {
  hmac: CryptoKey;
  aes: CryptoKey;
}

const cache = new Map<string, Promise<FernetKeys>>();

function importKeys(fernetKey: string): Promise<FernetKeys> {
  let p = cache.get(fernetKey);
  if (!p) {
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = fromBase64url(fernetKey);
    } catch {
      throw new FernetError("malformed"); // atob's DOMException is no use to callers
    }
    if (raw.length !== 32) throw new FernetError("malformed");
    p = (async () => ({
      hmac: await crypto.subtle.importKey(
        "raw",
        raw.slice(0, 16),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      ),
      aes: await crypto.subtle.importKey("raw", raw.slice(16), "AES-CBC", false, [
        "encrypt",
        "decrypt",
      ]),
    }))();
    cache.set(fernetKey, p);
  }
  return p;
}

/** Encrypts `plain` to a Fernet token, without '=' padding (a subprotocol may not hold '='). */
export async function fernetEncrypt(
  fernetKey: string,
  plain: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  const { hmac, aes } = await importKeys(fernetKey);
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const cipher = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, aes, new TextEncoder().encode(plain)),
  );
  const body = new Uint8Array(1 + 8 + 16 + cipher.length);
  body[0] = 0x80;
  new DataView(body.buffer).setBigUint64(1, BigInt(nowSeconds));
  body.set(iv, 9);
  body.set(cipher, 25);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, body));
  const token = new Uint8Array(body.length + 32);
  token.set(body);
  token.set(mac, body.length);
  return base64url(token);
}

/**
 * Verifies and decrypts a token. `maxAgeSeconds` refuses old tokens (replay window), which
 * pyaiot never checked; tokens from more than 60 s in the future are refused too.
 */
export async function fernetDecrypt(
  fernetKey: string,
  token: string,
  opts: { maxAgeSeconds?: number; nowSeconds?: number } = {},
): Promise<{ plain: string; timestamp: number }> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64url(token.trim());
  } catch {
    throw new FernetError("malformed");
  }
  if (raw.length < 1 + 8 + 16 + 16 + 32 || (raw.length - 57) % 16 !== 0) {
    throw new FernetError("malformed");
  }
  if (raw[0] !== 0x80) throw new FernetError("bad_version");
  const { hmac, aes } = await importKeys(fernetKey);
  const body = raw.subarray(0, raw.length - 32);
  const ok = await crypto.subtle.verify("HMAC", hmac, raw.subarray(raw.length - 32), body);
  if (!ok) throw new FernetError("bad_hmac");
  const timestamp = Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(1));
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (opts.maxAgeSeconds !== undefined) {
    if (timestamp + opts.maxAgeSeconds < now || timestamp > now + 60) {
      throw new FernetError("expired");
    }
  }
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-CBC", iv: raw.slice(9, 25) },
      aes,
      raw.slice(25, raw.length - 32),
    );
  } catch {
    throw new FernetError("bad_cipher");
  }
  return { plain: new TextDecoder().decode(plain), timestamp };
}
