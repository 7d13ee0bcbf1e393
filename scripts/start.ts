// `deno task start`: the whole system in one process, for a first look on a fresh clone.
// Broker, dashboard, the four gateways (MQTT with an embedded MQTT broker unless --mqtt-url) and a
// few simulated nodes of each protocol. Parts are imported on demand so a part turned off is
// never loaded. Ctrl-C or SIGTERM stops everything and the process exits 0.
import { parseArgs } from "node:util";
import { generateKeys, type Keys, readKeys } from "../common/keys.ts";
import { createLogger, setLogLevel } from "../common/log.ts";
import { type NodeProtocol, startFleet } from "../firmware/fleet.ts";
import { Sensors } from "../firmware/sim.ts";

const log = createLogger("start");

const USAGE = `usage: deno task start [flags]

  --host HOST            address every server binds (default 127.0.0.1; 0.0.0.0 exposes it)
  --broker-port N        broker: gateways on /gw, browsers on /ws, REST on /api (default 8000)
  --dashboard-port N     dashboard web page (default 8080)
  --coap-port N          CoAP gateway, UDP (default 5683)
  --mqttsn-port N        MQTT-SN gateway, UDP (default 1885)
  --ws-port N            websocket gateway, nodes on /node (default 8001)
  --mqtt-port N          embedded MQTT broker (default 1883)
  --mqtt-url URL         use this MQTT broker instead of the embedded one
  --key-file PATH        broker/gateway keys (default: a fresh in-memory pair)
  --nodes N              simulated nodes per protocol (default 2)
  --cbor                 nodes send CBOR payloads
  --no-nodes --no-dashboard --no-coap --no-mqtt --no-mqttsn --no-ws   leave a part out
  --debug                per-message logs`;

class UsageError extends Error {}

interface StartConfig {
  host: string;
  ports: {
    broker: number;
    dashboard: number;
    coap: number;
    mqttsn: number;
    ws: number;
    mqtt: number;
  };
  mqttUrl?: string;
  keyFile?: string;
  nodes: number;
  cbor: boolean;
  dashboard: boolean;
  protocols: Record<NodeProtocol, boolean>;
  debug: boolean;
  help: boolean;
}

function parseConfig(args: string[]): StartConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        "broker-port": { type: "string", default: "8000" },
        "dashboard-port": { type: "string", default: "8080" },
        "coap-port": { type: "string", default: "5683" },
        "mqttsn-port": { type: "string", default: "1885" },
        "ws-port": { type: "string", default: "8001" },
        "mqtt-port": { type: "string", default: "1883" },
        "mqtt-url": { type: "string" },
        "key-file": { type: "string" },
        nodes: { type: "string", default: "2" },
        cbor: { type: "boolean", default: false },
        "no-nodes": { type: "boolean", default: false },
        "no-dashboard": { type: "boolean", default: false },
        "no-coap": { type: "boolean", default: false },
        "no-mqtt": { type: "boolean", default: false },
        "no-mqttsn": { type: "boolean", default: false },
        "no-ws": { type: "boolean", default: false },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const port = (flag: string): number => {
    const n = Number(v[flag as keyof typeof v]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new UsageError(`--${flag} must be a port number (0 picks a free one)`);
    }
    return n;
  };
  const nodes = Number(v.nodes);
  if (!Number.isInteger(nodes) || nodes < 0) {
    throw new UsageError("--nodes must be an integer >= 0");
  }
  return {
    host: v.host,
    ports: {
      broker: port("broker-port"),
      dashboard: port("dashboard-port"),
      coap: port("coap-port"),
      mqttsn: port("mqttsn-port"),
      ws: port("ws-port"),
      mqtt: port("mqtt-port"),
    },
    mqttUrl: v["mqtt-url"],
    keyFile: v["key-file"],
    nodes: v["no-nodes"] ? 0 : nodes,
    cbor: v.cbor,
    dashboard: !v["no-dashboard"],
    protocols: {
      coap: !v["no-coap"],
      mqtt: !v["no-mqtt"],
      mqttsn: !v["no-mqttsn"],
      ws: !v["no-ws"],
    },
    debug: v.debug,
    help: v.help,
  };
}

/** A port another program holds: the message names the flag that moves ours elsewhere. */
class PortTakenError extends Error {}

function isAddrInUse(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse ||
    /address (already )?in use|AddrInUse|EADDRINUSE/i.test(String((e as Error)?.message ?? e));
}

/** Checks a port before anything starts, so a clash ends the run before half of it is up. */
function checkPort(
  host: string,
  port: number,
  transport: "tcp" | "udp",
  flag: string,
  what: string,
) {
  if (port === 0) return;
  try {
    if (transport === "tcp") Deno.listen({ hostname: host, port }).close();
    else Deno.listenDatagram({ hostname: host, port, transport: "udp" }).close();
  } catch (e) {
    if (isAddrInUse(e)) {
      throw new PortTakenError(
        `${transport.toUpperCase()} port ${port} on ${host} is taken (${what}): ` +
          `stop what uses it or choose another with --${flag}`,
      );
    }
    throw e;
  }
}

/** What a browser or a local client uses to reach a server bound to `host`. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The host name a browser on another machine would use for a server bound to every interface. */
function browserHost(host: string): string {
  return host === "0.0.0.0" || host === "::" ? Deno.hostname() : reachableHost(host);
}

interface Part {
  label: string;
  close(): Promise<void>;
}

/** Display names so the demo dashboard shows a varied set of boards, as a real testbed would. */
const DEMO_NODES: { name: string; board: string; mcu: string }[] = [
  { name: "Weather Sensor", board: "iotlab-m3", mcu: "stm32f103re" },
  { name: "Node LED", board: "samr21-xpro", mcu: "samd21" },
  { name: "Gas Sensor", board: "nrf52dk", mcu: "nrf52832" },
  { name: "Greenhouse", board: "b-l072z-lrwan1", mcu: "stm32l072cz" },
  { name: "Cold Room", board: "esp32-wroom-32", mcu: "esp32" },
  { name: "Light Sensor", board: "arduino-zero", mcu: "samd21" },
  { name: "Server Room", board: "nucleo-f446re", mcu: "stm32f446re" },
  { name: "Beehive", board: "feather-nrf52840", mcu: "nrf52840" },
];

const PROTOCOL_LABEL: Record<NodeProtocol, string> = {
  coap: "CoAP",
  mqttsn: "MQTT-SN",
  ws: "WebSocket",
  mqtt: "MQTT",
};

async function run(cfg: StartConfig, parts: Part[]): Promise<string> {
  const { host, ports } = cfg;
  const local = reachableHost(host);
  const embeddedMqtt = cfg.protocols.mqtt && !cfg.mqttUrl;

  checkPort(host, ports.broker, "tcp", "broker-port", "broker");
  if (cfg.dashboard) checkPort(host, ports.dashboard, "tcp", "dashboard-port", "dashboard");
  if (cfg.protocols.coap) checkPort(host, ports.coap, "udp", "coap-port", "CoAP gateway");
  if (cfg.protocols.mqttsn) checkPort(host, ports.mqttsn, "udp", "mqttsn-port", "MQTT-SN gateway");
  if (cfg.protocols.ws) checkPort(host, ports.ws, "tcp", "ws-port", "websocket gateway");
  if (embeddedMqtt) checkPort(host, ports.mqtt, "tcp", "mqtt-port", "embedded MQTT broker");

  const keys: Keys = cfg.keyFile ? await readKeys(cfg.keyFile) : generateKeys();

  // Each start is wrapped so a port lost between the check and the bind still names its flag.
  const started = async <T extends { close(): Promise<void> }>(
    label: string,
    flag: string | undefined,
    port: number,
    start: () => Promise<T>,
  ): Promise<T> => {
    try {
      const handle = await start();
      parts.push({ label, close: () => handle.close() });
      return handle;
    } catch (e) {
      if (flag && isAddrInUse(e)) {
        throw new PortTakenError(`port ${port} is taken (${label}): choose another with --${flag}`);
      }
      throw new Error(`${label} failed to start: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  };

  const broker = await started(
    "broker",
    "broker-port",
    ports.broker,
    async () =>
      (await import("../broker/server.ts")).startBroker({ host, port: ports.broker, keys }),
  );
  const brokerUrl = `ws://${local}:${broker.port}/gw`;
  const summary: string[] = [`broker :${broker.port}`];

  let dashboardUrl: string | undefined;
  if (cfg.dashboard) {
    const dash = await started(
      "dashboard",
      "dashboard-port",
      ports.dashboard,
      async () =>
        (await import("../dashboard/server.ts")).startDashboard({
          host,
          port: ports.dashboard,
          brokerUrl: `ws://${browserHost(host)}:${broker.port}/ws`,
        }),
    );
    dashboardUrl = `http://${browserHost(host)}:${dash.port}/`;
  }

  const gatewayPorts: Partial<Record<NodeProtocol, number>> = {};
  let mqttUrl = cfg.mqttUrl;
  const base = { brokerUrl, keys };
  if (cfg.protocols.coap) {
    const gw = await started(
      "CoAP gateway",
      "coap-port",
      ports.coap,
      async () =>
        (await import("../gateway/coap/gateway.ts")).startCoapGateway({
          ...base,
          name: "coap",
          host,
          port: ports.coap,
        }),
    );
    gatewayPorts.coap = gw.port;
    summary.push(`coap udp :${gw.port}`);
  }
  if (cfg.protocols.mqttsn) {
    const gw = await started(
      "MQTT-SN gateway",
      "mqttsn-port",
      ports.mqttsn,
      async () =>
        (await import("../gateway/mqttsn/gateway.ts")).startMqttSnGateway({
          ...base,
          name: "mqttsn",
          host,
          port: ports.mqttsn,
        }),
    );
    gatewayPorts.mqttsn = gw.port;
    summary.push(`mqtt-sn udp :${gw.port}`);
  }
  if (cfg.protocols.ws) {
    const gw = await started(
      "websocket gateway",
      "ws-port",
      ports.ws,
      async () =>
        (await import("../gateway/ws/gateway.ts")).startWsGateway({
          ...base,
          name: "ws",
          host,
          port: ports.ws,
        }),
    );
    gatewayPorts.ws = gw.port;
    summary.push(`ws :${gw.port}/node`);
  }
  if (cfg.protocols.mqtt) {
    if (!mqttUrl) {
      const mq = await started(
        "embedded MQTT broker",
        "mqtt-port",
        ports.mqtt,
        async () =>
          (await import("../gateway/mqtt/embedded_broker.ts")).startEmbeddedMqttBroker({
            host,
            port: ports.mqtt,
          }),
      );
      mqttUrl = `mqtt://${local}:${mq.port}`;
      summary.push(`mqtt :${mq.port} (embedded)`);
    } else {
      summary.push(`mqtt ${mqttUrl}`);
    }
    const url = mqttUrl;
    await started(
      "MQTT gateway",
      undefined,
      0,
      async () =>
        (await import("../gateway/mqtt/gateway.ts")).startMqttGateway({
          ...base,
          name: "mqtt",
          mqttUrl: url,
        }),
    );
  }

  let nodeCount = 0;
  if (cfg.nodes > 0) {
    const protocols = (Object.keys(cfg.protocols) as NodeProtocol[]).filter((p) =>
      cfg.protocols[p]
    );
    // Protocols start side by side; each fleet's own start is batched. Nodes that fail are a
    // loud warning, not the end of the run: the rest of the system is still worth looking at.
    const results = await Promise.allSettled(protocols.map((protocol, pi) => {
      const ids = Array.from({ length: cfg.nodes }, (_, i) => `${protocol}-${i + 1}`);
      return startFleet({
        protocol,
        ids,
        batch: 50,
        options: (id, i) => ({
          id,
          gatewayHost: local.replace(/^\[(.*)\]$/, "$1"),
          gatewayPort: gatewayPorts[protocol],
          mqttUrl,
          cbor: cfg.cbor,
          // A few seconds apart, so the demo moves without flooding anyone's screen.
          intervalMs: 2000 + 500 * ((i + pi) % 4),
          sensors: new Sensors(id, DEMO_NODES[(pi * cfg.nodes + i) % DEMO_NODES.length]),
        }),
      });
    }));
    results.forEach((r, i) => {
      const label = PROTOCOL_LABEL[protocols[i]];
      if (r.status === "rejected") {
        log.warn(`${label} nodes not started`, { error: r.reason });
        return;
      }
      // Nodes stop first, so gateways see them leave rather than time out.
      parts.push({ label: `${label} nodes`, close: () => r.value.stop() });
      nodeCount += r.value.nodes.length;
      for (const f of r.value.failures) {
        log.warn(`${label} node failed to start`, { id: f.id, error: f.error });
      }
    });
  }
  summary.push(`${nodeCount} nodes`);
  const gateways = Object.keys(gatewayPorts).length + (cfg.protocols.mqtt ? 1 : 0);
  summary.splice(1, 0, `${gateways} gateways`);
  if (dashboardUrl) console.log(`dashboard: ${dashboardUrl}`);
  console.log(`aiot running: ${summary.join(", ")}. Ctrl-C stops it.`);
  return dashboardUrl ?? broker.url;
}

/** Closes parts newest first; a part that hangs does not keep the others from closing. */
async function closeAll(parts: Part[]): Promise<boolean> {
  let clean = true;
  for (const part of parts.reverse()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 5000));
    try {
      const r = await Promise.race([part.close().then(() => "ok" as const), timeout]);
      if (r === "timeout") {
        clean = false;
        log.warn("part did not close within 5 s", { part: part.label });
      }
    } catch (e) {
      clean = false;
      log.warn("part failed to close", { part: part.label, error: e });
    } finally {
      clearTimeout(timer);
    }
  }
  parts.length = 0;
  return clean;
}

async function main(args: string[]): Promise<number> {
  let cfg: StartConfig;
  try {
    cfg = parseConfig(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (cfg.help) {
    console.log(USAGE);
    return 0;
  }
  if (cfg.debug) setLogLevel("debug");

  const parts: Part[] = [];
  let stopping = false;
  const { promise: stopRequested, resolve: requestStop } = Promise.withResolvers<string>();
  const onSignal = (signal: string) => () => {
    if (stopping) {
      log.warn("second signal, exiting now");
      Deno.exit(1);
    }
    stopping = true;
    requestStop(signal);
  };
  Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));

  // A signal during start-up waits (boundedly) for the start to settle, so nothing it is
  // opening right then is left running.
  const running = run(cfg, parts).then(() => "running" as const, (e: unknown) => e);
  const first = await Promise.race([running, stopRequested.then(() => "signal" as const)]);
  const runOutcome = first === "signal"
    ? await Promise.race([running, new Promise((r) => setTimeout(() => r("running"), 10_000))])
    : first;
  if (runOutcome !== "running") {
    const e = runOutcome as Error;
    console.error(`error: ${e instanceof PortTakenError ? e.message : e?.message ?? e}`);
    if (!(e instanceof PortTakenError) && e?.cause) log.debug("cause", { error: e.cause });
    await closeAll(parts);
    return 1;
  }
  const signal = await stopRequested;
  log.info("stopping", { signal });
  const clean = await closeAll(parts);
  log.info(clean ? "stopped" : "stopped, some parts did not close cleanly");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
