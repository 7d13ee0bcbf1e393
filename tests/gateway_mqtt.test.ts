// MQTT gateway end to end: real mosquitto, real aiot broker, a web client, an MqttNode and
// mosquitto_pub/_sub as an independent node.
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { startMqttGateway } from "../gateway/mqtt/gateway.ts";
import { startEmbeddedMqttBroker } from "../gateway/mqtt/embedded_broker.ts";
import { MqttNode } from "../firmware/mqtt_node.ts";
import {
  mosquittoClient,
  startMosquitto,
  startTestBroker,
  waitFor,
  WebClient,
} from "./gateway_mqtt_harness.ts";
import { missing } from "./helpers/peers.ts";

Deno.test({
  name: "mqtt gateway (mosquitto): discovery, values, writes both ways, bad payloads, timeout",
  ignore: missing("mosquitto"),
  async fn() {
    const mosq = await startMosquitto();
    const broker = await startTestBroker();
    const gw = await startMqttGateway({
      brokerUrl: broker.gwUrl,
      keys: broker.keys,
      name: "mqtt-test",
      mqttUrl: mosq.url,
      maxTimeS: 3,
      checkIntervalMs: 60_000, // nodes' own check-ins keep them alive in this test
    });
    const client = await WebClient.open(broker.port);
    const node = new MqttNode({
      id: "mqtt-node-1",
      mqttUrl: mosq.url,
      intervalMs: 200,
      checkIntervalMs: 500,
    });
    try {
      await waitFor("gateway on mosquitto", () => gw.mqttConnected);
      await node.start();
      const uid = "mqtt-node-1";
      await waitFor("node announced", () => client.has("new", uid));
      await waitFor("pseudo-resources", () => client.has("update", uid, "protocol", "MQTT"));
      ok(client.has("update", uid, "id", uid));
      await waitFor("discovered name", () => client.has("update", uid, "name", "Weather Sensor"));
      await waitFor("a temperature", () => /°C$/.test(String(client.value(uid, "temperature"))));
      await waitFor("led value", () => client.has("update", uid, "led", "0"));
      // Order on the wire: new first, then id, then protocol (pyaiot's cache order).
      const mine = client.frames.filter((f) => f.uid === uid);
      deepEqual(mine.slice(0, 3).map((f) => `${f.type} ${f.endpoint ?? ""}`), [
        "new ",
        "update id",
        "update protocol",
      ]);

      // A web client's write reaches the node, and the node's echo reaches the web client.
      client.write(uid, "led", "1");
      await waitFor("write at the node", () => node.writes.some((w) => w.endpoint === "led"));
      deepEqual(node.writes[0], { endpoint: "led", payload: "1" });
      await waitFor("led echoed", () => client.value(uid, "led") === "1");
      client.write(uid, "text", "héllo wörld");
      await waitFor("text echoed", () => client.value(uid, "text") === "héllo wörld");

      // An independent node: mosquitto_pub. Its resources list and value are retained, so each is
      // delivered the moment the gateway subscribes to it; no race with the subscriptions.
      const pub = (topic: string, msg: string, retain = false) =>
        mosquittoClient("mosquitto_pub", [
          "-p",
          String(mosq.port),
          "-h",
          "127.0.0.1",
          "-q",
          "1",
          ...(retain ? ["-r"] : []),
          "-t",
          topic,
          "-m",
          msg,
        ]);
      equal((await pub("node/pubnode/temperature", '{"value":"22.5°C"}', true)).code, 0);
      await pub("node/pubnode/resources", '["temperature","led"]', true);
      await pub("node/check", '{"id":"pubnode"}');
      await waitFor("pubnode announced", () => client.has("new", "pubnode"));
      await waitFor("pubnode value", () => client.value("pubnode", "temperature") === "22.5°C");

      // Hostile payloads from the MQTT side: counted, the gateway and the node carry on.
      const before = gw.topics.stats.malformed;
      await pub("node/check", "{not json");
      await pub("node/check", '{"id":["x"]}');
      await pub("node/pubnode/temperature", '{"value":');
      await pub("node/pubnode/temperature", "[1,2,3]");
      await waitFor("malformed counted", () => gw.topics.stats.malformed >= before + 4);
      equal(client.value("pubnode", "temperature"), "22.5°C", "bad values are not forwarded");

      // A write to the independent node is published on gateway/<id>/<r>/set: mosquitto_sub sees
      // it. The write is repeated until mosquitto_sub, started in parallel, has subscribed.
      const sub = mosquittoClient("mosquitto_sub", [
        "-p",
        String(mosq.port),
        "-h",
        "127.0.0.1",
        "-t",
        "gateway/pubnode/+/set",
        "-v",
        "-C",
        "1",
        "-W",
        "20",
      ]);
      let got: { code: number; stdout: string } | null = null;
      sub.then((r) => got = r);
      for (let i = 0; i < 60 && got === null; i++) {
        client.write("pubnode", "led", "1");
        await new Promise((r) => setTimeout(r, 250));
      }
      const subResult = await sub;
      equal(subResult.code, 0);
      equal(subResult.stdout.trim(), "gateway/pubnode/led/set 1");

      // Timeout: pubnode never checks in again and is dropped; the live node stays.
      await waitFor("pubnode timed out", () => client.has("out", "pubnode"), 20_000);
      ok(!client.has("out", uid), "the live node checks in and stays");
      ok(gw.registry.get(uid));
      // The live node stops: it goes too.
      await node.stop();
      await waitFor("node timed out", () => client.has("out", uid), 20_000);
      equal(gw.registry.size, 0);
    } finally {
      await node.stop();
      await client.close();
      await gw.close();
      await broker.close();
      await mosq.stop();
    }
  },
});

Deno.test("mqtt gateway (embedded aedes): a CBOR node's values arrive as JSON", async () => {
  const aedes = await startEmbeddedMqttBroker({ port: 0 });
  const broker = await startTestBroker();
  const gw = await startMqttGateway({
    brokerUrl: broker.gwUrl,
    keys: broker.keys,
    name: "mqtt-cbor",
    mqttUrl: aedes.url,
  });
  const client = await WebClient.open(broker.port);
  const node = new MqttNode({ id: "cbor-node", mqttUrl: aedes.url, cbor: true, intervalMs: 200 });
  try {
    await waitFor("gateway on aedes", () => gw.mqttConnected);
    await node.start();
    const uid = node.id;
    await waitFor("discovered", () => client.has("update", uid, "board", "native"));
    // CBOR sensor values are numbers; the web side gets them as JSON numbers.
    await waitFor(
      "numeric temperature",
      () => typeof client.value(uid, "temperature") === "number",
    );
    client.write(uid, "led", "1");
    await waitFor("led echoed", () => client.value(uid, "led") === "1");
    deepEqual(node.writes, [{ endpoint: "led", payload: "1" }]);
    equal(gw.topics.stats.malformed, 0);
  } finally {
    await node.stop();
    await client.close();
    await gw.close();
    await broker.close();
    await aedes.close();
  }
});

Deno.test("mqtt gateway: an MQTT URL the client refuses rejects the start, nothing left running", async () => {
  const broker = await startTestBroker();
  try {
    for (const mqttUrl of ["gopher://x:1", "localhost:1886", "mqtt://"]) {
      await rejects(
        startMqttGateway({ brokerUrl: broker.gwUrl, keys: broker.keys, mqttUrl }),
        TypeError,
        mqttUrl,
      );
    }
  } finally {
    await broker.close();
  }
});

Deno.test("embedded MQTT broker: mosquitto_pub/_sub interoperate; a taken port rejects", {
  ignore: missing("mosquitto"),
}, async () => {
  const aedes = await startEmbeddedMqttBroker({ port: 0 });
  try {
    const common = ["-h", "127.0.0.1", "-p", String(aedes.port), "-q", "1"];
    // A retained message makes the exchange independent of who connects first.
    equal(
      (await mosquittoClient("mosquitto_pub", [...common, "-r", "-t", "a/b", "-m", "hi"])).code,
      0,
    );
    const sub = await mosquittoClient("mosquitto_sub", [
      ...common,
      "-t",
      "a/#",
      "-v",
      "-C",
      "1",
      "-W",
      "10",
    ]);
    equal(sub.code, 0);
    equal(sub.stdout.trim(), "a/b hi");
    await rejects(startEmbeddedMqttBroker({ host: "127.0.0.1", port: aedes.port }));
  } finally {
    await aedes.close();
  }
});
