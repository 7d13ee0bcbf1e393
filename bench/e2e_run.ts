// One measured run of the end-to-end benchmark: offer `count` stamped updates at `rate` through
// a load path, wait for them to drain to the web clients, and account for every one: delivered,
// or dropped with the counters that explain where.
import { stamp, summarize, type WebClients } from "./e2e_client.ts";
import type { LoadPath } from "./e2e_load.ts";
import { procCpuSeconds, type ServiceProcess } from "./e2e_proc.ts";

export interface RunContext {
  path: LoadPath;
  clients: WebClients;
  /** Processes whose CPU time is charged to this run. */
  measured: { name: string; pid: number }[];
  gateway: ServiceProcess;
  brokerPort: number;
}

export interface RunRow {
  label: string;
  clients: number;
  /** Target rate, and the rate the generator actually reached when it fell short. */
  offeredLabel: string;
  sent: number;
  /** Deliveries summed over clients. */
  delivered: number;
  dropped: number;
  why: string;
  p50: number;
  p99: number;
  p999: number;
  /** The rate the generator actually sent at. */
  reached: number;
  /** Delivered per second at the clients (first send to last delivery), per client. */
  deliveredPerSecond: number;
  cpuPer10k: Record<string, number>;
}

let runId = 0;

/** Flattens numeric counters of nested stats objects: `{link:{dropped:1}}` -> `link.dropped`. */
function flatten(o: Record<string, any>, prefix = "", out: Record<string, number> = {}) {
  for (const [k, v] of Object.entries(o ?? {})) {
    if (typeof v === "number") out[prefix + k] = v;
    else if (v && typeof v === "object") flatten(v, `${prefix}${k}.`, out);
  }
  return out;
}

/** Counters whose growth means a message was lost or refused somewhere. */
const LOSS_COUNTER = /dropped|malformed|refused|unknown|bad|error|overflow|lost|timeout|rejected/i;

async function brokerDrops(port: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (
      const m of text.matchAll(/^aiot_broker_dropped_messages_total\{reason="([^"]*)"\} (\d+)/gm)
    ) {
      out[`broker ${m[1]}`] = Number(m[2]);
    }
  } catch { /* metrics are an explanation, not a requirement */ }
  return out;
}

/** Datagrams the kernel dropped on the gateway's UDP socket (receive buffer full). */
function udpDrops(port: number): number {
  if (port === 0) return 0;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let drops = 0;
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 12 && f[1].endsWith(`:${hexPort}`)) drops += Number(f[f.length - 1]);
    }
  }
  return drops;
}

async function lossCounters(ctx: RunContext): Promise<Record<string, number>> {
  const gw = flatten(await ctx.gateway.stats());
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(gw)) if (LOSS_COUNTER.test(k)) out[`gateway ${k}`] = v;
  for (const [k, v] of Object.entries(ctx.path.stats())) out[`node ${k}`] = v;
  Object.assign(out, await brokerDrops(ctx.brokerPort));
  out["kernel UDP drops at gateway"] = udpDrops(ctx.gateway.port);
  return out;
}

const tick = () => new Promise((r) => setTimeout(r, 1));

export async function runLoad(
  ctx: RunContext,
  opts: { rate: number; count: number; drainMs?: number },
): Promise<RunRow> {
  const { path, clients } = ctx;
  const id = ++runId;
  const nodes = Math.max(1, path.nodeCount);
  const before = await lossCounters(ctx);
  const cpuBefore = ctx.measured.map((m) => procCpuSeconds(m.pid));
  clients.beginRun(id, opts.count);
  const t0 = performance.now();
  let sent = 0;
  // Paced in 1 ms ticks: each tick sends what is due by now, each message stamped as it goes.
  while (sent < opts.count) {
    const due = Math.min(opts.count, Math.floor((performance.now() - t0) * opts.rate / 1000) + 1);
    while (sent < due) {
      path.send(sent % nodes, stamp(id, sent));
      sent++;
    }
    await tick();
  }
  const sendMs = performance.now() - t0;
  const expected = opts.count * clients.sockets.length;
  // Drain: until all arrived, or nothing new for a while, or a hard bound.
  const drainEnd = performance.now() + (opts.drainMs ?? 15_000);
  while (clients.delivered < expected && clients.quietMs < 1500 && performance.now() < drainEnd) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const lastDelivery = performance.now() - Math.min(clients.quietMs, performance.now() - t0);
  const res = clients.endRun();
  const cpuAfter = ctx.measured.map((m) => procCpuSeconds(m.pid));
  const after = await lossCounters(ctx);
  const lat = summarize(res.latenciesMs);
  const dropped = res.expected - res.delivered;
  const why: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) why.push(`${k} +${d}`);
  }
  if (dropped > 0 && why.length === 0) why.push("not delivered, no counter moved");
  if (res.duplicates > 0) why.push(`${res.duplicates} duplicates ignored`);
  const perClientDelivered = res.delivered / clients.sockets.length;
  const cpuPer10k: Record<string, number> = {};
  ctx.measured.forEach((m, i) => {
    cpuPer10k[m.name] = perClientDelivered > 0
      ? (cpuAfter[i] - cpuBefore[i]) / (perClientDelivered / 10_000)
      : NaN;
  });
  const achieved = opts.count / (sendMs / 1000);
  const deliveredPerSecond = perClientDelivered / (Math.max(1, lastDelivery - t0) / 1000);
  return {
    label: path.label,
    clients: clients.sockets.length,
    offeredLabel: achieved < opts.rate * 0.95
      ? `${opts.rate} (reached ${Math.round(achieved)})`
      : `${opts.rate}`,
    sent: opts.count,
    delivered: res.delivered,
    dropped,
    why: why.join("; "),
    ...lat,
    reached: achieved,
    deliveredPerSecond,
    cpuPer10k,
  };
}
