// `deno task start` end to end: the whole system as a user starts it (one subprocess), seen from
// outside through the broker's REST API, then stopped with Ctrl-C.
import { equal, match, ok } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

function freeTcpPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function freeUdpPort(): number {
  const s = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

async function tcpOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

function udpFree(port: number): boolean {
  try {
    Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
    return true;
  } catch {
    return false;
  }
}

/** Reads a child's stream to the end in the background (a full pipe would block the child). */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (text += chunk) }),
  );
  return { text: () => text, done };
}

function startProcess(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/start.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROXY: "127.0.0.1,localhost" },
  }).spawn();
  return { child, stdout: collect(child.stdout), stderr: collect(child.stderr) };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "deno task start: nodes of all four protocols reach the broker, SIGINT stops it all",
  sanitizeResources: true,
  sanitizeOps: true,
}, async () => {
  const ports = {
    broker: freeTcpPort(),
    dashboard: freeTcpPort(),
    ws: freeTcpPort(),
    mqtt: freeTcpPort(),
    coap: freeUdpPort(),
    mqttsn: freeUdpPort(),
  };
  const proc = startProcess([
    "--host=127.0.0.1",
    `--broker-port=${ports.broker}`,
    `--dashboard-port=${ports.dashboard}`,
    `--ws-port=${ports.ws}`,
    `--mqtt-port=${ports.mqtt}`,
    `--coap-port=${ports.coap}`,
    `--mqttsn-port=${ports.mqttsn}`,
    "--nodes=2",
  ]);
  let exited = false;
  const status = proc.child.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    const want = ["CoAP", "MQTT", "MQTT-SN", "WebSocket"];
    let seen = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`http://127.0.0.1:${ports.broker}/api/nodes`);
        const nodes = res.ok ? await res.json() as { uid: string; protocol: string }[] : [];
        if (!res.ok) await res.body?.cancel();
        seen = new Map();
        for (const n of nodes) seen.set(n.protocol, (seen.get(n.protocol) ?? 0) + 1);
        if (want.every((p) => (seen.get(p) ?? 0) >= 2)) break;
      } catch {
        // The broker is not listening yet.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    ok(
      want.every((p) => (seen.get(p) ?? 0) >= 2),
      `nodes per protocol: ${JSON.stringify(Object.fromEntries(seen))}\n` +
        `stdout: ${proc.stdout.text()}\nstderr: ${proc.stderr.text().slice(-3000)}`,
    );
    match(proc.stdout.text(), new RegExp(`http://127\\.0\\.0\\.1:${ports.dashboard}/`));
    // The dashboard page is served, and points browsers at this broker.
    const page = await (await fetch(`http://127.0.0.1:${ports.dashboard}/`)).text();
    ok(page.includes(`${ports.broker}`), "dashboard page names the broker port");
  } finally {
    if (!exited) proc.child.kill("SIGINT");
  }
  const s = await withTimeout(status, 20_000, "start.ts to exit after SIGINT");
  await Promise.all([proc.stdout.done, proc.stderr.done]);
  equal(s.code, 0, `exit code; stderr: ${proc.stderr.text().slice(-3000)}`);
  // Nothing is left listening: every port the run held is free again.
  for (const p of [ports.broker, ports.dashboard, ports.ws, ports.mqtt]) {
    equal(await tcpOpen(p), false, `TCP port ${p} still open`);
  }
  for (const p of [ports.coap, ports.mqttsn]) equal(udpFree(p), true, `UDP port ${p} still bound`);
});

Deno.test("deno task start: a taken port is named with the flag that moves it", async () => {
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  try {
    const proc = startProcess([
      "--host=127.0.0.1",
      `--broker-port=${port}`,
      "--no-nodes",
      "--no-dashboard",
      "--no-coap",
      "--no-mqtt",
      "--no-mqttsn",
      "--no-ws",
    ]);
    const s = await withTimeout(proc.child.status, 30_000, "start.ts to refuse a taken port");
    await Promise.all([proc.stdout.done, proc.stderr.done]);
    equal(s.code, 1);
    match(proc.stderr.text(), new RegExp(`port ${port}.*taken.*--broker-port`));
  } finally {
    held.close();
  }
});
