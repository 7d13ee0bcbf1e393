// pyaiot's keys file (INI, section [keys], options `secret` and `private`), shared by broker and
// gateways. `deno task keys` writes one; `deno task start` makes an in-memory pair instead.

export interface Keys {
  /** 32 chars from [A-Za-z0-9]: the plaintext a gateway proves it knows. */
  secret: string;
  /** Fernet key: URL-safe base64 of 32 random bytes (44 chars, '=' padded). */
  private: string;
}

export function defaultKeyPath(): string {
  return `${Deno.env.get("HOME") ?? "."}/.pyaiot/keys`;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function generateKeys(): Keys {
  let secret = "";
  while (secret.length < 32) {
    // Rejection sampling: bytes >= 248 would favour the first characters.
    for (const b of crypto.getRandomValues(new Uint8Array(48))) {
      if (b < 248 && secret.length < 32) secret += ALNUM[b % 62];
    }
  }
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return { secret, private: base64url(raw, true) };
}

export function base64url(bytes: Uint8Array, pad = false): string {
  let s = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
  if (!pad) s = s.replace(/=+$/, "");
  return s;
}

export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class KeyFileError extends Error {}

/** True for a Fernet key: URL-safe base64 of exactly 32 bytes. */
export function isFernetKey(text: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}=?$/.test(text)) return false;
  try {
    return fromBase64url(text).length === 32;
  } catch {
    return false;
  }
}

/** Parses pyaiot's INI keys file; messages match pyaiot's (spec section 1). */
export function parseKeys(text: string, path: string): Keys {
  let section = "";
  const found: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (kv && section === "keys") found[kv[1].trim().toLowerCase()] = kv[2].trim();
  }
  if (!found.secret || !found.private || !isFernetKey(found.private)) {
    // A private key that is not 32 bytes of base64url would fail every handshake later on.
    throw new KeyFileError(`Invalid key file provided: '${path}'`);
  }
  return { secret: found.secret, private: found.private };
}

export async function readKeys(path = defaultKeyPath()): Promise<Keys> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new KeyFileError(`Key file provided doesn't exists: '${path}'`);
  }
  return parseKeys(text, path);
}

export function formatKeys(keys: Keys): string {
  return `[keys]\nsecret = ${keys.secret}\nprivate = ${keys.private}\n\n`;
}
