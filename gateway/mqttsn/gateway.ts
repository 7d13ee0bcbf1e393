// The MQTT-SN gateway: an aggregating gateway that speaks MQTT-SN v1.2 natively (no rsmb, no
// MQTT broker in between). Its topic space is local; pyaiot's MQTT node topics (node/check,
// node/<id>/resources, node/<id>/<r>, gateway/...) map it onto the shared node model, so an
// MQTT-SN node looks the same as an MQTT node on the dashboard.
import { createLogger } from "../../common/log.ts";
import { type GatewayBaseOptions, type RunningGateway, startGatewayCore } from "../common.ts";
import { PyaiotTopics } from "../topics.ts";
import { PredefinedTopics, readPredefinedFile } from "./predefined.ts";
import { type MqttSnServer, type MqttSnServerOptions, startMqttSnServer } from "./server.ts";

const log = createLogger("mqttsn-gw");
const te = new TextEncoder();

export interface MqttSnGatewayOptions extends GatewayBaseOptions {
  host?: string;
  /** UDP port for nodes (default 1885, pyaiot's rsmb port); 0 picks a free one. */
  port?: number;
  /** Pre-defined topic ids `{"topic": id}`; merged over `predefinedFile`. */
  predefined?: Record<string, number>;
  /** JSON file `{"topic": id}` (the `--predefined FILE` flag). */
  predefinedFile?: string;
  /** How often `gateway/check` asks nodes to check in (pyaiot: 30 s). */
  checkIntervalMs?: number;
  /** Protocol tuning passed to the MQTT-SN endpoint (timers, bounds, rate limit, ADVERTISE). */
  server?: Omit<MqttSnServerOptions, "host" | "port" | "predefined" | "onPublish">;
}

export interface RunningMqttSnGateway extends RunningGateway {
  server: MqttSnServer;
  topics: PyaiotTopics;
}

export async function startMqttSnGateway(
  opts: MqttSnGatewayOptions,
): Promise<RunningMqttSnGateway> {
  const fromFile = opts.predefinedFile ? await readPredefinedFile(opts.predefinedFile) : {};
  const predefined = new PredefinedTopics({ ...fromFile, ...opts.predefined });

  // Writes come from the broker link; they are published locally as gateway/<id>/<r>/set.
  // The topic handler needs the server and the server needs the handler: tied through `ref`.
  const ref: { topics?: PyaiotTopics } = {};
  const core = startGatewayCore(opts, "mqttsn", (node, endpoint, payload) => {
    ref.topics?.write(node.uid, endpoint, payload);
  });
  let server: MqttSnServer;
  try {
    server = startMqttSnServer({
      // One session per node: the session bound follows the node bound unless tuned apart.
      maxClients: core.maxNodes,
      ...opts.server,
      host: opts.host,
      port: opts.port ?? 1885,
      predefined,
      onPublish: (topic, payload) => ref.topics?.onMessage(topic, payload),
      advertiseWhile: opts.server?.advertiseWhile ?? (() => core.link.connected),
    });
  } catch (err) {
    await core.close();
    throw err;
  }
  const topics = ref.topics = new PyaiotTopics({
    registry: core.registry,
    protocol: "MQTT-SN",
    maxNodes: core.maxNodes,
    // The gateway sees every publish in its own topic space: nothing to subscribe to.
    transport: {
      publish: (topic, payload) => server.publish(topic, te.encode(payload), 1),
      subscribe: () => {},
      unsubscribe: () => {},
    },
  });
  topics.checkNodes();
  const checker = setInterval(() => topics.checkNodes(), opts.checkIntervalMs ?? 30_000);
  log.info("MQTT-SN gateway started", { name: core.name, port: server.port });

  return {
    name: core.name,
    port: server.port,
    registry: core.registry,
    link: core.link,
    server,
    topics,
    async close() {
      clearInterval(checker);
      topics.dispose();
      await server.close();
      await core.close();
    },
  };
}
