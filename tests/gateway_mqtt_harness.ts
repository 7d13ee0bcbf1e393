// Harness for the MQTT and websocket gateway tests: free ports, a real mosquitto process, a web
// client on the real broker, and a bounded wait. Not a test file itself.
import { generateKeys, type Keys } from "../common/keys.ts";
import { startBroker } from "../broker/server.ts";

/** A port that was free a moment ago (bind 0 on loopback, read it, close). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `cond` every 25 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

export interface Mosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts Debian's mosquitto on `port` (fresh free port by default) from a config file. */
export async function startMosquitto(port = freePort()): Promise<Mosquitto> {
  const dir = await Deno.makeTempDir({ prefix: "aiot-mosq-" });
  const conf = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`,
  );
  const child = new Deno.Command("mosquitto", {
    args: ["-c", conf],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(`mosquitto on ${port}`, () => canConnect(port), 10_000);
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop() {
      stopped ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        await child.status;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      })();
      return stopped;
    },
  };
}

/** Runs a mosquitto client program (mosquitto_pub/_sub) to completion. */
export async function mosquittoClient(
  program: "mosquitto_pub" | "mosquitto_sub",
  args: string[],
): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "null" }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

export interface TestBroker {
  port: number;
  keys: Keys;
  gwUrl: string;
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const keys = generateKeys();
  const broker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  return {
    port: broker.port,
    keys,
    gwUrl: `ws://127.0.0.1:${broker.port}/gw`,
    close: () => broker.close(),
  };
}

/** A pyaiot web client: `/ws`, sends `new`, records every frame it receives. */
export class WebClient {
  readonly frames: Record<string, unknown>[] = [];
  #ws: WebSocket;
  #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((r) => ws.addEventListener("close", () => r()));
    ws.onmessage = (ev) => {
      try {
        this.frames.push(JSON.parse(String(ev.data)));
      } catch {
        this.frames.push({ unparsable: String(ev.data) });
      }
    };
  }

  static async open(brokerPort: number): Promise<WebClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${brokerPort}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("web client could not connect"));
    });
    ws.send(JSON.stringify({ type: "new", data: "client" }));
    return new WebClient(ws);
  }

  write(uid: string, endpoint: string, payload: string): void {
    this.#ws.send(JSON.stringify({ type: "update", data: { uid, endpoint, payload } }));
  }

  has(type: string, uid: string, endpoint?: string, data?: unknown): boolean {
    return this.frames.some((f) =>
      f.type === type && f.uid === uid &&
      (endpoint === undefined || f.endpoint === endpoint) &&
      (data === undefined || JSON.stringify(f.data) === JSON.stringify(data))
    );
  }

  /** The latest value the web side saw for uid/endpoint. */
  value(uid: string, endpoint: string): unknown {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (f.type === "update" && f.uid === uid && f.endpoint === endpoint) return f.data;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.#ws.close();
    await this.#closed;
  }
}
