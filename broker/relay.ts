// The broker's routing core (spec 2.5): the gateway and client tables, node ownership, and where
// each frame goes. It sees parsed frames and abstract peers, never sockets; `connection.ts` feeds
// it. Differences from pyaiot, all on the safe side of the same wire format:
// - a client's write goes only to the gateway(s) owning the node, not to every gateway;
// - `reset` needs ownership too; `out` on disconnect is skipped while another gateway owns the uid;
// - clients get a `gw` field on node frames and `{"type":"error",...}` frames for refused requests.
import { createLogger } from "../common/log.ts";
import { asClientWrite, type ResourceMeta } from "../common/wire.ts";
import type { BrokerMetrics } from "./metrics.ts";
import {
  learnValue,
  MAX_ID_LENGTH,
  newNode,
  nodeDetail,
  nodeSummary,
  type NodeView,
  resetNode,
} from "./nodes.ts";

const log = createLogger("broker");

export const MAX_NODES_PER_GATEWAY = 100_000;
/**
 * A client's `new` makes every gateway replay its whole cache: one client may ask that once per
 * this interval, so it cannot turn its own small budget into a flood that gets gateways closed.
 */
export const REPLAY_MIN_INTERVAL_MS = 5000;
/**
 * Above this many unsent bytes a client is too slow: frames to it are dropped and counted. A
 * client's own cache replay must fit (about 500 bytes per node), so 16 MiB serves some 30,000
 * nodes; `--client-buffer-bytes` raises it for bigger sites.
 */
export const DEFAULT_CLIENT_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface RelayOptions {
  /** False with `--write-token`: only clients that presented it may write. */
  writesOpen: boolean;
  clientBufferBytes?: number;
}

/** The part of a websocket the relay uses; tests of the relay may pass anything shaped so. */
export interface Peer {
  send(text: string): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

export interface GatewayEntry {
  name: string;
  peer: Peer;
  binary: boolean;
  remote: string;
  connectedAt: number;
  nodes: Map<string, NodeView>;
  messagesIn: number;
}

export interface ClientEntry {
  id: string;
  peer: Peer;
  remote: string;
  canWrite: boolean;
  /** pyaiot adds a client to the broadcast list only when its `new` arrives. */
  registered: boolean;
}

/** Close codes the broker uses (RFC 6455 7.4.1). */
export const CLOSE = {
  GOING_AWAY: 1001,
  UNSUPPORTED: 1003,
  POLICY: 1008,
  TOO_BIG: 1009,
  REPLACED: 4000,
} as const;

export type Frame = Record<string, unknown> & { type: string };

export class Relay {
  readonly gateways = new Map<string, GatewayEntry>();
  readonly clients = new Map<string, ClientEntry>();
  /** Registered clients only: the broadcast list. */
  readonly #listeners = new Map<string, ClientEntry>();
  /** uid -> gateways that announced it (normally one). */
  readonly #owners = new Map<string, Set<GatewayEntry>>();
  readonly #lastReplay = new WeakMap<ClientEntry, number>();
  #anonymous = 0;
  readonly #maxBuffered: number;

  constructor(readonly metrics: BrokerMetrics, readonly opts: RelayOptions) {
    this.#maxBuffered = opts.clientBufferBytes ?? DEFAULT_CLIENT_BUFFERED_BYTES;
  }

  /** pyaiot's gateways send no name: they become gw-1, gw-2, ... */
  anonymousName(): string {
    let name: string;
    do name = `gw-${++this.#anonymous}`; while (this.gateways.has(name));
    return name;
  }

  // ---- gateways ----

  addGateway(entry: GatewayEntry): void {
    const old = this.gateways.get(entry.name);
    if (old) {
      // A gateway reconnecting before the broker noticed its old socket died: the new one wins.
      log.warn("gateway name reconnected, closing the older connection", { gw: entry.name });
      this.removeGateway(old);
      old.peer.close(CLOSE.REPLACED, "Replaced by a newer connection with the same name");
    }
    this.gateways.set(entry.name, entry);
    this.metrics.connected("gateway");
    log.info("gateway connected", { gw: entry.name, remote: entry.remote, binary: entry.binary });
  }

  /** Forgets a gateway and announces its nodes as gone (spec 2.5, last rule). */
  removeGateway(entry: GatewayEntry): void {
    if (this.gateways.get(entry.name) !== entry) return; // already replaced or removed
    this.gateways.delete(entry.name);
    let gone = 0;
    for (const uid of entry.nodes.keys()) {
      const owners = this.#owners.get(uid);
      owners?.delete(entry);
      if (owners && owners.size > 0) continue; // still served by another gateway
      this.#owners.delete(uid);
      this.#broadcast({ type: "out", uid, gw: entry.name });
      gone++;
    }
    log.info("gateway disconnected", { gw: entry.name, nodes: gone });
  }

  onGatewayFrame(gw: GatewayEntry, msg: Frame): void {
    gw.messagesIn++;
    this.metrics.messageIn("gateway", msg.type);
    const uid = msg.uid;
    if (typeof uid !== "string" || uid === "" || uid.length > MAX_ID_LENGTH) {
      return this.#dropGateway(gw, "bad_uid", msg);
    }
    const now = Date.now();
    switch (msg.type) {
      case "new": {
        if (!gw.nodes.has(uid)) {
          if (gw.nodes.size >= MAX_NODES_PER_GATEWAY) {
            return this.#dropGateway(gw, "too_many_nodes", msg);
          }
          gw.nodes.set(uid, newNode(uid, gw.name, now));
          let owners = this.#owners.get(uid);
          if (!owners) this.#owners.set(uid, owners = new Set());
          owners.add(gw);
          log.debug("node announced", { gw: gw.name, uid });
        }
        return this.#route(gw, msg);
      }
      case "update": {
        const node = gw.nodes.get(uid);
        if (!node) {
          // pyaiot's rule; this is also where the gateway keep-alive `{"uid":"alive"}` ends.
          if (uid !== "alive") this.#dropGateway(gw, "not_owned", msg);
          return;
        }
        const endpoint = msg.endpoint;
        if (typeof endpoint !== "string" || endpoint.length > MAX_ID_LENGTH) {
          return this.#dropGateway(gw, "bad_endpoint", msg);
        }
        if (msg.data === undefined) return this.#dropGateway(gw, "missing_data", msg);
        const meta = isObject(msg.meta) ? msg.meta as ResourceMeta : undefined;
        if (!learnValue(node, endpoint, msg.data, meta, now)) {
          return this.#dropGateway(gw, "too_many_resources", msg);
        }
        return this.#route(gw, msg);
      }
      case "out": {
        if (!gw.nodes.delete(uid)) return this.#dropGateway(gw, "not_owned", msg);
        const owners = this.#owners.get(uid);
        owners?.delete(gw);
        if (owners?.size === 0) this.#owners.delete(uid);
        log.debug("node out", { gw: gw.name, uid });
        return this.#broadcast({ ...msg, gw: gw.name });
      }
      case "reset": {
        const node = gw.nodes.get(uid);
        if (!node) return this.#dropGateway(gw, "not_owned", msg);
        resetNode(node, now);
        return this.#broadcast({ ...msg, gw: gw.name });
      }
      default:
        return this.#dropGateway(gw, "unknown_type", msg);
    }
  }

  /** `dst` "all" broadcasts, a registered client id targets it; anything else is dropped. */
  #route(gw: GatewayEntry, msg: Frame): void {
    const dst = msg.dst;
    const out = { ...msg, gw: gw.name };
    if (dst === "all") return this.#broadcast(out);
    const client = typeof dst === "string" ? this.#listeners.get(dst) : undefined;
    if (!client) return this.#dropGateway(gw, "unknown_dst", msg);
    this.#sendClient(client, JSON.stringify(out), msg.type);
  }

  #dropGateway(gw: GatewayEntry, reason: string, msg: Frame): void {
    this.metrics.drop(reason);
    log.debug("dropped gateway frame", { gw: gw.name, reason, type: msg.type, uid: msg.uid });
  }

  // ---- web clients ----

  addClient(entry: ClientEntry): void {
    this.clients.set(entry.id, entry);
    this.metrics.connected("client");
    log.debug("client connected", {
      client: entry.id,
      remote: entry.remote,
      canWrite: entry.canWrite,
    });
  }

  removeClient(entry: ClientEntry): void {
    this.clients.delete(entry.id);
    this.#listeners.delete(entry.id);
    log.debug("client disconnected", { client: entry.id });
  }

  onClientFrame(client: ClientEntry, msg: Frame): void {
    this.metrics.messageIn("client", msg.type);
    // A web client speaking as a gateway (node frames) is a policy violation, not a typo.
    if ("uid" in msg || msg.type === "out" || msg.type === "reset") {
      this.metrics.refuse("client", "gateway_frame");
      log.warn("web client sent a gateway frame, closing", { client: client.id, type: msg.type });
      client.peer.close(CLOSE.POLICY, "Web clients cannot send gateway frames");
      return;
    }
    if (msg.type === "new") {
      if (msg.data !== "client") {
        return this.#refuseClient(client, "bad_frame", 'expected {"type":"new","data":"client"}');
      }
      if (!client.registered) {
        client.registered = true;
        this.#listeners.set(client.id, client);
      }
      const now = Date.now();
      const last = this.#lastReplay.get(client);
      if (last !== undefined && now - last < REPLAY_MIN_INTERVAL_MS) {
        return this.#refuseClient(client, "too_often", "cache replay asked too often");
      }
      this.#lastReplay.set(client, now);
      // Every gateway replays its cache to this client (`dst` = its id).
      const text = JSON.stringify({ type: "new", data: "client", src: client.id });
      for (const gw of this.gateways.values()) this.#sendGateway(gw, text, "new");
      return;
    }
    if (msg.type === "update") {
      const write = asClientWrite(msg);
      if (!write) {
        return this.#refuseClient(
          client,
          "bad_frame",
          "update data must be {uid, endpoint, payload} strings",
        );
      }
      const { uid, endpoint } = write.data;
      if (!client.canWrite && !this.opts.writesOpen) {
        return this.#refuseClient(client, "forbidden", "writing needs the write token", {
          uid,
          endpoint,
        });
      }
      const owners = this.#owners.get(uid);
      if (!owners || owners.size === 0) {
        return this.#refuseClient(client, "unknown_node", "no gateway owns this node", {
          uid,
          endpoint,
        });
      }
      // Exactly the client frame plus `src`, as pyaiot's gateways expect (spec 2.5).
      const text = JSON.stringify({ type: "update", data: write.data, src: client.id });
      for (const gw of owners) this.#sendGateway(gw, text, "update");
      log.debug("client write", { client: client.id, uid, endpoint });
      return;
    }
    this.#refuseClient(client, "bad_frame", `unsupported message type '${msg.type}'`);
  }

  #refuseClient(
    client: ClientEntry,
    error: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): void {
    this.metrics.refuse("client", error);
    log.info("refused client frame", { client: client.id, error, message, ...extra });
    this.#sendClient(client, JSON.stringify({ type: "error", error, message, ...extra }), "error");
  }

  // ---- sending ----

  #broadcast(msg: Record<string, unknown>): void {
    if (this.#listeners.size === 0) return;
    const text = JSON.stringify(msg); // once for all clients
    let sent = 0;
    for (const client of this.#listeners.values()) if (this.#trySend(client, text)) sent++;
    this.metrics.messageOut("client", msg.type, sent); // counted once per fan-out
  }

  #sendClient(client: ClientEntry, text: string, type: unknown): void {
    if (this.#trySend(client, text)) this.metrics.messageOut("client", type);
  }

  /** Sends unless the client is too far behind; drops are counted here, sends by the caller. */
  #trySend(client: ClientEntry, text: string): boolean {
    if (client.peer.bufferedAmount > this.#maxBuffered) {
      this.metrics.drop("slow_client");
      return false;
    }
    try {
      client.peer.send(text);
      return true;
    } catch {
      this.metrics.drop("send_failed"); // the socket is closing; its close handler cleans up
      return false;
    }
  }

  #sendGateway(gw: GatewayEntry, text: string, type: string): void {
    try {
      gw.peer.send(text);
      this.metrics.messageOut("gateway", type);
    } catch {
      this.metrics.drop("send_failed");
    }
  }

  // ---- views for REST and metrics ----

  nodeCount(): number {
    return this.#owners.size;
  }

  listNodes(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const gw of this.gateways.values()) {
      for (const node of gw.nodes.values()) out.push(nodeSummary(node));
    }
    return out;
  }

  getNode(uid: string): Record<string, unknown> | undefined {
    const owners = this.#owners.get(uid);
    if (!owners) return undefined;
    for (const gw of owners) {
      const node = gw.nodes.get(uid);
      if (node) return nodeDetail(node);
    }
    return undefined;
  }

  listGateways(): Record<string, unknown>[] {
    return [...this.gateways.values()].map((g) => ({
      name: g.name,
      remote: g.remote,
      binary: g.binary,
      connectedAt: new Date(g.connectedAt).toISOString(),
      nodes: g.nodes.size,
      messagesIn: g.messagesIn,
    }));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
