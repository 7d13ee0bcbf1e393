// The REST API and Prometheus metrics, fed by real gateway and client websockets.
import assert from "node:assert/strict";
import { openClient, openGateway, testBroker, until } from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

async function getJson(url: string): Promise<{ status: number; body: any; cors: string | null }> {
  const res = await fetch(url);
  return {
    status: res.status,
    body: await res.json(),
    cors: res.headers.get("access-control-allow-origin"),
  };
}

Deno.test(
  "REST: nodes, one node, gateways, health follow what gateways relay",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const gw = await openGateway(b, { name: "coap-lab" });
      const anon = await openGateway(b);
      gw.send({ type: "new", uid: "1234", dst: "all" });
      gw.send({ type: "update", uid: "1234", endpoint: "ip", data: "::1", dst: "all" });
      gw.send({ type: "update", uid: "1234", endpoint: "protocol", data: "CoAP", dst: "all" });
      gw.send({
        type: "update",
        uid: "1234",
        endpoint: "temperature",
        data: "21.0°C",
        dst: "all",
        meta: { rt: "temperature", obs: true },
      });
      gw.send({ type: "update", uid: "1234", endpoint: "temperature", data: "23.4°C", dst: "all" });
      anon.send({ type: "new", uid: "ws-1", dst: "all" });
      anon.send({
        type: "update",
        uid: "ws-1",
        endpoint: "protocol",
        data: "WebSocket",
        dst: "all",
      });
      await until(() => b.relay.gateways.get("gw-1")?.messagesIn === 2);
      await until(() => b.relay.gateways.get("coap-lab")?.messagesIn === 5);

      const nodes = await getJson(`${b.url}/api/nodes`);
      assert.equal(nodes.status, 200);
      assert.equal(nodes.cors, "*");
      const byUid = Object.fromEntries(nodes.body.map((n: any) => [n.uid, n]));
      assert.deepEqual(byUid["1234"].resources, {
        ip: "::1",
        protocol: "CoAP",
        temperature: "23.4°C",
      });
      assert.equal(byUid["1234"].gw, "coap-lab");
      assert.equal(byUid["1234"].protocol, "CoAP");
      assert.equal(byUid["ws-1"].gw, "gw-1");
      assert.equal(byUid["ws-1"].protocol, "WebSocket");

      const one = await getJson(`${b.url}/api/nodes/1234`);
      assert.equal(one.status, 200);
      assert.equal(one.body.resources.temperature.value, "23.4°C");
      assert.deepEqual(one.body.resources.temperature.meta, { rt: "temperature", obs: true });
      assert.ok(!Number.isNaN(Date.parse(one.body.resources.temperature.updatedAt)));
      const missing = await getJson(`${b.url}/api/nodes/nope`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: "unknown node" });

      // A reset keeps the identity pseudo-resources and drops the data.
      gw.send({ type: "reset", uid: "1234" });
      await until(() => b.relay.gateways.get("coap-lab")?.messagesIn === 6);
      assert.deepEqual(
        Object.keys((await getJson(`${b.url}/api/nodes/1234`)).body.resources),
        ["ip", "protocol"],
      );

      const gws = await getJson(`${b.url}/api/gateways`);
      assert.deepEqual(gws.body.map((g: any) => [g.name, g.nodes, g.binary]).sort(), [
        ["coap-lab", 1, false],
        ["gw-1", 1, false],
      ]);
      const web = await openClient(b);
      await until(() => b.relay.clients.size === 1);
      const health = await getJson(`${b.url}/api/health`);
      assert.equal(health.body.status, "ok");
      assert.equal(health.body.gateways, 2);
      assert.equal(health.body.clients, 1);
      assert.equal(health.body.nodes, 2);

      // A disconnect empties the gateway's nodes from the API.
      await gw.close();
      await until(() => b.relay.gateways.size === 1);
      assert.equal((await getJson(`${b.url}/api/nodes/1234`)).status, 404);
      assert.deepEqual((await getJson(`${b.url}/api/nodes`)).body.map((n: any) => n.uid), ["ws-1"]);
      for (const p of [web, anon]) await p.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test(
  "metrics: Prometheus text with connections, messages by type, drops, gateways",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const gw = await openGateway(b, { name: "edge-1" });
      const web = await openClient(b);
      await gw.next((m) => m.type === "new");
      gw.send({ type: "new", uid: "n1", dst: "all" });
      gw.send({ type: "update", uid: "n1", endpoint: "led", data: "1", dst: "all" });
      gw.send({ type: "update", uid: "nobody", endpoint: "led", data: "1", dst: "all" });
      await web.next((m) => m.type === "update");
      const res = await fetch(`${b.url}/metrics`);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const expect = [
        'aiot_broker_connections{kind="gateway"} 1',
        'aiot_broker_connections{kind="client"} 1',
        'aiot_broker_connections_total{kind="gateway"} 1',
        'aiot_broker_messages_in_total{kind="gateway",type="new"} 1',
        'aiot_broker_messages_in_total{kind="gateway",type="update"} 2',
        'aiot_broker_messages_in_total{kind="client",type="new"} 1',
        'aiot_broker_messages_out_total{kind="gateway",type="new"} 1',
        'aiot_broker_messages_out_total{kind="client",type="new"} 1',
        'aiot_broker_messages_out_total{kind="client",type="update"} 1',
        'aiot_broker_dropped_messages_total{reason="not_owned"} 1',
        'aiot_broker_gateway_nodes{gateway="edge-1"} 1',
        'aiot_broker_gateway_messages_in_total{gateway="edge-1"} 3',
        "aiot_broker_nodes 1",
      ];
      for (const line of expect) assert.ok(text.split("\n").includes(line), `missing: ${line}`);
      // Every sample line is `name{labels} number` or `name number`; every family has a TYPE.
      for (const line of text.trimEnd().split("\n")) {
        if (line.startsWith("#")) continue;
        assert.match(line, /^[a-z_]+(\{[^}]*\})? [0-9.]+$/);
        const family = line.split(/[{ ]/)[0];
        assert.ok(text.includes(`# TYPE ${family} `), `no TYPE for ${family}`);
      }
      for (const p of [web, gw]) await p.close();
    } finally {
      await b.close();
    }
  },
);
