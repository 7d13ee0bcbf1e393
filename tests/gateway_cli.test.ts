// The gateway CLI: flag/config parsing in-process, and real subprocesses that start, print one
// start-up line, serve nodes through a real broker, and stop cleanly on SIGINT/SIGTERM.
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { formatKeys } from "../common/keys.ts";
import { parseGatewayArgs, UsageError } from "../gateway/main.ts";
import { startEmbeddedMqttBroker } from "../gateway/mqtt/embedded_broker.ts";
import { WsNode } from "../firmware/ws_node.ts";
import { MqttNode } from "../firmware/mqtt_node.ts";
import { startTestBroker, waitFor, WebClient } from "./gateway_mqtt_harness.ts";

const MAIN = new URL("../gateway/main.ts", import.meta.url).pathname;

Deno.test("gateway cli: defaults, config file, flags win over it", async () => {
  const ws = await parseGatewayArgs(["ws"]);
  equal(ws.brokerUrl, "ws://localhost:8000/gw");
  equal(ws.port, 8001);
  equal(ws.maxTimeS, 120);
  equal(ws.maxNodes, 100_000);
  equal(ws.binary, false);
  const dir = await Deno.makeTempDir();
  try {
    const conf = `${dir}/gw.json`;
    await Deno.writeTextFile(
      conf,
      JSON.stringify({
        "broker-host": "broker.example",
        "broker-port": 9000,
        "broker-ssl": true,
        "max-time": "30",
        "mqtt-url": "mqtt://10.0.0.1:1884",
        name: "from-config",
      }),
    );
    const m = await parseGatewayArgs(["mqtt", "--config", conf, "--name", "from-flag"]);
    equal(m.brokerUrl, "wss://broker.example:9000/gw");
    equal(m.maxTimeS, 30);
    equal(m.mqttUrl, "mqtt://10.0.0.1:1884");
    equal(m.name, "from-flag", "flags win over the config file");
    const c = await parseGatewayArgs(["coap", "--node-port", "source", "--coap-port", "5684"]);
    deepEqual([c.port, c.nodePort], [5684, "source"]);
    const sn = await parseGatewayArgs([
      "mqttsn",
      "--broker-port",
      "",
      "--predefined",
      "p.json",
      "--max-nodes",
      "500",
    ]);
    equal(sn.maxNodes, 500);
    equal(sn.brokerUrl, "ws://localhost/gw", 'empty broker port: pyaiot\'s "behind a proxy"');
    equal(sn.port, 1885);
    equal(sn.predefinedFile, "p.json");

    // Refusals, each with a message for the user.
    await rejects(parseGatewayArgs(["zigbee"]), UsageError);
    await rejects(parseGatewayArgs(["ws", "--mqtt-url", "mqtt://x"]), UsageError);
    await rejects(parseGatewayArgs(["ws", "--gateway-port", "70000"]), UsageError);
    await rejects(parseGatewayArgs(["ws", "--max-time", "-3"]), UsageError);
    await rejects(parseGatewayArgs(["coap", "--max-nodes", "0"]), /--max-nodes/);
    await rejects(parseGatewayArgs(["mqtt", "--mqtt-url", "localhost:1886"]), UsageError);
    await Deno.writeTextFile(conf, '{"colour":"red"}');
    await rejects(parseGatewayArgs(["ws", "--config", conf]), /unknown setting "colour"/);
    await Deno.writeTextFile(conf, '{"broker-ssl":"yes"}');
    await rejects(parseGatewayArgs(["ws", "--config", conf]), /must be a boolean/);
    await Deno.writeTextFile(conf, "{");
    await rejects(parseGatewayArgs(["ws", "--config", conf]), UsageError);
    await rejects(parseGatewayArgs(["ws", "--config", `${dir}/missing.json`]), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A gateway subprocess; resolves its first stdout line (the start-up line). */
function spawnGateway(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream());
  let out = "";
  const firstLine = (async () => {
    for await (const chunk of stdout) {
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl >= 0) return out.slice(0, nl);
    }
    return out;
  })();
  const stderr = new Response(child.stderr).text();
  return { child, firstLine, stderr, drain: () => stdout.cancel().catch(() => {}) };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => timer = setTimeout(() => rej(new Error(what)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("gateway cli: ws gateway subprocess serves a node and stops on SIGINT", async () => {
  const broker = await startTestBroker();
  const dir = await Deno.makeTempDir();
  const keyFile = `${dir}/keys`;
  await Deno.writeTextFile(keyFile, formatKeys(broker.keys));
  const client = await WebClient.open(broker.port);
  const gw = spawnGateway([
    "ws",
    "--broker-host",
    "127.0.0.1",
    "--broker-port",
    String(broker.port),
    "--key-file",
    keyFile,
    "--host",
    "127.0.0.1",
    "--gateway-port",
    "0",
    "--name",
    "cli-ws",
    "--binary", // the CBOR link to the broker; web clients still get JSON
  ]);
  let node: WsNode | null = null;
  try {
    const line = await withTimeout(gw.firstLine, 40_000, "no start-up line");
    match(line, /^aiot ws gateway cli-ws: nodes ws:\/\/127\.0\.0\.1:\d+\/node, broker ws:/);
    const port = Number(/:(\d+)\/node/.exec(line)![1]);
    node = new WsNode({ id: "cli-node", url: `ws://127.0.0.1:${port}/node`, intervalMs: 60_000 });
    await node.start();
    await waitFor("node via the CLI gateway", () => client.has("update", "cli-node", "name"));
    gw.child.kill("SIGINT");
    const status = await withTimeout(gw.child.status, 20_000, "gateway did not stop");
    equal(status.code, 0);
    // The node learns its gateway is gone; the web side is told the node is gone.
    await waitFor("out after the gateway stopped", () => client.has("out", "cli-node"));
  } finally {
    await node?.stop();
    try {
      gw.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await gw.child.status;
    await gw.drain();
    await gw.stderr;
    await client.close();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gateway cli: mqtt gateway subprocess on aedes; SIGTERM; bad key file exits 1", async () => {
  const broker = await startTestBroker();
  const aedes = await startEmbeddedMqttBroker({ port: 0 });
  const dir = await Deno.makeTempDir();
  const keyFile = `${dir}/keys`;
  await Deno.writeTextFile(keyFile, formatKeys(broker.keys));
  const client = await WebClient.open(broker.port);
  const conf = `${dir}/gw.json`;
  await Deno.writeTextFile(
    conf,
    JSON.stringify({
      "broker-host": "127.0.0.1",
      "broker-port": broker.port,
      "key-file": keyFile,
      "mqtt-url": aedes.url,
    }),
  );
  const gw = spawnGateway(["mqtt", "--config", conf, "--name", "cli-mqtt", "--debug"]);
  const node = new MqttNode({ id: "cli-mqtt-node", mqttUrl: aedes.url, intervalMs: 60_000 });
  try {
    const line = await withTimeout(gw.firstLine, 40_000, "no start-up line");
    equal(
      line,
      `aiot mqtt gateway cli-mqtt: nodes ${aedes.url}, broker ws://127.0.0.1:${broker.port}/gw`,
    );
    await node.start();
    await waitFor(
      "node via the CLI gateway",
      () => client.has("update", "cli-mqtt-node", "os"),
      30_000,
    );
    gw.child.kill("SIGTERM");
    const status = await withTimeout(gw.child.status, 20_000, "gateway did not stop");
    equal(status.code, 0);
    await waitFor("out after the gateway stopped", () => client.has("out", "cli-mqtt-node"));
    match(await gw.stderr, /level=debug/, "--debug turns on debug logs");

    // A missing key file: pyaiot's message, exit code 1, nothing left running.
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "ws", "--key-file", `${dir}/nope`, "--gateway-port", "0"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(bad.code, 1);
    ok(new TextDecoder().decode(bad.stderr).includes("Key file provided doesn't exists"));
  } finally {
    await node.stop();
    try {
      gw.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await gw.child.status;
    await gw.drain();
    await gw.stderr;
    await client.close();
    await aedes.close();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts `args` as a gateway subprocess, checks its start-up line, stops it with SIGINT. */
async function startAndInterrupt(args: string[], expected: RegExp): Promise<void> {
  const broker = await startTestBroker();
  const dir = await Deno.makeTempDir();
  const keyFile = `${dir}/keys`;
  await Deno.writeTextFile(keyFile, formatKeys(broker.keys));
  const gw = spawnGateway([
    ...args,
    "--broker-host",
    "127.0.0.1",
    "--broker-port",
    String(broker.port),
    "--key-file",
    keyFile,
    "--host",
    "127.0.0.1",
  ]);
  try {
    const line = await withTimeout(gw.firstLine, 40_000, `no start-up line: ${args[0]}`);
    match(line, expected);
    ok(!/:0 \(udp\)/.test(line), "the bound port, not 0, is printed");
    gw.child.kill("SIGINT");
    const status = await withTimeout(gw.child.status, 20_000, "gateway did not stop");
    equal(status.code, 0);
  } finally {
    try {
      gw.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await gw.child.status;
    await gw.drain();
    await gw.stderr;
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("gateway cli: the mqttsn subcommand starts its gateway and stops on SIGINT", async () => {
  await startAndInterrupt(
    ["mqttsn", "--port", "0"],
    /^aiot mqttsn gateway .*: nodes mqtt-sn:\/\/127\.0\.0\.1:\d+ \(udp\)/,
  );
});

Deno.test("gateway cli: the coap subcommand starts its gateway and stops on SIGINT", async () => {
  await startAndInterrupt(
    ["coap", "--coap-port", "0"],
    /^aiot coap gateway .*: nodes coap:\/\/127\.0\.0\.1:\d+ \(udp\)/,
  );
});
