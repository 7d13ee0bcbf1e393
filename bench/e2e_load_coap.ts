// CoAP load path of the end-to-end benchmark (see e2e_load.ts).
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  type CoapOptionValue,
  CoapType,
  ContentFormat,
  decodeCoap,
  encodeCoap,
  encodeUint,
  getObserve,
  getUriPath,
  uriOptions,
} from "../core-wasm/mod.ts";
import { STAMP_ENDPOINT, type WebClients } from "./e2e_client.ts";
import { type LoadPath, NODE_MTU, registerWindowed } from "./e2e_load.ts";
import { NO_RESPONSE_2XX } from "../gateway/coap/message_layer.ts";

const encoder = new TextEncoder();

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

  /**
   * `bindHost`: the loopback address the nodes' sockets bind. One address has only about 28k
   * ephemeral ports, so fleets larger than that spread over 127.0.0.2, 127.0.0.3, ...
   */
  constructor(gatewayPort: number, readonly mode: CoapMode, readonly bindHost = "127.0.0.1") {
    this.label = mode === "Observe"
      ? "CoAP Observe (NON notifications)"
      : `CoAP ${mode} POST (No-Response)`;
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
    // A node-sized receive buffer: receive() without one allocates 64 KiB per datagram.
    const buf = new Uint8Array(NODE_MTU);
    while (true) {
      let data: Uint8Array, peer: Deno.Addr;
      try {
        [data, peer] = await n.conn.receive(buf);
        data = data.slice(); // the observer keeps a view of the token
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
      // Values as firmware/coap_node.ts posts them: No-Response for 2.xx (RFC 7967).
      options: path === "server"
        ? [...uriOptions(path, query), NO_RESPONSE_2XX]
        : uriOptions(path, query),
      payload: encoder.encode(text),
    });
  }

  #alive(n: CoapSimNode): void {
    this.#post(n, "alive", `alive:${n.id}`, false, [`port=${n.port}`]);
  }

  async setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void> {
    for (const id of ids) {
      const conn = Deno.listenDatagram({ transport: "udp", hostname: this.bindHost, port: 0 });
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
    const byId = new Map(this.#nodes.map((n) => [n.id, n]));
    await registerWindowed(
      clients,
      ids,
      STAMP_ENDPOINT,
      (id) => this.#alive(byId.get(id)!),
      timeoutMs,
    );
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
