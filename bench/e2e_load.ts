// Load paths of the end-to-end benchmark: many simulated nodes of one protocol behind one
// socket or client, speaking exactly what the firmware nodes speak (same topics, same framing
// from core-wasm), stripped to one stamped resource and an LED so the generator is not what
// saturates. Each path answers the gateway's discovery and LED writes like a node would.
import mqtt, { type MqttClient } from "mqtt";
import { STAMP_ENDPOINT, type WebClients } from "./e2e_client.ts";

export interface LoadPath {
  /** Row label, e.g. "MQTT QoS 1". */
  readonly label: string;
  /** Nodes set up; values are sent round-robin over them. */
  readonly nodeCount: number;
  /** Brings the nodes up and waits until client 0 sees every node's stamp resource. */
  setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void>;
  /** One stamped value from node `index`. */
  send(index: number, value: string): void;
  /** Loss counted on the node side (send errors, unacknowledged CONs, ...). */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** Waits for every id's `endpoint` at client 0, failing with how many are missing. */
export async function waitForNodes(
  clients: WebClients,
  ids: string[],
  endpoint: string,
  timeoutMs: number,
  nudge?: (missing: string[]) => void,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastNudge = performance.now();
  while (performance.now() < deadline) {
    const missing = ids.filter((id) => !clients.has(id, endpoint));
    if (missing.length === 0) return;
    // Discovery messages can be lost under a start-up burst: ask the missing ones again.
    if (nudge && performance.now() - lastNudge > 2000) {
      nudge(missing);
      lastNudge = performance.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const missing = ids.filter((id) => !clients.has(id, endpoint)).length;
  throw new Error(`${missing} of ${ids.length} nodes not registered in ${timeoutMs} ms`);
}

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
    this.#client = client;
    const pub = (topic: string, value: unknown) =>
      client.publish(topic, JSON.stringify(value), { qos: 1 });
    client.on("message", (topic, payload) => {
      const text = payload.toString();
      if (topic === "gateway/check") {
        for (const id of ids) pub("node/check", { id });
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
    for (const id of ids) pub("node/check", { id });
    await waitForNodes(clients, ids, STAMP_ENDPOINT, timeoutMs, (missing) => {
      for (const id of missing) pub("node/check", { id });
    });
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
