// The gateway's own CoAP resources, the pyaiot way (spec section 3): POST /alive and /server.
// Unlike pyaiot, nodes are keyed by uid, several nodes may share an address, and `reset:`
// really resets. Pure functions over messages plus an address book; no sockets here.
import { CoapCode, type CoapMessage, getUriPath, getUriQuery } from "../../core-wasm/mod.ts";
import { rejectUnknownCritical, type Reply } from "./message_layer.ts";
import type { Block1Assembler } from "./blockwise.ts";
import { payloadText } from "./payload.ts";
import type { Peer } from "./udp_endpoint.ts";
import { peerKey } from "./udp_endpoint.ts";

const encoder = new TextEncoder();

export interface AlivePayload {
  uid: string;
  reset: boolean;
}

/** `<word>:<uid>`: the uid is after the last ':'; a payload starting with `reset` resets. */
export function parseAlive(text: string): AlivePayload | null {
  const uid = text.slice(text.lastIndexOf(":") + 1).trim();
  if (uid === "") return null;
  return { uid, reset: text.startsWith("reset") };
}

/** `<resource>:<value>`, split at the first ':'. */
export function parseServerPost(text: string): { resource: string; value: string } | null {
  const i = text.indexOf(":");
  if (i < 0) return null;
  return { resource: text.slice(0, i), value: text.slice(i + 1) };
}

/**
 * Where each node is: the endpoint its /alive came from, and the port its CoAP server listens
 * on. /server posts map to a node by (address, port) first, else by address when only one node
 * has it.
 */
export class AddressBook {
  #byUid = new Map<string, Peer>();
  #byEndpoint = new Map<string, string>();
  #byHost = new Map<string, Set<string>>();

  get size(): number {
    return this.#byUid.size;
  }

  set(uid: string, source: Peer): void {
    const old = this.#byUid.get(uid);
    if (old && old.hostname === source.hostname && old.port === source.port) return;
    if (old) this.delete(uid);
    this.#byUid.set(uid, source);
    // A new node on an endpoint takes it over (a rebooted board with a new uid).
    this.#byEndpoint.set(peerKey(source), uid);
    let set = this.#byHost.get(source.hostname);
    if (!set) this.#byHost.set(source.hostname, set = new Set());
    set.add(uid);
  }

  delete(uid: string): void {
    const old = this.#byUid.get(uid);
    if (!old) return;
    this.#byUid.delete(uid);
    const key = peerKey(old);
    if (this.#byEndpoint.get(key) === uid) this.#byEndpoint.delete(key);
    const set = this.#byHost.get(old.hostname);
    set?.delete(uid);
    if (set?.size === 0) this.#byHost.delete(old.hostname);
  }

  source(uid: string): Peer | undefined {
    return this.#byUid.get(uid);
  }

  lookup(peer: Peer): string | undefined {
    const exact = this.#byEndpoint.get(peerKey(peer));
    if (exact !== undefined) return exact;
    const set = this.#byHost.get(peer.hostname);
    if (set?.size === 1) return set.values().next().value;
    return undefined;
  }
}

export interface AliveEvent {
  uid: string;
  reset: boolean;
  source: Peer;
  /** The node's CoAP server port when it told us (`?port=N` on /alive, an aiot addition). */
  port?: number;
}

export interface ServerRoutesOptions {
  book: AddressBook;
  blocks?: Block1Assembler;
  /** Returns false to refuse a node (the gateway is full): answered 5.03. */
  onAlive: (e: AliveEvent) => boolean;
  onValue: (uid: string, resource: string, value: string) => void;
}

export interface ServerStats {
  alive: number;
  server: number;
  unknownSource: number;
  badPayload: number;
}

export class ServerRoutes {
  readonly stats: ServerStats = { alive: 0, server: 0, unknownSource: 0, badPayload: 0 };
  #o: ServerRoutesOptions;

  constructor(opts: ServerRoutesOptions) {
    this.#o = opts;
  }

  handle(req: CoapMessage, peer: Peer): Reply {
    const bad = rejectUnknownCritical(req);
    if (bad) return bad;
    const path = getUriPath(req);
    if (path !== "alive" && path !== "server") return { code: CoapCode.NOT_FOUND };
    if (req.code !== CoapCode.POST) return { code: CoapCode.METHOD_NOT_ALLOWED };
    let body = req.payload;
    if (this.#o.blocks) {
      const part = this.#o.blocks.offer(req, peer);
      if (part.kind === "error") return { code: part.code };
      if (part.kind === "continue") return { code: CoapCode.CONTINUE, options: part.options };
      body = part.payload;
    }
    const text = payloadText(body);
    if (text === null) {
      this.stats.badPayload++;
      return { code: CoapCode.BAD_REQUEST };
    }
    const received = encoder.encode(`Received '${text}'`);
    if (path === "alive") {
      const alive = parseAlive(text);
      if (!alive) {
        this.stats.badPayload++;
        return { code: CoapCode.BAD_REQUEST };
      }
      this.stats.alive++;
      if (!this.#o.onAlive({ ...alive, source: peer, port: portQuery(req) })) {
        return { code: CoapCode.SERVICE_UNAVAILABLE };
      }
      this.#o.book.set(alive.uid, peer);
      return { code: CoapCode.CHANGED, payload: received };
    }
    const post = parseServerPost(text);
    if (!post) {
      this.stats.badPayload++;
      return { code: CoapCode.INTERNAL_SERVER_ERROR }; // 5.00, as pyaiot answers (observed)
    }
    this.stats.server++;
    const uid = this.#o.book.lookup(peer);
    if (uid === undefined) this.stats.unknownSource++;
    else this.#o.onValue(uid, post.resource, post.value);
    return { code: CoapCode.CHANGED, payload: received };
  }
}

function portQuery(req: CoapMessage): number | undefined {
  for (const q of getUriQuery(req)) {
    if (!q.startsWith("port=")) continue;
    const n = Number(q.slice(5));
    if (Number.isInteger(n) && n > 0 && n < 65536) return n;
  }
  return undefined;
}
