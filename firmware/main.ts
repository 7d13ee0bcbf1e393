// `deno task node coap|mqtt|mqttsn|ws [flags]`: one simulated node, or a fleet of --count nodes in
// this one process, talking to a gateway like a RIOT board would. Runs until Ctrl-C / SIGTERM.
import { parseArgs } from "node:util";
import { createLogger, setLogLevel } from "../common/log.ts";
import {
  DEFAULT_GATEWAY_PORT,
  type Fleet,
  fleetIds,
  NODE_PROTOCOLS,
  type NodeOptions,
  type NodeProtocol,
  startFleet,
} from "./fleet.ts";
import { Sensors } from "./sim.ts";

const log = createLogger("node");

const USAGE = `usage: deno task node <coap|mqtt|mqttsn|ws> [flags]

  --gateway-host HOST  gateway address (default 127.0.0.1)
  --gateway-port PORT  gateway node port (default coap 5683, mqttsn 1885, ws 8001, mqtt 1883)
  --mqtt-url URL       MQTT broker for mqtt nodes (default mqtt://<gateway-host>:<gateway-port>)
  --id ID              node id; a fleet uses ID-1 .. ID-N (default <protocol>-node)
  --count N            start N nodes in this process (default 1)
  --batch N            nodes started in parallel per batch (default 100)
  --batch-pause MS     pause between batches (default 100: about 1000 nodes/s)
  --cbor               send values as CBOR instead of text/JSON
  --interval SECONDS   sensor push period (default 5, as RIOT)
  --name, --board, --mcu  resource values (default "Weather Sensor", native, native)
  --temperature C, --pressure HPA, --humidity PCT   starting readings (default random per id)
  --sleep SECONDS      mqttsn: sleep this long after each --interval awake (DISCONNECT duration)
  --debug              per-message logs
  --help`;

export interface NodeCliConfig {
  protocol: NodeProtocol;
  count: number;
  batch: number;
  pauseMs: number;
  ids: string[];
  options: (id: string) => NodeOptions;
}

export class UsageError extends Error {}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

/** Turns the command line into what to start; throws UsageError on anything wrong. */
export function parseNodeArgs(args: string[]): NodeCliConfig & { debug: boolean; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "gateway-host": { type: "string", default: "127.0.0.1" },
        "gateway-port": { type: "string" },
        "mqtt-url": { type: "string" },
        id: { type: "string" },
        count: { type: "string" },
        batch: { type: "string" },
        "batch-pause": { type: "string" },
        cbor: { type: "boolean", default: false },
        interval: { type: "string" },
        name: { type: "string" },
        board: { type: "string" },
        mcu: { type: "string" },
        temperature: { type: "string" },
        pressure: { type: "string" },
        humidity: { type: "string" },
        sleep: { type: "string" },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  const help = v.help;
  const protocol = positionals[0] as NodeProtocol;
  if (!help && (!NODE_PROTOCOLS.includes(protocol) || positionals.length !== 1)) {
    throw new UsageError(
      positionals.length === 0 ? "missing protocol" : `unknown protocol '${positionals.join(" ")}'`,
    );
  }
  const count = positiveInt("count", v.count, 1);
  const batch = positiveInt("batch", v.batch, 100);
  const pauseMs = v["batch-pause"] === undefined ? 100 : Number(v["batch-pause"]);
  if (!Number.isFinite(pauseMs) || pauseMs < 0) {
    throw new UsageError("--batch-pause must be milliseconds >= 0");
  }
  const gatewayPort = positiveInt(
    "gateway-port",
    v["gateway-port"],
    DEFAULT_GATEWAY_PORT[protocol],
  );
  if (gatewayPort > 65535) throw new UsageError("--gateway-port must be at most 65535");
  let intervalMs: number | undefined;
  if (v.interval !== undefined) {
    const s = Number(v.interval);
    if (!Number.isFinite(s) || s <= 0) throw new UsageError("--interval must be seconds > 0");
    intervalMs = s * 1000;
  }
  const reading = (name: "temperature" | "pressure" | "humidity") => {
    const text = v[name];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`--${name} must be a number`);
    }
    return n;
  };
  const start = {
    temperature: reading("temperature"),
    pressure: reading("pressure"),
    humidity: reading("humidity"),
  };
  let dutyCycle: { awakeMs: number; sleepS: number } | undefined;
  if (v.sleep !== undefined) {
    const s = Number(v.sleep);
    if (protocol !== "mqttsn") throw new UsageError("--sleep is for mqttsn nodes");
    if (!Number.isInteger(s) || s < 1 || s > 65535) {
      throw new UsageError("--sleep must be whole seconds from 1 to 65535");
    }
    dutyCycle = { awakeMs: intervalMs ?? 5000, sleepS: s };
  }
  const host = v["gateway-host"];
  const mqttUrl = v["mqtt-url"] ??
    `mqtt://${host.includes(":") ? `[${host}]` : host}:${gatewayPort}`;
  const ids = fleetIds(v.id ?? `${protocol}-node`, count);
  return {
    protocol,
    count,
    batch,
    pauseMs,
    ids,
    debug: v.debug,
    help,
    options: (id) => ({
      id,
      gatewayHost: host,
      gatewayPort,
      cbor: v.cbor,
      intervalMs,
      sensors: new Sensors(id, { name: v.name, board: v.board, mcu: v.mcu, ...start }),
      ...(protocol === "mqtt" ? { mqttUrl } : {}),
      ...(dutyCycle ? { dutyCycle } : {}),
    }),
  };
}

async function main(args: string[]): Promise<number> {
  let cfg;
  try {
    cfg = parseNodeArgs(args);
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

  // Signals are caught from the start so a Ctrl-C during a long fleet start-up still stops
  // whatever has started.
  let stopping = false;
  const { promise: stopRequested, resolve: requestStop } = Promise.withResolvers<void>();
  const onSignal = () => {
    if (stopping) Deno.exit(130); // second Ctrl-C: the user means it
    stopping = true;
    requestStop();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const t0 = performance.now();
  const showProgress = cfg.count > cfg.batch;
  let fleet: Fleet;
  try {
    fleet = await startFleet({
      protocol: cfg.protocol,
      ids: cfg.ids,
      options: cfg.options,
      batch: cfg.batch,
      pauseMs: cfg.pauseMs,
      onProgress: showProgress
        ? (p) => log.info("starting", { started: p.started, failed: p.failed, total: p.total })
        : undefined,
    });
  } catch (e) {
    // The protocol module itself failed to load or construct: nothing runs.
    log.error("cannot start nodes", { protocol: cfg.protocol, error: e });
    return 1;
  }
  for (const f of fleet.failures.slice(0, 5)) {
    log.warn("node failed to start", { id: f.id, error: f.error });
  }
  const first = cfg.options(cfg.ids[0]);
  log.info("nodes running", {
    protocol: cfg.protocol,
    started: fleet.nodes.length,
    failed: fleet.failures.length,
    gateway: cfg.protocol === "mqtt" ? first.mqttUrl : `${first.gatewayHost}:${first.gatewayPort}`,
    ms: Math.round(performance.now() - t0),
  });
  if (fleet.nodes.length === 0) {
    await fleet.stop();
    return 1;
  }
  await stopRequested;
  await fleet.stop();
  log.info("nodes stopped", { count: fleet.nodes.length });
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
