// A simulated MQTT node speaking pyaiot's node topics (shared/spec 4 and 6.2) through any MQTT
// broker, the way the Pycom node does it and the MQTT test node meant to: it answers
// gateway/check, both discover requests and <r>/set (publishing the new value back), and pushes
// its sensors periodically.
import { Buffer } from "node:buffer";
import mqtt, { type MqttClient } from "mqtt";
import { createLogger } from "../common/log.ts";
import { encodeCbor } from "../core-wasm/mod.ts";
import {
  ALL_RESOURCES,
  type ResourceName,
  SENSOR_RESOURCES,
  Sensors,
  type SimNode,
  type SimNodeOptions,
} from "./sim.ts";

const log = createLogger("mqtt-node");

export interface MqttNodeOptions extends SimNodeOptions {
  /** Full MQTT broker URL; default `mqtt://<gatewayHost ?? 127.0.0.1>:<gatewayPort ?? 1883>`. */
  mqttUrl?: string;
  /** Period of the unsolicited `node/check` (pyaiot: 30 s). */
  checkIntervalMs?: number;
  /** Resources this node offers; default all of sim.ts's. */
  resources?: ResourceName[];
}

const QOS = { qos: 1 } as const;

export class MqttNode implements SimNode {
  readonly id: string;
  readonly writes: { endpoint: string; payload: string }[] = [];
  readonly sensors: Sensors;
  #opts: MqttNodeOptions;
  #url: string;
  #resources: ResourceName[];
  #client: MqttClient | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(opts: MqttNodeOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.sensors = opts.sensors ?? new Sensors(opts.id);
    this.#resources = opts.resources ?? ALL_RESOURCES;
    this.#url = opts.mqttUrl ??
      `mqtt://${opts.gatewayHost ?? "127.0.0.1"}:${opts.gatewayPort ?? 1883}`;
  }

  /** Resolves once connected and subscribed; mqtt.js reconnects and resubscribes by itself. */
  async start(): Promise<void> {
    const client = mqtt.connect(this.#url, {
      clientId: `node-${this.id}`.slice(0, 64),
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
    });
    this.#client = client;
    client.on("error", (err) => log.debug("MQTT client error", { id: this.id, err }));
    client.on("message", (topic, payload) => this.#onMessage(topic, payload.toString()));
    // Every (re)connect: say hello, so a gateway that lost us finds us at once.
    client.on("connect", () => this.#publish("node/check", { id: this.id }));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        client.off("connect", onConnect);
        reject(err);
      };
      const onConnect = () => {
        client.off("error", onError);
        resolve();
      };
      client.once("connect", onConnect);
      client.once("error", onError);
    }).catch(async (err) => {
      await client.endAsync(true);
      throw err;
    });
    await client.subscribeAsync(
      ["gateway/check", `gateway/${this.id}/discover`, `gateway/${this.id}/+/set`],
      QOS,
    );
    this.#publish("node/check", { id: this.id });
    this.#timers.push(
      setInterval(
        () => this.#publish("node/check", { id: this.id }),
        this.#opts.checkIntervalMs ?? 30_000,
      ),
      setInterval(() => {
        this.sensors.step();
        for (const r of SENSOR_RESOURCES) {
          if (this.#resources.includes(r)) this.#publishValue(r);
        }
      }, this.#opts.intervalMs ?? 5000),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const client = this.#client;
    this.#client = null;
    if (client) await client.endAsync(true);
  }

  #onMessage(topic: string, payload: string): void {
    if (topic === "gateway/check") {
      this.#publish("node/check", { id: this.id });
      return;
    }
    const levels = topic.split("/");
    if (levels.length === 3 && levels[2] === "discover") {
      if (payload === "resources") {
        this.#publish(`node/${this.id}/resources`, this.#resources);
      } else if (payload === "values") {
        for (const r of this.#resources) this.#publishValue(r);
      }
      return;
    }
    if (levels.length === 4 && levels[3] === "set") {
      const endpoint = levels[2];
      this.writes.push({ endpoint, payload });
      if (!this.#resources.includes(endpoint as ResourceName)) return;
      const accepted = this.sensors.set(endpoint as ResourceName, payload);
      log.debug("write", { id: this.id, endpoint, payload, accepted });
      // The new value (or, when refused, the unchanged one) goes back: the dashboard shows truth.
      this.#publishValue(endpoint as ResourceName);
    }
  }

  #publishValue(r: ResourceName): void {
    const isSensor = (SENSOR_RESOURCES as string[]).includes(r);
    // CBOR payloads carry numbers for sensors (the point of a binary encoding); JSON keeps
    // RIOT's unit strings, as pyaiot's dashboard expects.
    const value = this.#opts.cbor && isSensor
      ? this.sensors.numeric(r as "temperature" | "pressure" | "humidity")
      : this.sensors.get(r);
    this.#publish(`node/${this.id}/${r}`, { value });
  }

  #publish(topic: string, body: unknown): void {
    const client = this.#client;
    if (!client?.connected) return;
    const payload = this.#opts.cbor ? Buffer.from(encodeCbor(body)) : JSON.stringify(body);
    client.publish(topic, payload, QOS, (err) => {
      if (err) log.debug("publish failed", { id: this.id, topic, err });
    });
  }
}
