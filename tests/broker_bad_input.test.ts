// Hostile and broken input on real websockets: every case gets a logged, counted, clear refusal
// (a close code with a reason, or an error frame), and a gateway/client pair connected all along
// keeps relaying in both directions.
import assert from "node:assert/strict";
import { type Closed, openClient, openGateway, type Peer, testBroker } from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

async function closedWith(p: Peer, code: number, reason?: string | RegExp): Promise<Closed> {
  const c = await p.closed;
  assert.equal(c.code, code, `close code (reason: ${c.reason})`);
  if (typeof reason === "string") assert.equal(c.reason, reason);
  else if (reason) assert.match(c.reason, reason);
  return c;
}

Deno.test("bad input is refused clearly and disturbs nobody else", sanitize, async () => {
  const b = await testBroker({
    maxFrameBytes: 1024,
    rateLimit: { messagesPerSecond: 5, burst: 30 },
    gatewayRateLimit: { messagesPerSecond: 10, burst: 60 },
  });
  try {
    // The bystanders.
    const gw = await openGateway(b, { name: "steady" });
    gw.send({ type: "new", uid: "n1", dst: "all" });
    const web = await openClient(b);
    assert.equal((await gw.next((m) => m.type === "new")).data, "client");
    const still = async () => {
      gw.send({
        type: "update",
        uid: "n1",
        endpoint: "led",
        data: String(Math.random()),
        dst: "all",
      });
      assert.equal((await web.next((m) => m.type === "update")).uid, "n1");
      web.send({ type: "update", data: { uid: "n1", endpoint: "led", payload: "1" } });
      assert.equal(((await gw.next((m) => m.type === "update")).data as any).payload, "1");
    };
    await still();

    // --- web clients: pyaiot's 1003 refusals, exact reasons (common/wire.ts) ---
    const pyaiot1003: [string, string][] = [
      ["hello", "Invalid message received 'hello'. Only JSON format is supported.."],
      ['{"type":"foo"}', "Invalid message type 'foo'.."],
      ["42", "Invalid message '42'.."],
      ['{"data":"client"}', "Invalid message type 'undefined'.."],
      ["[1,2]", "Invalid message '[1,2]'.."],
    ];
    for (const [frame, reason] of pyaiot1003) {
      const c = await openClient(b, { register: false });
      c.send(frame);
      await closedWith(c, 1003, reason);
    }
    // A long raw frame is quoted in the reason, cut to the 123 bytes a close frame allows.
    const long = await openClient(b, { register: false });
    long.send("é".repeat(400));
    const { reason } = await closedWith(long, 1003, /^Invalid message received 'éé+\.\.\.$/);
    assert.ok(new TextEncoder().encode(reason).length <= 123);

    // Missing fields and wrong types: an error frame, the connection stays usable.
    const sloppy = await openClient(b);
    await gw.next((m) => m.type === "new");
    for (
      const bad of [
        { type: "update", data: { uid: "n1", endpoint: "led" } },
        { type: "update", data: { uid: "n1", endpoint: "led", payload: 1 } },
        { type: "update", data: { uid: "n1", endpoint: "led", payload: "1", extra: 1 } },
        { type: "update", data: "n1" },
        { type: "new", data: "gateway" },
      ]
    ) {
      sloppy.send(bad);
      const e = await sloppy.next((m) => m.type === "error");
      assert.equal(e.error, "bad_frame");
    }
    await gw.none((m) => m.type === "update"); // pyaiot's gateways crash on non-string payloads
    assert.equal(sloppy.ws.readyState, WebSocket.OPEN);

    // Binary frames on /ws.
    const bin = await openClient(b, { register: false });
    bin.send(new Uint8Array([0xa1, 0x64, 0x74]));
    await closedWith(bin, 1003, "Binary frames are not supported");

    // Over the size limit.
    const big = await openClient(b, { register: false });
    big.send({ type: "update", data: { uid: "n1", endpoint: "js", payload: "x".repeat(2000) } });
    await closedWith(big, 1009, "Frame larger than 1024 bytes");
    await gw.none((m) => m.type === "update");

    // A flood from one client.
    // A blind flood from one client (500 frames queued at once; the budget is 30).
    const flood = await openClient(b, { register: false });
    for (let i = 0; i < 500; i++) flood.send({ type: "new", data: "client" });
    await closedWith(flood, 1008, "Rate limit exceeded");

    // A web client speaking as a gateway.
    for (
      const frame of [
        { type: "new", uid: "n1", dst: "all" },
        { type: "update", uid: "n1", endpoint: "led", data: "0", dst: "all" },
        { type: "out", uid: "n1" },
        { type: "reset", uid: "n1" },
      ]
    ) {
      const fake = await openClient(b, { register: false });
      fake.send(frame);
      await closedWith(fake, 1008, "Web clients cannot send gateway frames");
    }
    await web.none((m) => m.uid === "n1" && m.data === "0");
    assert.equal(b.relay.nodeCount(), 1);

    // --- gateways ---
    const g1 = await openGateway(b, { name: "bad-json" });
    g1.send("{nope");
    await closedWith(g1, 1003, "Invalid message received '{nope'. Only JSON format is supported..");
    const g2 = await openGateway(b, { name: "bad-binary" });
    g2.send(new Uint8Array([1, 2, 3]));
    await closedWith(g2, 1003, "Binary frames are not supported");
    const g3 = await openGateway(b, { name: "too-big" });
    g3.send({ type: "update", uid: "n9", endpoint: "x", data: "y".repeat(5000), dst: "all" });
    await closedWith(g3, 1009);
    // Missing and mistyped fields from a gateway are dropped and counted; it stays connected.
    const g4 = await openGateway(b, { name: "sloppy-gw" });
    g4.send({ type: "new", dst: "all" });
    g4.send({ type: "new", uid: 42, dst: "all" });
    g4.send({ type: "new", uid: "", dst: "all" });
    g4.send({ type: "new", uid: "n7", dst: "all" });
    g4.send({ type: "update", uid: "n7", endpoint: 5, data: "1", dst: "all" });
    g4.send({ type: "update", uid: "n7", endpoint: "led", dst: "all" });
    g4.send({ type: "new", data: "client" }); // a client frame from a gateway
    g4.send({ type: "update", uid: "n7", endpoint: "led", data: "ok", dst: "all" });
    assert.equal((await web.next((m) => m.uid === "n7")).type, "new");
    const ok = await web.next((m) => m.uid === "n7");
    assert.equal(ok.data, "ok", "only the well-formed update came through");
    const m = b.relay.metrics.dropped;
    assert.equal(m.get('reason="bad_uid"'), 4);
    assert.equal(m.get('reason="bad_endpoint"'), 1);
    assert.equal(m.get('reason="missing_data"'), 1);
    // A gateway flood.
    const g5 = await openGateway(b, { name: "flood-gw" });
    for (let i = 0; i < 1000; i++) g5.send('{"type":"update","uid":"alive"}');
    await closedWith(g5, 1008, "Rate limit exceeded");

    // Everybody else is still fine, and every refusal was counted.
    await still();
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    const count = (kind: string, reason: string) =>
      Number(
        new RegExp(`aiot_broker_refusals_total\\{kind="${kind}",reason="${reason}"\\} (\\d+)`)
          .exec(metrics)?.[1] ?? 0,
      );
    assert.equal(count("client", "invalid_frame"), 6);
    assert.equal(count("client", "bad_frame"), 5);
    assert.equal(count("client", "binary_frame"), 1);
    assert.equal(count("client", "too_big"), 1);
    assert.equal(count("client", "rate_limit"), 1);
    assert.equal(count("client", "gateway_frame"), 4);
    assert.equal(count("gateway", "invalid_frame"), 1);
    assert.equal(count("gateway", "binary_frame"), 1);
    assert.equal(count("gateway", "too_big"), 1);
    assert.equal(count("gateway", "rate_limit"), 1);
    for (const p of [sloppy, g4, web, gw]) await p.close();
  } finally {
    await b.close();
  }
});
