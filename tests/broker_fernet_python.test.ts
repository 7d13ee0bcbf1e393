// Differential test against pyaiot's real Fernet (python3-cryptography): tokens made by Python
// open the broker's /gw, ours decrypt in Python, and both sides agree on refusals.
// Needs Debian's python3-cryptography for /usr/bin/python3; skipped cleanly without it.
import assert from "node:assert/strict";
import { fernetDecrypt, fernetEncrypt, FernetError } from "../common/fernet.ts";
import { generateKeys } from "../common/keys.ts";
import { rawHandshake, testBroker, upgradeHeaders } from "./broker_harness.ts";

const PY = "/usr/bin/python3";
const hasCryptography = (() => {
  try {
    return new Deno.Command(PY, { args: ["-c", "import cryptography.fernet"], stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** Runs a Python snippet with cryptography's Fernet; argv[1..] are passed through. */
async function py(code: string, ...args: string[]): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(PY, {
    args: [
      "-c",
      "import sys, time\nfrom cryptography.fernet import Fernet, InvalidToken\n" + code,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { ok: out.success, out: dec.decode(out.stdout).trim() + dec.decode(out.stderr).trim() };
}

const ENCRYPT = "sys.stdout.write(Fernet(sys.argv[1].encode()).encrypt_at_time(" +
  "sys.argv[2].encode(), int(sys.argv[3])).decode())";
const DECRYPT = "sys.stdout.write(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode(), " +
  "ttl=60).decode())";

Deno.test({
  name: "Fernet: Python's tokens open /gw, ours decrypt in Python",
  ignore: !hasCryptography,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const b = await testBroker();
    try {
      const now = Math.floor(Date.now() / 1000);
      const pyToken = (await py(ENCRYPT, b.keys.private, b.keys.secret, String(now))).out;
      assert.equal(pyToken.length, 140, "a 32-char secret gives 140 chars, no '=' (spec 2.2)");
      assert.equal((await fernetDecrypt(b.keys.private, pyToken)).plain, b.keys.secret);
      // pyaiot's gateway header, exactly: Tornado joins with a bare ",".
      const res = await rawHandshake(b.port, "/gw", upgradeHeaders(`token,${pyToken}`));
      assert.equal(res.status, 101);
      assert.equal(res.headers.get("sec-websocket-protocol"), "token");

      // Ours, decrypted by Python.
      const ours = await fernetEncrypt(b.keys.private, b.keys.secret);
      assert.deepEqual(await py(DECRYPT, b.keys.private, ours), { ok: true, out: b.keys.secret });

      // Padded tokens (plaintext lengths other than 32) decrypt on our side too.
      const padded = (await py(ENCRYPT, b.keys.private, "hello", String(now))).out;
      assert.ok(padded.endsWith("="));
      assert.equal((await fernetDecrypt(b.keys.private, padded)).plain, "hello");

      // Refusals agree: another key, too old, tampered.
      const other = generateKeys();
      const foreign = (await py(ENCRYPT, other.private, b.keys.secret, String(now))).out;
      const old = (await py(ENCRYPT, b.keys.private, b.keys.secret, String(now - 3600))).out;
      for (const [token, body] of [[foreign, "Invalid token"], [old, "Invalid token"]]) {
        const r = await rawHandshake(b.port, "/gw", upgradeHeaders(`token,${token}`));
        assert.deepEqual([r.status, r.body], [401, body]);
      }
      assert.equal((await py(DECRYPT, b.keys.private, foreign)).ok, false);
      await assert.rejects(
        fernetDecrypt(b.keys.private, old, { maxAgeSeconds: 60 }),
        (e) => e instanceof FernetError && e.reason === "expired",
      );
      const oldOurs = await fernetEncrypt(b.keys.private, b.keys.secret, now - 3600);
      assert.equal((await py(DECRYPT, b.keys.private, oldOurs)).ok, false, "Python's ttl agrees");
      const flipped = ours.slice(0, 60) + (ours[60] === "A" ? "B" : "A") + ours.slice(61);
      assert.equal((await py(DECRYPT, b.keys.private, flipped)).ok, false);
      await assert.rejects(
        fernetDecrypt(b.keys.private, flipped),
        (e) => e instanceof FernetError && e.reason === "bad_hmac",
      );
    } finally {
      await b.close();
    }
  },
});
