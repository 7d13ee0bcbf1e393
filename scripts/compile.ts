// `deno task compile [--out DIR] [--target TRIPLE]`: single-file binaries of the broker, the
// gateway and the dashboard (its static bundle embedded), for hosts without Deno.
//
// `deno compile` fetches the matching Deno runtime (denort) from dl.deno.land the first time;
// where that host is unreachable there is no offline fallback, so this says so in one line and
// exits non-zero instead of dumping the downloader's error chain.
import { parseArgs } from "node:util";

interface Target {
  name: string;
  entry: string;
  /** Files read at run time (not imported) that must travel inside the binary. */
  include?: string[];
}

const TARGETS: Target[] = [
  { name: "aiot-broker", entry: "broker/main.ts" },
  { name: "aiot-gateway", entry: "gateway/main.ts" },
  { name: "aiot-dashboard", entry: "dashboard/main.ts", include: ["dashboard/static"] },
];

const ROOT = new URL("../", import.meta.url);

/** The runtime download failed (no network, DNS, proxy), as opposed to a compile error. */
function isRuntimeDownloadFailure(stderr: string): boolean {
  return /dl\.deno\.land|denort/i.test(stderr) &&
    /error sending request|dns error|failed to lookup|connect|timed out|certificate/i.test(stderr);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "dist" },
      target: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("usage: deno task compile [--out DIR] [--target x86_64-unknown-linux-gnu|...]");
    return 0;
  }
  const outDir = new URL(`${values.out.replace(/\/?$/, "/")}`, ROOT);
  await Deno.mkdir(outDir, { recursive: true });
  for (const t of TARGETS) {
    const output = new URL(t.name, outDir).pathname;
    const args = ["compile", "-A", "--output", output];
    if (values.target) args.push("--target", values.target);
    for (const inc of t.include ?? []) args.push("--include", inc);
    args.push(t.entry);
    console.error(`compiling ${t.name} (${t.entry})...`);
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (out.code !== 0) {
      if (isRuntimeDownloadFailure(stderr)) {
        console.error(
          "error: deno compile must download the Deno runtime (denort) from dl.deno.land, " +
            "which is unreachable from this machine; run `deno task compile` where it is " +
            `reachable (stopped at ${t.name})`,
        );
      } else {
        console.error(stderr.trim().split("\n").slice(-15).join("\n"));
        console.error(`error: compiling ${t.name} failed`);
      }
      return 1;
    }
    console.error(`  -> ${output}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
