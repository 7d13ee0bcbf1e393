// The simulated MQTT-SN node against the gateway endpoint alone (no broker): its topics and
// QoS 1 flow as the gateway sees them, and recovery when the gateway restarts and forgets it.
import { deepEqual, equal, ok } from "node:assert/strict";
import { MqttSnNode } from "../firmware/mqttsn_node.ts";
import { startMqttSnServer } from "../gateway/mqttsn/server.ts";
import { waitFor } from "./gateway_mqtt_harness.ts";

const td = new TextDecoder();

Deno.test("MqttSnNode: registers, subscribes, answers discover, recovers from a gateway restart", async () => {
  const seen: [string, string][] = [];
  const onPublish = (t: string, p: Uint8Array) => seen.push([t, td.decode(p)]);
  let server = startMqttSnServer({ port: 0, tickMs: 50, retryMs: 300, onPublish });
  const port = server.port;
  const node = new MqttSnNode({
    id: "n1",
    gatewayPort: port,
    intervalMs: 60_000,
    checkIntervalMs: 60_000,
    retryMs: 300,
    maxRetries: 2,
    keepAliveS: 1, // its PINGREQs are what finds out about the restart
    resources: ["name", "led"],
  });
  try {
    await node.start();
    await waitFor("node/check", () => seen.some(([t]) => t === "node/check"));
    deepEqual(seen[0], ["node/check", '{"id":"n1"}']);
    const c = server.sessions.client("n1")!;
    deepEqual([...c.subs.keys()].sort(), [
      "gateway/check",
      "gateway/n1/+/set",
      "gateway/n1/discover",
    ]);
    // The gateway's side of pyaiot's discovery, as PyaiotTopics would publish it.
    equal(server.publish("gateway/n1/discover", new TextEncoder().encode("resources")), 1);
    await waitFor("resources", () => seen.some(([t]) => t === "node/n1/resources"));
    deepEqual(seen.find(([t]) => t === "node/n1/resources"), [
      "node/n1/resources",
      '["name","led"]',
    ]);
    server.publish("gateway/n1/discover", new TextEncoder().encode("values"));
    await waitFor("values", () => seen.some(([t]) => t === "node/n1/led"));
    deepEqual(seen.find(([t]) => t === "node/n1/name"), [
      "node/n1/name",
      '{"value":"Weather Sensor"}',
    ]);
    // A write on the wildcard subscription: REGISTER of the concrete topic, then the PUBLISH.
    server.publish("gateway/n1/led/set", new TextEncoder().encode("1"));
    await waitFor("write", () => node.writes.length === 1);
    deepEqual(node.writes[0], { endpoint: "led", payload: "1" });
    await waitFor(
      "led echo",
      () => seen.some(([t, p]) => t === "node/n1/led" && p === '{"value":"1"}'),
    );
    ok(c.topics.byName("gateway/n1/led/set")?.known);

    // The gateway restarts on the same port and knows nothing: the node's next PINGREQ gets a
    // DISCONNECT, it CONNECTs again, re-subscribes and checks in.
    await server.close();
    seen.length = 0;
    server = startMqttSnServer({ port, tickMs: 50, retryMs: 300, onPublish });
    server.publish("gateway/check", new Uint8Array(0)); // nobody subscribed yet: no one
    await waitFor("back", () => server.sessions.client("n1")?.state === "active", 10_000);
    await waitFor("subscribed again", () => server.sessions.client("n1")!.subs.size === 3, 10_000);
    equal(server.publish("gateway/check", new Uint8Array(0)), 1);
    await waitFor("check-in", () => seen.some(([t]) => t === "node/check"), 10_000);
  } finally {
    await node.stop();
    await server.close();
  }
});

Deno.test("MqttSnNode duty cycle: sleeps, gets buffered writes on waking, publishes again", async () => {
  const seen: string[] = [];
  const server = startMqttSnServer({
    port: 0,
    tickMs: 50,
    retryMs: 300,
    onPublish: (t) => seen.push(t),
  });
  const node = new MqttSnNode({
    id: "sleepy",
    gatewayPort: server.port,
    intervalMs: 100,
    checkIntervalMs: 60_000,
    retryMs: 300,
    resources: ["led", "temperature"],
    dutyCycle: { awakeMs: 300, sleepS: 1 },
  });
  try {
    await node.start();
    await waitFor("asleep", () => server.sessions.client("sleepy")?.state === "asleep", 5000);
    const count = seen.length;
    server.publish("gateway/sleepy/led/set", new TextEncoder().encode("1"));
    await new Promise((r) => setTimeout(r, 300));
    equal(node.writes.length, 0, "buffered while asleep");
    equal(seen.length, count, "a sleeping node publishes nothing");
    await waitFor("woken with the write", () => node.writes.length === 1, 5000);
    deepEqual(node.writes[0], { endpoint: "led", payload: "1" });
    await waitFor("active again", () => server.sessions.client("sleepy")?.state === "active", 5000);
    await waitFor("publishing again", () => seen.length > count + 1, 5000);
    await waitFor("second sleep", () => node.stats.sleeps >= 2, 5000);
    equal(server.sessions.stats.lost, 0);
  } finally {
    await node.stop();
    await server.close();
  }
});
