// The page's broker connection (dashboard/src/connection.ts) under Deno against the real broker
// and a real gateway link: it registers as a client and gets the gateway's cache, and the
// optional write token decides whether writes reach the node or come back refused.
import { deepEqual, equal, ok } from "node:assert/strict";
import { generateKeys } from "../common/keys.ts";
import { startBroker } from "../broker/server.ts";
import { startGatewayCore } from "../gateway/common.ts";
import { BrokerConnection } from "../dashboard/src/connection.ts";
import { brokerUrlWithToken, NodeTable } from "../dashboard/src/state.ts";

const WAIT_MS = 15_000;

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("dashboard connection: cache replay, write token, refused writes", async () => {
  const keys = generateKeys();
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys, writeToken: "s3cret" });
  const writes: string[] = [];
  const gateway = startGatewayCore(
    { brokerUrl: `ws://127.0.0.1:${broker.port}/gw`, keys, name: "gw-a" },
    "ws",
    (node, endpoint, payload) => {
      writes.push(`${node.uid}/${endpoint}=${payload}`);
      gateway.registry.setValue(node.uid, endpoint, payload);
    },
  );
  gateway.registry.seen("n1", "127.0.0.1:1", { protocol: "WebSocket" });
  gateway.registry.setValue("n1", "led", "0");
  await until(() => gateway.link.connected, "the gateway link");

  const clientUrl = `ws://127.0.0.1:${broker.port}/ws`;
  const reader = new NodeTable();
  const writer = new NodeTable();
  const states: string[] = [];
  const readOnly = new BrokerConnection({
    url: clientUrl,
    onFrame: (f) => reader.apply(f),
    onState: (s) => states.push(s.kind),
  });
  const withToken = new BrokerConnection({
    url: brokerUrlWithToken(clientUrl, "s3cret"),
    onFrame: (f) => writer.apply(f),
  });
  try {
    readOnly.start();
    withToken.start();
    // Each client's `new` makes the gateway replay its cache to it.
    await until(() => reader.nodes.get("n1")?.resources.get("led")?.value === "0", "replay");
    await until(() => writer.nodes.get("n1")?.resources.has("led") === true, "replay (token)");
    equal(reader.nodes.get("n1")!.gw, "gw-a");
    deepEqual(states.slice(0, 2), ["connecting", "open"]);

    // Without the token the broker refuses the write, and says so for that resource.
    ok(readOnly.send({ type: "update", data: { uid: "n1", endpoint: "led", payload: "1" } }));
    reader.noteWrite("n1", "led", "1");
    await until(
      () => reader.nodes.get("n1")!.resources.get("led")!.refused !== undefined,
      "refusal",
    );
    equal(writes.length, 0);

    // With it the gateway gets the write, and both clients see the node's new value.
    ok(withToken.send({ type: "update", data: { uid: "n1", endpoint: "led", payload: "1" } }));
    writer.noteWrite("n1", "led", "1");
    await until(
      () => writer.nodes.get("n1")!.resources.get("led")!.confirmedAt !== undefined,
      "echo",
    );
    deepEqual(writes, ["n1/led=1"]);
    await until(() => reader.nodes.get("n1")!.resources.get("led")!.value === "1", "broadcast");
  } finally {
    await readOnly.close();
    await withToken.close();
    await gateway.close();
    await broker.close();
  }
});

Deno.test("dashboard connection: retries with back-off while the broker is away", async () => {
  // A port with nothing listening: bind, note it, close.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const waits: number[] = [];
  const conn = new BrokerConnection({
    url: `ws://127.0.0.1:${port}/ws`,
    onFrame: () => {},
    onState: (s) => {
      if (s.kind === "waiting") waits.push(s.retryAt - Date.now());
    },
    minBackoffMs: 50,
    maxBackoffMs: 200,
  });
  conn.start();
  try {
    await until(() => waits.length >= 4, "four retries");
  } finally {
    await conn.close();
  }
  equal(conn.state.kind, "closed");
  // Doubling, capped: 50, 100, 200, 200 (allowing for the clock between the two Date.now()).
  const rounded = waits.slice(0, 4).map((w) => Math.round(w / 50) * 50);
  deepEqual(rounded, [50, 100, 200, 200]);
});
