// Load benchmark for one CoAP gateway: how many node updates per second it sustains with 1,000
// and 10,000 simulated CoapNodes on loopback, and how much gateway heap each node costs.
//
//   deno run -A --v8-flags=--expose-gc bench/gateway_coap_load.ts [--nodes 1000,10000]
//       [--interval-ms 250,5000] [--window-s 10] [--deadline-s 180]
//
// The gateway (with a real broker it forwards to) runs in this process; the node fleet runs in a
// child process (this same file with --fleet), so the generator does not steal the gateway's
// event loop. Every phase is bounded in time; the fleet is killed at the end.
import process from "node:process";
import { parseArgs } from "node:util";
import { startBroker } from "../broker/server.ts";
import { formatKeys, generateKeys, parseKeys } from "../common/keys.ts";
import { setLogLevel } from "../common/log.ts";
import { startCoapGateway } from "../gateway/coap/gateway.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "1000,10000" },
    // One period per entry of --nodes (or one for all): each node notifies 3 sensors per period.
    "interval-ms": { type: "string", default: "250,5000" },
    "window-s": { type: "string", default: "10" },
    "deadline-s": { type: "string", default: "180" },
    fleet: { type: "string" },
    broker: { type: "boolean", default: false },
    "gateway-port": { type: "string" },
    batch: { type: "string", default: "200" },
  },
}).values;

setLogLevel("error");

/** V8's collector, exposed with `--v8-flags=--expose-gc` for steadier heap figures. */
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

if (args.broker) {
  // Child process: the broker, so its relaying does not count against the gateway's CPU.
  const keys = parseKeys(await new Response(Deno.stdin.readable).text(), "stdin");
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  console.log(`broker ${broker.port}`);
  Deno.addSignalListener("SIGTERM", async () => {
    await broker.close();
    Deno.exit(0);
  });
} else if (args.fleet) {
  await runFleet(Number(args.fleet), Number(args["gateway-port"]), Number(args["interval-ms"]));
} else {
  const counts = args.nodes.split(",").map(Number);
  const periods = args["interval-ms"].split(",").map(Number);
  for (const [i, n] of counts.entries()) await measure(n, periods[Math.min(i, periods.length - 1)]);
}

/** Child process: N CoapNodes posting to the gateway; prints "ready" when all are started. */
async function runFleet(count: number, gatewayPort: number, intervalMs: number): Promise<void> {
  const { CoapNode } = await import("../firmware/coap_node.ts");
  const nodes: InstanceType<typeof CoapNode>[] = [];
  const batch = Number(args.batch);
  for (let i = 0; i < count; i += batch) {
    const slice = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const node = new CoapNode({
        id: `bench-${j}`,
        gatewayHost: "127.0.0.1",
        gatewayPort,
        intervalMs,
        // Short alive period: a /alive lost to a full socket buffer is retried soon.
        aliveMs: 10_000,
      });
      slice.push(node.start().then(() => node));
    }
    nodes.push(...await Promise.all(slice));
    // Let the gateway drain this batch's announcements and discoveries.
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log("ready");
  const stop = async () => {
    for (const n of nodes) await n.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
}

/** Runs this file again with `flags`; resolves with the child and its first stdout line. */
async function child(flags: string[], stdin?: string) {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", new URL(import.meta.url).pathname, ...flags],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  if (stdin !== undefined) {
    const w = proc.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  reader.releaseLock();
  if (first.done) throw new Error(`child ${flags.join(" ")} exited early`);
  return {
    line: first.value.trim(),
    async stop() {
      try {
        proc.kill("SIGTERM");
      } catch { /* already exited */ }
      const killer = setTimeout(() => {
        try {
          proc.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await proc.status;
      clearTimeout(killer);
      await proc.stdout.cancel().catch(() => {});
    },
  };
}

async function measure(count: number, intervalMs: number): Promise<void> {
  const windowS = Number(args["window-s"]);
  const deadline = Date.now() + Number(args["deadline-s"]) * 1000;
  const keys = generateKeys();
  const broker = await child(["--broker"], formatKeys(keys));
  const brokerPort = Number(broker.line.split(" ")[1]);
  const gateway = await startCoapGateway({
    brokerUrl: `ws://127.0.0.1:${brokerPort}/gw`,
    keys,
    host: "127.0.0.1",
    port: 0,
    rateLimit: null,
    requestTimeoutMs: 20_000,
  });
  let updates = 0;
  gateway.registry.on((e) => {
    if (e.kind === "update") updates++;
  });
  gc();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const started = performance.now();
  const fleet = await child([
    "--fleet",
    String(count),
    "--gateway-port",
    String(gateway.port),
    "--interval-ms",
    String(intervalMs),
  ]);
  try {
    // Phase 1: every node joined and every sensor observed (3 per node).
    while (
      (gateway.registry.size < count || gateway.stats().observations < 3 * count) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const joinS = (performance.now() - started) / 1000;
    const st = gateway.stats();
    // Phase 2: steady state, updates counted over a fixed window.
    const u0 = updates;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const elapsedS = (performance.now() - t0) / 1000;
    const rate = (updates - u0) / elapsedS;
    const cpu = process.cpuUsage(cpu0);
    // Share of one core the gateway process used: below 100 % it was not the bottleneck.
    const gatewayCpu = Math.round((cpu.user + cpu.system) / 1e4 / elapsedS);
    gc();
    const heapPerNode = (Deno.memoryUsage().heapUsed - heapBefore) /
      Math.max(1, gateway.registry.size);
    const offered = (3 * count * 1000) / intervalMs;
    const after = gateway.stats();
    console.log(JSON.stringify({
      nodes: count,
      joined: gateway.registry.size,
      observations: st.observations,
      joinSeconds: Number(joinS.toFixed(1)),
      offeredUpdatesPerS: Math.round(offered),
      sustainedUpdatesPerS: Math.round(rate),
      gatewayCpuPercent: gatewayCpu,
      heapKiBPerNode: Number((heapPerNode / 1024).toFixed(1)),
      udpReceived: after.udp.received,
      malformed: after.messages.malformed,
      retransmissions: after.messages.retransmissions,
      discoveryFailures: after.discoveryFailures,
      brokerDropped: gateway.link.stats.dropped,
    }));
  } finally {
    await fleet.stop();
    await gateway.close();
    await broker.stop();
  }
}
