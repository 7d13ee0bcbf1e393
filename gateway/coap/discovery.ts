// Discovery of one node (pyaiot's discover_node, done right): GET /.well-known/core on the
// node's CoAP port, then every resource in order. Only 2.05 values are forwarded, never error
// payloads or exception text. Link attributes become ResourceMeta; resources marked `obs` are
// observed instead of read once, so their values keep flowing without polling.
import {
  CoapCode,
  type CoapMessage,
  getContentFormat,
  type Link,
  MAX_LINK_FORMAT_LENGTH,
  parseLinkFormat,
  uriOptions,
} from "../../core-wasm/mod.ts";
import type { ResourceMeta } from "../../common/wire.ts";
import { createLogger } from "../../common/log.ts";
import { requestBlockwise } from "./blockwise.ts";
import type { Exchanges } from "./exchanges.ts";
import { decodePayload, payloadText } from "./payload.ts";
import { type Peer, peerKey } from "./udp_endpoint.ts";

const log = createLogger("coap-discovery");

export interface DiscoveredResource {
  /** The endpoint name as the broker sees it: the path without its leading '/'. */
  endpoint: string;
  meta: ResourceMeta;
}

/** The resources a /.well-known/core body lists, minus itself and links that leave the node. */
export function resourcesFromLinks(links: Link[]): DiscoveredResource[] {
  const out: DiscoveredResource[] = [];
  const seen = new Set<string>();
  for (const link of links) {
    const href = link.href;
    if (href.includes("://") || href.startsWith("//")) continue; // another host: not ours to read
    const endpoint = href.replace(/^\/+/, "").replace(/\/+$/, "");
    if (endpoint === "" || endpoint.includes("well-known/core") || seen.has(endpoint)) continue;
    if (endpoint.includes("?") || endpoint.includes("#")) continue;
    seen.add(endpoint);
    out.push({ endpoint, meta: metaFromAttrs(link.attrs) });
  }
  return out;
}

export function metaFromAttrs(attrs: Record<string, string | true>): ResourceMeta {
  const meta: ResourceMeta = {};
  const str = (v: string | true | undefined) => typeof v === "string" ? v : undefined;
  const rt = str(attrs.rt), iface = str(attrs.if), title = str(attrs.title);
  if (rt !== undefined) meta.rt = rt;
  if (iface !== undefined) meta.if = iface;
  if (title !== undefined) meta.title = title;
  const ct = str(attrs.ct);
  // ct may list several formats ("0 60"); keep the first as the preferred one.
  const first = ct !== undefined ? Number(ct.trim().split(/\s+/)[0]) : NaN;
  if (Number.isInteger(first) && first >= 0 && first <= 65535) meta.ct = first;
  if (attrs.obs !== undefined) meta.obs = true;
  return meta;
}

export interface DiscoveryContext {
  exchanges: Exchanges;
  /** A value read or observed: the gateway puts it in the registry. */
  onValue: (endpoint: string, value: unknown, meta: ResourceMeta) => void;
  /** Starts observing; resolves once the first notification (the current value) arrived. */
  observe: (resource: DiscoveredResource) => Promise<void>;
  timeoutMs?: number;
}

/** Decodes a 2.05 body and hands it on; anything else is logged and dropped. */
export function forwardValue(
  res: CoapMessage,
  r: DiscoveredResource,
  onValue: DiscoveryContext["onValue"],
): boolean {
  if (res.code !== CoapCode.CONTENT) {
    log.debug("not forwarding error response", { endpoint: r.endpoint, code: res.code });
    return false;
  }
  const decoded = decodePayload(res.payload, getContentFormat(res) ?? r.meta.ct);
  if (!decoded.ok) {
    log.debug("undecodable value", { endpoint: r.endpoint, reason: decoded.reason });
    return false;
  }
  onValue(r.endpoint, decoded.value, r.meta);
  return true;
}

/** A node listing more resources than this gets only the first ones read (hostile nodes). */
export const MAX_RESOURCES_PER_NODE = 64;
/** Bodies above this are refused: a value is a reading, not a download. */
const MAX_VALUE_BYTES = 16 * 1024;

/** Runs discovery; throws when the node's link list cannot be had. Returns what it found. */
export async function discover(peer: Peer, ctx: DiscoveryContext): Promise<DiscoveredResource[]> {
  const res = await requestBlockwise(ctx.exchanges, peer, {
    code: CoapCode.GET,
    options: uriOptions(".well-known/core"),
    timeoutMs: ctx.timeoutMs,
  }, { maxBodyBytes: MAX_LINK_FORMAT_LENGTH });
  if (res.code !== CoapCode.CONTENT) {
    throw new Error(
      `/.well-known/core answered ${res.code >> 5}.${String(res.code & 31).padStart(2, "0")}`,
    );
  }
  const text = payloadText(res.payload);
  if (text === null) throw new Error("/.well-known/core is not UTF-8");
  const resources = resourcesFromLinks(parseLinkFormat(text)).slice(0, MAX_RESOURCES_PER_NODE);
  log.debug("discovered", { peer: peerKey(peer), resources: resources.map((r) => r.endpoint) });
  // One at a time, in the node's order, as pyaiot does: constrained nodes have few buffers.
  for (const r of resources) {
    try {
      if (r.meta.obs) {
        await ctx.observe(r);
        continue;
      }
      const value = await requestBlockwise(ctx.exchanges, peer, {
        code: CoapCode.GET,
        options: uriOptions(r.endpoint),
        timeoutMs: ctx.timeoutMs,
      }, { maxBodyBytes: MAX_VALUE_BYTES });
      forwardValue(value, r, ctx.onValue);
    } catch (err) {
      log.debug("resource read failed", { peer: peerKey(peer), endpoint: r.endpoint, err });
    }
  }
  return resources;
}
