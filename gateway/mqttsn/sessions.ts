// The MQTT-SN client state machine of an aggregating gateway: connect (with Will prompts),
// per-client topic ids, publish in both directions with QoS -1/0/1/2, subscriptions with
// wildcards over a local topic space, keep-alive supervision, sleeping clients and Will.
// No sockets here: the server hands in decoded messages and takes encoded answers, so every
// rule can be driven directly and the I/O stays in server.ts.
import { createLogger } from "../../common/log.ts";
import {
  encodeMqttSn,
  type MqttSnMessage,
  MqttSnReturnCode as RC,
  MqttSnType as T,
  type QoS,
} from "../../core-wasm/mod.ts";
import type { PredefinedTopics } from "./predefined.ts";
import { Client, type Delivery, type Route, type Subscription, supervisionMs } from "./session.ts";
import { filterMatches, hasWildcard, isValidFilter, TopicTree } from "./topic_tree.ts";

const log = createLogger("mqttsn");
const RETAINED_BYTES_MAX = 4 << 20;
const te = new TextEncoder();
const td = new TextDecoder();

export interface SessionOptions {
  predefined: PredefinedTopics;
  /** Sends one encoded message to a client route. */
  send: (route: Route, bytes: Uint8Array) => void;
  /** Every message published into the local topic space by a client (and Wills). */
  onPublish?: (topic: string, payload: Uint8Array, from: string) => void;
  /** T_RETRY in ms (spec 10-15 s). */
  retryMs?: number;
  /** N_RETRY: retransmissions after the first send (spec 3-5). */
  maxRetries?: number;
  /** Sessions kept at most (connected or not); CONNACK "congestion" beyond. */
  maxClients?: number;
  /** Deliveries buffered per client (sleepers); the oldest is dropped beyond. */
  maxBuffered?: number;
  /** Subscriptions and topic ids per client. */
  maxTopicsPerClient?: number;
  /** Retained messages kept at most (one per topic). */
  maxRetained?: number;
  now?: () => number;
}

export interface SessionStats {
  connects: number;
  publishesIn: number;
  deliveries: number;
  retransmissions: number;
  gaveUp: number;
  bufferedDropped: number;
  lost: number;
  willsPublished: number;
  unknownClient: number;
  refused: number;
}

type Sub = Subscription & { client: Client };

function clampQos(q: QoS | undefined): 0 | 1 | 2 {
  return q === 1 || q === 2 ? q : 0;
}

/** The 2 octets of a short topic name as the TopicId field, or -1 when it is not 2 octets. */
function shortId(name: string): number {
  const b = te.encode(name);
  return b.length === 2 ? (b[0] << 8) | b[1] : -1;
}

function shortName(id: number): string {
  return td.decode(new Uint8Array([id >> 8, id & 0xff]));
}

export class SessionManager {
  readonly stats: SessionStats = {
    connects: 0,
    publishesIn: 0,
    deliveries: 0,
    retransmissions: 0,
    gaveUp: 0,
    bufferedDropped: 0,
    lost: 0,
    willsPublished: 0,
    unknownClient: 0,
    refused: 0,
  };
  #byKey = new Map<string, Client>();
  #byClientId = new Map<string, Client>();
  #tree = new TopicTree<Client, Sub>();
  #retained = new Map<string, { payload: Uint8Array; qos: 0 | 1 | 2 }>();
  #retainedBytes = 0;
  #o: Required<Omit<SessionOptions, "onPublish">> & Pick<SessionOptions, "onPublish">;

  constructor(opts: SessionOptions) {
    this.#o = {
      predefined: opts.predefined,
      send: opts.send,
      onPublish: opts.onPublish,
      retryMs: opts.retryMs ?? 10_000,
      maxRetries: opts.maxRetries ?? 3,
      maxClients: opts.maxClients ?? 20_000,
      maxBuffered: opts.maxBuffered ?? 64,
      maxTopicsPerClient: opts.maxTopicsPerClient ?? 256,
      maxRetained: opts.maxRetained ?? 10_000,
      now: opts.now ?? Date.now,
    };
  }

  get size(): number {
    return this.#byClientId.size;
  }

  client(clientId: string): Client | undefined {
    return this.#byClientId.get(clientId);
  }

  clients(): IterableIterator<Client> {
    return this.#byClientId.values();
  }

  /** One decoded message from `key` (an address, or forwarder + node id). */
  handle(key: string, route: Route, m: MqttSnMessage): void {
    if (m.type === T.CONNECT) return this.#connect(key, route, m);
    if (m.type === T.PUBLISH && m.qos === -1) return this.#publishQosMinus1(key, m);
    if (m.type === T.PINGREQ && m.clientId) {
      const c = this.#byClientId.get(m.clientId);
      if (c && c.state !== "lost" && c.state !== "disconnected") {
        this.#rekey(c, key, route);
        return this.#ping(c);
      }
    }
    const c = this.#byKey.get(key);
    if (!c) {
      // Unknown (e.g. the gateway restarted): DISCONNECT tells it to CONNECT again [5.4.21].
      // Two octets, never larger than what provoked it, so no amplification.
      this.stats.unknownClient++;
      log.debug("message from unknown client", { key, type: m.type });
      if (m.type !== T.DISCONNECT) this.#o.send(route, encodeMqttSn({ type: T.DISCONNECT }));
      return;
    }
    if (c.state === "lost" || c.state === "disconnected") {
      // [5.4.21] tells the client to CONNECT again; a repeated DISCONNECT (our answer was
      // lost) is answered the same way.
      this.#send(c, { type: T.DISCONNECT });
      return;
    }
    this.#touch(c);
    switch (m.type) {
      case T.WILLTOPIC:
        return this.#willTopic(c, m);
      case T.WILLMSG:
        return this.#willMsg(c, m);
      case T.REGISTER:
        return this.#register(c, m);
      case T.REGACK:
        return this.#regack(c, m);
      case T.PUBLISH:
        return this.#publishIn(c, m);
      case T.PUBACK:
        return this.#puback(c, m);
      case T.PUBREC:
        return this.#pubrec(c, m);
      case T.PUBREL:
        c.qos2In.delete(m.msgId!);
        return this.#send(c, { type: T.PUBCOMP, msgId: m.msgId });
      case T.PUBCOMP:
        if (c.inflight?.kind === "pubrel" && c.inflight.msgId === m.msgId) this.#done(c);
        return;
      case T.SUBSCRIBE:
        return this.#subscribe(c, m);
      case T.UNSUBSCRIBE:
        return this.#unsubscribe(c, m);
      case T.PINGREQ:
        return this.#ping(c);
      case T.PINGRESP:
        return;
      case T.DISCONNECT:
        return this.#disconnect(c, m);
      case T.WILLTOPICUPD:
        if (m.willTopic === undefined) c.will = undefined;
        else {
          c.will = {
            topic: m.willTopic,
            msg: c.will?.msg ?? new Uint8Array(0),
            qos: clampQos(m.qos),
            retain: !!m.retain,
          };
        }
        return this.#send(c, { type: T.WILLTOPICRESP, returnCode: RC.ACCEPTED });
      case T.WILLMSGUPD:
        if (c.will) c.will.msg = m.willMsg ?? new Uint8Array(0);
        return this.#send(c, {
          type: T.WILLMSGRESP,
          returnCode: c.will ? RC.ACCEPTED : RC.NOT_SUPPORTED,
        });
      default:
        log.debug("unexpected message type from client", { clientId: c.clientId, type: m.type });
    }
  }

  /**
   * Publishes into the local topic space on behalf of the gateway (no onPublish echo): every
   * client whose subscription matches gets it at min(qos, granted QoS), buffered if asleep.
   */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1 | 2 = 1, retain = false): number {
    if (retain) this.#retain(topic, payload, qos);
    const best = new Map<Client, Sub>();
    this.#tree.match(topic, (client, sub) => {
      const prev = best.get(client);
      if (!prev || sub.qos > prev.qos) best.set(client, sub);
    });
    for (const [client, sub] of best) {
      this.#enqueue(client, {
        topic,
        payload,
        qos: Math.min(qos, sub.qos) as 0 | 1 | 2,
        retain: false, // as in MQTT: live deliveries carry Retain 0
        form: sub.form,
        predefinedId: sub.predefinedId,
      });
    }
    return best.size;
  }

  /** Supervision and retransmission; the server calls it every tick. */
  tick(): void {
    const now = this.#o.now();
    for (const c of this.#byClientId.values()) {
      if (c.deadline <= now && c.state !== "lost" && c.state !== "disconnected") {
        this.#lose(c);
        continue;
      }
      const f = c.inflight;
      if (f && f.due <= now) {
        if (f.sends > this.#o.maxRetries) {
          this.stats.gaveUp++;
          log.debug("gave up delivery", { clientId: c.clientId, kind: f.kind });
          if (f.kind === "register") c.outbox.shift(); // emcute never answers REGISTER
          this.#done(c);
          continue;
        }
        if (f.kind === "publish") f.bytes[f.bytes[0] === 1 ? 4 : 2] |= 0x80; // DUP
        f.sends++;
        f.due = now + this.#o.retryMs;
        this.stats.retransmissions++;
        this.#sendRaw(c, f.bytes);
      }
    }
  }

  // ---- connect, Will, disconnect, sleep ----

  #connect(key: string, route: Route, m: MqttSnMessage): void {
    const clientId = m.clientId ?? "";
    if (m.protocolId !== 1 || clientId.length === 0) {
      this.stats.refused++;
      this.#o.send(route, encodeMqttSn({ type: T.CONNACK, returnCode: RC.NOT_SUPPORTED }));
      return;
    }
    let c = this.#byClientId.get(clientId);
    if (!c && !this.#makeRoom()) {
      this.stats.refused++;
      this.#o.send(route, encodeMqttSn({ type: T.CONNACK, returnCode: RC.CONGESTION }));
      return;
    }
    this.stats.connects++;
    if (c && (c.state === "asleep" || c.state === "awake")) {
      // A sleeper saying "I am active again" (Paho's and Bisquitt's reading): flags ignored,
      // CONNACK at once, buffered messages follow.
      this.#rekey(c, key, route);
      c.state = "active";
      c.pingOwed = false;
      c.keepAliveS = m.duration ?? 0;
      this.#touch(c);
      this.#send(c, { type: T.CONNACK, returnCode: RC.ACCEPTED });
      this.#pump(c);
      return;
    }
    if (!c) {
      c = new Client(key, route, this.#o.maxTopicsPerClient);
      c.clientId = clientId;
      this.#byClientId.set(clientId, c);
    }
    this.#rekey(c, key, route);
    c.cleanSession = !!m.cleanSession;
    if (c.cleanSession) {
      this.#dropSubscriptions(c);
      c.topics.clear();
      c.will = undefined;
    } else {
      c.topics.forgetKnown();
    }
    c.outbox.length = 0;
    c.inflight = undefined;
    c.qos2In.clear();
    c.pingOwed = false;
    c.keepAliveS = m.duration ?? 0;
    log.debug("connect", { clientId, key, will: m.will, clean: m.cleanSession });
    if (m.will) {
      c.state = "connecting";
      c.pendingWill = undefined;
      this.#touch(c);
      this.#send(c, { type: T.WILLTOPICREQ });
      return;
    }
    this.#accept(c);
  }

  #accept(c: Client): void {
    c.state = "active";
    this.#touch(c);
    this.#send(c, { type: T.CONNACK, returnCode: RC.ACCEPTED });
    this.#pump(c);
  }

  #willTopic(c: Client, m: MqttSnMessage): void {
    if (c.state !== "connecting") return;
    if (m.willTopic === undefined || m.willTopic === "") {
      c.will = undefined; // the empty WILLTOPIC deletes the Will; no WILLMSGREQ (ambiguity 6)
      return this.#accept(c);
    }
    c.pendingWill = { topic: m.willTopic, qos: clampQos(m.qos), retain: !!m.retain };
    this.#send(c, { type: T.WILLMSGREQ });
  }

  #willMsg(c: Client, m: MqttSnMessage): void {
    if (c.state === "connecting" && c.pendingWill) {
      c.will = { ...c.pendingWill, msg: m.willMsg ?? new Uint8Array(0) };
      c.pendingWill = undefined;
      return this.#accept(c);
    }
    // A retransmitted WILLMSG: our CONNACK was lost.
    if (c.state === "active") this.#send(c, { type: T.CONNACK, returnCode: RC.ACCEPTED });
  }

  #disconnect(c: Client, m: MqttSnMessage): void {
    this.#send(c, { type: T.DISCONNECT });
    if (m.duration) {
      c.state = "asleep";
      c.sleepS = m.duration;
      c.pingOwed = false;
      c.deadline = this.#o.now() + supervisionMs(m.duration);
      log.debug("client asleep", { clientId: c.clientId, seconds: m.duration });
      return;
    }
    this.#end(c, "disconnected");
  }

  #ping(c: Client): void {
    if (c.state === "asleep" || c.state === "awake") {
      // Wake-up: deliver what was buffered, then PINGRESP sends it back to sleep.
      c.state = "awake";
      c.pingOwed = true;
      c.deadline = this.#o.now() + supervisionMs(c.sleepS);
      this.#pump(c);
      return;
    }
    this.#send(c, { type: T.PINGRESP });
  }

  #lose(c: Client): void {
    this.stats.lost++;
    log.info("client lost", { clientId: c.clientId, state: c.state });
    const will = c.will;
    this.#end(c, "lost");
    if (will) {
      this.stats.willsPublished++;
      this.#route(will.topic, will.msg, will.qos, will.retain, c.clientId);
    }
  }

  /** Ends the connection; CleanSession decides whether subscriptions and Will survive. */
  #end(c: Client, state: "lost" | "disconnected"): void {
    c.state = state;
    c.deadline = Infinity;
    c.outbox.length = 0;
    c.inflight = undefined;
    c.pingOwed = false;
    c.qos2In.clear();
    if (c.cleanSession) {
      this.#dropSubscriptions(c);
      c.topics.clear();
      c.will = undefined;
    }
  }

  // ---- topics and publish ----

  #register(c: Client, m: MqttSnMessage): void {
    const name = m.topicName ?? "";
    const e = name && !hasWildcard(name) ? c.topics.idFor(name) : undefined;
    if (!e) {
      return this.#send(c, {
        type: T.REGACK,
        topicId: 0,
        msgId: m.msgId,
        returnCode: name && !hasWildcard(name) ? RC.CONGESTION : RC.NOT_SUPPORTED,
      });
    }
    e.known = true;
    this.#send(c, { type: T.REGACK, topicId: e.id, msgId: m.msgId, returnCode: RC.ACCEPTED });
  }

  #resolve(c: Client | undefined, m: MqttSnMessage): string | undefined {
    const id = m.topicId ?? 0;
    if (m.topicIdType === 1) return this.#o.predefined.name(id);
    if (m.topicIdType === 2) return shortName(id);
    return c?.topics.byId(id)?.name;
  }

  #publishQosMinus1(key: string, m: MqttSnMessage): void {
    // No session needed [6.8]: pre-defined ids and short names only, published at QoS 0.
    const topic = m.topicIdType === 0 ? undefined : this.#resolve(undefined, m);
    if (!topic) {
      this.stats.unknownClient++;
      log.debug("QoS -1 publish with an unknown topic", { key, topicId: m.topicId });
      return;
    }
    this.stats.publishesIn++;
    this.#route(topic, m.data ?? new Uint8Array(0), 0, !!m.retain, key);
  }

  #publishIn(c: Client, m: MqttSnMessage): void {
    const topic = this.#resolve(c, m);
    const qos = clampQos(m.qos);
    if (!topic) {
      // Unknown normal id: the client registers again. Unknown pre-defined id: cannot be fixed.
      return this.#send(c, {
        type: T.PUBACK,
        topicId: m.topicId,
        msgId: m.msgId,
        returnCode: RC.INVALID_TOPIC_ID,
      });
    }
    const payload = m.data ?? new Uint8Array(0);
    if (qos === 2) {
      const dup = c.qos2In.has(m.msgId!);
      this.#send(c, { type: T.PUBREC, msgId: m.msgId });
      if (dup) return; // forwarded once per MsgId
      if (c.qos2In.size >= 64) c.qos2In.clear(); // a client that never sends PUBREL
      c.qos2In.add(m.msgId!);
    } else if (qos === 1) {
      // The publisher's PUBACK goes out before the local delivery.
      this.#send(c, {
        type: T.PUBACK,
        topicId: m.topicId,
        msgId: m.msgId,
        returnCode: RC.ACCEPTED,
      });
    }
    this.stats.publishesIn++;
    this.#route(topic, payload, qos, !!m.retain, c.clientId);
  }

  /** A client's publish: to matching local subscribers and to the gateway's topic handler. */
  #route(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, from: string) {
    this.publish(topic, payload, qos, retain);
    this.#o.onPublish?.(topic, payload, from);
  }

  #subscribe(c: Client, m: MqttSnMessage): void {
    const qos = clampQos(m.qos);
    const nack = (rc: number) =>
      this.#send(c, { type: T.SUBACK, qos, topicId: 0, msgId: m.msgId, returnCode: rc });
    let filter: string;
    let topicId = 0;
    const form = m.topicIdType ?? 0;
    if (form === 1) {
      const name = this.#o.predefined.name(m.topicId ?? 0);
      if (!name) return nack(RC.INVALID_TOPIC_ID);
      filter = name;
      topicId = m.topicId!;
    } else {
      filter = m.topicName ?? "";
      if (!isValidFilter(filter)) return nack(RC.NOT_SUPPORTED);
      if (form === 2) topicId = shortId(filter);
      else if (!hasWildcard(filter)) {
        const e = c.topics.idFor(filter);
        if (!e) return nack(RC.CONGESTION);
        e.known = true; // the SUBACK teaches it
        topicId = e.id;
      }
    }
    if (!c.subs.has(filter) && c.subs.size >= this.#o.maxTopicsPerClient) {
      return nack(RC.CONGESTION);
    }
    const sub: Sub = {
      filter,
      qos,
      form,
      predefinedId: form === 1 ? topicId : undefined,
      client: c,
    };
    c.subs.set(filter, sub);
    this.#tree.add(filter, c, sub);
    this.#send(c, { type: T.SUBACK, qos, topicId, msgId: m.msgId, returnCode: RC.ACCEPTED });
    this.#sendRetained(c, sub);
  }

  /** Keeps the last retained message per topic (bounded); an empty payload clears it. */
  #retain(topic: string, payload: Uint8Array, qos: 0 | 1 | 2): void {
    const old = this.#retained.get(topic);
    if (old) {
      this.#retainedBytes -= old.payload.length;
      this.#retained.delete(topic);
    }
    if (payload.length === 0) return;
    // Bounded in count and bytes: datagrams may be 64 KiB each.
    if (
      this.#retained.size >= this.#o.maxRetained ||
      this.#retainedBytes + payload.length > RETAINED_BYTES_MAX
    ) {
      this.stats.refused++;
      return;
    }
    this.#retained.set(topic, { payload, qos });
    this.#retainedBytes += payload.length;
  }

  #sendRetained(c: Client, sub: Sub): void {
    const deliver = (topic: string, r: { payload: Uint8Array; qos: 0 | 1 | 2 }) =>
      this.#enqueue(c, {
        topic,
        payload: r.payload,
        qos: Math.min(r.qos, sub.qos) as 0 | 1 | 2,
        retain: true,
        form: sub.form,
        predefinedId: sub.predefinedId,
      });
    if (!hasWildcard(sub.filter)) {
      const r = this.#retained.get(sub.filter);
      if (r) deliver(sub.filter, r);
      return;
    }
    for (const [topic, r] of this.#retained) {
      if (filterMatches(sub.filter, topic)) deliver(topic, r);
    }
  }

  #unsubscribe(c: Client, m: MqttSnMessage): void {
    const filter = m.topicIdType === 1 ? this.#o.predefined.name(m.topicId ?? 0) : m.topicName;
    if (filter !== undefined && c.subs.delete(filter)) this.#tree.remove(filter, c);
    this.#send(c, { type: T.UNSUBACK, msgId: m.msgId });
  }

  #dropSubscriptions(c: Client): void {
    for (const filter of c.subs.keys()) this.#tree.remove(filter, c);
    c.subs.clear();
  }

  // ---- gateway -> client deliveries ----

  #enqueue(c: Client, d: Delivery): void {
    if (c.state === "lost" || c.state === "disconnected" || c.state === "connecting") return;
    if (c.outbox.length >= this.#o.maxBuffered) {
      c.outbox.shift();
      this.stats.bufferedDropped++;
    }
    c.outbox.push(d);
    this.#pump(c);
  }

  /** Sends deliveries in order while nothing is in flight; REGISTERs unknown ids first. */
  #pump(c: Client): void {
    if (!c.reachable) return;
    while (!c.inflight && c.outbox.length > 0) {
      const d = c.outbox[0];
      let topicIdType: 0 | 1 | 2 = d.form;
      let topicId = d.form === 1 ? d.predefinedId! : d.form === 2 ? shortId(d.topic) : 0;
      if (topicId < 0) topicIdType = 0; // a short filter matched a longer topic: use an id
      if (topicIdType === 0) {
        const e = c.topics.idFor(d.topic);
        if (!e) {
          c.outbox.shift();
          this.stats.bufferedDropped++;
          continue;
        }
        if (!e.known) {
          const msgId = c.nextMsgId();
          this.#startInflight(c, "register", msgId, {
            type: T.REGISTER,
            topicId: e.id,
            msgId,
            topicName: d.topic,
          }, e.id);
          return;
        }
        topicId = e.id;
      }
      c.outbox.shift();
      this.stats.deliveries++;
      const msgId = d.qos === 0 ? 0 : c.nextMsgId();
      const msg: MqttSnMessage = {
        type: T.PUBLISH,
        qos: d.qos,
        retain: d.retain,
        topicIdType,
        topicId,
        msgId,
        data: d.payload,
      };
      if (d.qos === 0) this.#send(c, msg);
      else this.#startInflight(c, "publish", msgId, msg, topicId);
    }
    if (!c.inflight && c.outbox.length === 0 && c.state === "awake" && c.pingOwed) {
      c.pingOwed = false;
      this.#send(c, { type: T.PINGRESP });
      c.state = "asleep";
      c.deadline = this.#o.now() + supervisionMs(c.sleepS);
    }
  }

  #startInflight(
    c: Client,
    kind: "register" | "publish" | "pubrel",
    msgId: number,
    msg: MqttSnMessage,
    topicId?: number,
  ): void {
    const bytes = encodeMqttSn(msg);
    c.inflight = { kind, msgId, bytes, sends: 1, due: this.#o.now() + this.#o.retryMs, topicId };
    this.#sendRaw(c, bytes);
  }

  #done(c: Client): void {
    c.inflight = undefined;
    this.#pump(c);
  }

  #regack(c: Client, m: MqttSnMessage): void {
    const f = c.inflight;
    if (f?.kind !== "register" || f.msgId !== m.msgId) return;
    if (m.returnCode === RC.ACCEPTED) {
      const e = c.topics.byId(f.topicId!);
      if (e) e.known = true;
    } else {
      c.outbox.shift(); // the client refuses the topic: drop that delivery
      this.stats.bufferedDropped++;
    }
    this.#done(c);
  }

  #puback(c: Client, m: MqttSnMessage): void {
    // Matched by MsgId only: RSMB-style peers zero the TopicId.
    const f = c.inflight;
    if (f?.kind !== "publish" || f.msgId !== m.msgId) return;
    if (m.returnCode === RC.INVALID_TOPIC_ID && f.topicId !== undefined) {
      const e = c.topics.byId(f.topicId);
      if (e) e.known = false; // REGISTER it again before the next delivery
    }
    this.#done(c);
  }

  #pubrec(c: Client, m: MqttSnMessage): void {
    const f = c.inflight;
    if (f?.kind === "publish" && f.msgId === m.msgId) {
      this.#startInflight(c, "pubrel", m.msgId!, { type: T.PUBREL, msgId: m.msgId });
    } else if (f?.kind === "pubrel" && f.msgId === m.msgId) {
      this.#sendRaw(c, f.bytes); // our PUBREL was lost
    }
  }

  // ---- plumbing ----

  #touch(c: Client): void {
    const s = c.state === "asleep" || c.state === "awake" ? c.sleepS : c.keepAliveS;
    c.deadline = this.#o.now() + supervisionMs(s);
  }

  #rekey(c: Client, key: string, route: Route): void {
    c.route = route;
    if (c.key === key && this.#byKey.get(key) === c) return;
    const other = this.#byKey.get(key);
    if (other && other !== c) {
      // Another client id on this address: that session is gone (the node restarted).
      other.key = "";
      if (other.state !== "lost" && other.state !== "disconnected") {
        this.#end(other, "disconnected");
      }
    }
    if (c.key && this.#byKey.get(c.key) === c) this.#byKey.delete(c.key);
    c.key = key;
    this.#byKey.set(key, c);
  }

  /** Frees a slot for a new client id, evicting one ended session if the table is full. */
  #makeRoom(): boolean {
    if (this.#byClientId.size < this.#o.maxClients) return true;
    for (const c of this.#byClientId.values()) {
      if (c.state === "lost" || c.state === "disconnected") {
        c.cleanSession = true;
        this.#end(c, "disconnected");
        this.#byClientId.delete(c.clientId);
        if (c.key) this.#byKey.delete(c.key);
        return true;
      }
    }
    return false;
  }

  #send(c: Client, msg: MqttSnMessage): void {
    this.#o.send(c.route, encodeMqttSn(msg));
  }

  #sendRaw(c: Client, bytes: Uint8Array): void {
    this.#o.send(c.route, bytes);
  }
}
