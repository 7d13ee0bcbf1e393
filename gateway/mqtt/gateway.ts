// The MQTT gateway: an npm:mqtt client on any MQTT 3.1.1/5 broker, speaking pyaiot's node topics
// (gateway/topics.ts) as they were meant to work, and linked to the aiot broker.
//
// Unlike pyaiot's: a unique client id per gateway instance (two gateways with the fixed
// `client-id` kick each other off the MQTT broker), MQTT 3.1.1 (works with every broker; gmqtt's
// v5 default broke rsmb), and it survives the MQTT broker going away: the node list is kept,
// every subscription is renewed and `gateway/check` is published on each (re)connect.
import mqtt, { type MqttClient } from "mqtt";
import { createLogger } from "../../common/log.ts";
import { type GatewayBaseOptions, type RunningGateway, startGatewayCore } from "../common.ts";
import { PyaiotTopics, type TopicTransport } from "../topics.ts";

const log = createLogger("gateway-mqtt");

export interface MqttGatewayOptions extends GatewayBaseOptions {
  /** `mqtt://host:port` (or mqtts://, ws://) of the MQTT broker the nodes use. */
  mqttUrl: string;
  /** How often `gateway/check` asks every node to check in (pyaiot: 30 s). */
  checkIntervalMs?: number;
  /** Delay between reconnect attempts to the MQTT broker. */
  reconnectPeriodMs?: number;
}

export interface RunningMqttGateway extends RunningGateway {
  topics: PyaiotTopics;
  /** The MQTT client id this gateway uses (unique per instance). */
  clientId: string;
  /** True while the MQTT broker connection is up. */
  readonly mqttConnected: boolean;
  /** How many times the MQTT connection was (re)established. */
  readonly mqttConnects: number;
}

const QOS = { qos: 1 } as const;
const MQTT_SCHEMES = ["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"];

/** mqtt.js does not refuse every bad URL up front: refuse them here, before anything starts. */
export function checkMqttUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not an MQTT URL: ${JSON.stringify(url)}`);
  }
  if (!MQTT_SCHEMES.includes(parsed.protocol) || parsed.hostname === "") {
    throw new TypeError(`not an MQTT URL (mqtt://host:port expected): ${JSON.stringify(url)}`);
  }
}

export async function startMqttGateway(opts: MqttGatewayOptions): Promise<RunningMqttGateway> {
  checkMqttUrl(opts.mqttUrl);
  let topics: PyaiotTopics | null = null;
  const core = startGatewayCore(opts, "mqtt", (node, endpoint, payload) => {
    if (!client.connected) {
      // A queued LED toggle delivered minutes later would surprise; say it and drop it.
      log.warn("write dropped: MQTT broker unreachable", { uid: node.uid, endpoint });
      return;
    }
    topics?.write(node.uid, endpoint, payload);
  });
  const clientId = `aiot-${core.name}-${crypto.randomUUID().slice(0, 8)}`.slice(0, 64);
  let client: MqttClient;
  try {
    client = mqtt.connect(opts.mqttUrl, {
      clientId,
      protocolVersion: 4,
      clean: true,
      // Subscriptions are renewed by us on every connect from the topic state, which also knows
      // about nodes that left while the broker was away.
      resubscribe: false,
      reconnectPeriod: opts.reconnectPeriodMs ?? 2000,
      connectTimeout: 10_000,
      keepalive: 30,
      queueQoSZero: false,
    });
  } catch (err) {
    // A URL mqtt.js refuses: stop the broker link that already started, then report.
    await core.close();
    throw err;
  }

  // While disconnected nothing is sent: on reconnect the full subscription list is renewed and
  // gateway/check makes every node check in (and be rediscovered when needed).
  const transport: TopicTransport = {
    publish(topic, payload) {
      if (!client.connected) return;
      client.publish(topic, payload, QOS, (err) => {
        if (err) log.debug("publish failed", { topic, err });
      });
    },
    subscribe(filter) {
      if (!client.connected) return;
      client.subscribe(filter, QOS, (err) => {
        if (err) log.warn("subscribe failed", { filter, err });
      });
    },
    unsubscribe(filter) {
      if (!client.connected) return;
      client.unsubscribe(filter, (err?: Error) => {
        if (err) log.debug("unsubscribe failed", { filter, err });
      });
    },
  };
  const t = new PyaiotTopics({
    registry: core.registry,
    transport,
    protocol: "MQTT",
    maxNodes: core.maxNodes,
  });
  topics = t;

  let connects = 0;
  let outage = false;
  client.on("connect", () => {
    // Commands and their confirmations are lone small packets: with Nagle's algorithm against
    // the peer's delayed ACK each would wait ~40 ms. The stream is new on every reconnect.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    connects++;
    outage = false;
    log.info(connects === 1 ? "connected to MQTT broker" : "reconnected to MQTT broker", {
      url: opts.mqttUrl,
      clientId,
      nodes: core.registry.size,
    });
    client.subscribe(t.subscriptions(), QOS, (err, granted) => {
      if (err) return log.warn("resubscribe failed", { err });
      // 0x80 in a SUBACK: the MQTT broker refused that filter (an ACL, say).
      const refused = (granted ?? []).filter((g) => g.qos === 0x80).map((g) => g.topic);
      if (refused.length > 0) log.warn("MQTT broker refused subscriptions", { refused });
      t.checkNodes();
    });
  });
  client.on("message", (topic, payload) => t.onMessage(topic, payload));
  client.on("offline", () => {
    if (outage) return; // once per outage, not once per retry
    outage = true;
    log.warn("MQTT broker unreachable, retrying", { url: opts.mqttUrl, nodes: core.registry.size });
  });
  // Without an error listener a refused connection would throw; mqtt.js retries by itself.
  client.on("error", (err) => log.debug("MQTT client error", { err }));

  const checker = setInterval(() => t.checkNodes(), opts.checkIntervalMs ?? 30_000);

  let closing: Promise<void> | null = null;
  return {
    name: core.name,
    port: 0,
    registry: core.registry,
    link: core.link,
    topics: t,
    clientId,
    get mqttConnected() {
      return client.connected;
    },
    get mqttConnects() {
      return connects;
    },
    close() {
      closing ??= (async () => {
        clearInterval(checker);
        t.dispose();
        await client.endAsync(true);
        await core.close();
      })();
      return closing;
    },
  };
}
