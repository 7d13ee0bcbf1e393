// `deno task broker` as users run it: settings from flags and a JSON config file, pyaiot's key
// file errors, and a real subprocess that closes its websockets with 1001 on SIGTERM and SIGINT.
import assert from "node:assert/strict";
import { formatKeys, generateKeys } from "../common/keys.ts";
import { ConfigError, loadSettings } from "../broker/config.ts";
import { openClient, openGateway, TIMEOUT_MS } from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("settings: defaults, config file with pyaiot names, flags win", async () => {
  const d = await loadSettings([]);
  assert.equal(d.port, 8000);
  assert.equal(d.host, "0.0.0.0");
  assert.equal(d.tokenMaxAgeSeconds, 300);
  assert.equal(d.maxFrameBytes, 65536);
  assert.equal(d.clientBufferBytes, 16 * 1024 * 1024);
  assert.equal(d.writeToken, undefined);
  assert.equal((await loadSettings(["--client-buffer-bytes", "100000000"])).clientBufferBytes, 1e8);
  assert.match(d.keyFile, /\/\.pyaiot\/keys$/);
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/broker.json`;
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({
        broker_port: 9000,
        key_file: "/k",
        writeToken: "w",
        "token-max-age": 0,
        coap_port: 5683, // another service's option: ignored, as pyaiot does
        debug: true,
      }),
    );
    const s = await loadSettings(["--config", cfg, "--port", "9100", "--host", "127.0.0.1"]);
    assert.deepEqual(
      [s.port, s.host, s.keyFile, s.writeToken, s.tokenMaxAgeSeconds, s.debug],
      [9100, "127.0.0.1", "/k", "w", 0, true],
    );
    const bad = async (args: string[], re: RegExp) =>
      await assert.rejects(
        loadSettings(args),
        (e) => e instanceof ConfigError && re.test(e.message),
      );
    await bad(["--port", "abc"], /--port must be a non-negative number/);
    await bad(["--port", "70000"], /bad port/);
    await bad(["--tls-cert", "c.pem"], /go together/);
    await bad(["--client-buffer-bytes", "1000"], /--client-buffer-bytes/);
    await bad(["--nope"], /Unknown option/);
    await bad(["--config", `${dir}/missing.json`], /Config file not found/);
    await Deno.writeTextFile(`${dir}/bad.json`, "{port: 1");
    await bad(["--config", `${dir}/bad.json`], /Invalid config file/);
    await Deno.writeTextFile(`${dir}/arr.json`, "[1]");
    await bad(["--config", `${dir}/arr.json`], /expected a JSON object/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Collects a child's stderr and resolves `url` once the broker says where it listens. */
function watch(
  child: Deno.ChildProcess,
): { url: Promise<string>; text: () => string; done: Promise<void> } {
  let text = "";
  const url = Promise.withResolvers<string>();
  url.promise.catch(() => {}); // a broker that exits early is checked through `text`
  const done = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const m = /msg="broker listening" url=(\S+)/.exec(text);
      if (m) url.resolve(m[1]);
    }
    url.reject(new Error(`broker did not start:\n${text}`));
  })();
  return { url: url.promise, text: () => text, done };
}

function spawnBroker(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../broker/main.ts", import.meta.url).pathname, ...args],
    stdout: "null",
    stderr: "piped",
    env: { AIOT_LOG: "info" }, // the start-up line is how we learn the port
  }).spawn();
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} closes every socket with 1001 and exits 0`, sanitize, async () => {
    const dir = await Deno.makeTempDir();
    const keys = generateKeys();
    await Deno.writeTextFile(`${dir}/keys`, formatKeys(keys));
    await Deno.writeTextFile(
      `${dir}/cfg.json`,
      JSON.stringify({ host: "127.0.0.1", port: 0, "key-file": `${dir}/keys` }),
    );
    const child = spawnBroker(["--config", `${dir}/cfg.json`]);
    const out = watch(child);
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const url = await Promise.race([
        out.url,
        new Promise<never>((_, rej) =>
          timer = setTimeout(() => rej(new Error("no start")), TIMEOUT_MS * 3)
        ),
      ]).finally(() => clearTimeout(timer));
      const ws = url.replace(/^http/, "ws");
      const gw = await openGateway({ ws, keys }, { name: "sig" });
      const web = await openClient({ ws });
      await gw.next((m) => m.type === "new");
      child.kill(signal);
      const [cg, cw] = [await gw.closed, await web.closed];
      assert.deepEqual(cg, { code: 1001, reason: "Broker shutting down" });
      assert.deepEqual(cw, { code: 1001, reason: "Broker shutting down" });
      const status = await child.status;
      await out.done;
      assert.equal(status.code, 0, out.text());
      assert.match(out.text(), new RegExp(`msg=stopping signal=${signal}`));
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await out.done;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a missing or invalid key file: pyaiot's message and exit 1", sanitize, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = spawnBroker([
      "--key-file",
      `${dir}/none`,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
    ]);
    const m = watch(missing);
    assert.equal((await missing.status).code, 1);
    await m.done;
    assert.match(m.text(), new RegExp(`Key file provided doesn't exists: '${dir}/none'`));

    await Deno.writeTextFile(`${dir}/bad`, "[keys]\nsecret = abc\nprivate = short\n");
    const invalid = spawnBroker(["--keys", `${dir}/bad`, "--port", "0", "--host", "127.0.0.1"]);
    const i = watch(invalid);
    assert.equal((await invalid.status).code, 1);
    await i.done;
    assert.match(i.text(), new RegExp(`Invalid key file provided: '${dir}/bad'`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
