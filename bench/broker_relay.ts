// Broker relay benchmark (not a test): one gateway websocket fans out to 1, 10 and 100 web
// clients through a broker running in its own process, on loopback.
//   deno run -A bench/broker_relay.ts [--messages 20000] [--clients 1,10,100] [--binary]
// Throughput: the gateway sends as fast as the socket drains; the clock stops when every client
// has every frame. Latency: frames paced at 200/s, timestamp in the frame to arrival at each
// client. Broker CPU is read from /proc. Everything is bounded in count and time.
import { parseArgs } from "node:util";
import { fernetEncrypt } from "../common/fernet.ts";
import { formatKeys, generateKeys, type Keys } from "../common/keys.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "20000" },
    clients: { type: "string", default: "1,10,100" },
    binary: { type: "boolean", default: false },
    "max-seconds": { type: "string", default: "30" },
  },
}).values;
const MESSAGES = Number(args.messages);
const FANOUTS = args.clients.split(",").map(Number);
const MAX_MS = Number(args["max-seconds"]) * 1000;
const PACED_RATE = 200;
const PACED_MS = 2000;

type Encode = (v: unknown) => Uint8Array;

async function cborEncoder(): Promise<Encode> {
  const core = await import("../core-wasm/mod.ts") as Record<string, unknown>;
  if (typeof core.encodeCbor === "function") return core.encodeCbor as Encode;
  const { encode } = await import("cbor2");
  return (v) => encode(v);
}

async function startBrokerProcess(keys: Keys, dir: string) {
  await Deno.writeTextFile(`${dir}/keys`, formatKeys(keys));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../broker/main.ts", import.meta.url).pathname,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--key-file",
      `${dir}/keys`,
      "--gateway-rate-limit",
      "100000000",
      "--rate-limit",
      "100000",
    ],
    stdout: "null",
    stderr: "piped",
    env: { AIOT_LOG: "info" }, // the start-up line is how we learn the port
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const m = /msg="broker listening" url=(\S+)/.exec(text);
    if (m) {
      const binaryLink = /binaryLink=true/.test(text);
      (async () => { // keep draining so the broker never blocks on a full pipe
        while (!(await reader.read()).done) { /* discard */ }
      })();
      return { child, ws: m[1].replace("http", "ws"), binaryLink };
    }
  }
  child.kill("SIGKILL");
  throw new Error(`broker did not start: ${text}`);
}

function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ
}

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot open ${url}`));
  });
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  clients: number;
  msgs: number;
  msgsPerS: number;
  deliveriesPerS: number;
  lost: number;
  p50: number;
  p99: number;
  cpuUsPerMsg: number;
  bytesPerFrame: number;
}

async function run(
  brokerWs: string,
  pid: number,
  keys: Keys,
  fanout: number,
  encode: Encode | null,
): Promise<Row> {
  const token = await fernetEncrypt(keys.private, keys.secret);
  const protocols = encode ? ["token", token, "aiot.cbor"] : ["token", token];
  const gw = await open(`${brokerWs}/gw?name=bench`, protocols);
  if (encode && gw.protocol !== "aiot.cbor") throw new Error("broker refused the binary link");
  const clients: WebSocket[] = [];
  const received = new Array(fanout).fill(0);
  let latencies: number[] = [];
  let recordLatency = false;
  let allDone: (() => void) | null = null;
  let target = 0;
  let done = 0;
  for (let i = 0; i < fanout; i++) {
    const c = await open(`${brokerWs}/ws`);
    c.onmessage = (ev) => {
      const s = ev.data as string;
      const at = s.indexOf('"data":"t');
      if (at < 0) return;
      if (recordLatency) {
        const end = s.indexOf('"', at + 9);
        latencies.push(performance.now() - Number(s.slice(at + 9, end)));
      }
      if (++received[i] === target && ++done === fanout) allDone?.();
    };
    c.send('{"type":"new","data":"client"}');
    clients.push(c);
  }
  const frame = (t: number) => ({
    type: "update",
    uid: "bench-node",
    endpoint: "temperature",
    data: `t${t.toFixed(3)}`,
    dst: "all",
  });
  const send = (v: Record<string, unknown>) => gw.send(encode ? encode(v) : JSON.stringify(v));
  send({ type: "new", uid: "bench-node", dst: "all" });
  await sleep(200);
  const bytesPerFrame = encode
    ? encode(frame(1234.567)).length
    : JSON.stringify(frame(1234.567)).length;

  // Throughput.
  const msgs = Math.max(100, Math.floor(MESSAGES / Math.sqrt(fanout)));
  target = msgs;
  done = 0;
  received.fill(0);
  const finished = new Promise<void>((r) => allDone = r);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (let sent = 0; sent < msgs;) {
    for (let k = 0; k < 200 && sent < msgs; k++, sent++) send(frame(performance.now()));
    while (gw.bufferedAmount > 1 << 20) await sleep(1);
    await sleep(0);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([finished, new Promise((r) => timer = setTimeout(r, MAX_MS))]);
  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const delivered = received.reduce((a, b) => a + b, 0);

  // Latency, paced.
  await sleep(300);
  received.fill(0);
  done = 0;
  target = Math.round(PACED_RATE * PACED_MS / 1000);
  latencies = [];
  recordLatency = true;
  const pacedDone = new Promise<void>((r) => allDone = r);
  for (let i = 0; i < target; i++) {
    send(frame(performance.now()));
    await sleep(1000 / PACED_RATE);
  }
  await Promise.race([pacedDone, new Promise((r) => timer = setTimeout(r, 5000))]);
  clearTimeout(timer);
  recordLatency = false;
  latencies.sort((a, b) => a - b);

  const closes = [gw, ...clients].map((ws) => new Promise((r) => (ws.onclose = r, ws.close())));
  await Promise.all(closes);
  return {
    clients: fanout,
    msgs,
    msgsPerS: delivered / fanout / elapsed,
    deliveriesPerS: delivered / elapsed,
    lost: msgs * fanout - delivered,
    p50: pct(latencies, 0.5),
    p99: pct(latencies, 0.99),
    cpuUsPerMsg: cpu * 1e6 / Math.max(1, delivered / fanout),
    bytesPerFrame,
  };
}

const keys = generateKeys();
const dir = await Deno.makeTempDir();
const broker = await startBrokerProcess(keys, dir);
try {
  const encode = args.binary ? await cborEncoder() : null;
  if (args.binary && !broker.binaryLink) {
    console.log("binary link unavailable: core-wasm has no cborToJson yet");
    Deno.exit(0);
  }
  const rows: Row[] = [];
  for (const n of FANOUTS) rows.push(await run(broker.ws, broker.child.pid, keys, n, encode));
  const link = args.binary ? "CBOR binary" : "JSON text";
  console.log(
    `\nbroker relay, gateway link: ${link}, loopback, ${navigator.hardwareConcurrency} cpus`,
  );
  console.log(
    "| clients | frames | gw frames/s | deliveries/s | lost | p50 ms | p99 ms | broker CPU us/frame | gw bytes/frame |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.clients} | ${r.msgs} | ${r.msgsPerS.toFixed(0)} | ${
        r.deliveriesPerS.toFixed(0)
      } | ${r.lost} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${
        r.cpuUsPerMsg.toFixed(1)
      } | ${r.bytesPerFrame} |`,
    );
  }
} finally {
  broker.child.kill("SIGTERM");
  await broker.child.status;
  await Deno.remove(dir, { recursive: true });
}
