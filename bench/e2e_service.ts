// One aiot service as its own process for the end-to-end benchmark, so each one's CPU and memory
// can be read apart (/proc/<pid>) and no service steals the load generator's event loop.
//
//   deno run -A bench/e2e_service.ts broker|coap|mqttsn|ws|mqtt|mqtt-broker [--broker-url URL]
//       [--mqtt-url URL]   (keys: JSON in $AIOT_BENCH_KEYS)
//
// It prints `READY {"port":N}` on stdout once listening. Each `stats` line on stdin is answered
// with `STATS {...}` (the service's own counters), each `mem` line with its memory after a full
// garbage collection; stdin closing or SIGTERM stops it.
import { parseArgs } from "node:util";
import type { Keys } from "../common/keys.ts";
import { setLogLevel } from "../common/log.ts";

interface Service {
  port: number;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/** A bound nobody reaches in the bench, so the broker's own limits do not shape the numbers. */
const UNLIMITED = { messagesPerSecond: 1e9, burst: 1e9 };

async function start(
  role: string,
  v: Record<string, string | boolean | undefined>,
): Promise<Service> {
  const keys = JSON.parse(Deno.env.get("AIOT_BENCH_KEYS") ?? "null") as Keys;
  const brokerUrl = String(v["broker-url"]);
  const base = { brokerUrl, keys, name: `bench-${role}`, maxTimeS: 600 };
  const gwStats = (gw: Record<string, any>) => () => ({
    nodes: gw.registry.size,
    link: gw.link.stats,
    ...(gw.topics ? { topics: gw.topics.stats } : {}),
    ...(gw.stats ? { gateway: gw.stats } : {}),
    ...(gw.server?.stats ? { server: gw.server.stats } : {}),
  });
  switch (role) {
    case "broker": {
      const { startBroker } = await import("../broker/server.ts");
      const b = await startBroker({
        host: "127.0.0.1",
        port: 0,
        keys,
        gatewayRateLimit: UNLIMITED,
        rateLimit: UNLIMITED,
        maxFrameBytes: 1 << 20,
        // Each scale worker's web client gets the whole cache replayed (~500 B per node).
        clientBufferBytes: 256 << 20,
      });
      return {
        port: b.port,
        stats: () => ({ clients: b.relay.clients.size, nodes: b.relay.nodeCount() }),
        close: () => b.close(),
      };
    }
    case "coap": {
      const { startCoapGateway } = await import("../gateway/coap/gateway.ts");
      // Per-source rate limits off: 100 simulated nodes at 200 values/s each is a load test,
      // not the misbehaving node the limit is for.
      const gw = await startCoapGateway({ ...base, host: "127.0.0.1", port: 0, rateLimit: null });
      return { port: gw.port, stats: gwStats(gw), close: () => gw.close() };
    }
    case "mqttsn": {
      const { startMqttSnGateway } = await import("../gateway/mqttsn/gateway.ts");
      const gw = await startMqttSnGateway({
        ...base,
        host: "127.0.0.1",
        port: 0,
        server: { rateLimit: false, maxClients: 100_000 },
      });
      return { port: gw.port, stats: gwStats(gw), close: () => gw.close() };
    }
    case "ws": {
      const { startWsGateway } = await import("../gateway/ws/gateway.ts");
      const gw = await startWsGateway({ ...base, host: "127.0.0.1", port: 0 });
      return { port: gw.port, stats: gwStats(gw), close: () => gw.close() };
    }
    case "mqtt": {
      const { startMqttGateway } = await import("../gateway/mqtt/gateway.ts");
      const gw = await startMqttGateway({
        ...base,
        mqttUrl: String(v["mqtt-url"]),
        maxNodes: 100_000,
      });
      return { port: gw.port, stats: gwStats(gw), close: () => gw.close() };
    }
    case "mqtt-broker": {
      const { startEmbeddedMqttBroker } = await import("../gateway/mqtt/embedded_broker.ts");
      const mq = await startEmbeddedMqttBroker({ host: "127.0.0.1", port: 0 });
      return { port: mq.port, stats: () => ({ clients: mq.clients }), close: () => mq.close() };
    }
  }
  throw new Error(`unknown role ${role}`);
}

/** Memory with garbage collected first (the process runs with --expose-gc), so deltas mean
 * what is held, not what is waiting for the collector. */
function memoryAfterGc(): Record<string, number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, gc: gc ? 1 : 0 };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "broker-url": { type: "string" },
      "mqtt-url": { type: "string" },
      debug: { type: "boolean", default: false },
    },
  });
  if (values.debug) setLogLevel("debug");
  const svc = await start(positionals[0], values);
  const enc = new TextEncoder();
  const out = (line: string) => Deno.stdout.writeSync(enc.encode(line + "\n"));
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= svc.close().finally(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  out(`READY ${JSON.stringify({ port: svc.port })}`);
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buf = "";
  for await (const chunk of lines) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const cmd = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (cmd === "stats") out(`STATS ${JSON.stringify(svc.stats())}`);
      else if (cmd === "mem") out(`STATS ${JSON.stringify(memoryAfterGc())}`);
    }
  }
  stop();
}
