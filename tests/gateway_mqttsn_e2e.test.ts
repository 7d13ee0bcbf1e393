// MQTT-SN gateway end to end: real aiot broker, a web client, MqttSnNodes over UDP. A node
// appears with its values, a client write reaches the node, a sleeping node gets its write on
// wake-up, keep-alive loss publishes the Will without removing the node, and the registry
// timeout removes it.
import { deepEqual, equal, ok } from "node:assert/strict";
import { MqttSnType as T } from "../core-wasm/mod.ts";
import { MqttSnNode } from "../firmware/mqttsn_node.ts";
import { startMqttSnGateway } from "../gateway/mqttsn/gateway.ts";
import { startTestBroker, waitFor, WebClient } from "./gateway_mqtt_harness.ts";
import { RawMqttSnClient } from "./helpers/mqttsn_client.ts";

const te = new TextEncoder();

Deno.test({
  name: "mqtt-sn gateway: node appears with values, writes reach it, sleep, timeout removes it",
  async fn() {
    const broker = await startTestBroker();
    const gw = await startMqttSnGateway({
      brokerUrl: broker.gwUrl,
      keys: broker.keys,
      name: "mqttsn-test",
      port: 0,
      maxTimeS: 3,
      checkIntervalMs: 60_000, // the nodes' own check-ins keep them alive here
      server: { tickMs: 50, retryMs: 500 },
    });
    const client = await WebClient.open(broker.port);
    const node = new MqttSnNode({
      id: "sn-node-1",
      gatewayPort: gw.port,
      intervalMs: 200,
      checkIntervalMs: 500,
      retryMs: 500,
    });
    const cborNode = new MqttSnNode({
      id: "sn-cbor",
      gatewayPort: gw.port,
      cbor: true,
      intervalMs: 200,
      checkIntervalMs: 500,
      retryMs: 500,
    });
    const raw = new RawMqttSnClient(gw.port);
    try {
      await waitFor("gateway linked", () => gw.link.connected);
      await node.start();
      const uid = "sn-node-1";
      await waitFor("node announced", () => client.has("new", uid));
      await waitFor("protocol MQTT-SN", () => client.has("update", uid, "protocol", "MQTT-SN"));
      await waitFor("discovered name", () => client.has("update", uid, "name", "Weather Sensor"));
      await waitFor("a temperature", () => /°C$/.test(String(client.value(uid, "temperature"))));
      await waitFor("led value", () => client.has("update", uid, "led", "0"));
      const mine = client.frames.filter((f) => f.uid === uid);
      deepEqual(mine.slice(0, 3).map((f) => `${f.type} ${f.endpoint ?? ""}`), [
        "new ",
        "update id",
        "update protocol",
      ]);
      // The wildcard subscription gateway/<id>/+/set: the gateway REGISTERs the concrete topic.
      client.write(uid, "led", "1");
      await waitFor("write at the node", () => node.writes.some((w) => w.endpoint === "led"));
      deepEqual(node.writes[0], { endpoint: "led", payload: "1" });
      await waitFor("led echoed", () => client.value(uid, "led") === "1");

      // --cbor: values are CBOR maps, transcoded by core-wasm; sensors arrive as numbers.
      await cborNode.start();
      await waitFor("cbor node", () => client.has("update", "sn-cbor", "name", "Weather Sensor"));
      await waitFor("numeric temperature", () => {
        const t = client.value("sn-cbor", "temperature");
        return typeof t === "number" && t > -20 && t < 50;
      });
      await cborNode.stop();

      // Sleep: a write while asleep is buffered and arrives at the next PINGREQ.
      await node.sleep(30);
      equal(gw.server.sessions.client(uid)?.state, "asleep");
      client.write(uid, "text", "for the sleeper");
      await new Promise((r) => setTimeout(r, 300));
      equal(node.writes.length, 1);
      await node.wake();
      deepEqual(node.writes[1], { endpoint: "text", payload: "for the sleeper" });
      await node.resume();
      await waitFor("text echoed", () => client.value(uid, "text") === "for the sleeper");

      // A raw node with a Will and a 1 s keep-alive goes silent: the Will is published into the
      // local topic space (here its own value topic); the node stays until the registry timeout.
      await raw.send({
        type: T.CONNECT,
        will: true,
        cleanSession: true,
        duration: 1,
        clientId: "r",
      });
      await raw.expect(T.WILLTOPICREQ);
      await raw.send({ type: T.WILLTOPIC, qos: 1, willTopic: "node/raw-1/status" });
      await raw.expect(T.WILLMSGREQ);
      await raw.send({ type: T.WILLMSG, willMsg: te.encode('{"value":"offline"}') });
      await raw.expect(T.CONNACK);
      await raw.send({ type: T.REGISTER, topicId: 0, msgId: 1, topicName: "node/check" });
      const reg = await raw.expect(T.REGACK);
      await raw.send({
        type: T.PUBLISH,
        qos: 1,
        topicId: reg.topicId,
        msgId: 2,
        data: te.encode('{"id":"raw-1"}'),
      });
      await raw.expect(T.PUBACK);
      await waitFor("raw node announced", () => client.has("new", "raw-1"));
      await waitFor("will published", () => client.value("raw-1", "status") === "offline", 5000);
      ok(gw.registry.get("raw-1"), "session loss does not remove the node");

      // Timeout: the registry drops silent nodes (maxTimeS 3).
      await node.stop();
      await waitFor("node out", () => client.has("out", uid), 10_000);
      await waitFor("raw node out", () => client.has("out", "raw-1"), 10_000);
      await waitFor("cbor node out", () => client.has("out", "sn-cbor"), 10_000);
      equal(gw.registry.size, 0);
    } finally {
      await node.stop();
      await cborNode.stop();
      await raw.close();
      await client.close();
      await gw.close();
      await broker.close();
    }
  },
});
