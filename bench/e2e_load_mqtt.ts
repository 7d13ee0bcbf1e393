// MQTT load path of the end-to-end benchmark (see e2e_load.ts).
import mqtt, { type MqttClient } from "mqtt";
import { STAMP_ENDPOINT, type WebClients } from "./e2e_client.ts";
import { inWaves, type LoadPath, registerWindowed } from "./e2e_load.ts";

/**
 * MQTT nodes as firmware/mqtt_node.ts behaves (pyaiot's topics), many node ids on one MQTT
 * connection: the MQTT broker and gateway see the same traffic as from separate clients.
 */
export class MqttLoad implements LoadPath {
  readonly label: string;
  #client: MqttClient | null = null;
  #ids: string[] = [];
  #errors = 0;

  constructor(readonly url: string, readonly qos: 0 | 1 = 1, label?: string) {
    this.label = label ?? `MQTT QoS ${qos}`;
  }

  get nodeCount(): number {
    return this.#ids.length;
  }

  async setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void> {
    this.#ids = ids;
    const known = new Set(ids);
    const client = await mqtt.connectAsync(this.url, {
      clientId: `bench-load-${crypto.randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    // Nodes send small packets one at a time: Nagle's algorithm against delayed ACKs would add
    // ~40 ms to every lone message (the LED confirmation), so it is off, as on a real device.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.#client = client;
    const pub = (topic: string, value: unknown) =>
      client.publish(topic, JSON.stringify(value), { qos: 1 });
    client.on("message", (topic, payload) => {
      const text = payload.toString();
      if (topic === "gateway/check") {
        void inWaves(ids, (id) => pub("node/check", { id }));
        return;
      }
      const [, id, a, b] = topic.split("/");
      if (!known.has(id)) return;
      if (a === "discover" && text === "resources") {
        pub(`node/${id}/resources`, [STAMP_ENDPOINT, "led"]);
      } else if (a === "discover" && text === "values") {
        pub(`node/${id}/${STAMP_ENDPOINT}`, { value: "init" });
        pub(`node/${id}/led`, { value: "0" });
      } else if (a === "led" && b === "set") {
        // A node confirms a write by publishing the new value (mqtt_node.ts does the same).
        pub(`node/${id}/led`, { value: text });
      }
    });
    await client.subscribeAsync(["gateway/check", "gateway/+/discover", "gateway/+/led/set"], {
      qos: 1,
    });
    await registerWindowed(
      clients,
      ids,
      STAMP_ENDPOINT,
      (id) => pub("node/check", { id }),
      timeoutMs,
    );
  }

  send(index: number, value: string): void {
    this.#client!.publish(
      `node/${this.#ids[index]}/${STAMP_ENDPOINT}`,
      `{"value":"${value}"}`,
      { qos: this.qos },
      (err) => {
        if (err) this.#errors++;
      },
    );
  }

  stats(): Record<string, number> {
    return { "publish error": this.#errors };
  }

  async close(): Promise<void> {
    await this.#client?.endAsync(true);
    this.#client = null;
  }
}
