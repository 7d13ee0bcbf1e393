// `deno task keys` as a real subprocess: pyaiot's INI format (read back by Python's configparser),
// owner-only permissions, refusal to overwrite without --force.
import assert from "node:assert/strict";
import { parseKeys, readKeys } from "../common/keys.ts";

async function runKeys(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../scripts/keys.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const PY = "/usr/bin/python3";
const hasPython = (() => {
  try {
    return new Deno.Command(PY, { args: ["-c", "import configparser"] }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test("keys: writes 0600 in a new 0700 directory, prints the keys, refuses to overwrite", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/new/.pyaiot/keys`;
    const first = await runKeys(["--key-file", path]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/new/.pyaiot`)).mode! & 0o777, 0o700);
    const keys = await readKeys(path);
    assert.match(keys.secret, /^[A-Za-z0-9]{32}$/);
    assert.match(keys.private, /^[A-Za-z0-9_-]{43}=$/);
    assert.ok(first.stdout.includes(keys.secret) && first.stdout.includes(keys.private));

    const again = await runKeys(["--key-file", path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists.*--force/);
    assert.deepEqual(await readKeys(path), keys, "the file is untouched");

    await Deno.chmod(path, 0o644);
    const forced = await runKeys(["--key-file", path, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    const replaced = await readKeys(path);
    assert.notEqual(replaced.secret, keys.secret);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(`${dir}/new/.pyaiot`)].map((e) => e.name), ["keys"]);

    const bad = await runKeys(["--bogus"]);
    assert.equal(bad.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "keys: Python's configparser (pyaiot's reader) reads our file",
  ignore: !hasPython,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/keys`;
      assert.equal((await runKeys(["--key-file", path])).code, 0);
      const out = await new Deno.Command(PY, {
        args: [
          "-c",
          "import configparser,sys; c=configparser.ConfigParser(); c.read(sys.argv[1]); " +
          "print(c.get('keys','secret')); print(c.get('keys','private'))",
          path,
        ],
        stdout: "piped",
      }).output();
      const [secret, priv] = new TextDecoder().decode(out.stdout).trim().split("\n");
      assert.deepEqual({ secret, private: priv }, await readKeys(path));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("parseKeys: pyaiot's messages for incomplete or invalid files", () => {
  const ok = "[keys]\nsecret = abc\nprivate = " + "A".repeat(43) + "=\n";
  assert.equal(parseKeys(ok, "p").secret, "abc");
  assert.equal(parseKeys(ok.replace("secret =", "SECRET:"), "p").secret, "abc");
  for (
    const bad of [
      "",
      "[keys]\nsecret = abc\n",
      "[other]\nsecret = a\nprivate = " + "A".repeat(43) + "=\n",
      "[keys]\nsecret = abc\nprivate = tooshort\n",
      "[keys]\nsecret = abc\nprivate = " + "!".repeat(43) + "=\n",
    ]
  ) {
    assert.throws(() => parseKeys(bad, "/x"), { message: "Invalid key file provided: '/x'" });
  }
});
