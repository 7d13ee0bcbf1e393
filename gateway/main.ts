// `deno task gateway coap|mqtt|mqttsn|ws [flags]`: parse flags (and an optional JSON config
// file; flags win), read the keys, start one protocol gateway, print one start-up line, stop
// cleanly on SIGINT/SIGTERM. Each protocol's module is imported only when chosen, so one
// protocol's problem never stops the others from starting.
import { parseArgs } from "node:util";
import { createLogger, setLogLevel } from "../common/log.ts";
import { defaultKeyPath, KeyFileError, readKeys } from "../common/keys.ts";
import { DEFAULT_MAX_NODES, type GatewayBaseOptions, type RunningGateway } from "./common.ts";

const log = createLogger("gateway");

export const PROTOCOLS = ["coap", "mqtt", "mqttsn", "ws"] as const;
export type GatewayProtocol = typeof PROTOCOLS[number];

type FlagType = "string" | "boolean";
interface FlagSpec {
  type: FlagType;
  default?: string | boolean;
  help: string;
}

const COMMON: Record<string, FlagSpec> = {
  "broker-host": { type: "string", default: "localhost", help: "broker host" },
  "broker-port": {
    type: "string",
    default: "8000",
    help: 'broker port; "" for none (behind a reverse proxy on 80/443)',
  },
  "broker-ssl": { type: "boolean", default: false, help: "use wss:// to the broker" },
  "broker-ca": {
    type: "string",
    help: "PEM file of a CA (or self-signed certificate) to trust for wss://",
  },
  "key-file": { type: "string", default: defaultKeyPath(), help: "pyaiot keys file" },
  name: { type: "string", help: "gateway name shown by the broker (default <protocol>-<host>)" },
  "max-time": { type: "string", default: "120", help: "seconds before a silent node is dropped" },
  "max-nodes": {
    type: "string",
    default: String(DEFAULT_MAX_NODES),
    help: "most nodes this gateway holds; newer ones are refused",
  },
  binary: { type: "boolean", default: false, help: "offer the binary CBOR link to the broker" },
  config: { type: "string", help: "JSON file of flag values (flags win)" },
  debug: { type: "boolean", default: false, help: "debug logs" },
  help: { type: "boolean", default: false, help: "this help" },
};

const SPECIFIC: Record<GatewayProtocol, Record<string, FlagSpec>> = {
  coap: {
    "coap-port": { type: "string", default: "5683", help: "UDP port nodes post to" },
    host: { type: "string", default: "0.0.0.0", help: "address to bind" },
    "node-port": {
      type: "string",
      default: "5683",
      help: 'port of the nodes\' CoAP servers, or "source"',
    },
  },
  mqtt: {
    "mqtt-url": { type: "string", default: "mqtt://127.0.0.1:1883", help: "MQTT broker URL" },
  },
  mqttsn: {
    port: { type: "string", default: "1885", help: "UDP port for MQTT-SN nodes" },
    host: { type: "string", default: "0.0.0.0", help: "address to bind" },
    predefined: { type: "string", help: 'JSON file of predefined topic ids {"topic": id}' },
  },
  ws: {
    "gateway-port": { type: "string", default: "8001", help: "port nodes connect to (/node)" },
    host: { type: "string", default: "0.0.0.0", help: "address to bind" },
  },
};

export class UsageError extends Error {}

export function usage(protocol?: GatewayProtocol): string {
  const lines = [`Usage: deno task gateway ${protocol ?? "coap|mqtt|mqttsn|ws"} [flags]`];
  const specs = protocol ? { ...COMMON, ...SPECIFIC[protocol] } : COMMON;
  for (const [name, spec] of Object.entries(specs)) {
    const dflt = spec.default !== undefined && spec.type === "string"
      ? ` (default ${JSON.stringify(spec.default)})`
      : "";
    lines.push(`  --${name}${spec.type === "string" ? " VALUE" : ""}  ${spec.help}${dflt}`);
  }
  return lines.join("\n");
}

/** Everything a gateway run needs, resolved from defaults < config file < flags. */
export interface GatewaySettings {
  protocol: GatewayProtocol;
  brokerUrl: string;
  brokerCaFile?: string;
  keyFile: string;
  name?: string;
  maxTimeS: number;
  maxNodes: number;
  binary: boolean;
  debug: boolean;
  host?: string;
  /** Node-facing port: coap --coap-port, mqttsn --port, ws --gateway-port. */
  port?: number;
  nodePort?: number | "source";
  mqttUrl?: string;
  predefinedFile?: string;
}

function toPort(name: string, value: string, allowZero = true): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535 || (!allowZero && n === 0)) {
    throw new UsageError(`--${name}: not a port number: ${JSON.stringify(value)}`);
  }
  return n;
}

/** Reads a config file: an object of flag names (without dashes in front) to values. */
async function readConfig(
  path: string,
  specs: Record<string, FlagSpec>,
): Promise<Record<string, string | boolean>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`--config ${path}: expected a JSON object of flag values`);
  }
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = specs[key];
    if (!spec || key === "config" || key === "help") {
      throw new UsageError(`--config ${path}: unknown setting ${JSON.stringify(key)}`);
    }
    if (spec.type === "boolean" && typeof value === "boolean") out[key] = value;
    else if (spec.type === "string" && (typeof value === "string" || typeof value === "number")) {
      out[key] = String(value);
    } else {
      throw new UsageError(`--config ${path}: ${key} must be a ${spec.type}`);
    }
  }
  return out;
}

/** Parses `coap|mqtt|mqttsn|ws [flags]`; throws UsageError (its message is for the user). */
export async function parseGatewayArgs(args: string[]): Promise<GatewaySettings> {
  const protocol = args[0] as GatewayProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new UsageError(
      args[0] === "--help" || args[0] === "-h" || args[0] === undefined
        ? usage()
        : `unknown protocol ${JSON.stringify(args[0])}\n${usage()}`,
    );
  }
  const specs = { ...COMMON, ...SPECIFIC[protocol] };
  let values: Record<string, string | boolean | undefined>;
  try {
    // No defaults here: a flag given on the command line must be told apart from a default,
    // so that flags win over the config file and the config file over defaults.
    const options = Object.fromEntries(
      Object.entries(specs).map(([k, s]) => [k, { type: s.type }]),
    ) as Record<string, { type: FlagType }>;
    values = parseArgs({ args: args.slice(1), options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage(protocol)}`);
  }
  if (values.help) throw new UsageError(usage(protocol));
  const fromConfig = typeof values.config === "string"
    ? await readConfig(values.config, specs)
    : {};
  const get = (k: string): string | boolean | undefined =>
    values[k] ?? fromConfig[k] ?? specs[k].default;
  const str = (k: string) => get(k) as string | undefined;
  const bool = (k: string) => get(k) === true;

  const brokerHost = str("broker-host")!;
  const brokerPortText = str("broker-port")!;
  const brokerPort = brokerPortText === "" ? "" : `:${toPort("broker-port", brokerPortText)}`;
  const host = brokerHost.includes(":") && !brokerHost.startsWith("[")
    ? `[${brokerHost}]`
    : brokerHost;
  const maxTime = Number(str("max-time"));
  if (!Number.isFinite(maxTime) || maxTime <= 0) {
    throw new UsageError(`--max-time: not a positive number of seconds: ${str("max-time")}`);
  }
  const maxNodes = Number(str("max-nodes"));
  if (!Number.isInteger(maxNodes) || maxNodes <= 0) {
    throw new UsageError(`--max-nodes: not a positive whole number: ${str("max-nodes")}`);
  }
  const settings: GatewaySettings = {
    protocol,
    brokerUrl: `${bool("broker-ssl") ? "wss" : "ws"}://${host}${brokerPort}/gw`,
    brokerCaFile: str("broker-ca"),
    keyFile: str("key-file")!,
    name: str("name"),
    maxTimeS: maxTime,
    maxNodes,
    binary: bool("binary"),
    debug: bool("debug"),
  };
  switch (protocol) {
    case "coap": {
      settings.host = str("host");
      settings.port = toPort("coap-port", str("coap-port")!);
      const np = str("node-port")!;
      settings.nodePort = np === "source" ? "source" : toPort("node-port", np, false);
      break;
    }
    case "mqtt": {
      const url = str("mqtt-url")!;
      if (!/^(mqtts?|wss?):\/\/[^/]+/.test(url)) {
        throw new UsageError(`--mqtt-url: expected mqtt://host:port, got ${JSON.stringify(url)}`);
      }
      settings.mqttUrl = url;
      break;
    }
    case "mqttsn":
      settings.host = str("host");
      settings.port = toPort("port", str("port")!);
      settings.predefinedFile = str("predefined");
      break;
    case "ws":
      settings.host = str("host");
      settings.port = toPort("gateway-port", str("gateway-port")!);
      break;
  }
  return settings;
}

/** Starts the chosen gateway; returns the handle and a description for the start-up line. */
export async function startFromSettings(
  s: GatewaySettings,
  base: GatewayBaseOptions,
): Promise<{ gateway: RunningGateway; nodes: string }> {
  switch (s.protocol) {
    case "coap": {
      const { startCoapGateway } = await import("./coap/gateway.ts");
      const gateway = await startCoapGateway({
        ...base,
        host: s.host,
        port: s.port,
        nodePort: s.nodePort,
      });
      return { gateway, nodes: `coap://${s.host}:${gateway.port} (udp)` };
    }
    case "mqtt": {
      const { startMqttGateway } = await import("./mqtt/gateway.ts");
      const gateway = await startMqttGateway({ ...base, mqttUrl: s.mqttUrl! });
      return { gateway, nodes: s.mqttUrl! };
    }
    case "mqttsn": {
      const { startMqttSnGateway } = await import("./mqttsn/gateway.ts");
      const gateway = await startMqttSnGateway({
        ...base,
        host: s.host,
        port: s.port,
        predefinedFile: s.predefinedFile,
      });
      return { gateway, nodes: `mqtt-sn://${s.host}:${gateway.port} (udp)` };
    }
    case "ws": {
      const { startWsGateway } = await import("./ws/gateway.ts");
      const gateway = await startWsGateway({ ...base, host: s.host, port: s.port });
      return { gateway, nodes: gateway.nodeUrl };
    }
  }
}

async function main(): Promise<number> {
  let settings: GatewaySettings;
  try {
    settings = await parseGatewayArgs(Deno.args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const isHelp = err.message.startsWith("Usage:");
    (isHelp ? console.log : console.error)(err.message);
    return isHelp ? 0 : 2;
  }
  if (settings.debug) setLogLevel("debug");
  log.debug("settings", { ...settings });
  let keys;
  try {
    keys = await readKeys(settings.keyFile);
  } catch (err) {
    if (!(err instanceof KeyFileError)) throw err;
    log.error(err.message); // pyaiot's exact words
    return 1;
  }
  let brokerCa: string | undefined;
  if (settings.brokerCaFile !== undefined) {
    try {
      brokerCa = await Deno.readTextFile(settings.brokerCaFile);
    } catch (err) {
      log.error("cannot read --broker-ca", { file: settings.brokerCaFile, err });
      return 1;
    }
  }
  // Signals are caught before anything starts: a SIGINT that arrives while the gateway is still
  // starting (or right after the start-up line) must stop it cleanly, not kill the process.
  const signalled = Promise.withResolvers<string>();
  let signals = 0;
  const onSignal = (signal: string) => {
    if (++signals > 1) {
      log.warn("second signal, exiting now", { signal });
      Deno.exit(1);
    }
    signalled.resolve(signal);
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    let started;
    try {
      started = await startFromSettings(settings, {
        brokerUrl: settings.brokerUrl,
        brokerCa,
        keys,
        name: settings.name,
        maxTimeS: settings.maxTimeS,
        maxNodes: settings.maxNodes,
        binary: settings.binary,
      });
    } catch (err) {
      log.error("cannot start gateway", { protocol: settings.protocol, err });
      return 1;
    }
    const { gateway, nodes } = started;
    console.log(
      `aiot ${settings.protocol} gateway ${gateway.name}: nodes ${nodes}, broker ${settings.brokerUrl}`,
    );
    const signal = await signalled.promise;
    log.info("stopping", { signal });
    try {
      await gateway.close();
    } catch (err) {
      log.error("error while stopping", { err });
      return 1;
    }
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}

if (import.meta.main) Deno.exit(await main());
