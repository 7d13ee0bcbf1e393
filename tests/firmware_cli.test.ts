// `deno task node`: the CLI as a user runs it, as a subprocess, against a real MQTT broker.
import { deepEqual, equal, match, ok } from "node:assert/strict";
import mqtt from "mqtt";
import { startEmbeddedMqttBroker } from "../gateway/mqtt/embedded_broker.ts";
import { fleetIds, startFleet } from "../firmware/fleet.ts";
import { parseNodeArgs, UsageError } from "../firmware/main.ts";

const ROOT = new URL("../", import.meta.url);

function runCli(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "firmware/main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (text += chunk) }),
  );
  return { text: () => text, done };
}

Deno.test("node CLI: fleet ids derive from --id, one node keeps the id as given", () => {
  deepEqual(fleetIds("n", 1), ["n"]);
  deepEqual(fleetIds("n", 3), ["n-1", "n-2", "n-3"]);
  const cfg = parseNodeArgs(["mqtt", "--id", "room", "--count", "2", "--gateway-port", "1999"]);
  deepEqual(cfg.ids, ["room-1", "room-2"]);
  const o = cfg.options("room-2");
  equal(o.id, "room-2");
  equal(o.mqttUrl, "mqtt://127.0.0.1:1999");
  equal(parseNodeArgs(["coap"]).options("x").gatewayPort, 5683);
  equal(parseNodeArgs(["mqttsn", "--interval", "0.5"]).options("x").intervalMs, 500);
  equal(parseNodeArgs(["ws"]).pauseMs, 100);
  equal(parseNodeArgs(["ws", "--batch-pause", "0"]).pauseMs, 0);
  // Starting readings, in RIOT's formats; they then drift from there.
  const s = parseNodeArgs(["coap", "--temperature", "30", "--pressure", "990", "--humidity", "80"])
    .options("x").sensors!;
  deepEqual([s.get("temperature"), s.get("pressure"), s.get("humidity")], [
    "30.0°C",
    "990.00hPa",
    "80.00%",
  ]);
  const sleepy = parseNodeArgs(["mqttsn", "--interval", "2", "--sleep", "30"]).options("x");
  deepEqual(sleepy.dutyCycle, { awakeMs: 2000, sleepS: 30 });
  equal(parseNodeArgs(["mqttsn"]).options("x").dutyCycle, undefined);
});

Deno.test("node CLI: bad arguments are usage errors", () => {
  for (
    const args of [
      [],
      ["zigbee"],
      ["coap", "ws"],
      ["coap", "--count", "0"],
      ["ws", "--bogus"],
      [
        "ws",
        "--batch-pause",
        "soon",
      ],
      [
        "coap",
        "--interval",
        "-1",
      ],
      ["coap", "--temperature", "warm"],
      ["coap", "--sleep", "10"],
      ["mqttsn", "--sleep", "0"],
    ]
  ) {
    let thrown: unknown;
    try {
      parseNodeArgs(args);
    } catch (e) {
      thrown = e;
    }
    ok(thrown instanceof UsageError, `${JSON.stringify(args)} should be refused`);
  }
});

Deno.test("node CLI: an unknown protocol exits 2 with the usage", async () => {
  const out = await runCli(["zigbee"]).output();
  equal(out.code, 2);
  match(new TextDecoder().decode(out.stderr), /unknown protocol 'zigbee'[\s\S]*usage:/);
});

Deno.test("node CLI: --count starts a fleet that publishes, SIGINT stops it with exit 0", async () => {
  const broker = await startEmbeddedMqttBroker({ host: "127.0.0.1", port: 0 });
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const checkedIn = new Set<string>();
  const temperatures = new Set<string>();
  const { promise: allSeen, resolve } = Promise.withResolvers<void>();
  client.on("message", (topic, payload) => {
    if (topic === "node/check") checkedIn.add(JSON.parse(payload.toString()).id);
    const m = /^node\/([^/]+)\/temperature$/.exec(topic);
    if (m) temperatures.add(m[1]);
    if (checkedIn.size === 3 && temperatures.size === 3) resolve();
  });
  await client.subscribeAsync(["node/check", "node/+/temperature"]);
  const child = runCli([
    "mqtt",
    "--id",
    "cli",
    "--count",
    "3",
    "--batch",
    "2",
    "--gateway-port",
    String(broker.port),
    "--interval",
    "0.2",
  ]).spawn();
  const stderr = collect(child.stderr);
  const stdout = collect(child.stdout);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      allSeen,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("fleet did not publish within 30 s")), 30_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    child.kill("SIGINT");
  }
  const status = await child.status;
  await Promise.all([stderr.done, stdout.done]);
  await client.endAsync(true);
  await broker.close();
  deepEqual([...checkedIn].sort(), ["cli-1", "cli-2", "cli-3"]);
  deepEqual([...temperatures].sort(), ["cli-1", "cli-2", "cli-3"]);
  equal(status.code, 0, stderr.text());
  match(stderr.text(), /nodes running.*started=3 failed=0/);
});

Deno.test("fleet: a node that cannot start is reported, the others run", async () => {
  const broker = await startEmbeddedMqttBroker({ host: "127.0.0.1", port: 0 });
  try {
    const fleet = await startFleet({
      protocol: "mqtt",
      ids: ["ok-1", "bad", "ok-2"],
      batch: 2,
      // "bad" points at a URL scheme mqtt.js refuses at once, so its start throws.
      options: (id) => ({ id, mqttUrl: id === "bad" ? "nope://127.0.0.1:1" : broker.url }),
    });
    deepEqual(fleet.nodes.map((n) => n.id), ["ok-1", "ok-2"]);
    deepEqual(fleet.failures.map((f) => f.id), ["bad"]);
    await fleet.stop();
  } finally {
    await broker.close();
  }
});
