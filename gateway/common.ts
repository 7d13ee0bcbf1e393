// What every protocol gateway starts with: a node registry swept every second and a link to the
// broker. The protocol part only turns its traffic into registry calls and writes into packets.
import type { Keys } from "../common/keys.ts";
import { BrokerLink, type WriteHandler } from "./broker_link.ts";
import { NodeRegistry } from "./registry.ts";

export interface GatewayBaseOptions {
  /** `ws(s)://host:port/gw` */
  brokerUrl: string;
  keys: Keys;
  /** Shown by the broker in logs, metrics and its REST API. */
  name?: string;
  /** Seconds of silence after which a node is dropped (pyaiot's --max-time, 120). */
  maxTimeS?: number;
  /** Most nodes one gateway holds; a new node past it is refused (the `--max-nodes` flag). */
  maxNodes?: number;
  /** Offer the binary CBOR link to the broker. */
  binary?: boolean;
  /** PEM text of a CA to trust for a `wss://` broker (the `--broker-ca FILE` flag). */
  brokerCa?: string;
  /** Link tuning, mostly for tests. */
  aliveMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  maxBufferedBytes?: number;
}

/** One bound for every protocol: 50,000 nodes per gateway process is the measured goal. */
export const DEFAULT_MAX_NODES = 100_000;

export interface GatewayCore {
  name: string;
  /** `maxNodes` with its default: the one bound every protocol enforces. */
  maxNodes: number;
  registry: NodeRegistry;
  link: BrokerLink;
  close(): Promise<void>;
}

export interface RunningGateway {
  name: string;
  /** The node-facing port (UDP for CoAP/MQTT-SN, TCP for ws; 0 for MQTT). */
  port: number;
  registry: NodeRegistry;
  link: BrokerLink;
  close(): Promise<void>;
}

export function startGatewayCore(
  base: GatewayBaseOptions,
  defaultName: string,
  onWrite: WriteHandler,
): GatewayCore {
  const name = base.name ?? `${defaultName}-${Deno.hostname()}`;
  const registry = new NodeRegistry({ timeoutMs: (base.maxTimeS ?? 120) * 1000 });
  const link = new BrokerLink({
    url: base.brokerUrl,
    keys: base.keys,
    name,
    registry,
    onWrite,
    binary: base.binary,
    ca: base.brokerCa,
    aliveMs: base.aliveMs,
    minBackoffMs: base.minBackoffMs,
    maxBackoffMs: base.maxBackoffMs,
    maxBufferedBytes: base.maxBufferedBytes,
  });
  const sweeper = setInterval(() => registry.sweep(), 1000);
  link.start();
  return {
    name,
    maxNodes: base.maxNodes ?? DEFAULT_MAX_NODES,
    registry,
    link,
    async close() {
      clearInterval(sweeper);
      await link.close();
    },
  };
}
