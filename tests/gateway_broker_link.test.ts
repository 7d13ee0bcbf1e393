// The gateway side of the broker link against the real broker: announce, cache replay to a
// new web client, writes routed back, survival of bad frames, and recovery after a restart.
import { deepEqual, equal, ok } from "node:assert/strict";
import { generateKeys } from "../common/keys.ts";
import { startBroker } from "../broker/server.ts";
import { startGatewayCore } from "../gateway/common.ts";

type Frame = Record<string, unknown>;

async function webClient(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: Frame[] = [];
  ws.onmessage = (ev) => frames.push(JSON.parse(ev.data));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.send(JSON.stringify({ type: "new", data: "client" }));
  const closed = new Promise((r) => ws.addEventListener("close", r));
  return {
    ws,
    frames,
    async close() {
      ws.close();
      await closed;
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function untilAsync(cond: () => Promise<boolean>, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("broker link: announce, replay to a late client, and route its write back", async () => {
  const keys = generateKeys();
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  const writes: string[] = [];
  const gw = startGatewayCore(
    { brokerUrl: `ws://127.0.0.1:${broker.port}/gw`, keys, name: "test-gw", minBackoffMs: 20 },
    "test",
    (node, endpoint, payload) => {
      writes.push(`${node.uid}/${endpoint}=${payload}`);
      gw.registry.setValue(node.uid, endpoint, payload);
    },
  );
  try {
    await until(() => gw.link.connected, "gateway connection");
    gw.registry.seen("n1", "addr", { ip: "127.0.0.1", protocol: "CoAP" });
    gw.registry.setValue("n1", "temperature", "21.5°C", { rt: "temperature", if: "core.s" });
    // Let the broker take in the live announcement first, so what the client gets is the replay.
    await untilAsync(async () => {
      const res = await fetch(`${broker.url}/api/nodes/n1`);
      const body = await res.text();
      return res.ok && body.includes("temperature");
    }, "broker to learn the node");

    const client = await webClient(broker.port);
    await until(() => client.frames.some((f) => f.endpoint === "temperature"), "cache replay");
    const replayed = client.frames.filter((f) => f.uid === "n1").map((f) => f.endpoint ?? f.type);
    deepEqual(replayed, ["new", "ip", "protocol", "temperature"]);
    const temp = client.frames.find((f) => f.endpoint === "temperature")!;
    deepEqual(temp.meta, { rt: "temperature", if: "core.s" });

    client.ws.send(
      JSON.stringify({ type: "update", data: { uid: "n1", endpoint: "led", payload: "1" } }),
    );
    await until(() => client.frames.some((f) => f.endpoint === "led"), "write echo");
    deepEqual(writes, ["n1/led=1"]);

    // A write for an unknown node or with a non-string payload never reaches the protocol side.
    client.ws.send(
      JSON.stringify({ type: "update", data: { uid: "ghost", endpoint: "led", payload: "1" } }),
    );
    client.ws.send(
      JSON.stringify({ type: "update", data: { uid: "n1", endpoint: "led", payload: 1 } }),
    );
    client.ws.send(
      JSON.stringify({ type: "update", data: { uid: "n1", endpoint: "led", payload: "0" } }),
    );
    await until(() => writes.length === 2, "second write");
    deepEqual(writes, ["n1/led=1", "n1/led=0"]);
    equal(gw.link.connected, true, "bad frames did not end the link");
    await client.close();
  } finally {
    await gw.close();
    await broker.close();
  }
});

Deno.test("broker link: re-announces every node after the broker restarts", async () => {
  const keys = generateKeys();
  let broker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  const port = broker.port;
  const gw = startGatewayCore(
    {
      brokerUrl: `ws://127.0.0.1:${port}/gw`,
      keys,
      name: "restart-gw",
      minBackoffMs: 20,
      maxBackoffMs: 200,
    },
    "test",
    () => {},
  );
  try {
    await until(() => gw.link.connected, "first connection");
    gw.registry.seen("n1", "a", { protocol: "MQTT" });
    await broker.close();
    await until(() => !gw.link.connected, "disconnect");
    // Values that arrive while the broker is away are kept; the newest goes out on reconnect.
    gw.registry.setValue("n1", "temperature", "20.0°C");
    gw.registry.setValue("n1", "temperature", "22.0°C");
    broker = await startBroker({ host: "127.0.0.1", port, keys });
    await until(() => gw.link.connected, "reconnection", 10_000);
    ok(gw.link.stats.connects >= 2);
    await untilAsync(async () => {
      const body = await (await fetch(`${broker.url}/api/nodes/n1`)).text();
      return body.includes("22.0");
    }, "broker to learn the re-announced node");
    const client = await webClient(port);
    await until(() => client.frames.some((f) => f.endpoint === "temperature"), "replay");
    const temps = client.frames.filter((f) => f.endpoint === "temperature").map((f) => f.data);
    deepEqual(temps, ["22.0°C"]);
    await client.close();
  } finally {
    await gw.close();
    await broker.close();
  }
});

Deno.test("broker link: a wrong key never connects, and retries without crashing", async () => {
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys: generateKeys() });
  const gw = startGatewayCore(
    {
      brokerUrl: `ws://127.0.0.1:${broker.port}/gw`,
      keys: generateKeys(),
      minBackoffMs: 20,
      maxBackoffMs: 50,
    },
    "test",
    () => {},
  );
  try {
    await new Promise((r) => setTimeout(r, 300));
    equal(gw.link.connected, false);
    equal(gw.link.stats.connects, 0);
  } finally {
    await gw.close();
    await broker.close();
  }
});

Deno.test("broker link: timer options left undefined keep their defaults (no keep-alive storm)", async () => {
  const keys = generateKeys();
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  // As the CLI passes them when no flag is given.
  const gw = startGatewayCore(
    {
      brokerUrl: `ws://127.0.0.1:${broker.port}/gw`,
      keys,
      aliveMs: undefined,
      minBackoffMs: undefined,
      maxBackoffMs: undefined,
    },
    "test",
    () => {},
  );
  try {
    await until(() => gw.link.connected, "gateway connection");
    const before = gw.link.stats.sent;
    await new Promise((r) => setTimeout(r, 300));
    // With the 30 s default nothing is due; an undefined interval fires every millisecond.
    ok(gw.link.stats.sent - before <= 1, `sent ${gw.link.stats.sent - before} frames in 300 ms`);
  } finally {
    await gw.close();
    await broker.close();
  }
});

Deno.test("broker link: updates held back by a full socket arrive later, newest value, in order", async () => {
  const keys = generateKeys();
  const broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    keys,
    gatewayRateLimit: { messagesPerSecond: 1e6, burst: 1e6 },
  });
  // A small send buffer, so one synchronous burst overflows it (as a cache replay does).
  const gw = startGatewayCore(
    {
      brokerUrl: `ws://127.0.0.1:${broker.port}/gw`,
      keys,
      name: "burst",
      maxBufferedBytes: 8 * 1024,
    },
    "test",
    () => {},
  );
  const client = await webClient(broker.port);
  const N = 2000;
  try {
    await until(() => gw.link.connected, "gateway connection");
    for (let i = 0; i < N; i++) gw.registry.seen(`b${i}`, "addr", { protocol: "CoAP" });
    await until(() => broker.relay.nodeCount() === N, "nodes at the broker");
    // Three rounds in one tick: far more than 8 KiB, so most updates are held back; only the
    // last round's value may be what the web side ends with.
    for (const round of ["1", "2", "3"]) {
      for (let i = 0; i < N; i++) gw.registry.setValue(`b${i}`, "v", round);
    }
    ok(gw.link.stats.dropped > 0, "the burst overflowed the send buffer");
    const last = new Map<string, string>();
    await until(
      () => {
        for (const f of client.frames.splice(0)) {
          if (f.endpoint === "v") last.set(f.uid as string, f.data as string);
        }
        return last.size === N && [...last.values()].every((v) => v === "3");
      },
      "newest value of every node",
      15_000,
    );
    ok(gw.link.stats.resent > 0, "held-back updates were sent after the drain");
  } finally {
    await client.close();
    await gw.close();
    await broker.close();
  }
});
