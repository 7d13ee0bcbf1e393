// Interop with npm:coap (an independent implementation) as a node: a coap.createServer node
// serving /.well-known/core, a slow resource (npm:coap sends an empty ACK then a separate
// response), an observable counter (ObserveWriteStream), and a PUT-able led; it announces itself
// with an npm:coap client POST to /alive?port=N.
import assert from "node:assert/strict";
import coap from "coap";
import { startStack, waitFor } from "./gateway_coap_harness.ts";

function freeUdpPort(): number {
  const c = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (c.addr as Deno.NetAddr).port;
  c.close();
  return port;
}

interface NpmNode {
  port: number;
  writes: string[];
  close(): Promise<void>;
}

async function npmCoapNode(): Promise<NpmNode> {
  const port = freeUdpPort();
  const writes: string[] = [];
  let led = "0";
  const timers = new Set<ReturnType<typeof setInterval>>();
  // deno-lint-ignore no-explicit-any
  const server = coap.createServer({ type: "udp4" }, (req: any, res: any) => {
    const path = String(req.url).split("?")[0];
    if (path === "/.well-known/core") {
      res.setOption("Content-Format", "application/link-format");
      return res.end(
        '</name>;rt="core.name";ct=0,</slow>;ct=0,</counter>;rt="count";obs;ct=0,' +
          '</led>;rt="core.led";if="core.a";ct=0,</broken>;ct=0',
      );
    }
    if (path === "/name") return res.end("npm coap node");
    if (path === "/slow") {
      // Longer than npm:coap's 50 ms piggyback window: empty ACK, then a separate response.
      setTimeout(() => res.end("finally"), 150);
      return;
    }
    if (path === "/counter") {
      let n = 0;
      if (req.headers.Observe !== 0) return res.end(String(n));
      res.write(String(n));
      const t = setInterval(() => res.write(String(++n)), 100);
      timers.add(t);
      res.on("finish", () => (clearInterval(t), timers.delete(t)));
      return;
    }
    if (path === "/led") {
      if (req.method === "PUT") {
        led = String(req.payload);
        writes.push(led);
        res.code = "2.04";
        return res.end();
      }
      return res.end(led);
    }
    if (path === "/broken") {
      res.code = "5.00";
      return res.end("internal error text");
    }
    res.code = "4.04";
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    port,
    writes,
    async close() {
      for (const t of timers) clearInterval(t);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** POST with an npm:coap client (one Agent per request, see notes-environment). */
function npmPost(gwPort: number, path: string, query: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const agent = new coap.Agent({ type: "udp4" });
    const req = coap.request({
      hostname: "127.0.0.1",
      port: gwPort,
      pathname: path,
      query,
      method: "POST",
      agent,
    });
    // deno-lint-ignore no-explicit-any
    req.on("response", (res: any) => {
      resolve(`${res.code} ${String(res.payload)}`);
      agent.close();
    });
    req.on("error", (err: Error) => {
      agent.close();
      reject(err);
    });
    req.end(text);
  });
}

Deno.test(
  "an npm:coap node is discovered, observed, read through a separate response, and written",
  async () => {
    const node = await npmCoapNode();
    const s = await startStack({ nodePort: 5683 }); // ?port=N must win over the default
    const client = await s.client();
    try {
      const reply = await npmPost(s.gateway.port, "/alive", `port=${node.port}`, "alive:npm-1");
      assert.equal(reply, "2.04 Received 'alive:npm-1'");
      const isNode = (m: Record<string, unknown>) => m.uid === "npm-1";
      const name = await client.next((m) => isNode(m) && m.endpoint === "name", "name");
      assert.equal(name.data, "npm coap node");
      const slow = await client.next((m) => isNode(m) && m.endpoint === "slow", "slow");
      assert.equal(slow.data, "finally");
      await waitFor(
        () =>
          new Set(
            client.frames.filter((m) => isNode(m) && m.endpoint === "counter").map((m) => m.data),
          )
            .size >= 3,
        "three counter notifications",
      );
      const counter = client.frames.find((m) => isNode(m) && m.endpoint === "counter")!;
      assert.deepEqual(counter.meta, { rt: "count", obs: true, ct: 0 });
      await client.next((m) => isNode(m) && m.endpoint === "led", "led");
      // /broken answered 5.00: its error text must never appear.
      assert.ok(!client.frames.some((m) => isNode(m) && m.endpoint === "broken"));
      assert.ok(!client.frames.some((m) => m.data === "internal error text"));

      client.write("npm-1", "led", "1");
      await waitFor(() => node.writes.includes("1"), "PUT at the npm:coap node");
      await client.next((m) => isNode(m) && m.endpoint === "led" && m.data === "1", "echo");
    } finally {
      await s.close();
      await node.close();
    }
  },
);
