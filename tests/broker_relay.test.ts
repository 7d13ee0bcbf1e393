// Relay between real gateway and web-client websockets, with pyaiot's exact frames (spec 2.5,
// 2.7): broadcast and `dst` routing, cache replay requests, owner-only writes, disconnect clean-up.
import assert from "node:assert/strict";
import { openClient, openGateway, testBroker, until } from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test(
  "gateway frames reach registered web clients, with the gateway's name",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const gw = await openGateway(b, { name: "coap-1" });
      const web = await openClient(b);
      // The broker forwards the client's `new` to the gateway with the client's id as `src`.
      const ask = await gw.next();
      assert.deepEqual(ask.type, "new");
      assert.deepEqual(ask.data, "client");
      assert.match(String(ask.src), /^[0-9a-f-]{36}$/);
      // pyaiot's gateway serialises with Python's separators and raw UTF-8 (ensure_ascii=False).
      gw.send('{"type": "new", "uid": "1234", "dst": "all"}');
      gw.send(
        '{"type": "update", "uid": "1234", "endpoint": "temperature", "data": "23.4°C", "dst": "all"}',
      );
      assert.deepEqual(await web.next(), { type: "new", uid: "1234", dst: "all", gw: "coap-1" });
      assert.deepEqual(await web.next(), {
        type: "update",
        uid: "1234",
        endpoint: "temperature",
        data: "23.4°C",
        dst: "all",
        gw: "coap-1",
      });
      await web.close();
      await gw.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test("a cache replay addressed to one client reaches only that client", sanitize, async () => {
  const b = await testBroker();
  try {
    const gw = await openGateway(b);
    const first = await openClient(b);
    const ask1 = await gw.next((m) => m.type === "new");
    const second = await openClient(b);
    const ask2 = await gw.next((m) => m.type === "new");
    assert.ok(ask1.src !== ask2.src, "each client has its own id");
    gw.send({ type: "new", uid: "n1", dst: ask2.src });
    gw.send({ type: "update", uid: "n1", endpoint: "protocol", data: "CoAP", dst: ask2.src });
    const got = await second.next();
    assert.deepEqual(got.uid, "n1");
    assert.deepEqual(got.gw, "gw-1", "a gateway without ?name= is gw-<n>");
    assert.deepEqual((await second.next()).data, "CoAP");
    await first.none(() => true);
    // A `dst` naming nobody is dropped (and counted), not broadcast.
    gw.send({ type: "update", uid: "n1", endpoint: "x", data: "1", dst: "no-such-client" });
    await second.none(() => true);
    assert.ok(b.relay.metrics.dropped.get('reason="unknown_dst"') === 1);
    for (const p of [first, second, gw]) await p.close();
  } finally {
    await b.close();
  }
});

Deno.test("a client that never sent `new` gets no broadcasts (pyaiot 2.3)", sanitize, async () => {
  const b = await testBroker();
  try {
    const gw = await openGateway(b);
    const silent = await openClient(b, { register: false });
    const web = await openClient(b);
    await gw.next((m) => m.type === "new");
    gw.send({ type: "new", uid: "n1", dst: "all" });
    assert.deepEqual((await web.next()).uid, "n1");
    await silent.none(() => true);
    for (const p of [silent, web, gw]) await p.close();
  } finally {
    await b.close();
  }
});

Deno.test(
  "LED toggle: the write goes to the owning gateway only; `new` goes to all",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const a = await openGateway(b, { name: "a" });
      const other = await openGateway(b, { name: "b" });
      a.send({ type: "new", uid: "1234", dst: "all" });
      other.send({ type: "new", uid: "5678", dst: "all" });
      await until(() => b.relay.nodeCount() === 2);
      const web = await openClient(b);
      const askA = await a.next((m) => m.type === "new");
      const askB = await other.next((m) => m.type === "new");
      assert.deepEqual(askA.src, askB.src);
      // Exactly the page's bytes (spec 2.7 step 1).
      web.send('{"type":"update","data":{"uid":"1234","endpoint":"led","payload":"1"}}');
      const write = await a.next();
      assert.deepEqual(write, {
        type: "update",
        data: { uid: "1234", endpoint: "led", payload: "1" },
        src: askA.src,
      });
      await other.none(() => true);
      // The gateway echoes the new value after 2.04 (step 4); every client sees it.
      a.send('{"type": "update", "uid": "1234", "endpoint": "led", "data": "1", "dst": "all"}');
      const echo = await web.next((m) => m.type === "update");
      assert.deepEqual([echo.uid, echo.endpoint, echo.data, echo.gw], ["1234", "led", "1", "a"]);
      for (const p of [web, a, other]) await p.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test(
  "ownership: updates, outs and resets for nodes a gateway does not own are dropped",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const a = await openGateway(b, { name: "a" });
      const intruder = await openGateway(b, { name: "b" });
      const web = await openClient(b);
      await a.next();
      await intruder.next();
      a.send({ type: "new", uid: "n1", dst: "all" });
      assert.deepEqual((await web.next()).uid, "n1");
      intruder.send({ type: "update", uid: "n1", endpoint: "led", data: "0", dst: "all" });
      intruder.send({ type: "reset", uid: "n1" });
      intruder.send({ type: "out", uid: "n1" });
      intruder.send('{"type":"update","uid":"alive"}'); // pyaiot's keep-alive: dropped silently
      a.send({ type: "update", uid: "n1", endpoint: "led", data: "1", dst: "all" });
      const next = await web.next();
      assert.deepEqual(
        [next.type, next.gw, next.data],
        ["update", "a", "1"],
        "intruder frames dropped",
      );
      assert.deepEqual(b.relay.metrics.dropped.get('reason="not_owned"'), 3);
      // The real owner's reset and out go through.
      a.send({ type: "reset", uid: "n1" });
      assert.deepEqual(await web.next(), { type: "reset", uid: "n1", gw: "a" });
      a.send({ type: "out", uid: "n1" });
      assert.deepEqual(await web.next(), { type: "out", uid: "n1", gw: "a" });
      assert.deepEqual(b.relay.nodeCount(), 0);
      for (const p of [web, a, intruder]) await p.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test("a gateway's nodes are announced as out when it disconnects", sanitize, async () => {
  const b = await testBroker();
  try {
    const gw = await openGateway(b, { name: "edge" });
    const stays = await openGateway(b, { name: "stays" });
    gw.send({ type: "new", uid: "n1", dst: "all" });
    gw.send({ type: "new", uid: "n2", dst: "all" });
    gw.send({ type: "new", uid: "shared", dst: "all" });
    stays.send({ type: "new", uid: "shared", dst: "all" });
    stays.send({ type: "new", uid: "n3", dst: "all" });
    await until(() => b.relay.nodeCount() === 4);
    const web = await openClient(b);
    await gw.close();
    const outs = [await web.next(), await web.next()].map((m) => `${m.type}:${m.uid}:${m.gw}`);
    assert.deepEqual(outs.sort(), ["out:n1:edge", "out:n2:edge"]);
    // `shared` is still served by the other gateway: no `out` for it.
    await web.none(() => true);
    await until(() => b.relay.gateways.size === 1);
    assert.deepEqual(b.relay.nodeCount(), 2);
    for (const p of [web, stays]) await p.close();
  } finally {
    await b.close();
  }
});

Deno.test(
  "a gateway reconnecting under the same name replaces the old connection",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const old = await openGateway(b, { name: "same" });
      old.send({ type: "new", uid: "n1", dst: "all" });
      await until(() => b.relay.nodeCount() === 1);
      const fresh = await openGateway(b, { name: "same" });
      const closed = await old.closed;
      assert.deepEqual(closed.code, 4000);
      await until(() => b.relay.nodeCount() === 0);
      assert.deepEqual(b.relay.gateways.get("same")?.nodes.size, 0);
      await fresh.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test("writes to nodes nobody owns are answered with an error frame", sanitize, async () => {
  const b = await testBroker();
  try {
    const gw = await openGateway(b);
    const web = await openClient(b);
    await gw.next();
    web.send({ type: "update", data: { uid: "ghost", endpoint: "led", payload: "1" } });
    assert.deepEqual(await web.next(), {
      type: "error",
      error: "unknown_node",
      message: "no gateway owns this node",
      uid: "ghost",
      endpoint: "led",
    });
    await gw.none(() => true);
    for (const p of [web, gw]) await p.close();
  } finally {
    await b.close();
  }
});

Deno.test("a client may ask for a cache replay once per 5 s", sanitize, async () => {
  const b = await testBroker();
  try {
    const gw = await openGateway(b);
    const web = await openClient(b);
    await gw.next((m) => m.type === "new");
    web.send({ type: "new", data: "client" });
    assert.deepEqual(await web.next(), {
      type: "error",
      error: "too_often",
      message: "cache replay asked too often",
    });
    await gw.none(() => true);
    for (const p of [web, gw]) await p.close();
  } finally {
    await b.close();
  }
});
