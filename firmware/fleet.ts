// Starting many simulated nodes in one process: the node class per protocol (loaded on demand so
// a CoAP fleet never pulls in the MQTT client), ids derived from one base id, and bounded
// parallel start-up so a 10k fleet neither floods the gateway nor stalls the event loop.
import type { SimNode, SimNodeOptions } from "./sim.ts";

export type NodeProtocol = "coap" | "mqtt" | "mqttsn" | "ws";
export const NODE_PROTOCOLS: readonly NodeProtocol[] = ["coap", "mqtt", "mqttsn", "ws"];

/** Protocol extras the CLI and start script know about; each class reads the ones it needs. */
export interface NodeExtras {
  /** MqttNode: the MQTT broker its gateway listens to, `mqtt://host:port`. */
  mqttUrl?: string;
  /** MqttSnNode: awake for `awakeMs`, then asleep for `sleepS` (DISCONNECT with a duration). */
  dutyCycle?: { awakeMs: number; sleepS: number };
}

export type NodeOptions = SimNodeOptions & NodeExtras;
export type NodeClass = new (opts: NodeOptions) => SimNode;

/** The node-facing port each gateway listens on by default (pyaiot's and MQTT-SN's). */
export const DEFAULT_GATEWAY_PORT: Record<NodeProtocol, number> = {
  coap: 5683,
  mqtt: 1883,
  mqttsn: 1885,
  ws: 8001,
};

/** Imports the node class of one protocol; only that module (and its dependencies) is loaded. */
export async function loadNodeClass(protocol: NodeProtocol): Promise<NodeClass> {
  switch (protocol) {
    case "coap":
      return (await import("./coap_node.ts")).CoapNode as unknown as NodeClass;
    case "mqtt":
      return (await import("./mqtt_node.ts")).MqttNode as unknown as NodeClass;
    case "mqttsn":
      return (await import("./mqttsn_node.ts")).MqttSnNode as unknown as NodeClass;
    case "ws":
      return (await import("./ws_node.ts")).WsNode as unknown as NodeClass;
  }
}

/** `base` for a single node, `base-1` .. `base-N` for a fleet: stable, so reruns keep uids. */
export function fleetIds(base: string, count: number): string[] {
  if (count === 1) return [base];
  return Array.from({ length: count }, (_, i) => `${base}-${i + 1}`);
}

export interface FleetOptions {
  protocol: NodeProtocol;
  ids: string[];
  /** Options for node `id` (everything but the id itself may differ per node). */
  options: (id: string, index: number) => NodeOptions;
  /** How many nodes start at once. */
  batch?: number;
  /**
   * Pause between batches (default 0). Nodes announce themselves when they start (CoAP's
   * `reset:` is a single NON datagram): thousands at once overflow a gateway's UDP receive
   * buffer, so big fleets boot in waves, as a real deployment does.
   */
  pauseMs?: number;
  /** A node whose start() takes longer is stopped and counted as failed (default 15 s). */
  startTimeoutMs?: number;
  /** Called after every batch with the running totals. */
  onProgress?: (p: { started: number; failed: number; total: number }) => void;
}

export interface Fleet {
  nodes: SimNode[];
  failures: { id: string; error: unknown }[];
  stop(): Promise<void>;
}

/**
 * Starts the nodes in batches of `batch`; a node that fails to start is recorded and left out,
 * so one bad node does not take the fleet down. `stop()` stops the started ones, also in batches.
 */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const Node = await loadNodeClass(opts.protocol);
  const batch = Math.max(1, opts.batch ?? 100);
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const nodes: SimNode[] = [];
  const failures: { id: string; error: unknown }[] = [];
  for (let i = 0; i < opts.ids.length; i += batch) {
    const slice = opts.ids.slice(i, i + batch);
    const results = await Promise.allSettled(slice.map(async (id, j) => {
      const node = new Node({ ...opts.options(id, i + j), id });
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        // A gateway that never answers must not hang the whole fleet (or a Ctrl-C) forever.
        await Promise.race([
          node.start(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no start within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      } catch (error) {
        // A half-started node may hold a socket: release it before reporting.
        await node.stop().catch(() => {});
        throw error;
      }
      return node;
    }));
    results.forEach((r, j) => {
      if (r.status === "fulfilled") nodes.push(r.value);
      else failures.push({ id: slice[j], error: r.reason });
    });
    opts.onProgress?.({ started: nodes.length, failed: failures.length, total: opts.ids.length });
    if (opts.pauseMs && i + batch < opts.ids.length) {
      await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  }
  return {
    nodes,
    failures,
    async stop() {
      for (let i = 0; i < nodes.length; i += batch) {
        await Promise.allSettled(nodes.slice(i, i + batch).map((n) => n.stop()));
      }
    },
  };
}
