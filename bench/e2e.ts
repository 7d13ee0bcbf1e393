// `deno task bench:e2e [--quick] [--only coap,mqttsn,mqtt,mosquitto]`: node -> gateway -> broker
// -> web client latency, loss and CPU on loopback, plus command round trip, broker memory per web
// client and nodes per gateway. Broker, gateways and MQTT brokers run as subprocesses (their CPU
// and memory read from /proc); the load generator and the web clients share this process, so
// the timestamps in the payloads and the receive times are read on one clock.
import { parseArgs } from "node:util";
import process from "node:process";
import { generateKeys, type Keys } from "../common/keys.ts";
import { summarize, WebClients } from "./e2e_client.ts";
import type { LoadPath } from "./e2e_load.ts";
import { CoapLoad } from "./e2e_load_coap.ts";
import { MqttLoad } from "./e2e_load_mqtt.ts";
import { MqttSnLoad } from "./e2e_load_mqttsn.ts";
import { type Memory, type ServiceProcess, startService } from "./e2e_proc.ts";
import { runLoad, type RunRow } from "./e2e_run.ts";
import { type HeldNodes, holdUdpNodes } from "./e2e_scale_worker.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    nodes: { type: "string" },
    /** Only the nodes-per-gateway and memory measurements (no latency runs). */
    "scale-only": { type: "boolean", default: false },
  },
});
const QUICK = flags.quick;
const ONLY = flags.only ? new Set(flags.only.split(",")) : null;
const RATES = [1000, 5000, 10_000, 20_000];
const SECONDS = QUICK ? 1 : 2;
/** Rates tried after the standard ones, while nothing is lost. */
const RAMP = [30_000, 45_000, 70_000, 100_000];
const NODES = Number(flags.nodes ?? 100);
const SATURATED_P99_MS = 50;
const WARMUP_RATE = 5000;
const FANOUT_CLIENTS = 100;
const FANOUT_RATE = 1000;
const RTT_SAMPLES = QUICK ? 20 : 50;
const SCALE_NODES = QUICK ? [1000] : [1000, 10_000, 50_000];
const SCALE_GROUPS = ["coap", "mqttsn", "mqtt"];

const progress = (msg: string) =>
  console.error(`[e2e ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** A process whose CPU counts towards a row: our services, or mosquitto. */
interface Measured {
  name: string;
  pid: number;
}

interface Group {
  key: string;
  /** Starts the gateway (and what it needs); returns the load paths over it. */
  start(keys: Keys, brokerUrl: string): Promise<{
    measured: Measured[];
    gateway: ServiceProcess;
    paths: LoadPath[];
    stop(): Promise<void>;
  }>;
}

async function mqttGroup(keys: Keys, brokerUrl: string, useMosquitto: boolean) {
  let mqttUrl: string;
  let mq: { name: string; pid: number; stop(): Promise<void> };
  if (useMosquitto) {
    const m = await startMosquitto();
    mqttUrl = m.url;
    mq = { name: "mosquitto", pid: m.pid, stop: m.stop };
  } else {
    const s = await startService("mqtt-broker", keys);
    mqttUrl = `mqtt://127.0.0.1:${s.port}`;
    mq = { name: "aedes", pid: s.pid, stop: s.stop };
  }
  const gateway = await startService("mqtt", keys, {
    "broker-url": brokerUrl,
    "mqtt-url": mqttUrl,
  });
  return {
    measured: [{ name: "gateway", pid: gateway.pid }, { name: mq.name, pid: mq.pid }],
    gateway,
    paths: [
      new MqttLoad(mqttUrl, 1, `MQTT QoS 1 (${useMosquitto ? "mosquitto" : "embedded aedes"})`),
    ],
    stop: async () => {
      await gateway.stop();
      await mq.stop();
    },
  };
}

async function mqttSnGroup(keys: Keys, brokerUrl: string) {
  const gateway = await startService("mqttsn", keys, { "broker-url": brokerUrl });
  return {
    measured: [{ name: "gateway", pid: gateway.pid }],
    gateway,
    paths: [new MqttSnLoad(gateway.port, 0), new MqttSnLoad(gateway.port, 1)],
    stop: () => gateway.stop(),
  };
}

async function coapGroup(keys: Keys, brokerUrl: string) {
  const gateway = await startService("coap", keys, { "broker-url": brokerUrl });
  return {
    measured: [{ name: "gateway", pid: gateway.pid }],
    gateway,
    paths: (["NON", "CON", "Observe"] as const).map((m) => new CoapLoad(gateway.port, m)),
    stop: () => gateway.stop(),
  };
}

const GROUPS: Group[] = [
  { key: "coap", start: coapGroup },
  { key: "mqttsn", start: mqttSnGroup },
  { key: "mqtt", start: (k, u) => mqttGroup(k, u, false) },
  { key: "mosquitto", start: (k, u) => mqttGroup(k, u, true) },
];

/** mosquitto as the MQTT broker of the MQTT path, for the ratio to a C relay. */
async function startMosquitto(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const dir = await Deno.makeTempDir({ prefix: "aiot-e2e-mosq-" });
  const conf = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(
    conf,
    // Nagle off, as for an interactive relay (mosquitto's default leaves it on).
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n` +
      `max_queued_messages 100000\nset_tcp_nodelay true\n`,
  );
  const child = new Deno.Command("mosquitto", {
    args: ["-c", conf],
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  const deadline = performance.now() + 10_000;
  while (true) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function commandRoundTrip(clients: WebClients, uid: string, samples: number) {
  const rtts: number[] = [];
  let timeouts = 0;
  for (let i = 0; i < samples; i++) {
    const want = i % 2 === 0 ? "1" : "0";
    const t0 = performance.now();
    const seen = clients.waitFor(uid, "led", (v) => v === want);
    clients.write(uid, "led", want);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      seen.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 2000)),
    ]);
    clearTimeout(timer);
    if (ok) rtts.push(performance.now() - t0);
    else timeouts++;
  }
  return { ...summarize(Float64Array.from(rtts)), samples: rtts.length, timeouts };
}

function fmtMs(v: number): string {
  return Number.isNaN(v) ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(1);
}

function printHeader() {
  console.log(
    `## aiot end-to-end, ${Deno.build.os} ${navigator.hardwareConcurrency} cores, ` +
      `Deno ${Deno.version.deno}${QUICK ? " (--quick)" : ""}`,
  );
  console.log(
    "\n| path | clients | offered/s | sent | delivered | dropped (why) | p50 ms | p99 ms | p99.9 ms | CPU s per 10k delivered |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  console.log(
    "| Eclipse Hono CoAP (published anchor, 6 vCPU + Kafka + MongoDB) | - | ~900 | - | - | - | - | 74 | - | - |",
  );
}

/** Rows are printed as they are measured, so an interrupted run still shows what it got. */
function printRow(r: RunRow) {
  const cpu = Object.entries(r.cpuPer10k).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
  console.log(
    `| ${r.label} | ${r.clients} | ${r.offeredLabel} | ${r.sent} | ${r.delivered} | ` +
      `${r.dropped}${r.why ? ` (${r.why})` : ""} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ` +
      `${fmtMs(r.p999)} | ${cpu} |`,
  );
}

/** Broker memory held per idle web client: heap (+ external) and RSS deltas after GC. */
async function brokerMemoryPerClient(brokerPort: number, broker: ServiceProcess, n: number) {
  const before = await broker.memory();
  const idle = await WebClients.open(`ws://127.0.0.1:${brokerPort}/ws`, n);
  await new Promise((r) => setTimeout(r, 500));
  const after = await broker.memory();
  await idle.close();
  return {
    heap: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
    rss: (after.rss - before.rss) / n,
  };
}

interface ScaleRow {
  group: string;
  nodes: number;
  registered: number;
  seconds: number;
  before: Memory;
  after: Memory;
  note: string;
}

/**
 * Nodes one gateway process holds: a fresh gateway per size, `n` simulated nodes registered end
 * to end (the web client sees each one's resource), gateway RSS before and after.
 */
async function nodesPerGateway(
  group: Group,
  keys: Keys,
  brokerUrl: string,
  clientUrl: string,
  n: number,
): Promise<ScaleRow> {
  const g = await group.start(keys, brokerUrl);
  const clients = await WebClients.open(clientUrl, 1);
  const path = g.paths[0];
  let held: HeldNodes | undefined;
  const row: ScaleRow = {
    group: group.key,
    nodes: n,
    registered: 0,
    seconds: 0,
    before: { rss: 0, heapUsed: 0, external: 0 },
    after: { rss: 0, heapUsed: 0, external: 0 },
    note: "",
  };
  try {
    await new Promise((r) => setTimeout(r, 500));
    row.before = await g.gateway.memory();
    const t0 = performance.now();
    try {
      if (group.key === "coap" || group.key === "mqttsn") {
        // One UDP socket per node: held by worker processes (descriptor limits).
        held = await holdUdpNodes(group.key, g.gateway.port, clientUrl, `${group.key}-s`, n);
      } else {
        const ids = Array.from({ length: n }, (_, i) => `${group.key}-s${i + 1}`);
        await path.setup(ids, clients, Math.max(60_000, n * 6));
      }
    } catch (e) {
      row.note = (e as Error).message;
    }
    row.seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    row.after = await g.gateway.memory();
    row.registered = Number((await g.gateway.stats()).nodes ?? 0);
  } finally {
    await held?.release();
    await path.close();
    await clients.close();
    await g.stop();
  }
  return row;
}

async function main() {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const keys = generateKeys();
  printHeader();
  progress("starting broker");
  const broker = await startService("broker", keys);
  const brokerUrl = `ws://127.0.0.1:${broker.port}/gw`;
  const clientUrl = `ws://127.0.0.1:${broker.port}/ws`;
  const rtts: string[] = [];
  const saturation: string[] = [];
  const notes: string[] = [];
  const scale: ScaleRow[] = [];
  try {
    const clients = await WebClients.open(clientUrl, 1);
    for (const group of flags["scale-only"] ? [] : GROUPS) {
      if (ONLY && !ONLY.has(group.key)) continue;
      progress(`group ${group.key}: starting services`);
      let g;
      try {
        g = await group.start(keys, brokerUrl);
      } catch (e) {
        notes.push(`${group.key}: not measured (${(e as Error).message.split("\n")[0]})`);
        progress(notes.at(-1)!);
        continue;
      }
      const measured: Measured[] = [{ name: "broker", pid: broker.pid }, ...g.measured];
      try {
        for (const path of g.paths) {
          const ids = Array.from({ length: NODES }, (_, i) => `${group.key}-n${i + 1}`);
          progress(`${path.label}: registering ${NODES} nodes`);
          await path.setup(ids, clients, 30_000);
          const ctx = { path, clients, measured, gateway: g.gateway, brokerPort: broker.port };
          // Warm-up, not reported: JIT and heap growth of every process on the path (the first
          // seconds of a fresh aedes or gateway show 15-20 ms pauses that never come back).
          progress(`${path.label}: warm-up`);
          await runLoad(ctx, { rate: WARMUP_RATE, count: WARMUP_RATE * SECONDS });
          // Rising rates; past the last, keep rising until loss, queueing or the generator gives
          // out. The saturation point is the highest offered rate delivered with <= 0.1% loss and
          // a p99 under SATURATED_P99_MS (beyond it the services only queue what they cannot
          // keep up with).
          let best = 0;
          let limit = "";
          for (const rate of [...RATES, ...RAMP]) {
            if (rate > RATES.at(-1)! && best < RATES.at(-1)!) break;
            progress(`${path.label}: ${rate}/s for ${SECONDS} s`);
            const row = await runLoad(ctx, { rate, count: rate * SECONDS });
            printRow(row);
            if (row.reached < rate * 0.95) {
              limit = "load generator limit";
              break;
            }
            if (row.dropped > row.sent * 0.001) {
              limit = `loss at ${rate}/s`;
              if (rate > RATES.at(-1)!) break;
              continue;
            }
            if (row.p99 > SATURATED_P99_MS) {
              limit ||= `p99 ${fmtMs(row.p99)} ms at ${rate}/s`;
              if (rate > RATES.at(-1)!) break;
              continue;
            }
            if (!limit) best = rate;
          }
          saturation.push(
            `| ${path.label} | ${best ? best : `< ${RATES[0]}`} | ${limit || "not reached"} |`,
          );
          progress(`${path.label}: ${FANOUT_CLIENTS} web clients at ${FANOUT_RATE}/s`);
          await clients.grow(clientUrl, FANOUT_CLIENTS - 1);
          // Each new client asks every gateway for its cache: let those replays pass first.
          await new Promise((r) => setTimeout(r, 1000));
          try {
            printRow(await runLoad(ctx, { rate: FANOUT_RATE, count: FANOUT_RATE * SECONDS }));
          } finally {
            await clients.shrink(1);
          }
          progress(`${path.label}: command round trip x${RTT_SAMPLES}`);
          const rtt = await commandRoundTrip(clients, ids[0], RTT_SAMPLES);
          rtts.push(
            `| ${path.label} | ${rtt.samples} | ${fmtMs(rtt.p50)} | ${
              fmtMs(rtt.p99)
            } | ${rtt.timeouts} |`,
          );
          await path.close();
        }
      } finally {
        await g.stop();
      }
    }
    await clients.close();
    for (const group of GROUPS) {
      if (!SCALE_GROUPS.includes(group.key) || (ONLY && !ONLY.has(group.key))) continue;
      for (const n of SCALE_NODES) {
        progress(`${group.key}: ${n} nodes on one gateway`);
        try {
          scale.push(await nodesPerGateway(group, keys, brokerUrl, clientUrl, n));
        } catch (e) {
          notes.push(`${group.key} ${n} nodes: not measured (${(e as Error).message})`);
        }
      }
    }
    progress("broker memory per web client (1000 idle clients)");
    const perClient = await brokerMemoryPerClient(broker.port, broker, 1000);
    notes.push(
      `broker memory per idle web client (1000 clients, after GC): ` +
        `heap ${(perClient.heap / 1024).toFixed(1)} KiB, RSS ${
          (perClient.rss / 1024).toFixed(1)
        } KiB`,
    );
  } finally {
    await broker.stop();
  }

  if (saturation.length) {
    console.log(
      `\n| saturation (1 web client) | highest offered/s with <= 0.1% loss and p99 <= ${SATURATED_P99_MS} ms | what stopped it |`,
    );
    console.log("|---|---|---|");
    for (const r of saturation) console.log(r);
  }
  if (rtts.length) {
    console.log(
      "\n| command round trip (LED toggle to confirmation) | samples | p50 ms | p99 ms | timeouts |",
    );
    console.log("|---|---|---|---|---|");
    for (const r of rtts) console.log(r);
  }
  if (scale.length) {
    console.log(
      "\n| nodes on one gateway process | simulated | registered | seconds to register | gateway RSS MiB | heap per node KiB | RSS per node KiB | note |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    for (const r of scale) {
      const held = (m: Memory) => m.heapUsed + m.external;
      const perHeap = (held(r.after) - held(r.before)) / r.registered / 1024;
      const perRss = (r.after.rss - r.before.rss) / r.registered / 1024;
      console.log(
        `| ${r.group} | ${r.nodes} | ${r.registered} | ${r.seconds.toFixed(1)} | ` +
          `${(r.after.rss / 2 ** 20).toFixed(0)} | ${perHeap.toFixed(1)} | ${
            perRss.toFixed(1)
          } | ` +
          `${r.note} |`,
      );
    }
  }
  const cpu = process.cpuUsage(cpu0);
  notes.push(
    `load generator + web clients (this process): ${
      ((cpu.user + cpu.system) / 1e6).toFixed(1)
    } CPU s; ` +
      `total wall ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  console.log("");
  for (const n of notes) console.log(`- ${n}`);
}

if (import.meta.main) await main();
