// End to end with real parts: a CoapNode (its own CoAP server on UDP) announces itself to a
// CoAP gateway dialled into the real broker; a web client sees it appear with link metadata,
// sees sensor values flowing by Observe, writes the LED (PUT, echoed on 2.04), and sees the node
// time out after it stops.
import assert from "node:assert/strict";
import { CoapNode } from "../firmware/coap_node.ts";
import { sleep, startStack, waitFor } from "./gateway_coap_harness.ts";

Deno.test("a CoapNode appears at a web client, observes flow, a write round-trips, timeout removes it", async () => {
  const s = await startStack({ maxTimeS: 2 });
  const client = await s.client();
  const node = new CoapNode({
    id: "e2e-1",
    gatewayHost: "127.0.0.1",
    gatewayPort: s.gateway.port,
    intervalMs: 100,
    aliveMs: 60_000,
  });
  let stopped = false;
  try {
    await node.start();
    const isNode = (m: Record<string, unknown>) => m.uid === "e2e-1";
    await client.next((m) => isNode(m) && m.type === "new", "new frame");
    const name = await client.next((m) => isNode(m) && m.endpoint === "name", "name");
    assert.equal(name.data, "Weather Sensor");
    assert.deepEqual(name.meta, { rt: "core.name", ct: 0 });
    const led = await client.next((m) => isNode(m) && m.endpoint === "led", "led");
    assert.deepEqual(led.meta, { rt: "core.led", if: "core.a", ct: 0 });
    assert.equal(led.data, "0");

    // Sensors are observed, not polled: several notifications, one registration each.
    const temps = () =>
      client.frames.filter((m) => isNode(m) && m.endpoint === "temperature").map((m) => m.data);
    await waitFor(() => new Set(temps()).size >= 3, "three different temperatures");
    assert.match(String(temps()[0]), /^-?\d+\.\d°C$/);
    const t = client.frames.find((m) => isNode(m) && m.endpoint === "temperature")!;
    assert.deepEqual(t.meta, { rt: "temperature", if: "core.s", ct: 0, obs: true });
    assert.equal(node.observerCount("temperature"), 1);
    assert.equal(node.observerCount(), 3, "temperature, pressure, humidity");
    assert.equal(s.gateway.stats().observations, 3);
    // Discovery read each non-observable resource exactly once.
    assert.ok(node.stats.notifications >= 6);

    // A web client writes the LED: PUT reaches the node, 2.04 makes the gateway echo the value.
    const before = client.frames.length;
    client.write("e2e-1", "led", "1");
    await waitFor(() => node.writes.length === 1, "write at the node");
    assert.deepEqual(node.writes[0], { endpoint: "led", payload: "1" });
    const echo = await client.next(
      (m) => client.frames.indexOf(m) >= before && isNode(m) && m.endpoint === "led",
      "led echo",
    );
    assert.equal(echo.data, "1");
    // A value the node refuses (4.00) is not echoed.
    const served = node.stats.served;
    client.write("e2e-1", "led", "7");
    await waitFor(() => node.stats.served > served, "refused write served");
    await sleep(200);
    assert.ok(
      !client.frames.some((m) => isNode(m) && m.endpoint === "led" && m.data === "7"),
      "a refused write is never echoed",
    );
    assert.equal(node.sensors.led, "1");
    // The node stops: no more alive, no more notifications; the gateway drops it.
    await node.stop();
    stopped = true;
    const out = await client.next((m) => isNode(m) && m.type === "out", "out frame", 10_000);
    assert.equal(out.type, "out");
    assert.equal(s.gateway.registry.size, 0);
    assert.equal(s.gateway.stats().observations, 0, "observations dropped with the node");
  } finally {
    if (!stopped) await node.stop();
    await s.close();
  }
});

Deno.test("a --cbor CoapNode's numeric values arrive as JSON numbers", async () => {
  const s = await startStack();
  const client = await s.client();
  const node = new CoapNode({
    id: "cbor-1",
    gatewayHost: "127.0.0.1",
    gatewayPort: s.gateway.port,
    intervalMs: 100,
    cbor: true,
  });
  try {
    await node.start();
    const temp = await client.next(
      (m) => m.uid === "cbor-1" && m.endpoint === "temperature",
      "cbor temperature",
    );
    assert.equal(typeof temp.data, "number");
    assert.equal((temp.meta as { ct: number }).ct, 60);
    const name = await client.next((m) => m.uid === "cbor-1" && m.endpoint === "name", "name");
    assert.equal(name.data, "Weather Sensor");
  } finally {
    await node.stop();
    await s.close();
  }
});

Deno.test("two CoapNodes on one address, each its own port, are both discovered", async () => {
  const s = await startStack();
  const nodes = ["pair-1", "pair-2"].map((id) =>
    new CoapNode({ id, gatewayHost: "127.0.0.1", gatewayPort: s.gateway.port, intervalMs: 200 })
  );
  try {
    for (const n of nodes) await n.start();
    await waitFor(
      () => nodes.every((n) => s.gateway.registry.get(n.id)?.resources.has("temperature")),
      "both nodes observed",
    );
    for (const n of nodes) assert.equal(n.observerCount("temperature"), 1);
  } finally {
    for (const n of nodes) await n.stop();
    await s.close();
  }
});
