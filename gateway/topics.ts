// pyaiot's MQTT node protocol (shared/spec section 4) over any pub/sub transport, as it was
// meant to work. The MQTT gateway drives it with an MQTT client, the MQTT-SN gateway with its own
// topic table; both see the same node model on the dashboard.
//
// Topics (node id `<id>` is the node's own id and is used as the registry uid):
//   node -> gw  node/check            {"id":"<id>"}          sign of life, every 30 s
//   gw -> node  gateway/check         (empty)                 asks every node to check in
//   gw -> node  gateway/<id>/discover resources | values
//   node -> gw  node/<id>/resources   ["name","os","led",...]
//   node -> gw  node/<id>/<r>         {"value": <v>}
//   gw -> node  gateway/<id>/<r>/set  raw client payload      the node publishes the new value back
//
// Payloads from nodes: UTF-8 JSON as pyaiot; or CBOR (a map/array first byte) turned into JSON
// by the core-wasm transcoder; a value may also be plain UTF-8 text (`23.4°C`), the way CoAP
// nodes send it. Anything else is counted and ignored, never thrown.
import { createLogger } from "../common/log.ts";
import type { Protocol } from "../common/node.ts";
import { cborToJson } from "../core-wasm/mod.ts";
import type { NodeRegistry, RegistryEvent } from "./registry.ts";

const log = createLogger("topics");

/** What PyaiotTopics needs from a pub/sub client (MQTT client, MQTT-SN gateway, ...). */
export interface TopicTransport {
  publish(topic: string, payload: string): void;
  subscribe(filter: string): void;
  unsubscribe(filter: string): void;
}

export interface PyaiotTopicsOptions {
  registry: NodeRegistry;
  transport: TopicTransport;
  protocol: Protocol;
  /** Refuse new node ids beyond this many known nodes (a flood of ids must not eat memory). */
  maxNodes?: number;
  /** Payloads larger than this are refused. */
  maxPayloadBytes?: number;
  /** At most this many resources per node (besides `id` and `protocol`). Default 64. */
  maxResources?: number;
}

export interface TopicStats {
  messages: number;
  /** Unparsable or wrongly shaped payloads. */
  malformed: number;
  /** Topics outside the protocol. */
  unknownTopic: number;
  /** Resources or values for a node id that never checked in. */
  unknownNode: number;
  /** Node ids or payloads refused by a bound (maxNodes, maxPayloadBytes, maxResources). */
  refused: number;
}

/** Node ids and resource names become topic levels: no separators or wildcards, bounded. */
// deno-lint-ignore no-control-regex -- control characters are exactly what must be refused
const NAME_RE = /^[^/+#\s\u0000-\u001f]{1,64}$/;
const NAME_MAX_CHARS = 64;
/** Pseudo-resources the gateway sets (pyaiot's `id`, `protocol`). */
const PSEUDO = new Set(["id", "protocol"]);

export function isValidTopicName(name: unknown): name is string {
  return typeof name === "string" && name.length <= NAME_MAX_CHARS && NAME_RE.test(name);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

type Decoded = { ok: true; value: unknown; text: boolean } | { ok: false; why: string };

/**
 * Turns a node payload into a JS value. JSON first when it looks like JSON, CBOR when the first
 * byte is a CBOR map or array head, otherwise plain UTF-8 text (`text: true`).
 */
export function decodeNodePayload(bytes: Uint8Array): Decoded {
  if (bytes.length === 0) return { ok: false, why: "empty" };
  const first = bytes[0];
  // 0x80-0xbf: CBOR array or map heads (0x9f/0xbf indefinite); never the start of UTF-8 text.
  if (first >= 0x80 && first <= 0xbf) {
    try {
      return { ok: true, value: JSON.parse(cborToJson(bytes)), text: false };
    } catch (err) {
      return { ok: false, why: `bad cbor: ${(err as Error).message}` };
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, why: "not utf-8" };
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return { ok: true, value: JSON.parse(text), text: false };
    } catch {
      return { ok: false, why: "bad json" };
    }
  }
  return { ok: true, value: text, text: true };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export class PyaiotTopics {
  readonly stats: TopicStats = {
    messages: 0,
    malformed: 0,
    unknownTopic: 0,
    unknownNode: 0,
    refused: 0,
  };
  #registry: NodeRegistry;
  #transport: TopicTransport;
  #protocol: Protocol;
  #maxNodes: number;
  #maxPayload: number;
  #maxResources: number;
  /** Per node id, the topic filters subscribed for it (unsubscribed when the node goes). */
  #subs = new Map<string, Set<string>>();
  #off: () => void;

  constructor(opts: PyaiotTopicsOptions) {
    this.#registry = opts.registry;
    this.#transport = opts.transport;
    this.#protocol = opts.protocol;
    this.#maxNodes = opts.maxNodes ?? 10_000;
    this.#maxPayload = opts.maxPayloadBytes ?? 8192;
    this.#maxResources = opts.maxResources ?? 64;
    this.#off = this.#registry.on((e) => this.#onRegistry(e));
  }

  /** Every filter the transport should hold now: `node/check` plus each node's topics. */
  subscriptions(): string[] {
    const all = ["node/check"];
    for (const set of this.#subs.values()) all.push(...set);
    return all;
  }

  /** Publishes `gateway/check`; the gateway calls it at start and every 30 s. */
  checkNodes(): void {
    this.#transport.publish("gateway/check", "");
  }

  /** A client write: `gateway/<id>/<endpoint>/set` with the raw payload. */
  write(uid: string, endpoint: string, payload: string): boolean {
    const node = this.#registry.get(uid);
    if (!node || !isValidTopicName(endpoint)) {
      this.stats.refused++;
      return false;
    }
    this.#transport.publish(`gateway/${uid}/${endpoint}/set`, payload);
    return true;
  }

  /** Stops following the registry (the gateway is closing). */
  dispose(): void {
    this.#off();
  }

  onMessage(topic: string, payload: Uint8Array): void {
    this.stats.messages++;
    try {
      this.#dispatch(topic, payload);
    } catch (err) {
      // Nothing a node sends may break the gateway; count it like any malformed message.
      this.stats.malformed++;
      log.warn("error handling node message", { topic, err });
    }
  }

  #dispatch(topic: string, payload: Uint8Array): void {
    if (payload.length > this.#maxPayload) {
      this.stats.refused++;
      log.debug("payload too large", { topic, bytes: payload.length });
      return;
    }
    const levels = topic.split("/");
    if (levels[0] !== "node") {
      this.stats.unknownTopic++;
      return;
    }
    if (levels.length === 2 && levels[1] === "check") return this.#onCheck(payload);
    if (levels.length !== 3 || !isValidTopicName(levels[1]) || !isValidTopicName(levels[2])) {
      this.stats.unknownTopic++;
      return;
    }
    const id = levels[1];
    if (!this.#registry.get(id)) {
      // Only node/check creates nodes; the gateway's gateway/check makes a node say it.
      this.stats.unknownNode++;
      return;
    }
    if (levels[2] === "resources") return this.#onResources(id, payload);
    if (PSEUDO.has(levels[2])) {
      this.stats.refused++; // the gateway's own pseudo-resources are not the node's to change
      return;
    }
    this.#onValue(id, levels[2], payload);
  }

  #onCheck(payload: Uint8Array): void {
    const decoded = decodeNodePayload(payload);
    const id = decoded.ok && isPlainObject(decoded.value) ? decoded.value.id : undefined;
    if (!isValidTopicName(id)) {
      this.stats.malformed++;
      log.debug("bad node/check", { why: decoded.ok ? "no valid id" : decoded.why });
      return;
    }
    const known = this.#registry.get(id);
    if (!known && this.#registry.size >= this.#maxNodes) {
      this.stats.refused++;
      return;
    }
    const { node, created } = this.#registry.seen(id, id, { id, protocol: this.#protocol });
    if (created) {
      log.info("node joined", { id, protocol: this.#protocol });
      this.#subscribe(id, `node/${id}/resources`);
      this.#transport.publish(`gateway/${id}/discover`, "resources");
    } else if (node.resources.size <= 2) {
      // Known but nothing discovered yet (the first discover was lost, or the node was not yet
      // subscribed): ask again on each check-in instead of leaving the node empty for good.
      this.#transport.publish(`gateway/${id}/discover`, "resources");
    }
  }

  #onResources(id: string, payload: Uint8Array): void {
    const decoded = decodeNodePayload(payload);
    if (!decoded.ok || !Array.isArray(decoded.value)) {
      this.stats.malformed++;
      log.debug("bad resources list", { id, why: decoded.ok ? "not an array" : decoded.why });
      return;
    }
    const names = decoded.value.filter((n) =>
      isValidTopicName(n) && n !== "resources" && !PSEUDO.has(n)
    );
    if (names.length !== decoded.value.length) this.stats.malformed++;
    // The node's own filters: node/<id>/resources plus one per resource.
    const filters = this.#subs.get(id);
    for (const name of names as string[]) {
      const filter = `node/${id}/${name}`;
      if (filters?.has(filter)) continue;
      if ((filters?.size ?? 1) - 1 >= this.#maxResources) {
        this.stats.refused++;
        break;
      }
      this.#subscribe(id, filter);
    }
    this.#registry.seen(id, id);
    this.#transport.publish(`gateway/${id}/discover`, "values");
  }

  #onValue(id: string, resource: string, payload: Uint8Array): void {
    const decoded = decodeNodePayload(payload);
    if (!decoded.ok) {
      this.stats.malformed++;
      log.debug("bad value", { id, resource, why: decoded.why });
      return;
    }
    let value: unknown;
    if (decoded.text) {
      value = decoded.value; // plain text value, as CoAP nodes send it
    } else if (isPlainObject(decoded.value) && "value" in decoded.value) {
      value = decoded.value.value;
    } else {
      this.stats.malformed++;
      log.debug("value payload without a value", { id, resource });
      return;
    }
    if (value === undefined) {
      this.stats.malformed++;
      return;
    }
    // MQTT-SN nodes may publish resources they never listed (the gateway sees every publish):
    // bound how many distinct resources one node can make the registry hold.
    const node = this.#registry.get(id)!;
    if (!node.resources.has(resource) && node.resources.size >= this.#maxResources + 2) {
      this.stats.refused++;
      return;
    }
    this.#registry.setValue(id, resource, value);
  }

  #subscribe(id: string, filter: string): void {
    let set = this.#subs.get(id);
    if (!set) this.#subs.set(id, set = new Set());
    set.add(filter);
    this.#transport.subscribe(filter);
  }

  #onRegistry(e: RegistryEvent): void {
    if (e.kind !== "out") return;
    const set = this.#subs.get(e.node.uid);
    if (!set) return;
    this.#subs.delete(e.node.uid);
    log.info("node left", { id: e.node.uid, reason: e.reason });
    for (const filter of set) this.#transport.unsubscribe(filter);
  }
}
