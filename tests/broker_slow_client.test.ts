// A web client that stops reading must not make the broker buffer without bound: once more than
// --client-buffer-bytes (4 MiB here) wait for it, frames to it are dropped and counted, and other
// clients keep up.
import assert from "node:assert/strict";
import { openClient, openGateway, testBroker, until, upgradeHeaders } from "./broker_harness.ts";

Deno.test("a client that never reads costs at most its send buffer", {
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const b = await testBroker({
    gatewayRateLimit: { messagesPerSecond: 1e6, burst: 1e6 },
    clientBufferBytes: 4 * 1024 * 1024,
  });
  // A raw TCP peer: websocket handshake and `new`, then it never reads again.
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
  try {
    const head = ["GET /ws HTTP/1.1", `Host: 127.0.0.1:${b.port}`];
    for (const [k, v] of Object.entries(upgradeHeaders())) head.push(`${k}: ${v}`);
    await stuck.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
    const buf = new Uint8Array(1024);
    await stuck.read(buf); // the 101
    const payload = new TextEncoder().encode('{"type":"new","data":"client"}');
    const frame = new Uint8Array(6 + payload.length);
    frame.set([0x81, 0x80 | payload.length, 0, 0, 0, 0]); // masked with a zero key
    frame.set(payload, 6);
    await stuck.write(frame);

    const gw = await openGateway(b, { name: "blaster" });
    gw.send({ type: "new", uid: "n1", dst: "all" });
    const web = await openClient(b);
    await until(() =>
      b.relay.clients.size === 2 && b.relay.gateways.get("blaster")!.nodes.size === 1
    );
    // 3000 frames of 10 KiB = 30 MiB for the stuck client, far beyond socket buffers. Sent in
    // 1 MiB batches, each once the reading client has caught up, so it is never the slow one.
    const data = "x".repeat(10 * 1024);
    let got = 0;
    web.ws.addEventListener("message", (ev) => {
      if ((ev.data as string).includes('"big"')) got++;
    });
    for (let i = 0; i < 3000; i++) {
      gw.send({ type: "update", uid: "n1", endpoint: "big", data, dst: "all" });
      if (i % 100 === 99) await until(() => got === i + 1);
    }
    assert.equal(got, 3000, "the reading client got every frame");
    const dropped = b.relay.metrics.dropped.get('reason="slow_client"');
    assert.ok(dropped > 1000, `only ${dropped} frames dropped for the stuck client`);
    web.frames.length = 0;
    for (const p of [web, gw]) await p.close();
  } finally {
    stuck.close();
    await b.close();
  }
});
