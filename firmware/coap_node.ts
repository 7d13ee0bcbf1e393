// A simulated CoAP node that behaves like a RIOT gcoap firmware (shared/spec 6.3): its own CoAP
// server on a UDP port, /.well-known/core with rt/if/ct/obs attributes, GET for every resource,
// PUT (and POST) for led/text, Observe (RFC 7641) on the sensors, and `reset:<uid>` at boot then
// `alive:<uid>` every 30 s to the gateway's /alive, sent from the server socket so the gateway
// can learn the port (it is also given as `?port=N`). With `cbor`, values are CBOR (ct 60).
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  type CoapOptionValue,
  ContentFormat,
  encodeCbor,
  encodeUint,
  getObserve,
  getUriPath,
  uriOptions,
} from "../core-wasm/mod.ts";
import { createLogger } from "../common/log.ts";
import {
  MessageLayer,
  NO_RESPONSE_2XX,
  rejectUnknownCritical,
  type Reply,
} from "../gateway/coap/message_layer.ts";
import type { CoapParams } from "../gateway/coap/params.ts";
import { type Peer, peerKey, UdpEndpoint } from "../gateway/coap/udp_endpoint.ts";
import {
  ALL_RESOURCES,
  RESOURCE_LINK_ATTRS,
  type ResourceName,
  SENSOR_RESOURCES,
  Sensors,
  type SimNode,
  type SimNodeOptions,
} from "./sim.ts";

const log = createLogger("coap-node");
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
/** Every Nth notification is confirmable, so a vanished observer is noticed (RFC 7641 4.5). */
const CON_EVERY = 10;
const MAX_TRACKED_NOTIFICATIONS = 1024;

export interface CoapNodeOptions extends SimNodeOptions {
  /** Address the node's CoAP server binds (default 127.0.0.1). */
  host?: string;
  /** Its UDP port; 0 picks a free one (RIOT uses 5683). */
  port?: number;
  /** Period of `alive:<uid>` posts (RIOT: 30 s). */
  aliveMs?: number;
  /** Also push sensor values to the gateway's /server like RIOT's weather apps. */
  pushServer?: boolean;
  /** Max-Age of notifications, seconds (how long an observer may wait before re-registering). */
  maxAgeS?: number;
  /** Add `?port=N` to /alive (an aiot addition pyaiot ignores). */
  tellPort?: boolean;
  params?: Partial<CoapParams>;
}

interface Observer {
  peer: Peer;
  token: Uint8Array;
}

export class CoapNode implements SimNode {
  readonly id: string;
  readonly writes: { endpoint: string; payload: string }[] = [];
  readonly sensors: Sensors;
  /** Counters for tests and the load bench. */
  readonly stats = { notifications: 0, observersDropped: 0, alive: 0, served: 0 };
  #o: CoapNodeOptions;
  #endpoint: UdpEndpoint | null = null;
  #layer: MessageLayer | null = null;
  #observers = new Map<ResourceName, Map<string, Observer>>();
  #sentNotifications = new Map<string, { resource: ResourceName; key: string }>();
  #seq = 1;
  #tick = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #gateway: Peer;

  constructor(opts: CoapNodeOptions) {
    this.id = opts.id;
    this.#o = opts;
    this.sensors = opts.sensors ?? new Sensors(opts.id);
    this.#gateway = { hostname: opts.gatewayHost ?? "127.0.0.1", port: opts.gatewayPort ?? 5683 };
  }

  /** The UDP port the node's CoAP server is bound to (after start). */
  get port(): number {
    return this.#endpoint?.port ?? 0;
  }

  /** How many observers each sensor currently has. */
  observerCount(resource?: ResourceName): number {
    if (resource) return this.#observers.get(resource)?.size ?? 0;
    let n = 0;
    for (const m of this.#observers.values()) n += m.size;
    return n;
  }

  start(): Promise<void> {
    const endpoint = UdpEndpoint.listen({
      hostname: this.#o.host ?? "127.0.0.1",
      port: this.#o.port ?? 0,
      rateLimit: null,
      maxDatagram: 1280, // a constrained node's buffer (IPv6's minimum MTU)
    });
    const layer = new MessageLayer(endpoint, { params: this.#o.params });
    layer.onRequest((req, peer) => this.#serve(req, peer));
    // Like RIOT, the node does not care what the gateway answers to its posts.
    layer.onResponse(() => true);
    layer.onReset((peer, mid) => this.#onReset(peer, mid));
    this.#endpoint = endpoint;
    this.#layer = layer;
    this.#post("alive", `reset:${this.id}`);
    this.#timers.push(
      setInterval(() => this.#post("alive", `alive:${this.id}`), this.#o.aliveMs ?? 30_000),
      setInterval(() => this.#step(), this.#o.intervalMs ?? 5_000),
    );
    log.debug("coap node started", { id: this.id, port: endpoint.port });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#layer?.close();
    await this.#endpoint?.close();
    this.#layer = null;
    this.#endpoint = null;
  }

  /** Sends `alive:<uid>` now (tests use it instead of waiting 30 s). */
  sendAlive(): void {
    this.#post("alive", `alive:${this.id}`);
  }

  #post(path: "alive" | "server", text: string): void {
    const layer = this.#layer;
    if (!layer) return;
    if (path === "alive") this.stats.alive++;
    const query = path === "alive" && this.#o.tellPort !== false ? [`port=${this.port}`] : [];
    const options = uriOptions(path, query);
    // Values go with No-Response for 2.xx (RFC 7967): a battery node's radio need not wake for
    // "Received"; errors still come back. /alive keeps pyaiot's answer.
    if (path === "server") options.push(NO_RESPONSE_2XX);
    layer.sendNon({
      code: CoapCode.POST,
      token: EMPTY,
      options,
      payload: encoder.encode(text),
    }, this.#gateway);
  }

  #contentFormat(): number {
    return this.#o.cbor ? ContentFormat.CBOR : ContentFormat.TEXT;
  }

  #body(name: ResourceName): Uint8Array {
    if (!this.#o.cbor) return encoder.encode(this.sensors.get(name));
    const value = (SENSOR_RESOURCES as string[]).includes(name)
      ? this.sensors.numeric(name as "temperature" | "pressure" | "humidity")
      : this.sensors.get(name);
    return encodeCbor(value);
  }

  #linkFormat(): string {
    const ct = String(this.#contentFormat());
    return ALL_RESOURCES.map((name) => {
      let link = `</${name}>`;
      for (const [k, v] of Object.entries(RESOURCE_LINK_ATTRS[name])) {
        if (v === true) link += `;${k}`;
        else if (k === "ct") link += `;ct=${ct}`;
        else link += `;${k}="${v}"`;
      }
      return link;
    }).join(",");
  }

  #serve(req: CoapMessage, peer: Peer): Reply {
    this.stats.served++;
    const bad = rejectUnknownCritical(req);
    if (bad) return bad;
    const path = getUriPath(req);
    if (path === ".well-known/core") {
      if (req.code !== CoapCode.GET) return { code: CoapCode.METHOD_NOT_ALLOWED };
      return {
        code: CoapCode.CONTENT,
        options: [{
          number: CoapOption.CONTENT_FORMAT,
          value: encodeUint(ContentFormat.LINK_FORMAT),
        }],
        payload: encoder.encode(this.#linkFormat()),
      };
    }
    const name = path as ResourceName;
    if (!ALL_RESOURCES.includes(name)) return { code: CoapCode.NOT_FOUND };
    if (req.code === CoapCode.GET) return this.#get(name, req, peer);
    if (
      (req.code === CoapCode.PUT || req.code === CoapCode.POST) &&
      (name === "led" || name === "text")
    ) {
      const payload = decoder.decode(req.payload);
      if (!this.sensors.set(name, payload)) return { code: CoapCode.BAD_REQUEST };
      this.writes.push({ endpoint: name, payload });
      return {
        code: CoapCode.CHANGED,
        payload: encoder.encode(`${name}:${this.sensors.get(name)}`),
      };
    }
    return { code: CoapCode.METHOD_NOT_ALLOWED };
  }

  #get(name: ResourceName, req: CoapMessage, peer: Peer): Reply {
    const options: CoapOptionValue[] = [
      { number: CoapOption.CONTENT_FORMAT, value: encodeUint(this.#contentFormat()) },
    ];
    const observable = RESOURCE_LINK_ATTRS[name].obs === true;
    const obs = getObserve(req);
    const key = `${peerKey(peer)}/${[...req.token].join(".")}`;
    if (observable && obs === 0) {
      let set = this.#observers.get(name);
      if (!set) this.#observers.set(name, set = new Map());
      set.set(key, { peer, token: req.token.slice() });
      options.push({ number: CoapOption.OBSERVE, value: encodeUint(this.#seq) });
      options.push({ number: CoapOption.MAX_AGE, value: encodeUint(this.#o.maxAgeS ?? 60) });
    } else if (observable && obs === 1) {
      this.#dropObserver(name, key);
    }
    return { code: CoapCode.CONTENT, options, payload: this.#body(name) };
  }

  #dropObserver(name: ResourceName, key: string): void {
    if (this.#observers.get(name)?.delete(key)) this.stats.observersDropped++;
  }

  #step(): void {
    this.sensors.step();
    this.#seq = (this.#seq + 1) & 0xffffff;
    this.#tick++;
    for (const [name, set] of this.#observers) {
      for (const [key, o] of set) this.#notify(name, key, o);
    }
    if (this.#o.pushServer) {
      for (const name of SENSOR_RESOURCES) {
        this.#post("server", `${name}:${this.sensors.get(name)}`);
      }
    }
  }

  #notify(name: ResourceName, key: string, o: Observer): void {
    const layer = this.#layer;
    if (!layer) return;
    const msg = {
      code: CoapCode.CONTENT,
      token: o.token,
      options: [
        { number: CoapOption.OBSERVE, value: encodeUint(this.#seq) },
        { number: CoapOption.CONTENT_FORMAT, value: encodeUint(this.#contentFormat()) },
        { number: CoapOption.MAX_AGE, value: encodeUint(this.#o.maxAgeS ?? 60) },
      ],
      payload: this.#body(name),
    };
    this.stats.notifications++;
    if (this.#tick % CON_EVERY === 0) {
      // A confirmable notification that is reset or never acknowledged ends the relation.
      layer.sendCon(msg, o.peer).catch(() => this.#dropObserver(name, key));
      return;
    }
    const mid = layer.sendNon(msg, o.peer);
    const ref = `${peerKey(o.peer)}#${mid}`;
    this.#sentNotifications.set(ref, { resource: name, key });
    if (this.#sentNotifications.size > MAX_TRACKED_NOTIFICATIONS) {
      const oldest = this.#sentNotifications.keys().next().value;
      if (oldest !== undefined) this.#sentNotifications.delete(oldest);
    }
  }

  /** An RST for a non-confirmable notification: the observer is gone (RFC 7641 3.6). */
  #onReset(peer: Peer, mid: number): void {
    const ref = `${peerKey(peer)}#${mid}`;
    const sent = this.#sentNotifications.get(ref);
    if (!sent) return;
    this.#sentNotifications.delete(ref);
    this.#dropObserver(sent.resource, sent.key);
  }
}
