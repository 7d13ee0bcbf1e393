// Websocket gateway end to end: real aiot broker, a web client, WsNode and raw node sockets.
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { startWsGateway } from "../gateway/ws/gateway.ts";
import { WsNode } from "../firmware/ws_node.ts";
import { startTestBroker, waitFor, WebClient } from "./gateway_mqtt_harness.ts";

async function setup(
  extra: { maxTimeS?: number; maxFrameBytes?: number; maxResources?: number } = {},
) {
  const broker = await startTestBroker();
  const gw = await startWsGateway({
    brokerUrl: broker.gwUrl,
    keys: broker.keys,
    name: "ws-test",
    host: "127.0.0.1",
    port: 0,
    ...extra,
  });
  const client = await WebClient.open(broker.port);
  await waitFor("gateway linked", () => gw.link.connected);
  return {
    broker,
    gw,
    client,
    async close() {
      await client.close();
      await gw.close();
      await broker.close();
    },
  };
}

/** A raw node socket recording what the gateway sends and how it closes. */
async function rawNode(url: string) {
  const ws = new WebSocket(url);
  const got: unknown[] = [];
  let close: { code: number; reason: string } | null = null;
  const closed = new Promise<void>((r) =>
    ws.onclose = (ev) => {
      close = { code: ev.code, reason: ev.reason };
      r();
    }
  );
  ws.onmessage = (ev) => got.push(JSON.parse(String(ev.data)));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("raw node could not connect"));
  });
  return {
    ws,
    got,
    closed,
    get close() {
      return close as { code: number; reason: string } | null;
    },
    async end() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
    },
  };
}

Deno.test("ws gateway: a node appears, values flow, a write reaches it, it goes with its socket", async () => {
  const s = await setup();
  const node = new WsNode({
    id: "ws-node-1",
    gatewayHost: "127.0.0.1",
    gatewayPort: s.gw.port,
    intervalMs: 200,
  });
  try {
    await node.start();
    const uid = "ws-node-1";
    await waitFor("node announced", () => s.client.has("new", uid));
    await waitFor("protocol", () => s.client.has("update", uid, "protocol", "WebSocket"));
    await waitFor("discovered name", () => s.client.has("update", uid, "name", "Weather Sensor"));
    await waitFor("discovered text", () => s.client.has("update", uid, "text", "hello"));
    const mark = s.client.frames.length;
    await waitFor(
      "periodic temperature",
      () => s.client.frames.slice(mark).some((f) => f.uid === uid && f.endpoint === "temperature"),
    );
    match(String(s.client.value(uid, "temperature")), /°C$/);

    s.client.write(uid, "led", "1");
    await waitFor("write at the node", () => node.writes.length > 0);
    deepEqual(node.writes[0], { endpoint: "led", payload: "1" });
    await waitFor("led echoed", () => s.client.value(uid, "led") === "1");
    s.client.write(uid, "led", "7"); // refused by the node: it sends the unchanged value back
    await waitFor("second write at the node", () => node.writes.length === 2);
    equal(node.sensors.led, "1");

    await node.stop();
    await waitFor("out on socket close", () => s.client.has("out", uid), 5000);
    equal(s.gw.registry.size, 0);
  } finally {
    await node.stop();
    await s.close();
  }
});

Deno.test("ws gateway: an anonymous node gets a uuid; a quiet open socket is never timed out", async () => {
  const s = await setup({ maxTimeS: 1 });
  const node = new WsNode({
    id: "anon",
    anonymous: true,
    url: `ws://127.0.0.1:${s.gw.port}/node`,
    intervalMs: 60_000, // quiet: no sensor pushes during the test
  });
  try {
    await node.start();
    await waitFor("node in registry", () => s.gw.registry.size === 1);
    const uid = s.gw.registry.all()[0].uid;
    match(uid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await waitFor("discovered", () => s.client.has("update", uid, "os", "riot"));
    // Three times the timeout with no frame from the node: the open socket keeps it alive.
    await new Promise((r) => setTimeout(r, 3000));
    ok(!s.client.has("out", uid));
    equal(s.gw.registry.size, 1);
  } finally {
    await node.stop();
    await s.close();
  }
});

Deno.test("ws gateway: hostile frames close with pyaiot's 1003, others are counted, the gateway lives", async () => {
  const s = await setup({ maxFrameBytes: 1024, maxResources: 3 });
  const url = `ws://127.0.0.1:${s.gw.port}/node`;
  try {
    // Not JSON: 1003 with pyaiot's reason; the node is gone.
    const a = await rawNode(`${url}?id=bad-a`);
    await waitFor("discover request", () => a.got.length > 0);
    deepEqual(a.got[0], { request: "discover" });
    a.ws.send("hello there");
    await a.closed;
    equal(a.close?.code, 1003);
    equal(
      a.close?.reason,
      "Invalid message received 'hello there'. Only JSON format is supported..",
    );
    await waitFor("bad-a out", () => s.client.has("out", "bad-a"));

    // Wrong type; a very long invalid frame still gets a close reason within 123 bytes.
    const b = await rawNode(`${url}?id=bad-b`);
    b.ws.send('{"type":"bogus"}');
    await b.closed;
    equal(b.close?.code, 1003);
    equal(b.close?.reason, "Invalid message type 'bogus'..");
    const c = await rawNode(`${url}?id=bad-c`);
    c.ws.send("x".repeat(900));
    await c.closed;
    equal(c.close?.code, 1003);
    ok(new TextEncoder().encode(c.close!.reason).length <= 123);

    // Oversized and binary frames.
    const d = await rawNode(`${url}?id=bad-d`);
    d.ws.send(JSON.stringify({ type: "update", data: { text: "y".repeat(2000) } }));
    await d.closed;
    equal(d.close?.code, 1009);
    const e = await rawNode(`${url}?id=bad-e`);
    e.ws.send(new Uint8Array([1, 2, 3]));
    await e.closed;
    equal(e.close?.code, 1003);

    // Wrongly shaped updates are counted and skipped; the socket stays and good keys pass.
    const f = await rawNode(`${url}?id=good-f`);
    const badBefore = s.gw.stats.badFrames;
    f.ws.send('{"type":"update","data":[1,2]}');
    f.ws.send('{"type":"update","data":"x"}');
    f.ws.send('{"type":"update"}');
    f.ws.send('{"type":"update","data":{"a/b":1,"":2,"ok":3}}');
    await waitFor("good key", () => s.client.has("update", "good-f", "ok", 3));
    equal(s.gw.stats.badFrames, badBefore + 5);
    equal(f.ws.readyState, WebSocket.OPEN);
    // At most maxResources (3) distinct resources per node; known ones keep updating.
    f.ws.send('{"type":"update","data":{"r2":1,"r3":1,"r4":1,"protocol":"CoAP","ok":4}}');
    await waitFor("ok updated", () => s.client.has("update", "good-f", "ok", 4));
    deepEqual([...s.gw.registry.get("good-f")!.resources.keys()], ["protocol", "ok", "r2", "r3"]);
    equal(s.gw.registry.get("good-f")!.resources.get("protocol")!.value, "WebSocket");

    // A flood: bounded count, over the per-socket rate; frames beyond it are dropped, not fatal.
    for (let i = 0; i < 400; i++) f.ws.send(`{"type":"update","data":{"n":${i}}}`);
    await waitFor("flood handled", () => s.gw.stats.rateLimited > 0);
    equal(f.ws.readyState, WebSocket.OPEN);
    ok(s.gw.registry.get("good-f"));
    await f.end();
    await waitFor("good-f out", () => s.client.has("out", "good-f"));

    // Refused upgrades: bad id, wrong path.
    const badId = await fetch(`http://127.0.0.1:${s.gw.port}/node?id=a%20b`, {
      headers: { upgrade: "websocket" },
    });
    await badId.body?.cancel();
    equal(badId.status, 400);
    const other = await fetch(`http://127.0.0.1:${s.gw.port}/elsewhere`);
    await other.body?.cancel();
    equal(other.status, 404);
    equal(s.gw.registry.size, 0);
  } finally {
    await s.close();
  }
});

Deno.test("ws gateway: a second socket with the same id takes the node over without an out", async () => {
  const s = await setup();
  const url = `ws://127.0.0.1:${s.gw.port}/node?id=twice`;
  try {
    const first = await rawNode(url);
    await waitFor("node", () => s.client.has("new", "twice"));
    const second = await rawNode(url);
    await first.closed;
    equal(first.close?.code, 4000);
    second.ws.send('{"type":"update","data":{"led":"1"}}');
    await waitFor("update via the new socket", () => s.client.has("update", "twice", "led", "1"));
    ok(!s.client.has("out", "twice"));
    // Writes go to the live socket.
    s.client.write("twice", "led", "0");
    await waitFor(
      "write on the new socket",
      () => second.got.some((m) => JSON.stringify(m) === '{"endpoint":"led","payload":"0"}'),
    );
    await second.end();
    await waitFor("out", () => s.client.has("out", "twice"));
  } finally {
    await s.close();
  }
});

Deno.test("ws gateway: a port already taken rejects the start and leaves nothing running", async () => {
  const broker = await startTestBroker();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await rejects(
      startWsGateway({
        brokerUrl: broker.gwUrl,
        keys: broker.keys,
        host: "127.0.0.1",
        port: (taken.addr as Deno.NetAddr).port,
      }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
    await broker.close();
  }
  // Deno's sanitizers fail this test if the broker link or a timer were left behind.
});

Deno.test("ws node: reconnects when its gateway restarts, and is discovered again", async () => {
  const broker = await startTestBroker();
  const client = await WebClient.open(broker.port);
  const base = {
    brokerUrl: broker.gwUrl,
    keys: broker.keys,
    name: "ws-restart",
    host: "127.0.0.1",
  };
  let gw = await startWsGateway({ ...base, port: 0 });
  const port = gw.port;
  const node = new WsNode({
    id: "comeback",
    url: gw.nodeUrl,
    intervalMs: 60_000,
    reconnectMs: 200,
  });
  try {
    await node.start();
    await waitFor("first discovery", () => client.has("update", "comeback", "name"));
    await gw.close();
    await waitFor("gone with the gateway", () => client.has("out", "comeback"));
    const mark = client.frames.length;
    gw = await startWsGateway({ ...base, port });
    await waitFor(
      "discovered again",
      () => client.frames.slice(mark).some((f) => f.uid === "comeback" && f.endpoint === "name"),
    );
    client.write("comeback", "text", "back");
    await waitFor("write after the restart", () => client.value("comeback", "text") === "back");
  } finally {
    await node.stop();
    await gw.close();
    await client.close();
    await broker.close();
  }
});
