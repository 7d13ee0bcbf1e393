// Load benchmark: node updates per second one MQTT-SN gateway sustains with 1,000 and 10,000
// simulated nodes on loopback, and the gateway's memory per node. Not a test: run it with
//
//   deno run -A --v8-flags=--expose-gc bench/gateway_mqttsn_load.ts [--nodes 1000,10000]
//       [--seconds 5] [--no-broker]
//
// The gateway (with a real aiot broker and a web client, unless --no-broker) runs in this
// isolate; the nodes run in a Worker (another thread), each with its own UDP socket and the
// real client flow: CONNECT, REGISTER, node/check, then QoS 1 PUBLISHes of its temperature,
// one outstanding at a time (closed loop), resent after 1 s without PUBACK. "updates/s" counts
// values the gateway put into its registry (what the broker link forwards). Every phase is
// bounded in time and count.
import { parseArgs } from "node:util";
import { generateKeys } from "../common/keys.ts";
import { decodeMqttSn, encodeMqttSn, MqttSnType as T } from "../core-wasm/mod.ts";

const WORKER_NAME = "mqttsn-load-nodes";

// ---------------------------------------------------------------- nodes (worker side)

type ToWorker =
  | { cmd: "connect"; port: number; count: number }
  | { cmd: "run"; seconds: number }
  | { cmd: "close" };
type FromWorker =
  | { ev: "connected"; ok: number; failed: number }
  | { ev: "ran"; acks: number; resends: number; failed: number }
  | { ev: "closed" };

class LoadNode {
  readonly sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  #waiter?: (b: Uint8Array) => void;
  #loop: Promise<void>;
  #msgId = 0;
  resends = 0;
  tempId = 0;

  constructor(readonly id: string, readonly gw: Deno.NetAddr) {
    this.#loop = (async () => {
      while (true) {
        try {
          const [d] = await this.sock.receive();
          this.#waiter?.(d);
        } catch {
          return;
        }
      }
    })();
  }

  nextId(): number {
    this.#msgId = (this.#msgId % 0xffff) + 1;
    return this.#msgId;
  }

  /** One exchange: resend after 1 s, give up after 5 sends. */
  async req(bytes: Uint8Array, type: number, msgId?: number): Promise<Record<string, any>> {
    for (let send = 0; send < 5; send++) {
      if (send > 0) this.resends++;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = new Promise<Record<string, any> | undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), 1000);
        this.#waiter = (b) => {
          try {
            const m = decodeMqttSn(b);
            if (m.type === type && (msgId === undefined || m.msgId === msgId)) resolve(m);
          } catch { /* not ours */ }
        };
      });
      await this.sock.send(bytes, this.gw);
      const m = await got;
      clearTimeout(timer);
      this.#waiter = undefined;
      if (m) return m;
    }
    throw new Error(`${this.id}: no answer to type ${type}`);
  }

  async publish(topicId: number, text: string): Promise<void> {
    const msgId = this.nextId();
    const bytes = encodeMqttSn({
      type: T.PUBLISH,
      qos: 1,
      topicId,
      msgId,
      data: new TextEncoder().encode(text),
    });
    await this.req(bytes, T.PUBACK, msgId);
  }

  async connect(): Promise<void> {
    await this.req(
      encodeMqttSn({ type: T.CONNECT, cleanSession: true, duration: 600, clientId: this.id }),
      T.CONNACK,
    );
    const reg = async (name: string) => {
      const msgId = this.nextId();
      const m = await this.req(
        encodeMqttSn({ type: T.REGISTER, topicId: 0, msgId, topicName: name }),
        T.REGACK,
        msgId,
      );
      return m.topicId as number;
    };
    const check = await reg("node/check");
    this.tempId = await reg(`node/${this.id}/temperature`);
    await this.publish(check, JSON.stringify({ id: this.id }));
  }

  async close(): Promise<void> {
    this.sock.close();
    await this.#loop;
  }
}

function workerMain(): void {
  let nodes: LoadNode[] = [];
  // This module is also the worker's entry: `self` is a worker scope here.
  const scope = self as unknown as {
    postMessage(m: FromWorker): void;
    onmessage: (e: MessageEvent<ToWorker>) => void;
    close(): void;
  };
  const post = (m: FromWorker) => scope.postMessage(m);
  scope.onmessage = async (e: MessageEvent<ToWorker>) => {
    const msg = e.data;
    if (msg.cmd === "connect") {
      const gw: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: msg.port };
      nodes = Array.from({ length: msg.count }, (_, i) => new LoadNode(`load-${i}`, gw));
      let ok = 0, failed = 0;
      for (let i = 0; i < nodes.length; i += 250) { // bounded parallel start-up
        const rs = await Promise.allSettled(nodes.slice(i, i + 250).map((n) => n.connect()));
        for (const r of rs) r.status === "fulfilled" ? ok++ : failed++;
      }
      post({ ev: "connected", ok, failed });
    } else if (msg.cmd === "run") {
      const stopAt = Date.now() + msg.seconds * 1000;
      let acks = 0, failed = 0;
      await Promise.all(nodes.map(async (n, i) => {
        let t = 15 + (i % 100) / 10;
        while (Date.now() < stopAt) {
          t += 0.1;
          try {
            await n.publish(n.tempId, `{"value":"${t.toFixed(1)}°C"}`);
            acks++;
          } catch {
            failed++;
            return;
          }
        }
      }));
      post({
        ev: "ran",
        acks,
        resends: nodes.reduce((s, n) => s + n.resends, 0),
        failed,
      });
    } else if (msg.cmd === "close") {
      await Promise.all(nodes.map((n) => n.close()));
      nodes = [];
      post({ ev: "closed" });
      scope.close();
    }
  };
}

// ---------------------------------------------------------------- gateway (main side)

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function ask(worker: Worker, msg: ToWorker, timeoutMs: number): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker timed out on ${msg.cmd}`)), timeoutMs);
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      clearTimeout(t);
      resolve(e.data);
    };
    worker.postMessage(msg);
  });
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

interface Result {
  nodes: number;
  connected: number;
  updatesPerS: number;
  acksPerS: number;
  resends: number;
  heapPerNodeB: number;
  rssMB: number;
}

async function runOnce(count: number, seconds: number, withBroker: boolean): Promise<Result> {
  const { startMqttSnGateway } = await import("../gateway/mqttsn/gateway.ts");
  const keys = generateKeys();
  const broker = withBroker
    ? await (await import("../broker/server.ts")).startBroker({
      host: "127.0.0.1",
      port: 0,
      keys,
      // The broker's per-gateway limit is sized for ordinary fleets; this measures the gateway.
      gatewayRateLimit: { messagesPerSecond: 1_000_000, burst: 1_000_000 },
    })
    : undefined;
  // Without a broker the link keeps retrying a closed port; values stay in its bounded cache.
  const gw = await startMqttSnGateway({
    brokerUrl: broker ? `ws://127.0.0.1:${broker.port}/gw` : "ws://127.0.0.1:9/gw",
    keys,
    name: "load",
    port: 0,
    maxTimeS: 600,
    checkIntervalMs: 600_000,
    server: { maxClients: count + 100 },
  });
  let web: WebSocket | undefined;
  let webFrames = 0;
  if (broker) {
    web = new WebSocket(`ws://127.0.0.1:${broker.port}/ws`);
    await new Promise((r) => web!.onopen = r);
    web.send(JSON.stringify({ type: "new", data: "client" }));
    web.onmessage = () => webFrames++;
  }
  const worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
  try {
    if (broker) await waitFor(() => gw.link.connected, 10_000);
    gc();
    const heap0 = Deno.memoryUsage().heapUsed;
    const c = await ask(worker, { cmd: "connect", port: gw.port, count }, 120_000);
    if (c.ev !== "connected") throw new Error("worker: unexpected answer");
    await waitFor(() => gw.registry.size >= c.ok, 30_000);
    gc();
    const heap1 = Deno.memoryUsage().heapUsed;
    let updates = 0;
    const off = gw.registry.on((e) => {
      if (e.kind === "update" && e.endpoint === "temperature") updates++;
    });
    const t0 = performance.now();
    const r = await ask(worker, { cmd: "run", seconds }, seconds * 1000 + 60_000);
    const elapsed = (performance.now() - t0) / 1000;
    off();
    if (r.ev !== "ran") throw new Error("worker: unexpected answer");
    return {
      nodes: count,
      connected: c.ok,
      updatesPerS: Math.round(updates / elapsed),
      acksPerS: Math.round(r.acks / elapsed),
      resends: r.resends,
      heapPerNodeB: Math.round((heap1 - heap0) / Math.max(1, c.ok)),
      rssMB: Math.round(Deno.memoryUsage().rss / 1e6),
    };
  } finally {
    await ask(worker, { cmd: "close" }, 60_000).catch(() => worker.terminate());
    web?.close();
    await gw.close();
    await broker?.close();
    if (webFrames < 0) console.log(webFrames);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      nodes: { type: "string", default: "1000,10000" },
      seconds: { type: "string", default: "5" },
      "no-broker": { type: "boolean", default: false },
    },
  });
  const counts = values.nodes.split(",").map((s) => Math.min(15_000, Math.max(1, Number(s))));
  const seconds = Math.min(60, Math.max(1, Number(values.seconds)));
  if (!(globalThis as { gc?: unknown }).gc) {
    console.error("hint: --v8-flags=--expose-gc makes the memory figures exact");
  }
  const rows: Result[] = [];
  for (const n of counts) {
    const r = await runOnce(n, seconds, !values["no-broker"]);
    rows.push(r);
    console.log(JSON.stringify(r));
  }
  console.log(`\nMQTT-SN gateway, ${seconds} s closed-loop QoS 1, broker: ${!values["no-broker"]}`);
  console.table(rows);
}

if ((globalThis as { name?: string }).name === WORKER_NAME) {
  workerMain();
} else if (import.meta.main) {
  await main();
}
