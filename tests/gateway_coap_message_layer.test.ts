// The RFC 7252 message layer and exchanges over real UDP, against a raw peer that decides every
// byte: retransmission back-off, ACK/RST handling, duplicate detection with the cached reply,
// separate responses, and token matching.
import assert from "node:assert/strict";
import {
  CoapCode,
  type CoapMessage,
  CoapType,
  encodeCoap,
  encodeUint,
  getUriPath,
  uriOptions,
} from "../core-wasm/mod.ts";
import { UdpEndpoint } from "../gateway/coap/udp_endpoint.ts";
import {
  CoapResetError,
  CoapTimeoutError,
  MessageLayer,
  type MessageLayerOptions,
} from "../gateway/coap/message_layer.ts";
import { Exchanges } from "../gateway/coap/exchanges.ts";
import { dec, EMPTY, enc, RawPeer, sleep } from "./gateway_coap_harness.ts";

function stack(opts: MessageLayerOptions = {}) {
  const endpoint = UdpEndpoint.listen({ hostname: "127.0.0.1", port: 0 });
  const layer = new MessageLayer(endpoint, opts);
  const peer = new RawPeer();
  const to = { hostname: "127.0.0.1", port: peer.port };
  return {
    endpoint,
    layer,
    peer,
    to,
    async close() {
      await layer.close();
      await endpoint.close();
      await peer.close();
    },
  };
}

const get = (path: string, token = new Uint8Array([1, 2])) => ({
  code: CoapCode.GET,
  token,
  options: uriOptions(path),
  payload: EMPTY,
});

function reply(to: CoapMessage, type: number, code = 0, payload = EMPTY): CoapMessage {
  return {
    type,
    code,
    messageId: to.messageId,
    token: code === 0 ? EMPTY : to.token,
    options: [],
    payload,
  };
}

Deno.test("CON is retransmitted with doubling timeouts, then times out", async () => {
  // random() = 0: the first timeout is exactly ACK_TIMEOUT.
  const s = stack({ params: { ackTimeoutMs: 80, maxRetransmit: 3 }, random: () => 0 });
  try {
    const started = performance.now();
    const sent = s.layer.sendCon(get("time"), s.to);
    await assert.rejects(sent, CoapTimeoutError);
    const copies = s.peer.log;
    assert.equal(copies.length, 4, "1 transmission + MAX_RETRANSMIT retransmissions");
    assert.ok(copies.every((c) => c.msg.messageId === copies[0].msg.messageId), "same message id");
    assert.ok(copies.every((c) => c.msg.type === CoapType.CON));
    const gaps = copies.map((c, i) => c.at - (i === 0 ? started : copies[i - 1].at)).slice(1);
    // Each wait is at least the doubled timeout (80, 160, 320 ms); timers never fire early.
    assert.ok(gaps[0] >= 75, `first gap ${gaps[0]}`);
    assert.ok(gaps[1] >= 155, `second gap ${gaps[1]}`);
    assert.ok(gaps[2] >= 315, `third gap ${gaps[2]}`);
    assert.equal(s.layer.stats.retransmissions, 3);
    assert.equal(s.layer.pendingCount, 0);
  } finally {
    await s.close();
  }
});

Deno.test("an ACK stops retransmission; a piggy-backed response reaches the response handler", async () => {
  const s = stack({ params: { ackTimeoutMs: 60 } });
  try {
    const responses: CoapMessage[] = [];
    s.layer.onResponse((r) => (responses.push(r), true));
    const sent = s.layer.sendCon(get("x"), s.to);
    const req = (await s.peer.next()).msg;
    await s.peer.send(reply(req, CoapType.ACK, CoapCode.CONTENT, enc("42")), s.endpoint.port);
    const ack = await sent;
    assert.equal(ack.code, CoapCode.CONTENT);
    assert.equal(dec(responses[0].payload), "42");
    await sleep(400); // well past several retransmission timeouts
    assert.equal(s.peer.log.length, 1, "nothing retransmitted after the ACK");
  } finally {
    await s.close();
  }
});

Deno.test("RST cancels a confirmable message", async () => {
  const s = stack({ params: { ackTimeoutMs: 60 } });
  try {
    const sent = s.layer.sendCon(get("x"), s.to);
    const req = (await s.peer.next()).msg;
    await s.peer.send(reply(req, CoapType.RST), s.endpoint.port);
    await assert.rejects(sent, CoapResetError);
    await sleep(300);
    assert.equal(s.peer.log.length, 1, "no retransmission after RST");
    assert.equal(s.layer.pendingCount, 0);
  } finally {
    await s.close();
  }
});

Deno.test("a duplicate CON request gets the cached response and is handled once", async () => {
  const s = stack();
  try {
    let calls = 0;
    s.layer.onRequest(() => {
      calls++;
      return { code: CoapCode.CHANGED, payload: enc(`call ${calls}`) };
    });
    const req: CoapMessage = {
      type: CoapType.CON,
      code: CoapCode.POST,
      messageId: 0x1234,
      token: new Uint8Array([9]),
      options: uriOptions("alive"),
      payload: enc("alive:1"),
    };
    await s.peer.send(req, s.endpoint.port);
    const first = await s.peer.next();
    await s.peer.send(req, s.endpoint.port);
    const second = await s.peer.next();
    assert.equal(calls, 1);
    assert.equal(first.msg.type, CoapType.ACK);
    assert.equal(first.msg.messageId, 0x1234);
    assert.deepEqual(second.bytes, first.bytes, "the very same ACK again");
    assert.equal(dec(second.msg.payload), "call 1");
    assert.equal(s.layer.stats.duplicates, 1);
    // A new message id is a new request.
    await s.peer.send({ ...req, messageId: 0x1235 }, s.endpoint.port);
    assert.equal(dec((await s.peer.next()).msg.payload), "call 2");
  } finally {
    await s.close();
  }
});

Deno.test("a slow handler gets an empty ACK then a confirmable separate response", async () => {
  const s = stack({ params: { piggybackMs: 30, ackTimeoutMs: 200 } });
  try {
    s.layer.onRequest(async () => {
      await sleep(200);
      return { code: CoapCode.CONTENT, payload: enc("late") };
    });
    const req: CoapMessage = {
      ...get("slow", new Uint8Array([7, 7])),
      type: CoapType.CON,
      messageId: 77,
    };
    await s.peer.send(req, s.endpoint.port);
    const ack = (await s.peer.next()).msg;
    assert.equal(ack.type, CoapType.ACK);
    assert.equal(ack.code, CoapCode.EMPTY);
    assert.equal(ack.messageId, 77);
    // A duplicate while the handler runs gets the empty ACK again.
    await s.peer.send(req, s.endpoint.port);
    assert.equal((await s.peer.next()).msg.code, CoapCode.EMPTY);
    const res = (await s.peer.next((m) => m.code === CoapCode.CONTENT)).msg;
    assert.equal(res.type, CoapType.CON);
    assert.deepEqual(res.token, new Uint8Array([7, 7]));
    assert.equal(dec(res.payload), "late");
    await s.peer.send(reply(res, CoapType.ACK), s.endpoint.port);
    await sleep(50);
    assert.equal(s.layer.pendingCount, 0, "the separate response was acknowledged");
  } finally {
    await s.close();
  }
});

Deno.test("NON request gets a NON response; ping and unwanted responses get RST", async () => {
  const s = stack();
  try {
    s.layer.onRequest(() => ({ code: CoapCode.CONTENT, payload: enc("v") }));
    await s.peer.send({ ...get("a"), type: CoapType.NON, messageId: 5 }, s.endpoint.port);
    const res = (await s.peer.next()).msg;
    assert.equal(res.type, CoapType.NON);
    assert.equal(dec(res.payload), "v");
    // CoAP ping: empty CON.
    await s.peer.send({
      type: CoapType.CON,
      code: 0,
      messageId: 6,
      token: EMPTY,
      options: [],
      payload: EMPTY,
    }, s.endpoint.port);
    const pong = (await s.peer.next()).msg;
    assert.equal(pong.type, CoapType.RST);
    assert.equal(pong.messageId, 6);
    // A response nobody asked for (e.g. a notification of a cancelled observation).
    for (const type of [CoapType.CON, CoapType.NON]) {
      await s.peer.send({
        type,
        code: CoapCode.CONTENT,
        messageId: 10 + type,
        token: new Uint8Array([1]),
        options: [],
        payload: enc("?"),
      }, s.endpoint.port);
      const rst = (await s.peer.next()).msg;
      assert.equal(rst.type, CoapType.RST);
      assert.equal(rst.messageId, 10 + type);
    }
  } finally {
    await s.close();
  }
});

Deno.test("No-Response (RFC 7967): suppressed classes get no response, a CON still its empty ACK", async () => {
  const s = stack();
  try {
    // The answer's code is chosen by the request's token: [1] 2.04, [2] 4.04, [3] 4.04, [4] 2.04.
    const codes = [0, CoapCode.CHANGED, CoapCode.NOT_FOUND, CoapCode.NOT_FOUND, CoapCode.CHANGED];
    s.layer.onRequest((req) => ({ code: codes[req.token[0]], payload: enc("Received") }));
    const post = (type: number, messageId: number, mask: number) =>
      s.peer.send({
        type,
        code: CoapCode.POST,
        messageId,
        token: new Uint8Array([messageId]),
        options: [...uriOptions("server"), { number: 258, value: encodeUint(mask) }],
        payload: enc("temperature:21"),
      }, s.endpoint.port);
    // NON, 2.xx suppressed (mask 2): nothing comes back; the next answer is the 4.04 below.
    await post(CoapType.NON, 1, 2);
    await post(CoapType.NON, 2, 2);
    const err = (await s.peer.next()).msg;
    assert.equal(err.code, CoapCode.NOT_FOUND, "4.xx is not suppressed by mask 2");
    assert.equal(err.token[0], 2);
    // CON with 4.xx suppressed (mask 8): an empty ACK, so the node stops retransmitting.
    await post(CoapType.CON, 3, 8);
    const ack = (await s.peer.next()).msg;
    assert.deepEqual([ack.type, ack.code, ack.messageId], [CoapType.ACK, 0, 3]);
    // Mask 0 asks for every response.
    await post(CoapType.NON, 4, 0);
    const ok = (await s.peer.next()).msg;
    assert.deepEqual([ok.code, dec(ok.payload)], [CoapCode.CHANGED, "Received"]);
    assert.equal(s.layer.stats.suppressed, 2);
  } finally {
    await s.close();
  }
});

Deno.test("hostile bytes: malformed CON gets RST, garbage is dropped, the layer keeps serving", async () => {
  const s = stack();
  try {
    s.layer.onRequest(() => ({ code: CoapCode.CONTENT }));
    // CON, token length 8 but only 2 bytes follow the header.
    await s.peer.send(new Uint8Array([0x48, 0x01, 0xab, 0xcd, 1, 2]), s.endpoint.port);
    const rst = (await s.peer.next()).msg;
    assert.equal(rst.type, CoapType.RST);
    assert.equal(rst.messageId, 0xabcd);
    for (const junk of [new Uint8Array(0), new Uint8Array([0xff]), new Uint8Array(64).fill(0xee)]) {
      await s.peer.send(junk, s.endpoint.port);
    }
    // Option with the reserved delta 15 in a NON: dropped silently.
    await s.peer.send(new Uint8Array([0x50, 0x01, 0, 1, 0xf0]), s.endpoint.port);
    await s.peer.send({ ...get("ok"), type: CoapType.CON, messageId: 99 }, s.endpoint.port);
    const ok = (await s.peer.next((m) => m.messageId === 99)).msg;
    assert.equal(ok.code, CoapCode.CONTENT);
    assert.ok(s.layer.stats.malformed >= 4);
  } finally {
    await s.close();
  }
});

Deno.test("exchanges match responses by token: piggy-backed and separate", async () => {
  const s = stack({ params: { ackTimeoutMs: 200 } });
  const ex = new Exchanges(s.layer, { timeoutMs: 3_000 });
  try {
    const a = ex.request(s.to, { code: CoapCode.GET, options: uriOptions("a") });
    const b = ex.request(s.to, { code: CoapCode.GET, options: uriOptions("b") });
    const ra = (await s.peer.next((m) => getUriPath(m) === "a")).msg;
    const rb = (await s.peer.next((m) => getUriPath(m) === "b")).msg;
    assert.notDeepEqual(ra.token, rb.token);
    // b: piggy-backed. a: empty ACK, then a separate CON response.
    await s.peer.send(reply(rb, CoapType.ACK, CoapCode.CONTENT, enc("B")), s.endpoint.port);
    await s.peer.send(reply(ra, CoapType.ACK), s.endpoint.port);
    await s.peer.send({
      type: CoapType.CON,
      code: CoapCode.CONTENT,
      messageId: 4000,
      token: ra.token,
      options: [],
      payload: enc("A"),
    }, s.endpoint.port);
    assert.equal(dec((await b).payload), "B");
    assert.equal(dec((await a).payload), "A");
    const ack = (await s.peer.next((m) => m.messageId === 4000)).msg;
    assert.equal(ack.type, CoapType.ACK, "separate response acknowledged");
    assert.equal(ex.openCount, 0);
    // A confirmable request whose exchange times out stops being retransmitted.
    const before = s.peer.log.length;
    const gaveUp = ex.request(s.to, {
      code: CoapCode.GET,
      options: uriOptions("d"),
      timeoutMs: 100,
    });
    await assert.rejects(gaveUp, CoapTimeoutError);
    await sleep(600); // past the 200 ms retransmission timeout and its doubling
    assert.equal(s.peer.log.length, before + 1, "sent once, never retransmitted");
    assert.equal(s.layer.pendingCount, 0);
    // A request nobody answers ends with a timeout, not a hang.
    const lost = ex.request(s.to, {
      code: CoapCode.GET,
      options: uriOptions("c"),
      nonConfirmable: true,
      timeoutMs: 100,
    });
    await assert.rejects(lost, CoapTimeoutError);
  } finally {
    ex.close();
    await s.close();
  }
});

Deno.test("encodeCoap sanity for the harness", () => {
  // The raw peer relies on core-wasm encoding exactly what the tests build.
  const bytes = encodeCoap({
    type: CoapType.CON,
    code: 1,
    messageId: 1,
    token: EMPTY,
    options: [],
    payload: EMPTY,
  });
  assert.deepEqual([...bytes], [0x40, 1, 0, 1]);
});
