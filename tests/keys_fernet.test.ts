// common/fernet.ts against hostile tokens and keys: only FernetError, with the right reason.
import assert from "node:assert/strict";
import { fernetDecrypt, fernetEncrypt, FernetError } from "../common/fernet.ts";
import { base64url, generateKeys } from "../common/keys.ts";

/** Deterministic PRNG (mulberry32): the same hostile inputs on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (err) {
    assert.ok(err instanceof FernetError, `not a FernetError: ${err}`);
    return err.reason;
  }
}

Deno.test("fernet: round trip, and each kind of damage gets its reason", async () => {
  const keys = generateKeys();
  const token = await fernetEncrypt(keys.private, "secret");
  assert.equal((await fernetDecrypt(keys.private, token)).plain, "secret");
  const raw = Uint8Array.from(
    atob(token.replaceAll("-", "+").replaceAll("_", "/") + "=="),
    (c) => c.charCodeAt(0),
  );
  const version = raw.slice();
  version[0] = 0x81;
  assert.equal(await reason(fernetDecrypt(keys.private, base64url(version))), "bad_version");
  const mac = raw.slice();
  mac[mac.length - 1] ^= 1;
  assert.equal(await reason(fernetDecrypt(keys.private, base64url(mac))), "bad_hmac");
  assert.equal(await reason(fernetDecrypt(keys.private, token.slice(0, 50))), "malformed");
  assert.equal(await reason(fernetDecrypt(keys.private, "!!!")), "malformed");
  assert.equal(await reason(fernetDecrypt("not-a-key", token)), "malformed");
  assert.equal(await reason(fernetDecrypt("@@@@", token)), "malformed");
  const old = await fernetEncrypt(keys.private, "s", 1000);
  assert.equal(await reason(fernetDecrypt(keys.private, old, { maxAgeSeconds: 60 })), "expired");
  assert.equal(await reason(fernetDecrypt(keys.private, old)), "accepted", "no window: pyaiot");
});

Deno.test("fernet: random strings and random bytes never escape as anything but FernetError", async () => {
  const keys = generateKeys();
  const rand = rng(42);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ,.\u00e9";
  for (let i = 0; i < 500; i++) {
    const len = Math.floor(rand() * 300);
    let s = "";
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const r = await reason(fernetDecrypt(keys.private, s));
    assert.notEqual(r, "accepted");
    // Random bytes with a valid version byte and a plausible length reach the HMAC check.
    const bytes = new Uint8Array(57 + 16 * (1 + Math.floor(rand() * 4)));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
    bytes[0] = 0x80;
    assert.equal(await reason(fernetDecrypt(keys.private, base64url(bytes))), "bad_hmac");
  }
});
