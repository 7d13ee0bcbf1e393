// RFC 7641 client against a raw peer that plays the server byte by byte: freshness ordering
// (24-bit wrap and the 128 s rule), re-registration when a relation lapses past Max-Age, RST for
// a notification of a released token, deregistration with Observe 1, error responses ending it.
import assert from "node:assert/strict";
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  CoapType,
  encodeUint,
  getObserve,
  getUriPath,
} from "../core-wasm/mod.ts";
import { UdpEndpoint } from "../gateway/coap/udp_endpoint.ts";
import { MessageLayer } from "../gateway/coap/message_layer.ts";
import { Exchanges } from "../gateway/coap/exchanges.ts";
import { isFresher, Observation } from "../gateway/coap/observe.ts";
import { answer, dec, enc, RawPeer, waitFor } from "./gateway_coap_harness.ts";

Deno.test("isFresher: sequence order, 24-bit wrap, 128 s rule", () => {
  assert.equal(isFresher(1, 0, 2, 0), true);
  assert.equal(isFresher(2, 0, 1, 0), false);
  assert.equal(isFresher(5, 0, 5, 0), false);
  assert.equal(isFresher(0xffffff, 0, 0, 10), true, "wraps around");
  assert.equal(isFresher(0, 0, 0xffffff, 10), false, "far behind means older");
  assert.equal(isFresher(10, 0, 3, 128_000), false, "exactly 128 s is not enough");
  assert.equal(isFresher(10, 0, 3, 128_001), true, "after 128 s anything is newer");
});

function stack() {
  const endpoint = UdpEndpoint.listen({ hostname: "127.0.0.1", port: 0 });
  const layer = new MessageLayer(endpoint, { params: { ackTimeoutMs: 200, maxRetransmit: 2 } });
  const exchanges = new Exchanges(layer, { timeoutMs: 2_000 });
  const peer = new RawPeer();
  return {
    endpoint,
    exchanges,
    peer,
    to: { hostname: "127.0.0.1", port: peer.port },
    async close() {
      exchanges.close();
      await layer.close();
      await endpoint.close();
      await peer.close();
    },
  };
}

function notification(token: Uint8Array, seq: number, text: string, mid: number, maxAge = 60) {
  return {
    type: CoapType.NON,
    code: CoapCode.CONTENT,
    messageId: mid,
    token,
    options: [
      { number: CoapOption.OBSERVE, value: encodeUint(seq) },
      { number: CoapOption.MAX_AGE, value: encodeUint(maxAge) },
    ],
    payload: enc(text),
  };
}

const isRegistration = (m: CoapMessage) => getUriPath(m) === "time" && getObserve(m) === 0;

Deno.test("notifications in order, stale dropped, lapse re-registers, old token gets RST, cancel deregisters", async () => {
  const s = stack();
  const values: string[] = [];
  const obs = new Observation({
    exchanges: s.exchanges,
    peer: s.to,
    path: "/time",
    onValue: (res) => values.push(dec(res.payload)),
    slackMs: 300,
    timeoutMs: 2_000,
  });
  try {
    // The server accepts with sequence 10 and a Max-Age of 1 s.
    s.peer.autoReply = (req) =>
      isRegistration(req)
        ? answer(req, CoapCode.CONTENT, "a", [
          { number: CoapOption.OBSERVE, value: encodeUint(10) },
          { number: CoapOption.MAX_AGE, value: encodeUint(1) },
        ])
        : undefined;
    await obs.start();
    const reg = (await s.peer.next(isRegistration)).msg;
    assert.deepEqual(values, ["a"]);
    const port = s.endpoint.port;
    await s.peer.send(notification(reg.token, 12, "b", 500, 1), port);
    await waitFor(() => values.length === 2, "b");
    await s.peer.send(notification(reg.token, 11, "stale", 501, 1), port);
    await s.peer.send(notification(reg.token, 13, "c", 502, 1), port);
    await waitFor(() => values.length === 3, "c");
    assert.deepEqual(values, ["a", "b", "c"]);
    assert.equal(obs.stats.stale, 1);

    // Silence past Max-Age + slack: a new registration with a new token.
    s.peer.autoReply = (req) =>
      isRegistration(req)
        ? answer(req, CoapCode.CONTENT, "d", [{ number: CoapOption.OBSERVE, value: encodeUint(1) }])
        : undefined;
    const again = (await s.peer.next(isRegistration, 5_000)).msg;
    assert.notDeepEqual(again.token, reg.token);
    await waitFor(() => values.at(-1) === "d", "value from the new relation");
    assert.equal(obs.stats.registrations, 2);

    // A late notification of the lapsed relation is unwanted: RST.
    await s.peer.send(notification(reg.token, 14, "late", 503), port);
    const rst = (await s.peer.next((m) => m.type === CoapType.RST)).msg;
    assert.equal(rst.messageId, 503);
    assert.ok(!values.includes("late"));

    // Cancel: GET with Observe 1 on the current token.
    s.peer.autoReply = (req) => answer(req, CoapCode.CONTENT, "bye");
    await obs.cancel();
    const dereg = (await s.peer.next((m) => getObserve(m) === 1)).msg;
    assert.deepEqual(dereg.token, again.token);
    assert.equal(getUriPath(dereg), "time");
    assert.equal(obs.active, false);
  } finally {
    await obs.cancel(false);
    await s.close();
  }
});

Deno.test("an error notification ends the relation and is never a value", async () => {
  const s = stack();
  const values: string[] = [];
  const ends: string[] = [];
  const obs = new Observation({
    exchanges: s.exchanges,
    peer: s.to,
    path: "gone",
    onValue: (res) => values.push(dec(res.payload)),
    onEnd: (why) => ends.push(why),
  });
  try {
    s.peer.autoReply = (req) => answer(req, CoapCode.NOT_FOUND, "no such thing");
    await obs.start();
    assert.deepEqual(values, []);
    assert.deepEqual(ends, ["error-response"]);
    assert.equal(obs.active, false);
  } finally {
    await obs.cancel(false);
    await s.close();
  }
});

Deno.test("a server that does not observe gets asked again after Max-Age (polling fallback)", async () => {
  const s = stack();
  const values: string[] = [];
  let n = 0;
  const obs = new Observation({
    exchanges: s.exchanges,
    peer: s.to,
    path: "plain",
    onValue: (res) => values.push(dec(res.payload)),
  });
  try {
    s.peer.autoReply = (req) =>
      answer(req, CoapCode.CONTENT, `v${++n}`, [{
        number: CoapOption.MAX_AGE,
        value: encodeUint(1),
      }]);
    await obs.start();
    await waitFor(() => values.length >= 2, "second read after Max-Age", 5_000);
    assert.deepEqual(values.slice(0, 2), ["v1", "v2"]);
  } finally {
    await obs.cancel(false);
    await s.close();
  }
});
