// A raw MQTT-SN test peer on a real UDP socket: sends messages or literal bytes to a gateway and
// hands back what arrives, in order, with timeouts. No protocol logic: tests spell it out.
import { decodeMqttSn, encodeMqttSn, type MqttSnMessage } from "../../core-wasm/mod.ts";

export class RawMqttSnClient {
  readonly conn: Deno.DatagramConn;
  readonly gw: Deno.NetAddr;
  readonly received: Uint8Array[] = [];
  #waiter?: () => void;
  #loop: Promise<void>;
  #closed = false;

  constructor(gatewayPort: number, gatewayHost = "127.0.0.1") {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.gw = { transport: "udp", hostname: gatewayHost, port: gatewayPort };
    this.#loop = this.#run();
  }

  get port(): number {
    return (this.conn.addr as Deno.NetAddr).port;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        const [data] = await this.conn.receive();
        this.received.push(data.slice());
        this.#waiter?.();
      } catch {
        if (this.#closed) return;
      }
    }
  }

  async send(msg: MqttSnMessage | Uint8Array, to: Deno.NetAddr = this.gw): Promise<void> {
    await this.conn.send(msg instanceof Uint8Array ? msg : encodeMqttSn(msg), to);
  }

  /** The next datagram's raw bytes, or throws after `timeoutMs`. */
  async recvRaw(timeoutMs = 3000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no datagram within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.received.shift()!;
  }

  async recv(timeoutMs = 3000): Promise<MqttSnMessage> {
    return decodeMqttSn(await this.recvRaw(timeoutMs));
  }

  /** The next message, which must be of `type`. */
  async expect(type: number, timeoutMs = 3000): Promise<MqttSnMessage> {
    const m = await this.recv(timeoutMs);
    if (m.type !== type) {
      throw new Error(`expected type 0x${type.toString(16)}, got ${JSON.stringify(m)}`);
    }
    return m;
  }

  /** Asserts nothing arrives for `ms`. */
  async quiet(ms: number): Promise<void> {
    try {
      const b = await this.recvRaw(ms);
      throw new Error(`unexpected datagram ${JSON.stringify(decodeMqttSn(b))}`);
    } catch (err) {
      if (!(err as Error).message.startsWith("no datagram")) throw err;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.conn.close();
    await this.#loop;
  }
}
