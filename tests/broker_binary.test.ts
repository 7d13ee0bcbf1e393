// The binary gateway link (docs/architecture.md): a gateway offering `aiot.cbor` sends CBOR
// frames, web clients get the same JSON as from a text gateway; hostile CBOR is refused cleanly.
import assert from "node:assert/strict";
import { encodeCbor } from "../core-wasm/mod.ts";
import { startGatewayCore } from "../gateway/common.ts";
import { loadCborDecoder } from "../broker/binary.ts";
import {
  gatewayToken,
  openClient,
  openGateway,
  rawHandshake,
  testBroker,
  until,
  upgradeHeaders,
} from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };
const available = (await loadCborDecoder()) !== undefined;

Deno.test({
  name: "binary link: CBOR frames in, the same JSON out, JSON text back to the gateway",
  ignore: !available,
  ...sanitize,
  fn: async () => {
    const b = await testBroker();
    try {
      const gw = await openGateway(b, { name: "cbor-gw", binary: true });
      assert.equal(gw.ws.protocol, "aiot.cbor");
      const text = await openGateway(b, { name: "json-gw" });
      const web = await openClient(b);
      await until(() => gw.frames.length === 1); // the client's `new`, as JSON text
      gw.send(encodeCbor({ type: "new", uid: "1234", dst: "all" }));
      gw.send(encodeCbor({
        type: "update",
        uid: "1234",
        endpoint: "temperature",
        data: "23.4°C",
        dst: "all",
        meta: { rt: "temperature", obs: true },
      }));
      gw.send('{"type":"update","uid":"alive"}'); // BrokerLink's keep-alive stays text
      assert.deepEqual(await web.next((m) => m.uid === "1234"), {
        type: "new",
        uid: "1234",
        dst: "all",
        gw: "cbor-gw",
      });
      assert.deepEqual(await web.next((m) => m.uid === "1234"), {
        type: "update",
        uid: "1234",
        endpoint: "temperature",
        data: "23.4°C",
        dst: "all",
        meta: { rt: "temperature", obs: true },
        gw: "cbor-gw",
      });
      text.send({ type: "new", uid: "5678", dst: "all" });
      assert.equal((await web.next((m) => m.uid === "5678")).gw, "json-gw");
      // Broker -> gateway stays JSON text, also on the binary link.
      web.send({ type: "update", data: { uid: "1234", endpoint: "led", payload: "1" } });
      await until(() => gw.frames.some((f) => typeof f === "string" && f.includes('"led"')));
      assert.ok(gw.frames.every((f) => typeof f === "string"));
      const gws = await (await fetch(`${b.url}/api/gateways`)).json();
      assert.deepEqual(
        gws.map((g: any) => [g.name, g.binary]).sort(),
        [["cbor-gw", true], ["json-gw", false]],
      );
      for (const p of [web, text, gw]) await p.close();
    } finally {
      await b.close();
    }
  },
});

Deno.test({
  name: "binary link: our gateway's BrokerLink negotiates it with the broker",
  ignore: !available,
  ...sanitize,
  fn: async () => {
    const b = await testBroker();
    const core = startGatewayCore(
      { brokerUrl: `${b.ws}/gw`, keys: b.keys, name: "link", binary: true, minBackoffMs: 20 },
      "test",
      () => {},
    );
    try {
      await until(() => core.link.connected && core.link.binaryActive);
      core.registry.seen("n1", "addr", { ip: "127.0.0.1", protocol: "CoAP" });
      core.registry.setValue("n1", "temperature", "20.5°C");
      const web = await openClient(b);
      const got = await web.next((m) => m.endpoint === "temperature");
      assert.deepEqual([got.uid, got.data, got.gw], ["n1", "20.5°C", "link"]);
      assert.equal(b.relay.gateways.get("link")?.binary, true);
      await web.close();
    } finally {
      await core.close();
      await b.close();
    }
  },
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test({
  name: "binary link: hostile CBOR gets a clean 1003 and the broker carries on",
  ignore: !available,
  ...sanitize,
  fn: async () => {
    const b = await testBroker();
    try {
      const web = await openClient(b);
      const cases: [Uint8Array, number, RegExp][] = [
        [new Uint8Array([0xbf, 0x61]), 1003, /^Invalid CBOR frame$/], // truncated map
        [new Uint8Array(5000).fill(0x81), 1003, /^Invalid CBOR frame$/], // 5000 nested arrays
        [new Uint8Array([0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 1003, /CBOR/],
        [encodeCbor(42), 1003, /^Invalid message '42'\.\.$/],
        [encodeCbor({ type: "bogus" }), 1003, /^Invalid message type 'bogus'\.\.$/],
        [new Uint8Array(70 * 1024), 1009, /larger than/],
      ];
      const rand = rng(7);
      for (let i = 0; i < 30; i++) {
        const bytes = new Uint8Array(1 + Math.floor(rand() * 64));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
        cases.push([bytes, 1003, /./]);
      }
      let refused = 0;
      for (const [bytes, code, reason] of cases) {
        const gw = await openGateway(b, { binary: true });
        gw.send(bytes);
        // Random bytes may happen to be a valid frame (then it is relayed or dropped): close it.
        const timer = setTimeout(() => gw.ws.close(), 500);
        const closed = await gw.closed;
        clearTimeout(timer);
        if (closed.code === 1005) continue;
        assert.equal(closed.code, code, `${bytes.slice(0, 8)}: ${closed.reason}`);
        assert.match(closed.reason, reason);
        refused++;
      }
      assert.ok(refused >= 20, `only ${refused} of ${cases.length} refused`);
      // Still relaying.
      const gw = await openGateway(b, { name: "after", binary: true });
      gw.send(encodeCbor({ type: "new", uid: "ok", dst: "all" }));
      assert.equal((await web.next((m) => m.uid === "ok")).gw, "after");
      for (const p of [gw, web]) await p.close();
    } finally {
      await b.close();
    }
  },
});

Deno.test("binary link off: a gateway offering it is accepted on JSON text", sanitize, async () => {
  const b = await testBroker({ binary: false });
  try {
    const token = await gatewayToken(b.keys);
    const res = await rawHandshake(b.port, "/gw", upgradeHeaders(`token,${token},aiot.cbor`));
    assert.equal(res.status, 101);
    assert.equal(res.headers.get("sec-websocket-protocol"), "token");
  } finally {
    await b.close();
  }
});
