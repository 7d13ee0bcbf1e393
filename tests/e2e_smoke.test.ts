// A small version of `deno task bench:e2e`: a few hundred stamped updates from simulated nodes
// through real gateway, broker (and MQTT broker) processes to a real web client; none may be lost.
import { equal, ok } from "node:assert/strict";
import { generateKeys } from "../common/keys.ts";
import { WebClients } from "../bench/e2e_client.ts";
import type { LoadPath } from "../bench/e2e_load.ts";
import { CoapLoad } from "../bench/e2e_load_coap.ts";
import { MqttLoad } from "../bench/e2e_load_mqtt.ts";
import { MqttSnLoad } from "../bench/e2e_load_mqttsn.ts";
import { type ServiceProcess, startService } from "../bench/e2e_proc.ts";
import { runLoad } from "../bench/e2e_run.ts";

const UPDATES = 400;
const NODES = 20;

async function smoke(
  name: string,
  startGateway: (brokerUrl: string, keys: ReturnType<typeof generateKeys>) => Promise<{
    gateway: ServiceProcess;
    others: ServiceProcess[];
    path: LoadPath;
  }>,
) {
  const keys = generateKeys();
  const broker = await startService("broker", keys);
  const started: ServiceProcess[] = [broker];
  let clients: WebClients | null = null;
  let path: LoadPath | null = null;
  try {
    const g = await startGateway(`ws://127.0.0.1:${broker.port}/gw`, keys);
    started.push(...g.others, g.gateway);
    path = g.path;
    clients = await WebClients.open(`ws://127.0.0.1:${broker.port}/ws`, 1);
    const ids = Array.from({ length: NODES }, (_, i) => `${name}-${i + 1}`);
    await path.setup(ids, clients, 30_000);
    const row = await runLoad({
      path,
      clients,
      measured: [{ name: "broker", pid: broker.pid }],
      gateway: g.gateway,
      brokerPort: broker.port,
    }, { rate: 500, count: UPDATES, drainMs: 20_000 });
    equal(row.sent, UPDATES);
    equal(row.delivered, UPDATES, `lost ${row.dropped}: ${row.why}`);
    equal(row.dropped, 0);
    ok(row.p50 > 0 && row.p99 >= row.p50, `latencies measured: ${row.p50} ${row.p99}`);
  } finally {
    await path?.close();
    await clients?.close();
    for (const s of started.reverse()) await s.stop();
  }
}

Deno.test("e2e smoke: MQTT nodes -> MQTT broker -> gateway -> broker -> web client, none lost", async () => {
  await smoke("mqtt", async (brokerUrl, keys) => {
    const mq = await startService("mqtt-broker", keys);
    const mqttUrl = `mqtt://127.0.0.1:${mq.port}`;
    const gateway = await startService("mqtt", keys, {
      "broker-url": brokerUrl,
      "mqtt-url": mqttUrl,
    });
    return { gateway, others: [mq], path: new MqttLoad(mqttUrl, 1) };
  });
});

Deno.test("e2e smoke: MQTT-SN QoS 1 nodes -> gateway -> broker -> web client, none lost", async () => {
  await smoke("mqttsn", async (brokerUrl, keys) => {
    const gateway = await startService("mqttsn", keys, { "broker-url": brokerUrl });
    return { gateway, others: [], path: new MqttSnLoad(gateway.port, 1) };
  });
});

Deno.test("e2e smoke: CoAP CON nodes -> gateway -> broker -> web client, none lost", async () => {
  await smoke("coap", async (brokerUrl, keys) => {
    const gateway = await startService("coap", keys, { "broker-url": brokerUrl });
    return { gateway, others: [], path: new CoapLoad(gateway.port, "CON") };
  });
});
