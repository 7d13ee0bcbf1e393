// Load paths of the end-to-end benchmark: many simulated nodes of one protocol behind one
// socket or client, speaking exactly what the firmware nodes speak (same topics, same framing
// from core-wasm), stripped to one stamped resource and an LED so the generator is not what
// saturates. Each path answers the gateway's discovery and LED writes like a node would.
import mqtt, { type MqttClient } from "mqtt";
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  type CoapOptionValue,
  CoapType,
  ContentFormat,
  decodeCoap,
  decodeMqttSn,
  encodeCoap,
  encodeMqttSn,
  encodeUint,
  getObserve,
  getUriPath,
  type MqttSnMessage,
  MqttSnType,
  uriOptions,
} from "../core-wasm/mod.ts";
import { STAMP_ENDPOINT, type WebClients } from "./e2e_client.ts";

const encoder = new TextEncoder();

export interface LoadPath {
  /** Row label, e.g. "MQTT QoS 1". */
  readonly label: string;
  /** Nodes set up; values are sent round-robin over them. */
  readonly nodeCount: number;
  /** Brings the nodes up and waits until client 0 sees every node's stamp resource. */
  setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void>;
  /** One stamped value from node `index`. */
  send(index: number, value: string): void;
  /** Loss counted on the node side (send errors, unacknowledged CONs, ...). */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * Waits for every id's `endpoint` at client 0, failing with how many are missing. When
 * registration stalls (a discovery message lost under the start-up burst), `nudge` re-announces
 * the missing nodes (in waves: see inWaves).
 */
export async function waitForNodes(
  clients: WebClients,
  ids: string[],
  endpoint: string,
  timeoutMs: number,
  nudge?: (missing: string[]) => void,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let missing = ids;
  let lastProgress = performance.now();
  while (performance.now() < deadline) {
    const still = missing.filter((id) => !clients.has(id, endpoint));
    if (still.length === 0) return;
    if (still.length < missing.length) lastProgress = performance.now();
    missing = still;
    if (nudge && performance.now() - lastProgress > 2000) {
      nudge(missing);
      lastProgress = performance.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${missing.length} of ${ids.length} nodes not registered in ${timeoutMs} ms`);
}

/**
 * Calls `announce` for every item in waves, so a big fleet boots like one, not like a flood: a
 * UDP socket's default receive buffer (212 KiB) holds only about 270 small datagrams.
 */
export async function inWaves<T>(items: T[], announce: (item: T) => void, perWave = 100) {
  for (let i = 0; i < items.length; i += perWave) {
    for (const item of items.slice(i, i + perWave)) announce(item);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * MQTT nodes as firmware/mqtt_node.ts behaves (pyaiot's topics), many node ids on one MQTT
 * connection: the MQTT broker and gateway see the same traffic as from separate clients.
 */
export class MqttLoad implements LoadPath {
  readonly label: string;
  #client: MqttClient | null = null;
  #ids: string[] = [];
  #errors = 0;

  constructor(readonly url: string, readonly qos: 0 | 1 = 1, label?: string) {
    this.label = label ?? `MQTT QoS ${qos}`;
  }

  get nodeCount(): number {
    return this.#ids.length;
  }

  async setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void> {
    this.#ids = ids;
    const known = new Set(ids);
    const client = await mqtt.connectAsync(this.url, {
      clientId: `bench-load-${crypto.randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    // Nodes send small packets one at a time: Nagle's algorithm against delayed ACKs would add
    // ~40 ms to every lone message (the LED confirmation), so it is off, as on a real device.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.#client = client;
    const pub = (topic: string, value: unknown) =>
      client.publish(topic, JSON.stringify(value), { qos: 1 });
    client.on("message", (topic, payload) => {
      const text = payload.toString();
      if (topic === "gateway/check") {
        void inWaves(ids, (id) => pub("node/check", { id }));
        return;
      }
      const [, id, a, b] = topic.split("/");
      if (!known.has(id)) return;
      if (a === "discover" && text === "resources") {
        pub(`node/${id}/resources`, [STAMP_ENDPOINT, "led"]);
      } else if (a === "discover" && text === "values") {
        pub(`node/${id}/${STAMP_ENDPOINT}`, { value: "init" });
        pub(`node/${id}/led`, { value: "0" });
      } else if (a === "led" && b === "set") {
        // A node confirms a write by publishing the new value (mqtt_node.ts does the same).
        pub(`node/${id}/led`, { value: text });
      }
    });
    await client.subscribeAsync(["gateway/check", "gateway/+/discover", "gateway/+/led/set"], {
      qos: 1,
    });
    await inWaves(ids, (id) => pub("node/check", { id }));
    await waitForNodes(clients, ids, STAMP_ENDPOINT, timeoutMs, (missing) => {
      void inWaves(missing, (id) => pub("node/check", { id }));
    });
  }

  send(index: number, value: string): void {
    this.#client!.publish(
      `node/${this.#ids[index]}/${STAMP_ENDPOINT}`,
      `{"value":"${value}"}`,
      { qos: this.qos },
      (err) => {
        if (err) this.#errors++;
      },
    );
  }

  stats(): Record<string, number> {
    return { "publish error": this.#errors };
  }

  async close(): Promise<void> {
    await this.#client?.endAsync(true);
    this.#client = null;
  }
}

interface SnNode {
  id: string;
  conn: Deno.DatagramConn;
  /** Topic ids the gateway gave: ours (REGACK) and subscriptions (SUBACK), both ways. */
  ids: Map<string, number>;
  names: Map<number, string>;
  msgId: number;
  waiters: Map<string, (m: MqttSnMessage) => void>;
  reader: Promise<void>;
}

/**
 * MQTT-SN v1.2 nodes (pyaiot's topics over a native MQTT-SN gateway, as firmware/mqttsn_node.ts
 * and RIOT's emcute app): one UDP socket per node, framing by core-wasm. QoS 0 or 1 values.
 */
export class MqttSnLoad implements LoadPath {
  readonly label: string;
  #nodes: SnNode[] = [];
  #gw: Deno.NetAddr;
  #counts = { "send error": 0, "PUBACK refused": 0 };

  constructor(gatewayPort: number, readonly qos: 0 | 1) {
    this.label = `MQTT-SN QoS ${qos}`;
    this.#gw = { transport: "udp", hostname: "127.0.0.1", port: gatewayPort };
  }

  get nodeCount(): number {
    return this.#nodes.length;
  }

  #send(n: SnNode, msg: MqttSnMessage): void {
    n.conn.send(encodeMqttSn(msg), this.#gw).catch(() => this.#counts["send error"]++);
  }

  #nextId(n: SnNode): number {
    n.msgId = n.msgId % 0xffff + 1;
    return n.msgId;
  }

  /** Sends and waits for the reply of `replyType` with the same msgId (or any, for CONNACK). */
  async #request(n: SnNode, msg: MqttSnMessage, replyType: number): Promise<MqttSnMessage> {
    const key = `${replyType}:${msg.msgId ?? 0}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const reply = new Promise<MqttSnMessage>((r) => n.waiters.set(key, r));
      this.#send(n, msg);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        reply,
        new Promise<null>((r) => timer = setTimeout(() => r(null), 2000)),
      ]);
      clearTimeout(timer);
      if (got) return got;
    }
    throw new Error(`MQTT-SN node ${n.id}: no reply to type ${msg.type}`);
  }

  async #read(n: SnNode, onPublish: (n: SnNode, topic: string, text: string) => void) {
    while (true) {
      let data: Uint8Array;
      try {
        [data] = await n.conn.receive();
      } catch {
        return; // closed
      }
      let m: MqttSnMessage;
      try {
        m = decodeMqttSn(data);
      } catch {
        continue;
      }
      if (m.type === MqttSnType.PUBLISH) {
        if (m.qos === 1) {
          this.#send(n, {
            type: MqttSnType.PUBACK,
            topicId: m.topicId,
            msgId: m.msgId,
            returnCode: 0,
          });
        }
        const topic = n.names.get(m.topicId ?? -1);
        if (topic) onPublish(n, topic, new TextDecoder().decode(m.data));
      } else if (m.type === MqttSnType.REGISTER) {
        // The gateway names a topic before publishing on it (wildcards, or after a restart).
        n.names.set(m.topicId!, m.topicName!);
        this.#send(n, {
          type: MqttSnType.REGACK,
          topicId: m.topicId,
          msgId: m.msgId,
          returnCode: 0,
        });
      } else if (m.type === MqttSnType.PUBACK) {
        // QoS 1 values: the gateway's verdict on each (0 accepted; else congestion/invalid id).
        if (m.returnCode !== 0) this.#counts["PUBACK refused"]++;
      } else {
        const key = `${m.type}:${m.type === MqttSnType.CONNACK ? 0 : m.msgId}`;
        const w = n.waiters.get(key);
        if (w) {
          n.waiters.delete(key);
          w(m);
        }
      }
    }
  }

  #publish(n: SnNode, topic: string, text: string, qos: 0 | 1): void {
    const topicId = n.ids.get(topic);
    if (topicId === undefined) return;
    const msgId = qos === 1 ? this.#nextId(n) : 0;
    this.#send(n, {
      type: MqttSnType.PUBLISH,
      qos,
      dup: false,
      retain: false,
      topicIdType: 0,
      topicId,
      msgId,
      data: encoder.encode(text),
    });
  }

  async #connect(id: string): Promise<SnNode> {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const n: SnNode = {
      id,
      conn,
      ids: new Map(),
      names: new Map(),
      msgId: 0,
      waiters: new Map(),
      reader: Promise.resolve(),
    };
    n.reader = this.#read(n, (node, topic, text) => this.#onGatewayPublish(node, topic, text));
    const ack = await this.#request(n, {
      type: MqttSnType.CONNECT,
      cleanSession: true,
      will: false,
      protocolId: 1,
      duration: 600,
      clientId: id,
    }, MqttSnType.CONNACK);
    if (ack.returnCode !== 0) throw new Error(`CONNACK ${ack.returnCode} for ${id}`);
    for (const topic of [`gateway/${id}/discover`, `gateway/${id}/led/set`]) {
      const msgId = this.#nextId(n);
      const sub = await this.#request(n, {
        type: MqttSnType.SUBSCRIBE,
        dup: false,
        qos: 1,
        topicIdType: 0,
        msgId,
        topicName: topic,
      }, MqttSnType.SUBACK);
      n.names.set(sub.topicId!, topic);
    }
    for (
      const topic of [
        "node/check",
        `node/${id}/resources`,
        `node/${id}/${STAMP_ENDPOINT}`,
        `node/${id}/led`,
      ]
    ) {
      const msgId = this.#nextId(n);
      const reg = await this.#request(
        n,
        { type: MqttSnType.REGISTER, topicId: 0, msgId, topicName: topic },
        MqttSnType.REGACK,
      );
      n.ids.set(topic, reg.topicId!);
    }
    return n;
  }

  #onGatewayPublish(n: SnNode, topic: string, text: string): void {
    if (topic.endsWith("/discover") && text === "resources") {
      this.#publish(n, `node/${n.id}/resources`, JSON.stringify([STAMP_ENDPOINT, "led"]), 1);
    } else if (topic.endsWith("/discover") && text === "values") {
      this.#publish(n, `node/${n.id}/${STAMP_ENDPOINT}`, '{"value":"init"}', 1);
      this.#publish(n, `node/${n.id}/led`, '{"value":"0"}', 1);
    } else if (topic.endsWith("/led/set")) {
      this.#publish(n, `node/${n.id}/led`, JSON.stringify({ value: text }), 1);
    }
  }

  async setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void> {
    for (let i = 0; i < ids.length; i += 50) {
      this.#nodes.push(...await Promise.all(ids.slice(i, i + 50).map((id) => this.#connect(id))));
    }
    const check = (n: SnNode) => this.#publish(n, "node/check", JSON.stringify({ id: n.id }), 1);
    await inWaves(this.#nodes, check);
    const byId = new Map(this.#nodes.map((n) => [n.id, n]));
    await waitForNodes(clients, ids, STAMP_ENDPOINT, timeoutMs, (missing) => {
      void inWaves(missing, (id) => check(byId.get(id)!));
    });
  }

  send(index: number, value: string): void {
    const n = this.#nodes[index];
    this.#publish(n, `node/${n.id}/${STAMP_ENDPOINT}`, `{"value":"${value}"}`, this.qos);
  }

  stats(): Record<string, number> {
    return { ...this.#counts };
  }

  async close(): Promise<void> {
    for (const n of this.#nodes) {
      this.#send(n, { type: MqttSnType.DISCONNECT });
    }
    await new Promise((r) => setTimeout(r, 50));
    for (const n of this.#nodes) n.conn.close();
    await Promise.all(this.#nodes.map((n) => n.reader));
    this.#nodes = [];
  }
}

export type CoapMode = "NON" | "CON" | "Observe";

interface CoapSimNode {
  id: string;
  conn: Deno.DatagramConn;
  port: number;
  mid: number;
  observeSeq: number;
  /** The gateway's observation of /stamp: its token and where notifications go. */
  observer: { token: Uint8Array; peer: Deno.NetAddr } | null;
  reader: Promise<void>;
}

const EMPTY = new Uint8Array(0);

/**
 * CoAP nodes as RIOT's gcoap firmwares and firmware/coap_node.ts behave: each its own UDP socket
 * (the gateway tells nodes apart by endpoint), `alive:<uid>` to /alive, a CoAP server with
 * /.well-known/core, GET, PUT led, and Observe. Values go as NON or CON POSTs to the gateway's
 * /server (`stamp:<value>`), or as Observe notifications (NON) to the gateway's observation.
 */
export class CoapLoad implements LoadPath {
  readonly label: string;
  #nodes: CoapSimNode[] = [];
  #gw: Deno.NetAddr;
  #counts = { "send error": 0, "no observer": 0 };
  #pendingCon = new Map<string, number>();
  #unacked = 0;

  constructor(gatewayPort: number, readonly mode: CoapMode) {
    this.label = mode === "Observe" ? "CoAP Observe (NON notifications)" : `CoAP ${mode} POST`;
    this.#gw = { transport: "udp", hostname: "127.0.0.1", port: gatewayPort };
  }

  get nodeCount(): number {
    return this.#nodes.length;
  }

  #send(n: CoapSimNode, msg: CoapMessage, to: Deno.NetAddr = this.#gw): void {
    n.conn.send(encodeCoap(msg), to).catch(() => this.#counts["send error"]++);
  }

  #mid(n: CoapSimNode): number {
    n.mid = (n.mid + 1) & 0xffff;
    return n.mid;
  }

  #links(): string {
    const obs = this.mode === "Observe" ? ";obs" : "";
    return `</${STAMP_ENDPOINT}>;rt="${STAMP_ENDPOINT}";if="core.s";ct=0${obs},` +
      `</led>;rt="core.led";if="core.a";ct=0`;
  }

  /** Answers a request from the gateway: piggybacked on the ACK for CON, NON for NON. */
  #reply(
    n: CoapSimNode,
    req: CoapMessage,
    peer: Deno.NetAddr,
    code: number,
    body: string,
    options: CoapOptionValue[] = [],
  ) {
    this.#send(n, {
      type: req.type === CoapType.CON ? CoapType.ACK : CoapType.NON,
      code,
      messageId: req.type === CoapType.CON ? req.messageId : this.#mid(n),
      token: req.token,
      options,
      payload: encoder.encode(body),
    }, peer);
  }

  #serve(n: CoapSimNode, req: CoapMessage, peer: Deno.NetAddr): void {
    const path = getUriPath(req);
    const text = ContentFormat.TEXT;
    if (path === ".well-known/core" && req.code === CoapCode.GET) {
      this.#reply(n, req, peer, CoapCode.CONTENT, this.#links(), [
        { number: CoapOption.CONTENT_FORMAT, value: encodeUint(ContentFormat.LINK_FORMAT) },
      ]);
    } else if (path === STAMP_ENDPOINT && req.code === CoapCode.GET) {
      const opts: CoapOptionValue[] = [];
      if (this.mode === "Observe" && getObserve(req) === 0) {
        n.observer = { token: req.token, peer };
        opts.push({ number: CoapOption.OBSERVE, value: encodeUint(++n.observeSeq) });
      }
      opts.push({ number: CoapOption.CONTENT_FORMAT, value: encodeUint(text) });
      this.#reply(n, req, peer, CoapCode.CONTENT, "init", opts);
    } else if (path === "led" && req.code === CoapCode.GET) {
      this.#reply(n, req, peer, CoapCode.CONTENT, "0", [
        { number: CoapOption.CONTENT_FORMAT, value: encodeUint(text) },
      ]);
    } else if (path === "led" && (req.code === CoapCode.PUT || req.code === CoapCode.POST)) {
      // RIOT's LED answers 2.04 `led:<v>`; the gateway echoes the write on 2.04.
      this.#reply(n, req, peer, CoapCode.CHANGED, `led:${new TextDecoder().decode(req.payload)}`);
    } else {
      this.#reply(n, req, peer, CoapCode.NOT_FOUND, "");
    }
  }

  async #read(n: CoapSimNode): Promise<void> {
    while (true) {
      let data: Uint8Array, peer: Deno.Addr;
      try {
        [data, peer] = await n.conn.receive();
      } catch {
        return; // closed
      }
      let m: CoapMessage;
      try {
        m = decodeCoap(data);
      } catch {
        continue;
      }
      if (m.code >= CoapCode.GET && m.code <= CoapCode.DELETE) {
        this.#serve(n, m, peer as Deno.NetAddr);
      } else if (m.type === CoapType.ACK || m.type === CoapType.RST) {
        this.#pendingCon.delete(`${n.port}:${m.messageId}`);
        if (m.type === CoapType.RST && n.observer) n.observer = null; // observation refused
      }
    }
  }

  #post(n: CoapSimNode, path: string, text: string, con: boolean, query?: string[]): void {
    const messageId = this.#mid(n);
    if (con) this.#pendingCon.set(`${n.port}:${messageId}`, performance.now());
    this.#send(n, {
      type: con ? CoapType.CON : CoapType.NON,
      code: CoapCode.POST,
      messageId,
      token: EMPTY,
      options: uriOptions(path, query),
      payload: encoder.encode(text),
    });
  }

  #alive(n: CoapSimNode): void {
    this.#post(n, "alive", `alive:${n.id}`, false, [`port=${n.port}`]);
  }

  async setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void> {
    for (const id of ids) {
      const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const n: CoapSimNode = {
        id,
        conn,
        port: (conn.addr as Deno.NetAddr).port,
        mid: Math.floor(Math.random() * 0xffff),
        observeSeq: 0,
        observer: null,
        reader: Promise.resolve(),
      };
      n.reader = this.#read(n);
      this.#nodes.push(n);
    }
    // Announced in waves, as boards booting one after another.
    await inWaves(this.#nodes, (n) => this.#alive(n));
    const byId = new Map(this.#nodes.map((n) => [n.id, n]));
    await waitForNodes(clients, ids, STAMP_ENDPOINT, timeoutMs, (missing) => {
      void inWaves(missing, (id) => this.#alive(byId.get(id)!));
    });
    if (this.mode === "Observe") {
      // Discovery shows the value before the observation is confirmed: wait for all observers.
      const deadline = performance.now() + timeoutMs;
      while (this.#nodes.some((n) => !n.observer) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  send(index: number, value: string): void {
    const n = this.#nodes[index];
    if (this.mode !== "Observe") {
      this.#post(n, "server", `${STAMP_ENDPOINT}:${value}`, this.mode === "CON");
      return;
    }
    if (!n.observer) {
      this.#counts["no observer"]++;
      return;
    }
    n.observeSeq = (n.observeSeq + 1) & 0xffffff;
    this.#send(n, {
      type: CoapType.NON,
      code: CoapCode.CONTENT,
      messageId: this.#mid(n),
      token: n.observer.token,
      options: [
        { number: CoapOption.OBSERVE, value: encodeUint(n.observeSeq) },
        { number: CoapOption.CONTENT_FORMAT, value: encodeUint(ContentFormat.TEXT) },
      ],
      payload: encoder.encode(value),
    }, n.observer.peer);
  }

  stats(): Record<string, number> {
    // A CON without its ACK after 1 s is lost (the lean path does not retransmit; the gateway
    // ACKs in well under a millisecond when it gets the message at all).
    const now = performance.now();
    for (const [k, t] of this.#pendingCon) {
      if (now - t > 1000) {
        this.#unacked++;
        this.#pendingCon.delete(k);
      }
    }
    return { ...this.#counts, "CON not acknowledged": this.#unacked };
  }

  async close(): Promise<void> {
    for (const n of this.#nodes) n.conn.close();
    await Promise.all(this.#nodes.map((n) => n.reader));
    this.#nodes = [];
    this.#pendingCon.clear();
  }
}
