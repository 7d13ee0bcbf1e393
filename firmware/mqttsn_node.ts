// A simulated MQTT-SN node like RIOT's emcute firmware (shared/spec 6.3), but one that also
// listens: it CONNECTs over UDP, REGISTERs its topics, publishes pyaiot's node topics at QoS 1
// (node/check, node/<id>/resources, node/<id>/<r> {"value": ...}), SUBSCRIBEs to
// gateway/<id>/discover, gateway/<id>/+/set and gateway/check, answers discover and set like
// pyaiot's MQTT test node, and can sleep (DISCONNECT with a duration, woken by PINGREQ ClientId).
// Client side of the spec: one exchange outstanding at a time, T_RETRY/N_RETRY, DUP on resends,
// acks matched by type and MsgId only, gateway REGISTER and PINGREQ answered at any time.
import { createLogger } from "../common/log.ts";
import * as core from "../core-wasm/mod.ts";
import {
  decodeMqttSn,
  encodeMqttSn,
  type MqttSnMessage,
  MqttSnType as T,
} from "../core-wasm/mod.ts";
import {
  ALL_RESOURCES,
  type ResourceName,
  SENSOR_RESOURCES,
  Sensors,
  type SimNode,
  type SimNodeOptions,
} from "./sim.ts";

const log = createLogger("mqttsn-node");
const te = new TextEncoder();
const td = new TextDecoder();

// core-wasm's CBOR encoder is written in parallel; looked up at call time.
const cbor = core as unknown as { encodeCbor?: (value: unknown) => Uint8Array };

export interface MqttSnNodeOptions extends SimNodeOptions {
  /** Period of the unsolicited `node/check` (pyaiot: 30 s). */
  checkIntervalMs?: number;
  /** CONNECT Duration; a PINGREQ goes out this often (emcute: 360 s). */
  keepAliveS?: number;
  /** T_RETRY in ms (spec 10-15 s). */
  retryMs?: number;
  /** N_RETRY (spec 3-5). */
  maxRetries?: number;
  /** Resources this node offers; default all of sim.ts's. */
  resources?: ResourceName[];
  /**
   * Sleepy node: active for `awakeMs`, then DISCONNECT(sleepS) and silent; on waking it sends
   * PINGREQ(ClientId) to collect what the gateway buffered, then CONNECTs and publishes again.
   */
  dutyCycle?: { awakeMs: number; sleepS: number };
}

type State = "disconnected" | "active" | "asleep" | "stopped";

interface Pending {
  match: (m: MqttSnMessage) => boolean;
  resolve: (m: MqttSnMessage | undefined) => void;
}

export class MqttSnNode implements SimNode {
  readonly id: string;
  readonly writes: { endpoint: string; payload: string }[] = [];
  readonly sensors: Sensors;
  /** Exchanges that ran out of retries, and DISCONNECTs that forced a reconnect. */
  readonly stats = { failures: 0, reconnects: 0, published: 0, received: 0, sleeps: 0 };
  #opts: MqttSnNodeOptions;
  #resources: ResourceName[];
  #gw: Deno.NetAddr;
  #conn?: Deno.DatagramConn;
  #loop?: Promise<void>;
  #state: State = "disconnected";
  #chain: Promise<unknown> = Promise.resolve();
  #pending?: Pending;
  #wait?: { timer: ReturnType<typeof setTimeout>; resolve: () => void };
  #msgId = 0;
  /** Names the node registered or learnt, both ways. */
  #idOf = new Map<string, number>();
  #nameOf = new Map<number, string>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #reconnect?: ReturnType<typeof setTimeout>;
  #cycleTimer?: ReturnType<typeof setTimeout>;

  constructor(opts: MqttSnNodeOptions) {
    if (opts.cbor && !cbor.encodeCbor) throw new Error("CBOR payloads need core-wasm encodeCbor");
    this.id = opts.id;
    this.#opts = opts;
    this.sensors = opts.sensors ?? new Sensors(opts.id);
    this.#resources = opts.resources ?? ALL_RESOURCES;
    this.#gw = {
      transport: "udp",
      hostname: opts.gatewayHost ?? "127.0.0.1",
      port: opts.gatewayPort ?? 1885,
    };
  }

  get state(): State {
    return this.#state;
  }

  #isStopped(): boolean {
    return this.#state === "stopped";
  }

  /** Resolves once connected, subscribed and announced; rejects when the gateway is silent. */
  async start(): Promise<void> {
    const loopback = /^(127\.|localhost$|::1$)/.test(this.#gw.hostname);
    this.#conn = Deno.listenDatagram({
      transport: "udp",
      hostname: loopback ? "127.0.0.1" : "0.0.0.0",
      port: 0,
    });
    this.#loop = this.#receive(this.#conn);
    try {
      await this.#session();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#timers.push(
      setInterval(() => this.#check(), this.#opts.checkIntervalMs ?? 30_000),
      setInterval(() => {
        if (this.#state !== "active") return;
        this.sensors.step();
        for (const r of SENSOR_RESOURCES) {
          if (this.#resources.includes(r)) this.#publishValue(r);
        }
      }, this.#opts.intervalMs ?? 5000),
      setInterval(() => {
        if (this.#state === "active") this.#queue(() => this.#ping()).catch(() => {});
      }, (this.#opts.keepAliveS ?? 60) * 1000),
    );
    if (this.#opts.dutyCycle) this.#cycle(this.#opts.dutyCycle.awakeMs, "sleep");
  }

  /** One step of the duty cycle, then the next; failures just wait for the next turn. */
  #cycle(afterMs: number, next: "sleep" | "wake"): void {
    const dc = this.#opts.dutyCycle!;
    this.#cycleTimer = setTimeout(async () => {
      this.#cycleTimer = undefined;
      if (this.#state === "stopped") return;
      try {
        if (next === "sleep") {
          if (this.#state === "active") {
            await this.sleep(dc.sleepS);
            this.stats.sleeps++;
          }
        } else if (this.#state === "asleep") {
          await this.wake();
          await this.resume();
        }
      } catch (err) {
        log.debug("duty cycle step failed", { id: this.id, next, err });
      }
      if (this.#isStopped()) return; // stop() may have run meanwhile
      if (next === "sleep") this.#cycle(dc.sleepS * 1000, "wake");
      else this.#cycle(dc.awakeMs, "sleep");
    }, afterMs);
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (this.#reconnect !== undefined) clearTimeout(this.#reconnect);
    if (this.#cycleTimer !== undefined) clearTimeout(this.#cycleTimer);
    const wasActive = this.#state === "active";
    this.#state = "stopped";
    this.#cancelWait();
    if (wasActive && this.#conn) {
      await this.#conn.send(encodeMqttSn({ type: T.DISCONNECT }), this.#gw).catch(() => {});
    }
    await this.#chain.catch(() => {});
    this.#conn?.close();
    await this.#loop;
    this.#conn = undefined;
  }

  /** Goes to sleep for `seconds` [6.14]: the gateway buffers what is published for the node. */
  async sleep(seconds: number): Promise<void> {
    await this.#queue(async () => {
      await this.#exchange(
        { type: T.DISCONNECT, duration: seconds },
        (m) => m.type === T.DISCONNECT,
      );
      this.#state = "asleep";
    });
  }

  /** Wakes up: PINGREQ with the ClientId; buffered messages arrive before the PINGRESP. */
  async wake(): Promise<void> {
    await this.#queue(() =>
      this.#exchange({ type: T.PINGREQ, clientId: this.id }, (m) => m.type === T.PINGRESP)
    );
  }

  /** Back to active after sleeping: CONNECT again (the gateway flushes what it buffered). */
  async resume(): Promise<void> {
    await this.#queue(() => this.#connect());
  }

  // ---- session ----

  async #session(): Promise<void> {
    await this.#queue(async () => {
      this.#idOf.clear();
      this.#nameOf.clear();
      await this.#connect();
      // Subscribe before saying hello, so the gateway's discover finds us listening.
      for (const name of [`gateway/${this.id}/discover`, `gateway/${this.id}/+/set`]) {
        await this.#subscribe(name);
      }
      await this.#subscribe("gateway/check");
    });
    this.#check();
  }

  async #connect(): Promise<void> {
    const connack = await this.#exchange({
      type: T.CONNECT,
      cleanSession: true,
      protocolId: 1,
      duration: this.#opts.keepAliveS ?? 60,
      clientId: this.id,
    }, (m) => m.type === T.CONNACK);
    if (connack.returnCode !== 0) throw new Error(`CONNACK refused: ${connack.returnCode}`);
    this.#state = "active";
  }

  async #subscribe(filter: string): Promise<void> {
    const msgId = this.#nextMsgId();
    const suback = await this.#exchange(
      { type: T.SUBSCRIBE, qos: 1, topicIdType: 0, msgId, topicName: filter },
      (m) => m.type === T.SUBACK && m.msgId === msgId,
    );
    if (suback.returnCode !== 0) throw new Error(`SUBACK refused ${filter}: ${suback.returnCode}`);
    if (suback.topicId) this.#learn(filter, suback.topicId);
  }

  async #ping(): Promise<void> {
    await this.#exchange({ type: T.PINGREQ }, (m) => m.type === T.PINGRESP);
  }

  /** The gateway forgot us or stopped answering: CONNECT again after a pause. */
  #lost(why: string): void {
    if (this.#state === "stopped" || this.#reconnect !== undefined) return;
    this.#state = "disconnected";
    this.stats.reconnects++;
    log.debug("reconnecting", { id: this.id, why });
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      if (this.#state === "stopped") return;
      this.#session().catch((err) => this.#lost(String(err)));
    }, this.#opts.retryMs ?? 10_000);
  }

  // ---- publishing ----

  #check(): void {
    if (this.#state === "active") this.#publish("node/check", { id: this.id });
  }

  #publishValue(r: ResourceName): void {
    const isSensor = (SENSOR_RESOURCES as string[]).includes(r);
    // CBOR carries numbers for sensors; JSON keeps RIOT's unit strings, as pyaiot expects.
    const value = this.#opts.cbor && isSensor
      ? this.sensors.numeric(r as "temperature" | "pressure" | "humidity")
      : this.sensors.get(r);
    this.#publish(`node/${this.id}/${r}`, { value });
  }

  #publish(topic: string, body: unknown): void {
    const payload = this.#opts.cbor ? cbor.encodeCbor!(body) : te.encode(JSON.stringify(body));
    this.#queue(() => this.#publishQos1(topic, payload)).catch((err) => {
      log.debug("publish failed", { id: this.id, topic, err });
    });
  }

  async #publishQos1(topic: string, data: Uint8Array, again = true): Promise<void> {
    if (this.#state === "disconnected" || this.#state === "stopped") return;
    let topicId = this.#idOf.get(topic);
    if (topicId === undefined) {
      const msgId = this.#nextMsgId();
      const regack = await this.#exchange(
        { type: T.REGISTER, topicId: 0, msgId, topicName: topic },
        (m) => m.type === T.REGACK && m.msgId === msgId,
      );
      if (regack.returnCode !== 0) throw new Error(`REGACK refused ${topic}`);
      this.#learn(topic, regack.topicId!);
      topicId = regack.topicId!;
    }
    const msgId = this.#nextMsgId();
    const puback = await this.#exchange(
      { type: T.PUBLISH, qos: 1, topicIdType: 0, topicId, msgId, data },
      (m) => m.type === T.PUBACK && m.msgId === msgId,
    );
    if (puback.returnCode === 2 && again) {
      // The gateway lost our id (it restarted): register again, once [6.7].
      this.#idOf.delete(topic);
      return this.#publishQos1(topic, data, false);
    }
    this.stats.published++;
  }

  // ---- incoming ----

  async #receive(conn: Deno.DatagramConn): Promise<void> {
    // A node-sized buffer (IPv6's minimum MTU): receive() without one allocates 64 KiB each time.
    const buf = new Uint8Array(1280);
    while (true) {
      let data: Uint8Array;
      try {
        [data] = await conn.receive(buf);
        data = data.slice();
      } catch {
        return; // closed
      }
      let m: MqttSnMessage;
      try {
        m = decodeMqttSn(data);
      } catch (err) {
        log.debug("malformed datagram from gateway", { id: this.id, err });
        continue;
      }
      this.#onMessage(m);
    }
  }

  #onMessage(m: MqttSnMessage): void {
    switch (m.type) {
      case T.PUBLISH:
        return this.#onPublish(m);
      case T.REGISTER:
        this.#learn(m.topicName!, m.topicId!);
        return this.#send({ type: T.REGACK, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
      case T.PINGREQ:
        return this.#send({ type: T.PINGRESP });
      case T.PUBREL:
        return this.#send({ type: T.PUBCOMP, msgId: m.msgId });
    }
    if (this.#pending?.match(m)) {
      const p = this.#pending;
      this.#pending = undefined;
      p.resolve(m);
      return;
    }
    if (m.type === T.DISCONNECT && this.#state === "active") this.#lost("gateway DISCONNECT");
  }

  #onPublish(m: MqttSnMessage): void {
    if (m.qos === 1) {
      this.#send({ type: T.PUBACK, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
    } else if (m.qos === 2) this.#send({ type: T.PUBREC, msgId: m.msgId });
    const topic = m.topicIdType === 2
      ? td.decode(new Uint8Array([m.topicId! >> 8, m.topicId! & 255]))
      : this.#nameOf.get(m.topicId!);
    if (!topic) return;
    this.stats.received++;
    this.#onTopic(topic, td.decode(m.data));
  }

  /** pyaiot's MQTT node behaviour (shared/spec 4 and 6.2). */
  #onTopic(topic: string, payload: string): void {
    if (topic === "gateway/check") return this.#check();
    const levels = topic.split("/");
    if (levels[0] !== "gateway" || levels[1] !== this.id) return;
    if (levels.length === 3 && levels[2] === "discover") {
      if (payload === "resources") this.#publish(`node/${this.id}/resources`, this.#resources);
      else if (payload === "values") { for (const r of this.#resources) this.#publishValue(r); }
      return;
    }
    if (levels.length === 4 && levels[3] === "set") {
      const endpoint = levels[2];
      this.writes.push({ endpoint, payload });
      if (!this.#resources.includes(endpoint as ResourceName)) return;
      const accepted = this.sensors.set(endpoint as ResourceName, payload);
      log.debug("write", { id: this.id, endpoint, payload, accepted });
      // The new value (or the unchanged one when refused) goes back: the dashboard shows truth.
      this.#publishValue(endpoint as ResourceName);
    }
  }

  // ---- plumbing ----

  #learn(name: string, id: number): void {
    this.#idOf.set(name, id);
    this.#nameOf.set(id, name);
  }

  #nextMsgId(): number {
    this.#msgId = (this.#msgId % 0xffff) + 1;
    return this.#msgId;
  }

  #send(msg: MqttSnMessage): void {
    if (!this.#conn || this.#state === "stopped") return;
    this.#conn.send(encodeMqttSn(msg), this.#gw).catch((err) => {
      log.debug("send failed", { id: this.id, err });
    });
  }

  /** Runs exchanges one after another: a client has one request outstanding [6.13]. */
  #queue<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#chain.catch(() => {}).then(fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Sends `msg` and waits for the answer, resending after T_RETRY up to N_RETRY times. */
  async #exchange(
    msg: MqttSnMessage,
    match: (m: MqttSnMessage) => boolean,
  ): Promise<MqttSnMessage> {
    const retries = this.#opts.maxRetries ?? 3;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (this.#state === "stopped") throw new Error("node stopped");
      if (attempt > 0 && (msg.type === T.PUBLISH || msg.type === T.SUBSCRIBE)) msg.dup = true;
      const answer = new Promise<MqttSnMessage | undefined>((resolve) => {
        this.#pending = { match, resolve };
      });
      this.#send(msg);
      const got = await Promise.race([answer, this.#sleepFor(this.#opts.retryMs ?? 10_000)]);
      this.#cancelWait();
      if (got) return got;
      this.#pending?.resolve(undefined);
      this.#pending = undefined;
    }
    this.stats.failures++;
    this.#lost(`no answer to message type ${msg.type}`);
    throw new Error(`MQTT-SN gateway did not answer message type ${msg.type}`);
  }

  #sleepFor(ms: number): Promise<undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wait = undefined;
        resolve(undefined);
      }, ms);
      this.#wait = { timer, resolve: () => resolve(undefined) };
    });
  }

  #cancelWait(): void {
    if (!this.#wait) return;
    clearTimeout(this.#wait.timer);
    this.#wait.resolve();
    this.#wait = undefined;
    if (this.#state === "stopped" && this.#pending) {
      this.#pending.resolve(undefined);
      this.#pending = undefined;
    }
  }
}
