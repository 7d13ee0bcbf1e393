// The MQTT broker under the gateway goes away and comes back (mosquitto killed and restarted on
// the same port; the embedded aedes broker closed and started again): the gateway reconnects,
// resubscribes, keeps its node list, and values and writes flow again.
import { equal, ok } from "node:assert/strict";
import { startMqttGateway } from "../gateway/mqtt/gateway.ts";
import { startEmbeddedMqttBroker } from "../gateway/mqtt/embedded_broker.ts";
import { MqttNode } from "../firmware/mqtt_node.ts";
import { startMosquitto, startTestBroker, waitFor, WebClient } from "./gateway_mqtt_harness.ts";
import { missing } from "./helpers/peers.ts";

interface Restartable {
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

async function scenario(mq: Restartable, label: string): Promise<void> {
  const broker = await startTestBroker();
  const gw = await startMqttGateway({
    brokerUrl: broker.gwUrl,
    keys: broker.keys,
    name: `mqtt-${label}`,
    mqttUrl: mq.url,
    maxTimeS: 60,
    reconnectPeriodMs: 200,
  });
  const client = await WebClient.open(broker.port);
  const node = new MqttNode({ id: `n-${label}`, mqttUrl: mq.url, intervalMs: 200 });
  const uid = node.id;
  try {
    await waitFor("gateway connected", () => gw.mqttConnected);
    await node.start();
    await waitFor("node discovered", () => client.has("update", uid, "name"));
    await waitFor("values flowing", () => client.value(uid, "temperature") !== undefined);

    await mq.stop();
    await waitFor("gateway notices the loss", () => !gw.mqttConnected);
    equal(gw.registry.size, 1, "the node list survives the MQTT broker");
    await mq.restart();
    await waitFor("gateway reconnected", () => gw.mqttConnects >= 2 && gw.mqttConnected);

    // Values after the reconnect prove the gateway resubscribed node/<id>/<r>.
    const mark = client.frames.length;
    await waitFor(
      "values after reconnect",
      () => client.frames.slice(mark).some((f) => f.uid === uid && f.endpoint === "temperature"),
    );
    // A write after the reconnect proves the node side is back too, and the echo returns.
    client.write(uid, "led", "1");
    await waitFor("write at the node", () => node.writes.some((w) => w.payload === "1"));
    await waitFor("led echoed", () => client.value(uid, "led") === "1");
    ok(!client.has("out", uid), "the node was never announced as gone");
    equal(gw.registry.size, 1);
  } finally {
    await node.stop();
    await client.close();
    await gw.close();
    await broker.close();
    await mq.stop();
  }
}

Deno.test("mqtt gateway: survives mosquitto being killed and restarted", {
  ignore: missing("mosquitto"),
}, async () => {
  let mosq = await startMosquitto();
  const port = mosq.port;
  await scenario({
    url: mosq.url,
    stop: () => mosq.stop(),
    restart: async () => {
      mosq = await startMosquitto(port);
    },
  }, "mosq");
});

Deno.test("mqtt gateway: survives the embedded aedes broker closing and coming back", async () => {
  let aedes = await startEmbeddedMqttBroker({ port: 0 });
  const port = aedes.port;
  await scenario({
    url: aedes.url,
    stop: () => aedes.close(),
    restart: async () => {
      aedes = await startEmbeddedMqttBroker({ port });
    },
  }, "aedes");
});
