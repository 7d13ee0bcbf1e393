// MQTT-SN load path of the end-to-end benchmark (see e2e_load.ts).
import { decodeMqttSn, encodeMqttSn, type MqttSnMessage, MqttSnType } from "../core-wasm/mod.ts";
import { STAMP_ENDPOINT, type WebClients } from "./e2e_client.ts";
import { type LoadPath, NODE_MTU, registerWindowed } from "./e2e_load.ts";

const encoder = new TextEncoder();

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
  /** Set-up requests sent again after 2 s without a reply (registration cost, not value loss). */
  #setupRetries = 0;

  /** `bindHost`: as for CoapLoad, the loopback address the nodes' sockets bind. */
  constructor(gatewayPort: number, readonly qos: 0 | 1, readonly bindHost = "127.0.0.1") {
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
      this.#setupRetries++;
    }
    throw new Error(`MQTT-SN node ${n.id}: no reply to type ${msg.type}`);
  }

  async #read(n: SnNode, onPublish: (n: SnNode, topic: string, text: string) => void) {
    // A node-sized receive buffer: receive() without one allocates 64 KiB per datagram.
    const buf = new Uint8Array(NODE_MTU);
    while (true) {
      let data: Uint8Array;
      try {
        [data] = await n.conn.receive(buf);
        data = data.slice();
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
    const conn = Deno.listenDatagram({ transport: "udp", hostname: this.bindHost, port: 0 });
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
    const byId = new Map(this.#nodes.map((n) => [n.id, n]));
    await registerWindowed(clients, ids, STAMP_ENDPOINT, (id) => {
      const n = byId.get(id)!;
      this.#publish(n, "node/check", JSON.stringify({ id }), 1);
    }, timeoutMs);
  }

  send(index: number, value: string): void {
    const n = this.#nodes[index];
    this.#publish(n, `node/${n.id}/${STAMP_ENDPOINT}`, `{"value":"${value}"}`, this.qos);
  }

  stats(): Record<string, number> {
    return { ...this.#counts, "set-up retries": this.#setupRetries };
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
