// What the broker learns about a node by watching the frames its gateway relays: the last value
// per endpoint, for the REST API. Gateways stay the source of truth (pyaiot's design); this is a
// read-only mirror that is dropped with the gateway.
import type { ResourceMeta } from "../common/wire.ts";

/** Bounds on what one gateway can make the broker remember. */
export const MAX_RESOURCES_PER_NODE = 256;
export const MAX_ID_LENGTH = 256;

export interface ResourceView {
  value: unknown;
  updatedAt: number;
  meta?: ResourceMeta;
}

export interface NodeView {
  uid: string;
  gw: string;
  firstSeen: number;
  lastSeen: number;
  resources: Map<string, ResourceView>;
}

/** Pseudo-resources a gateway keeps across a node reset (spec 2.6, 3): identity, not data. */
const PSEUDO = new Set(["ip", "id", "protocol"]);

export function newNode(uid: string, gw: string, now: number): NodeView {
  return { uid, gw, firstSeen: now, lastSeen: now, resources: new Map() };
}

/** Records a value; false when the node is at its resource bound and the endpoint is new. */
export function learnValue(
  node: NodeView,
  endpoint: string,
  value: unknown,
  meta: ResourceMeta | undefined,
  now: number,
): boolean {
  node.lastSeen = now;
  const known = node.resources.get(endpoint);
  if (!known && node.resources.size >= MAX_RESOURCES_PER_NODE) return false;
  node.resources.set(endpoint, { value, updatedAt: now, meta: meta ?? known?.meta });
  return true;
}

export function resetNode(node: NodeView, now: number): void {
  node.lastSeen = now;
  for (const endpoint of node.resources.keys()) {
    if (!PSEUDO.has(endpoint)) node.resources.delete(endpoint);
  }
}

/** The `protocol` pseudo-resource, as gateways report it ("CoAP", "MQTT", ...). */
export function nodeProtocol(node: NodeView): string | null {
  const v = node.resources.get("protocol")?.value;
  return typeof v === "string" ? v : null;
}

/** JSON shape of `GET /api/nodes` items. */
export function nodeSummary(node: NodeView): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const [endpoint, r] of node.resources) resources[endpoint] = r.value;
  return {
    uid: node.uid,
    gw: node.gw,
    protocol: nodeProtocol(node),
    lastSeen: new Date(node.lastSeen).toISOString(),
    resources,
  };
}

/** JSON shape of `GET /api/nodes/:uid`. */
export function nodeDetail(node: NodeView): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const [endpoint, r] of node.resources) {
    resources[endpoint] = {
      value: r.value,
      updatedAt: new Date(r.updatedAt).toISOString(),
      ...(r.meta ? { meta: r.meta } : {}),
    };
  }
  return {
    uid: node.uid,
    gw: node.gw,
    protocol: nodeProtocol(node),
    firstSeen: new Date(node.firstSeen).toISOString(),
    lastSeen: new Date(node.lastSeen).toISOString(),
    resources,
  };
}
