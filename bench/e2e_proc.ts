// Service subprocesses for the end-to-end benchmark and the smoke test: start one (waiting for
// its READY line), ask it for counters, read its CPU time and memory from /proc, stop it.
import type { Keys } from "../common/keys.ts";

const SERVICE = new URL("./e2e_service.ts", import.meta.url).pathname;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s.

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface ServiceProcess {
  role: string;
  pid: number;
  port: number;
  /** The service's own counters (link, registry, protocol stats). */
  stats(): Promise<Record<string, any>>;
  /** Memory after a full garbage collection in the service. */
  memory(): Promise<Memory>;
  /** User + system CPU seconds so far. */
  cpuSeconds(): number;
  /** Resident memory in bytes. */
  rssBytes(): number;
  /** Last lines the service wrote to stderr, for failure reports. */
  stderrTail(): string;
  stop(): Promise<void>;
}

/** CPU seconds of any process (also ones we did not start from here, e.g. mosquitto). */
export function procCpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

export function procRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Reads lines from a stream and hands each to `onLine`; resolves when the stream ends. */
async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
}

export async function startService(
  role: string,
  keys: Keys,
  flags: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const args = ["run", "-A", "--v8-flags=--expose-gc", SERVICE, role];
  for (const [k, v] of Object.entries(flags)) args.push(`--${k}=${v}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { AIOT_BENCH_KEYS: JSON.stringify(keys) },
  }).spawn();
  const writer = child.stdin.getWriter();
  const ready = Promise.withResolvers<number>();
  let pendingStats: ((v: Record<string, any>) => void)[] = [];
  let errTail: string[] = [];
  const stdoutDone = readLines(child.stdout, (line) => {
    if (line.startsWith("READY ")) ready.resolve(JSON.parse(line.slice(6)).port);
    else if (line.startsWith("STATS ")) pendingStats.shift()?.(JSON.parse(line.slice(6)));
  });
  const stderrDone = readLines(child.stderr, (line) => {
    errTail.push(line);
    if (errTail.length > 40) errTail = errTail.slice(-20);
  });
  const exited = child.status.then((s) => {
    ready.reject(new Error(`${role} exited with ${s.code}: ${errTail.join("\n")}`));
    for (const p of pendingStats) p({});
    pendingStats = [];
    return s;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const port = await Promise.race([
    ready.promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${role} not ready in ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]).catch(async (e) => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await writer.close().catch(() => {});
    await Promise.all([exited, stdoutDone, stderrDone]);
    throw e;
  }).finally(() => clearTimeout(timer));
  const enc = new TextEncoder();
  let stopped: Promise<void> | null = null;
  return {
    role,
    pid: child.pid,
    port,
    async stats() {
      const p = new Promise<Record<string, any>>((r) => pendingStats.push(r));
      await writer.write(enc.encode("stats\n"));
      return await p;
    },
    async memory() {
      const p = new Promise<Record<string, any>>((r) => pendingStats.push(r));
      await writer.write(enc.encode("mem\n"));
      return await p as Memory;
    },
    cpuSeconds: () => procCpuSeconds(child.pid),
    rssBytes: () => procRssBytes(child.pid),
    stderrTail: () => errTail.join("\n"),
    stop() {
      stopped ??= (async () => {
        // Closing stdin asks for a clean stop; SIGKILL if it takes too long.
        await writer.close().catch(() => {});
        const killer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }, 10_000);
        await exited;
        clearTimeout(killer);
        await Promise.all([stdoutDone, stderrDone]);
      })();
      return stopped;
    },
  };
}
