// One share of the nodes-per-gateway measurement, in a process of its own: CoAP and MQTT-SN
// gateways tell nodes apart by UDP endpoint, so every simulated node holds a socket, and one
// process may hold only so many (RLIMIT_NOFILE, often 20,000 or less), and one loopback address
// has only about 28k ephemeral ports: each worker binds its own address in 127.0.0.0/8.
//
//   deno run -A bench/e2e_scale_worker.ts <coap|mqttsn> <gateway port> <web client url> <prefix> <count> <bind address>
//
// Registers `count` nodes named <prefix><i> and prints `registered <count> <seconds>` once its own
// web client has seen each of them, then holds them until its stdin closes.
import { WebClients } from "./e2e_client.ts";
import type { LoadPath } from "./e2e_load.ts";
import { CoapLoad } from "./e2e_load_coap.ts";
import { MqttSnLoad } from "./e2e_load_mqttsn.ts";

/** Nodes per worker process: well under common descriptor limits. */
export const NODES_PER_WORKER = 10_000;

export interface HeldNodes {
  /** Nodes each worker registered, and how long that took (sequential, so the sum is total). */
  seconds: number;
  release(): Promise<void>;
}

/**
 * Registers `n` simulated UDP nodes of `protocol` at a gateway, from as many worker processes
 * as the descriptor limit asks for, one after another (a fleet booting). Throws with the worker's
 * output when one fails.
 */
export async function holdUdpNodes(
  protocol: "coap" | "mqttsn",
  gatewayPort: number,
  clientUrl: string,
  prefix: string,
  n: number,
): Promise<HeldNodes> {
  const workers: Deno.ChildProcess[] = [];
  const release = async () => {
    for (const w of workers) {
      await w.stdin.close().catch(() => {});
      await w.status;
    }
  };
  let seconds = 0;
  try {
    for (let from = 0; from < n; from += NODES_PER_WORKER) {
      const count = Math.min(NODES_PER_WORKER, n - from);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          import.meta.filename!,
          protocol,
          String(gatewayPort),
          clientUrl,
          `${prefix}w${from / NODES_PER_WORKER}-`,
          String(count),
          `127.0.0.${2 + from / NODES_PER_WORKER}`,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      workers.push(child);
      const line = await firstLine(child.stdout);
      const m = /^registered (\d+) ([\d.]+)/.exec(line ?? "");
      if (!m) {
        const err = await new Response(child.stderr).text();
        const why = err.trim().split("\n").filter((l) => !/^\s+at /.test(l)).slice(-3).join(" / ");
        throw new Error(`scale worker ${workers.length}: ${line ?? "no output"}: ${why}`);
      }
      child.stderr.cancel();
      seconds += Number(m[2]);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { seconds, release };
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string | null> {
  let buf = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
  }
  reader.releaseLock();
  return buf ? buf.split("\n")[0] : null;
}

async function main() {
  const [protocol, port, clientUrl, prefix, count, bindHost] = Deno.args;
  const n = Number(count);
  const path: LoadPath = protocol === "coap"
    ? new CoapLoad(Number(port), "NON", bindHost)
    : new MqttSnLoad(Number(port), 0, bindHost);
  const clients = await WebClients.open(clientUrl, 1);
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
  const t0 = performance.now();
  await path.setup(ids, clients, Math.max(60_000, n * 6));
  console.log(`registered ${n} ${((performance.now() - t0) / 1000).toFixed(1)}`);
  // Held until the parent is done measuring: it closes our stdin.
  for await (const _ of Deno.stdin.readable) { /* nothing is sent; EOF ends the hold */ }
  await path.close();
  await clients.close();
}

if (import.meta.main) await main();
