// Shared harness for the CoAP gateway tests: a raw UDP CoAP peer that records every datagram it
// gets (decoded with core-wasm) and sends exact messages, plus small waiting helpers.
import { type CoapMessage, decodeCoap, encodeCoap } from "../core-wasm/mod.ts";

export const EMPTY = new Uint8Array(0);
export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

export interface Received {
  msg: CoapMessage;
  bytes: Uint8Array;
  from: Deno.NetAddr;
  at: number;
}

/** A bare UDP socket speaking CoAP byte by byte: the test decides every reply. */
export class RawPeer {
  readonly conn: Deno.DatagramConn;
  readonly port: number;
  readonly log: Received[] = [];
  #queue: Received[] = [];
  #waiters: (() => void)[] = [];
  #loop: Promise<void>;
  #closed = false;

  constructor() {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.port = (this.conn.addr as Deno.NetAddr).port;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        const [bytes, addr] = await this.conn.receive();
        let msg: CoapMessage;
        try {
          msg = decodeCoap(bytes);
        } catch {
          continue;
        }
        const r = { msg, bytes: bytes.slice(), from: addr as Deno.NetAddr, at: performance.now() };
        this.log.push(r);
        this.#queue.push(r);
        for (const w of this.#waiters.splice(0)) w();
      } catch {
        return;
      }
    }
  }

  send(msg: CoapMessage | Uint8Array, port: number): Promise<number> {
    const bytes = msg instanceof Uint8Array ? msg : encodeCoap(msg);
    return this.conn.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
  }

  /** The next datagram matching `pred` (earlier non-matching ones stay queued). */
  async next(pred: (m: CoapMessage) => boolean = () => true, timeoutMs = 5_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const i = this.#queue.findIndex((r) => pred(r.msg));
      if (i >= 0) return this.#queue.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching datagram in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Datagrams still queued (for "nothing else arrived" checks). */
  pending(pred: (m: CoapMessage) => boolean = () => true): Received[] {
    return this.#queue.filter((r) => pred(r.msg));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.conn.close();
    await this.#loop;
    for (const w of this.#waiters.splice(0)) w();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
