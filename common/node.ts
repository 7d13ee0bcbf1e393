// The one node model every gateway fills in, whatever the protocol.
import type { ResourceMeta } from "./wire.ts";

/** The `protocol` pseudo-resource value, as pyaiot's page shows it. */
export type Protocol = "CoAP" | "MQTT" | "MQTT-SN" | "WebSocket";

export interface ResourceState {
  /** What goes into the wire frame's `data`: a string as nodes send it, or JSON from CBOR. */
  value: unknown;
  meta?: ResourceMeta;
  updatedAt: number;
}

export interface NodeRecord {
  uid: string;
  protocol: Protocol;
  /** Protocol-specific address, e.g. "127.0.0.1:5683" or an MQTT client id. For logs. */
  address: string;
  /** Insertion-ordered: pseudo-resources (ip/id, protocol) first, then discovered ones. */
  resources: Map<string, ResourceState>;
  firstSeen: number;
  lastSeen: number;
}
