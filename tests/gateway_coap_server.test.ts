// The gateway's pyaiot side over real UDP and a real broker: /alive and /server with pyaiot's
// exact codes and payloads, nodes keyed by uid (two behind one address), a reset that really
// resets, and error responses that never become values.
import assert from "node:assert/strict";
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  CoapType,
  encodeUint,
  getUriPath,
  uriOptions,
} from "../core-wasm/mod.ts";
import { answer, dec, enc, RawPeer, sleep, startStack, waitFor } from "./gateway_coap_harness.ts";

let mid = 100;
function post(path: string, text: string, type: number = CoapType.CON): CoapMessage {
  return {
    type,
    code: CoapCode.POST,
    messageId: mid++,
    token: new Uint8Array([mid & 0xff]),
    options: uriOptions(path),
    payload: enc(text),
  };
}

/** Sends one request and returns the gateway's reply to it. */
async function ask(peer: RawPeer, port: number, msg: CoapMessage) {
  await peer.send(msg, port);
  return (await peer.next((m) => m.code >= 64 && m.token.join() === msg.token.join())).msg;
}

/** A scripted node: link-format and values, error codes where asked. */
function scriptedNode(resources: Record<string, [number, string]>) {
  return (req: CoapMessage): CoapMessage | undefined => {
    const path = getUriPath(req);
    if (path === ".well-known/core") {
      const links = Object.keys(resources).map((r) => `,</${r}>;rt="x.${r}"`).join("");
      return answer(req, CoapCode.CONTENT, `</.well-known/core>;ct=40${links}`, [
        { number: CoapOption.CONTENT_FORMAT, value: encodeUint(40) },
      ]);
    }
    const r = resources[path];
    return r ? answer(req, r[0], r[1]) : answer(req, CoapCode.NOT_FOUND);
  };
}

Deno.test("pyaiot /alive and /server: exact codes and payloads", async () => {
  const s = await startStack();
  const node = new RawPeer();
  node.autoReply = scriptedNode({});
  try {
    const gw = s.gateway.port;
    const alive = await ask(node, gw, post("alive", "Alive:1234"));
    assert.equal(alive.type, CoapType.ACK);
    assert.equal(alive.code, CoapCode.CHANGED);
    assert.equal(dec(alive.payload), "Received 'Alive:1234'");
    const rec = s.gateway.registry.get("1234");
    assert.ok(rec, "uid after the last ':'");
    assert.equal(rec.resources.get("ip")?.value, "127.0.0.1");
    assert.equal(rec.resources.get("protocol")?.value, "CoAP");

    const srv = await ask(node, gw, post("server", "temperature:23.4°C"));
    assert.equal(srv.code, CoapCode.CHANGED);
    assert.equal(dec(srv.payload), "Received 'temperature:23.4°C'");
    assert.equal(rec.resources.get("temperature")?.value, "23.4°C");
    // Split at the first ':' only.
    await ask(node, gw, post("server", 'imu:[{"t":"a:b"}]', CoapType.NON));
    assert.equal(rec.resources.get("imu")?.value, '[{"t":"a:b"}]');

    const bad = await ask(node, gw, post("server", "no colon here"));
    assert.equal(bad.code, CoapCode.INTERNAL_SERVER_ERROR);
    const get = await ask(node, gw, { ...post("alive", ""), code: CoapCode.GET });
    assert.equal(get.code, CoapCode.METHOD_NOT_ALLOWED);
    const put = await ask(node, gw, { ...post("server", "a:b"), code: CoapCode.PUT });
    assert.equal(put.code, CoapCode.METHOD_NOT_ALLOWED);
    const other = await ask(node, gw, post("other", "x:y"));
    assert.equal(other.code, CoapCode.NOT_FOUND);
    const wk = await ask(node, gw, { ...post(".well-known/core", ""), code: CoapCode.GET });
    assert.equal(wk.code, CoapCode.NOT_FOUND);

    // An unknown critical option (here 9, odd): 4.02 Bad Option, RFC 7252 5.4.1.
    const crit = post("alive", "alive:1234");
    crit.options.push({ number: 9, value: enc("x") });
    assert.equal((await ask(node, gw, crit)).code, CoapCode.BAD_OPTION);
    // An unknown elective one (even) is ignored; libcoap's Uri-Port (7) is accepted.
    const elective = post("alive", "alive:1234");
    elective.options.push({ number: 2048, value: enc("x") }, { number: 7, value: encodeUint(gw) });
    assert.equal((await ask(node, gw, elective)).code, CoapCode.CHANGED);

    // A NON request gets a NON response.
    const non = await ask(node, gw, post("alive", "alive:1234", CoapType.NON));
    assert.equal(non.type, CoapType.NON);
    assert.equal(dec(non.payload), "Received 'alive:1234'");

    // /server from an address with no node: answered, ignored.
    const stranger = new RawPeer();
    try {
      s.gateway.registry.remove("1234", "test");
      const r = await ask(stranger, gw, post("server", "temperature:1°C"));
      assert.equal(r.code, CoapCode.CHANGED);
      assert.equal(s.gateway.registry.size, 0);
    } finally {
      await stranger.close();
    }
  } finally {
    await node.close();
    await s.close();
  }
});

Deno.test("two nodes behind one address are told apart by port; a lone node by address", async () => {
  const s = await startStack();
  const a = new RawPeer(), b = new RawPeer(), c = new RawPeer();
  for (const p of [a, b, c]) p.autoReply = scriptedNode({});
  try {
    const gw = s.gateway.port;
    await ask(a, gw, post("alive", "alive:node-a"));
    await ask(b, gw, post("alive", "alive:node-b"));
    assert.equal(s.gateway.registry.size, 2);
    await ask(a, gw, post("server", "temperature:1°C"));
    await ask(b, gw, post("server", "temperature:2°C"));
    const reg = s.gateway.registry;
    assert.equal(reg.get("node-a")?.resources.get("temperature")?.value, "1°C");
    assert.equal(reg.get("node-b")?.resources.get("temperature")?.value, "2°C");
    // From a third port of the same address: ambiguous, so ignored.
    await ask(c, gw, post("server", "temperature:3°C"));
    assert.equal(reg.get("node-a")?.resources.get("temperature")?.value, "1°C");
    assert.equal(reg.get("node-b")?.resources.get("temperature")?.value, "2°C");
    // With one node left on the address, the address alone finds it (RIOT posts from a raw socket).
    reg.remove("node-b", "test");
    await ask(c, gw, post("server", "temperature:4°C"));
    assert.equal(reg.get("node-a")?.resources.get("temperature")?.value, "4°C");
  } finally {
    for (const p of [a, b, c]) await p.close();
    await s.close();
  }
});

Deno.test("discovery forwards only 2.05 values; reset really resets and rediscovers", async () => {
  const s = await startStack();
  const client = await s.client();
  const node = new RawPeer();
  node.autoReply = scriptedNode({
    name: [CoapCode.CONTENT, "Raw Node"],
    broken: [CoapCode.INTERNAL_SERVER_ERROR, "boom"],
    missing: [CoapCode.NOT_FOUND, "not here"],
  });
  try {
    const gw = s.gateway.port;
    const reg = s.gateway.registry;
    await ask(node, gw, post("alive", "reset:raw-1"));
    await waitFor(() => reg.get("raw-1")?.resources.has("name") === true, "name discovered");
    const f = await client.next((m) => m.uid === "raw-1" && m.endpoint === "name", "name frame");
    assert.equal(f.data, "Raw Node");
    assert.deepEqual(f.meta, { rt: "x.name" });
    // Wait until the node was asked for every resource, then check nothing else came through.
    await waitFor(
      () => node.log.some((r) => getUriPath(r.msg) === "missing"),
      "all resources read",
    );
    await sleep(100);
    const rec = reg.get("raw-1")!;
    assert.deepEqual([...rec.resources.keys()], ["ip", "protocol", "name"]);
    assert.ok(!client.frames.some((m) => m.endpoint === "broken" || m.endpoint === "missing"));

    // A plain alive does not rediscover.
    const wkBefore = node.log.filter((r) => getUriPath(r.msg) === ".well-known/core").length;
    await ask(node, gw, post("alive", "alive:raw-1"));
    await sleep(100);
    assert.equal(node.log.filter((r) => getUriPath(r.msg) === ".well-known/core").length, wkBefore);

    // reset: the web side hears `reset`, discovered values are gone, then rediscovered.
    node.autoReply = scriptedNode({ name: [CoapCode.CONTENT, "Rebooted"] });
    await ask(node, gw, post("alive", "reset:raw-1"));
    await client.next((m) => m.type === "reset" && m.uid === "raw-1", "reset frame");
    await waitFor(
      () => reg.get("raw-1")?.resources.get("name")?.value === "Rebooted",
      "rediscovered after reset",
    );
    const after = client.frames.findIndex((m) => m.type === "reset");
    const replay = client.frames.slice(after).filter((m) => m.uid === "raw-1").map((m) =>
      m.endpoint
    );
    assert.deepEqual(replay.slice(1, 4), ["ip", "protocol", "name"]);
  } finally {
    await node.close();
    await s.close();
  }
});

Deno.test("hostile datagrams and a flood from one source leave the gateway serving", async () => {
  const s = await startStack({ rateLimit: { perSecond: 50, burst: 50 }, maxNodes: 1 });
  const flood = new RawPeer(), good = new RawPeer();
  good.autoReply = scriptedNode({});
  try {
    const gw = s.gateway.port;
    const junk = [
      new Uint8Array([0x40]),
      new Uint8Array([0x4f, 1, 0, 0]),
      new Uint8Array(1500).fill(0x5d),
    ];
    for (let i = 0; i < 300; i++) await flood.send(junk[i % 3], gw);
    // Loopback drops what overflows the socket buffer: let the gateway drain before asking.
    await waitFor(() => s.gateway.stats().udp.rateLimited > 0, "rate limiting");
    await sleep(200);
    const r = await ask(good, gw, post("alive", "alive:good"));
    assert.equal(r.code, CoapCode.CHANGED);
    const st = s.gateway.stats();
    assert.ok(st.udp.rateLimited > 0, "the flood was rate limited");
    assert.ok(st.messages.malformed > 0, "malformed datagrams counted");
    assert.equal(s.gateway.registry.size, 1);
    // Full: a new uid is refused with 5.03, a known one still refreshes.
    const full = await ask(good, gw, post("alive", "alive:one-too-many"));
    assert.equal(full.code, CoapCode.SERVICE_UNAVAILABLE);
    assert.equal((await ask(good, gw, post("alive", "alive:good"))).code, CoapCode.CHANGED);
    assert.equal(s.gateway.registry.size, 1);
    assert.equal(s.gateway.stats().refusedNodes, 1);
  } finally {
    await flood.close();
    await good.close();
    await s.close();
  }
});

Deno.test("a node listing hundreds of resources gets only the first 64 read", async () => {
  const s = await startStack();
  const node = new RawPeer();
  const many: Record<string, [number, string]> = {};
  for (let i = 0; i < 200; i++) many[`r${i}`] = [CoapCode.CONTENT, String(i)];
  node.autoReply = scriptedNode(many);
  try {
    await ask(node, s.gateway.port, post("alive", "alive:greedy"));
    await waitFor(() => s.gateway.registry.get("greedy")?.resources.has("r63") === true, "r63");
    await sleep(200);
    const rec = s.gateway.registry.get("greedy")!;
    assert.equal(rec.resources.size, 2 + 64, "ip, protocol and 64 resources");
    assert.ok(!node.log.some((r) => getUriPath(r.msg) === "r64"));
  } finally {
    await node.close();
    await s.close();
  }
});
