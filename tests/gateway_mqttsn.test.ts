// The MQTT-SN endpoint with raw spec datagrams over real UDP sockets: connect, registration,
// publish at every QoS and id form, subscriptions, keep-alive and Will, sleeping clients,
// discovery, forwarder encapsulation, retransmission, and hostile traffic.
import { deepEqual, equal, ok } from "node:assert/strict";
import { MqttSnType as T } from "../core-wasm/mod.ts";
import { type MqttSnServer, startMqttSnServer } from "../gateway/mqttsn/server.ts";
import type { MqttSnServerOptions } from "../gateway/mqttsn/server.ts";
import { RawMqttSnClient } from "./helpers/mqttsn_client.ts";
import { hex, prng, randomMessage, toHex } from "./helpers/mqttsn_gen.ts";
import { encodeMqttSn } from "../core-wasm/mod.ts";

const te = new TextEncoder();
const td = new TextDecoder();

async function withGateway(
  opts: MqttSnServerOptions,
  fn: (s: MqttSnServer, client: () => RawMqttSnClient) => Promise<void>,
): Promise<void> {
  const published: [string, string][] = [];
  const server = startMqttSnServer({
    port: 0,
    tickMs: 20,
    retryMs: 300,
    maxRetries: 2,
    onPublish: (t, p) => published.push([t, td.decode(p)]),
    ...opts,
  });
  const clients: RawMqttSnClient[] = [];
  try {
    await fn(server, () => {
      const c = new RawMqttSnClient(server.port);
      clients.push(c);
      return c;
    });
  } finally {
    for (const c of clients) await c.close();
    await server.close();
  }
}

async function connect(c: RawMqttSnClient, id: string, duration = 60, clean = true) {
  await c.send({ type: T.CONNECT, cleanSession: clean, protocolId: 1, duration, clientId: id });
  deepEqual(await c.recv(), { type: T.CONNACK, returnCode: 0 });
}

Deno.test("CONNECT/CONNACK from the spec bytes; bad ProtocolId and empty ClientId refused", async () => {
  await withGateway({}, async (_s, client) => {
    const c = client();
    await c.send(hex("0C 04 04 01 003C 736E2D737562"));
    equal(toHex(await c.recvRaw()), "030500");
    await c.send({ type: T.CONNECT, protocolId: 2, duration: 60, clientId: "x" });
    deepEqual(await c.recv(), { type: T.CONNACK, returnCode: 3 });
    await c.send({ type: T.CONNECT, protocolId: 1, duration: 60, clientId: "" });
    deepEqual(await c.recv(), { type: T.CONNACK, returnCode: 3 });
    await c.send(hex("02 16")); // still connected as sn-sub: PINGREQ answered
    equal(toHex(await c.recvRaw()), "0217");
  });
});

Deno.test("REGISTER ids per client; QoS 1 publish reaches a name subscriber with its own id", async () => {
  await withGateway({}, async (s, client) => {
    const sub = client();
    const pub = client();
    await connect(sub, "sn-sub");
    await connect(pub, "sn-pub");
    // The subscriber registers something else first, so its id for sn/test is 2.
    await sub.send({ type: T.REGISTER, topicId: 0, msgId: 1, topicName: "other" });
    deepEqual(await sub.recv(), { type: T.REGACK, topicId: 1, msgId: 1, returnCode: 0 });
    await sub.send(hex("0C 12 20 0002 736E2F74657374")); // SUBSCRIBE QoS 1 "sn/test"
    deepEqual(await sub.recv(), { type: T.SUBACK, qos: 1, topicId: 2, msgId: 2, returnCode: 0 });
    await pub.send(hex("0D 0A 0000 0001 736E2F74657374")); // REGISTER sn/test
    equal(toHex(await pub.recvRaw()), "070b0001000100"); // id 1 in the publisher's table
    await pub.send(hex("0D 0A 0000 0002 736E2F74657374")); // again: same id
    equal(toHex(await pub.recvRaw()), "070b0001000200");
    await pub.send(hex("14 0C 20 0001 0002 68656C6C6F2D736E2D716F7331"));
    equal(toHex(await pub.recvRaw()), "070d0001000200"); // PUBACK echoes TopicId and MsgId
    const got = await sub.expect(T.PUBLISH);
    equal(got.topicId, 2);
    equal(got.topicIdType, 0);
    equal(got.qos, 1);
    equal(td.decode(got.data), "hello-sn-qos1");
    await sub.send({ type: T.PUBACK, topicId: 2, msgId: got.msgId, returnCode: 0 });
    // Wildcard names cannot be registered; unknown ids get PUBACK 0x02 (any QoS).
    await pub.send({ type: T.REGISTER, msgId: 3, topicName: "a/+" });
    equal((await pub.expect(T.REGACK)).returnCode, 3);
    await pub.send({ type: T.PUBLISH, qos: 0, topicId: 99, msgId: 0, data: te.encode("x") });
    deepEqual(await pub.recv(), { type: T.PUBACK, topicId: 99, msgId: 0, returnCode: 2 });
    equal(s.sessions.stats.publishesIn, 1);
  });
});

Deno.test("PUBLISH QoS 0, 2 and -1 with pre-defined and short ids", async () => {
  await withGateway({ predefined: { "sensors/temp": 1 } }, async (s, client) => {
    const sub = client();
    const pub = client();
    await connect(sub, "sub");
    await connect(pub, "pub");
    await sub.send({ type: T.SUBSCRIBE, qos: 2, topicIdType: 1, msgId: 1, topicId: 1 });
    deepEqual(await sub.recv(), { type: T.SUBACK, qos: 2, topicId: 1, msgId: 1, returnCode: 0 });
    await sub.send({ type: T.SUBSCRIBE, qos: 0, topicIdType: 2, msgId: 2, topicName: "ab" });
    deepEqual(await sub.recv(), {
      type: T.SUBACK,
      qos: 0,
      topicId: 0x6162,
      msgId: 2,
      returnCode: 0,
    });
    await sub.send({ type: T.SUBSCRIBE, qos: 1, topicIdType: 1, msgId: 3, topicId: 7 });
    equal((await sub.expect(T.SUBACK)).returnCode, 2); // unknown pre-defined id

    // QoS 0 on a short name (appendix datagram): delivered in the short form.
    await pub.send(hex("17 0C 02 6162 0000 73686F72742D746F7069632D716F7330"));
    const short = await sub.expect(T.PUBLISH);
    deepEqual([short.topicIdType, short.topicId, short.qos], [2, 0x6162, 0]);
    equal(td.decode(short.data), "short-topic-qos0");

    // QoS 2 on a pre-defined id: PUBREC, a duplicate is not forwarded twice, PUBREL/PUBCOMP.
    const q2 = { type: T.PUBLISH, qos: 2 as const, topicIdType: 1 as const, topicId: 1, msgId: 9 };
    await pub.send({ ...q2, data: te.encode("21.5") });
    deepEqual(await pub.recv(), { type: T.PUBREC, msgId: 9 });
    await pub.send({ ...q2, dup: true, data: te.encode("21.5") });
    deepEqual(await pub.recv(), { type: T.PUBREC, msgId: 9 });
    await pub.send({ type: T.PUBREL, msgId: 9 });
    deepEqual(await pub.recv(), { type: T.PUBCOMP, msgId: 9 });
    const p2 = await sub.expect(T.PUBLISH);
    deepEqual([p2.topicIdType, p2.topicId, p2.qos], [1, 1, 2]);
    await sub.send({ type: T.PUBREC, msgId: p2.msgId });
    deepEqual(await sub.recv(), { type: T.PUBREL, msgId: p2.msgId });
    await sub.send({ type: T.PUBCOMP, msgId: p2.msgId });

    // QoS -1 from a socket that never connected (appendix: pre-defined id 1, "hi").
    const anon = client();
    await anon.send(hex("09 0C 61 0001 0000 6869"));
    const m1 = await sub.expect(T.PUBLISH);
    deepEqual([m1.topicIdType, m1.topicId, m1.qos, td.decode(m1.data)], [1, 1, 0, "hi"]);
    await anon.send(hex("09 0C 61 0005 0000 6869")); // unknown pre-defined id: dropped silently
    await anon.quiet(150);
    await sub.quiet(100);
    equal(s.sessions.stats.publishesIn, 3);
  });
});

Deno.test("wildcard SUBSCRIBE: SUBACK id 0, REGISTER before the first PUBLISH, UNSUBSCRIBE", async () => {
  await withGateway({}, async (s, client) => {
    const sub = client();
    await connect(sub, "wild");
    await sub.send(hex("0C 12 20 0001 7479347477 2F 23")); // "ty4tw/#"
    equal(toHex(await sub.recvRaw()), "0813200000000100"); // Paho's SUBACK for a wildcard
    equal(s.publish("ty4tw/a/b", te.encode("one"), 1), 1);
    const reg = await sub.expect(T.REGISTER);
    equal(reg.topicName, "ty4tw/a/b");
    ok(reg.topicId! > 0);
    await sub.quiet(100); // no PUBLISH before REGACK
    await sub.send({ type: T.REGACK, topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
    const p = await sub.expect(T.PUBLISH);
    equal(p.topicId, reg.topicId);
    equal(td.decode(p.data), "one");
    await sub.send({ type: T.PUBACK, topicId: p.topicId, msgId: p.msgId, returnCode: 0 });
    // The id is known now: the next one comes without REGISTER.
    s.publish("ty4tw/a/b", te.encode("two"), 0);
    equal(td.decode((await sub.expect(T.PUBLISH)).data), "two");
    await sub.send({ type: T.UNSUBSCRIBE, topicIdType: 0, msgId: 5, topicName: "ty4tw/#" });
    deepEqual(await sub.recv(), { type: T.UNSUBACK, msgId: 5 });
    equal(s.publish("ty4tw/a/b", te.encode("three"), 0), 0);
    await sub.quiet(100);
  });
});

Deno.test("unacknowledged QoS 1 delivery is retransmitted with DUP, then given up", async () => {
  await withGateway({}, async (s, client) => {
    const sub = client();
    await connect(sub, "deaf");
    await sub.send({ type: T.SUBSCRIBE, qos: 1, msgId: 1, topicName: "t" });
    await sub.expect(T.SUBACK);
    s.publish("t", te.encode("v"), 1);
    s.publish("t", te.encode("w"), 1); // queued behind the first: one in flight per client
    const first = await sub.expect(T.PUBLISH);
    equal(first.dup, false);
    const again = await sub.expect(T.PUBLISH, 2000);
    equal(again.dup, true);
    equal(again.msgId, first.msgId);
    const third = await sub.expect(T.PUBLISH, 2000); // maxRetries 2
    equal(third.msgId, first.msgId);
    // Given up: the queued one follows.
    const next = await sub.expect(T.PUBLISH, 2000);
    equal(td.decode(next.data), "w");
    equal(s.sessions.stats.gaveUp, 1);
    await sub.send({ type: T.PUBACK, topicId: next.topicId, msgId: next.msgId, returnCode: 0 });
    await sub.quiet(500);
  });
});

Deno.test("keep-alive expiry (with the +50 % tolerance) publishes the Will", async () => {
  await withGateway({}, async (s, client) => {
    const watcher = client();
    await connect(watcher, "watcher");
    await watcher.send({ type: T.SUBSCRIBE, qos: 1, msgId: 1, topicName: "will/#" });
    await watcher.expect(T.SUBACK);
    const node = client();
    await node.send({
      type: T.CONNECT,
      will: true,
      cleanSession: true,
      duration: 1,
      clientId: "n",
    });
    deepEqual(await node.recv(), { type: T.WILLTOPICREQ });
    await node.send({ type: T.WILLTOPIC, qos: 1, retain: false, willTopic: "will/n" });
    deepEqual(await node.recv(), { type: T.WILLMSGREQ });
    await node.send({ type: T.WILLMSG, willMsg: te.encode("gone") });
    deepEqual(await node.recv(), { type: T.CONNACK, returnCode: 0 });
    const t0 = Date.now();
    // Silent from now on: lost after 1.5 s, not after 1 s.
    const reg = await watcher.expect(T.REGISTER, 4000);
    const waited = Date.now() - t0;
    ok(waited >= 1400, `lost after ${waited} ms`);
    equal(reg.topicName, "will/n");
    await watcher.send({ type: T.REGACK, topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
    const will = await watcher.expect(T.PUBLISH);
    equal(td.decode(will.data), "gone");
    equal(s.sessions.client("n")?.state, "lost");
    equal(s.sessions.stats.willsPublished, 1);
    // A lost client that speaks again is told to CONNECT.
    await node.send(hex("02 16"));
    deepEqual(await node.recv(), { type: T.DISCONNECT });
  });
});

Deno.test("a client that keeps pinging is not lost; plain DISCONNECT sends no Will", async () => {
  await withGateway({}, async (s, client) => {
    const node = client();
    await node.send({
      type: T.CONNECT,
      will: true,
      cleanSession: true,
      duration: 1,
      clientId: "p",
    });
    await node.expect(T.WILLTOPICREQ);
    await node.send({ type: T.WILLTOPIC, qos: 0, willTopic: "w" });
    await node.expect(T.WILLMSGREQ);
    await node.send({ type: T.WILLMSG, willMsg: te.encode("x") });
    await node.expect(T.CONNACK);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await node.send({ type: T.PINGREQ });
      await node.expect(T.PINGRESP);
    }
    equal(s.sessions.client("p")?.state, "active");
    await node.send(hex("02 18"));
    deepEqual(await node.recv(), { type: T.DISCONNECT });
    equal(s.sessions.client("p")?.state, "disconnected");
    await node.send(hex("02 18")); // our answer was lost: the client repeats, we answer again
    deepEqual(await node.recv(), { type: T.DISCONNECT });
    await new Promise((r) => setTimeout(r, 300));
    equal(s.sessions.stats.willsPublished, 0);
  });
});

Deno.test("sleeping client: DISCONNECT(duration), buffered messages, PINGREQ(ClientId) wake", async () => {
  await withGateway({}, async (s, client) => {
    const node = client();
    await connect(node, "sn-sub");
    await node.send({ type: T.SUBSCRIBE, qos: 1, msgId: 1, topicName: "cmd" });
    const suback = await node.expect(T.SUBACK);
    await node.send(hex("04 18 003C")); // sleep 60 s
    deepEqual(await node.recv(), { type: T.DISCONNECT });
    equal(s.sessions.client("sn-sub")?.state, "asleep");
    s.publish("cmd", te.encode("one"), 1);
    s.publish("cmd", te.encode("two"), 0);
    await node.quiet(200); // asleep: buffered, nothing sent
    // Wakes up from a new port (a new socket), identified by its ClientId.
    const woke = client();
    await woke.send(hex("08 16 736E2D737562"));
    const a = await woke.expect(T.PUBLISH);
    equal(a.topicId, suback.topicId);
    equal(td.decode(a.data), "one");
    await woke.quiet(100); // one in flight: the next waits for the PUBACK
    await woke.send({ type: T.PUBACK, topicId: a.topicId, msgId: a.msgId, returnCode: 0 });
    equal(td.decode((await woke.expect(T.PUBLISH)).data), "two");
    await woke.expect(T.PINGRESP); // closes the batch
    equal(s.sessions.client("sn-sub")?.state, "asleep");
    // Nothing buffered: PINGREQ answered at once.
    await woke.send(hex("08 16 736E2D737562"));
    await woke.expect(T.PINGRESP);
    // CONNECT while asleep: active again at once.
    s.publish("cmd", te.encode("three"), 0);
    await woke.send({ type: T.CONNECT, cleanSession: true, duration: 60, clientId: "sn-sub" });
    await woke.expect(T.CONNACK);
    equal(td.decode((await woke.expect(T.PUBLISH)).data), "three");
    equal(s.sessions.client("sn-sub")?.state, "active");
  });
});

Deno.test("a sleeper that oversleeps (+50 %) is lost", async () => {
  await withGateway({}, async (s, client) => {
    const node = client();
    await connect(node, "z");
    const t0 = Date.now();
    await node.send({ type: T.DISCONNECT, duration: 1 });
    await node.expect(T.DISCONNECT);
    await new Promise((r) => setTimeout(r, 900));
    equal(s.sessions.client("z")?.state, "asleep"); // past the 1 s duration, within tolerance
    while (s.sessions.client("z")?.state !== "lost" && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    equal(s.sessions.client("z")?.state, "lost");
    ok(Date.now() - t0 >= 1450, `lost after ${Date.now() - t0} ms`);
  });
});

Deno.test("SEARCHGW -> GWINFO; ADVERTISE goes to the configured address", async () => {
  const listener = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const advPort = (listener.addr as Deno.NetAddr).port;
    await withGateway(
      { gwId: 7, advertise: { host: "127.0.0.1", port: advPort, intervalS: 900 } },
      async (s, client) => {
        const [adv] = await listener.receive();
        equal(toHex(adv), "0500070384"); // ADVERTISE GwId 7, Duration 900
        const c = client();
        await c.send(hex("03 01 00"));
        equal(toHex(await c.recvRaw()), "030207");
        equal(s.stats.searchGw, 1);
      },
    );
  } finally {
    listener.close();
  }
});

Deno.test("forwarder encapsulation: clients keyed by (forwarder, node id), answers wrapped", async () => {
  await withGateway({}, async (s, client) => {
    const fwd = client();
    const wrap = (id: string, inner: Uint8Array) =>
      new Uint8Array([3 + id.length, 0xfe, 0, ...te.encode(id), ...inner]);
    await fwd.send(wrap("N1", hex("08 04 04 01 003C 6E31"))); // CONNECT "n1"
    await fwd.send(wrap("N2", hex("08 04 04 01 003C 6E32"))); // CONNECT "n2"
    equal(toHex(await fwd.recvRaw()), "05fe004e31" + "030500");
    equal(toHex(await fwd.recvRaw()), "05fe004e32" + "030500");
    await fwd.send(wrap("N2", hex("02 16")));
    equal(toHex(await fwd.recvRaw()), "05fe004e32" + "0217");
    equal(s.sessions.size, 2);
    equal(s.stats.encapsulated, 3);
  });
});

Deno.test("hostile traffic: malformed datagrams counted, floods rate-limited, unknown senders", async () => {
  await withGateway({ rateLimit: { perSecond: 50, burst: 20 } }, async (s, client) => {
    const bad = client();
    const junk = [
      "",
      "00",
      "05 04",
      "01 00",
      "FF FF FF",
      "03 03 00",
      "04 FE 00 41",
      "07 0C 03 0000",
    ];
    for (const h of junk) await bad.send(hex(h));
    await bad.send(hex("02 16")); // PINGREQ from a client that never connected
    equal(toHex(await bad.recvRaw()), "0218"); // told to CONNECT
    await new Promise((r) => setTimeout(r, 100));
    equal(s.stats.malformed, junk.length); // the empty datagram included
    equal(s.sessions.stats.unknownClient, 1);
    const flood = client();
    for (let i = 0; i < 300; i++) await flood.send(hex("03 01 00"));
    await new Promise((r) => setTimeout(r, 300));
    // burst 20 + 50/s while the 300 go out: most are dropped (bounds allow a slow machine)
    ok(s.stats.rateLimited > 150, `rate limited ${s.stats.rateLimited}`);
    ok(s.stats.searchGw < 150, `answered ${s.stats.searchGw}`);
    // Others are unaffected.
    const good = client();
    await connect(good, "good");
  });
});

Deno.test("long-form PUBLISH is accepted; Will topic and message updates are acknowledged", async () => {
  await withGateway({}, async (s, client) => {
    const sub = client();
    const pub = client();
    await connect(sub, "s");
    await connect(pub, "p");
    await sub.send({ type: T.SUBSCRIBE, qos: 0, msgId: 1, topicName: "big" });
    await sub.expect(T.SUBACK);
    await pub.send({ type: T.REGISTER, msgId: 1, topicName: "big" });
    const { topicId } = await pub.expect(T.REGACK);
    const data = new Uint8Array(300).fill(0x61);
    // Long header even where the short one would do, then a 309-octet one (spec example).
    await pub.send(hex("01 0009 0C 00 0001 0000"));
    equal((await sub.expect(T.PUBLISH)).data!.length, 0);
    await pub.send({ type: T.PUBLISH, qos: 1, topicId, msgId: 2, data });
    await pub.expect(T.PUBACK);
    const got = await sub.recvRaw();
    equal(toHex(got.subarray(0, 4)), "0101350c"); // delivered in the long form too
    equal(got.length, 309);

    await pub.send({ type: T.WILLTOPICUPD, qos: 1, retain: false, willTopic: "big" });
    deepEqual(await pub.recv(), { type: T.WILLTOPICRESP, returnCode: 0 });
    await pub.send({ type: T.WILLMSGUPD, willMsg: te.encode("bye") });
    deepEqual(await pub.recv(), { type: T.WILLMSGRESP, returnCode: 0 });
    deepEqual(s.sessions.client("p")?.will?.topic, "big");
    equal(td.decode(s.sessions.client("p")!.will!.msg), "bye");
    await pub.send(hex("02 1A")); // empty WILLTOPICUPD deletes the Will
    deepEqual(await pub.recv(), { type: T.WILLTOPICRESP, returnCode: 0 });
    equal(s.sessions.client("p")?.will, undefined);
  });
});

Deno.test("retained messages: kept per topic, sent on SUBSCRIBE with Retain, cleared by empty", async () => {
  await withGateway({}, async (_s, client) => {
    const pub = client();
    await connect(pub, "pub");
    await pub.send({ type: T.REGISTER, msgId: 1, topicName: "state/led" });
    const { topicId } = await pub.expect(T.REGACK);
    const retained = { type: T.PUBLISH, qos: 1 as const, retain: true, topicId };
    await pub.send({ ...retained, msgId: 2, data: te.encode("on") });
    await pub.expect(T.PUBACK);
    const sub = client();
    await connect(sub, "sub");
    await sub.send({ type: T.SUBSCRIBE, qos: 1, msgId: 1, topicName: "state/+" });
    await sub.expect(T.SUBACK);
    const reg = await sub.expect(T.REGISTER);
    await sub.send({ type: T.REGACK, topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
    const got = await sub.expect(T.PUBLISH);
    deepEqual([got.retain, td.decode(got.data)], [true, "on"]);
    await sub.send({ type: T.PUBACK, topicId: got.topicId, msgId: got.msgId, returnCode: 0 });
    // Live deliveries carry Retain 0; an empty retained publish clears the topic.
    await pub.send({ ...retained, msgId: 3, data: new Uint8Array(0) });
    await pub.expect(T.PUBACK);
    const live = await sub.expect(T.PUBLISH);
    equal(live.retain, false);
    await sub.send({ type: T.PUBACK, topicId: live.topicId, msgId: live.msgId, returnCode: 0 });
    const late = client();
    await connect(late, "late");
    await late.send({ type: T.SUBSCRIBE, qos: 1, msgId: 1, topicName: "state/led" });
    await late.expect(T.SUBACK);
    await late.quiet(200);
  });
});

Deno.test("fuzz over UDP: random and mutated messages of every type never break the gateway", async () => {
  await withGateway({ rateLimit: false, predefined: { "p/1": 1 } }, async (s, client) => {
    const r = prng(11);
    const int = (n: number) => Math.floor(r() * n);
    const peers = [client(), client(), client()];
    // Some peers are connected and subscribed, so the fuzz also drives sessions, not just framing.
    await connect(peers[0], "f0", 1);
    await connect(peers[1], "f1");
    await peers[1].send({ type: T.SUBSCRIBE, qos: 2, msgId: 1, topicName: "#" });
    await peers[1].expect(T.SUBACK);
    let sent = 0;
    for (let i = 0; i < 4000; i++) {
      const m = randomMessage(r, 24);
      if (m.type === T.CONNECT && r() < 0.7) m.protocolId = 1;
      let b = encodeMqttSn(m);
      if (r() < 0.3) {
        b = b.slice();
        b[int(b.length)] = int(256);
      }
      await peers[int(3)].send(b);
      sent++;
      if (i % 200 === 0) await new Promise((res) => setTimeout(res, 5)); // let it drain
    }
    await new Promise((res) => setTimeout(res, 500));
    ok(s.stats.datagrams > sent * 0.5, `received ${s.stats.datagrams} of ${sent}`);
    equal(s.stats.handlerErrors, 0);
    ok(s.stats.malformed > 0);
    // Still serving: a fresh client connects and pings.
    const fresh = client();
    await connect(fresh, "after-fuzz");
    await fresh.send(hex("02 16"));
    await fresh.expect(T.PINGRESP);
  });
});
