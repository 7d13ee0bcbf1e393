// The pyaiot topic protocol on its own: a recording transport stands in for the pub/sub client
// (the MQTT tests run the same code over real mosquitto and aedes).
import { deepEqual, equal, ok } from "node:assert/strict";
import { encode as cborEncode } from "cbor2";
import { NodeRegistry, type RegistryEvent } from "../gateway/registry.ts";
import { decodeNodePayload, isValidTopicName, PyaiotTopics } from "../gateway/topics.ts";

function setup(opts: { maxNodes?: number; maxResources?: number; now?: () => number } = {}) {
  const registry = new NodeRegistry({ timeoutMs: 1000, now: opts.now });
  const calls: string[] = [];
  const transport = {
    publish: (t: string, p: string) => calls.push(`pub ${t} ${p}`),
    subscribe: (f: string) => calls.push(`sub ${f}`),
    unsubscribe: (f: string) => calls.push(`unsub ${f}`),
  };
  const events: string[] = [];
  registry.on((e: RegistryEvent) =>
    events.push(
      e.kind === "update"
        ? `update ${e.node.uid} ${e.endpoint}=${JSON.stringify(e.state.value)}`
        : `${e.kind} ${e.node.uid}`,
    )
  );
  const topics = new PyaiotTopics({ registry, transport, protocol: "MQTT", ...opts });
  return { registry, calls, events, topics };
}

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("topics: check-in, discovery of resources then values, values reach the registry", () => {
  const { calls, events, topics, registry } = setup();
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  deepEqual(events, ["new n1", 'update n1 id="n1"', 'update n1 protocol="MQTT"']);
  deepEqual(calls, ["sub node/n1/resources", "pub gateway/n1/discover resources"]);
  calls.length = 0;
  topics.onMessage("node/n1/resources", enc('["name","led","temperature"]'));
  deepEqual(calls, [
    "sub node/n1/name",
    "sub node/n1/led",
    "sub node/n1/temperature",
    "pub gateway/n1/discover values",
  ]);
  events.length = 0;
  topics.onMessage("node/n1/name", enc('{"value":"MQTT test node"}'));
  topics.onMessage("node/n1/temperature", enc('{"value": 21.5}'));
  topics.onMessage("node/n1/led", enc("1")); // plain text, as CoAP nodes send values
  deepEqual(events, [
    'update n1 name="MQTT test node"',
    "update n1 temperature=21.5",
    'update n1 led="1"',
  ]);
  deepEqual([...registry.get("n1")!.resources.keys()], [
    "id",
    "protocol",
    "name",
    "temperature",
    "led",
  ]);
  deepEqual(topics.subscriptions(), [
    "node/check",
    "node/n1/resources",
    "node/n1/name",
    "node/n1/led",
    "node/n1/temperature",
  ]);
});

Deno.test("topics: a repeated check-in refreshes, and re-asks for resources until they come", () => {
  let now = 0;
  const { calls, events, topics, registry } = setup({ now: () => now });
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  calls.length = 0;
  events.length = 0;
  now = 500;
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  equal(registry.get("n1")!.lastSeen, 500);
  deepEqual(events, [], "no second new");
  deepEqual(calls, ["pub gateway/n1/discover resources"], "discovery retried");
  topics.onMessage("node/n1/resources", enc('["led"]'));
  topics.onMessage("node/n1/led", enc('{"value":"0"}'));
  calls.length = 0;
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  deepEqual(calls, [], "a discovered node is only refreshed");
});

Deno.test("topics: writes, gateway/check, and unsubscription when the node times out", () => {
  let now = 0;
  const { calls, topics, registry } = setup({ now: () => now });
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  topics.onMessage("node/n1/resources", enc('["led"]'));
  calls.length = 0;
  equal(topics.write("n1", "led", "1"), true);
  equal(topics.write("ghost", "led", "1"), false);
  equal(topics.write("n1", "led/#", "1"), false, "no wildcard injection");
  topics.checkNodes();
  deepEqual(calls, ["pub gateway/n1/led/set 1", "pub gateway/check "]);
  calls.length = 0;
  now = 5000;
  deepEqual(registry.sweep(), ["n1"]);
  deepEqual(calls, ["unsub node/n1/resources", "unsub node/n1/led"]);
  deepEqual(topics.subscriptions(), ["node/check"]);
  // Back again after the timeout: a fresh node with fresh discovery.
  calls.length = 0;
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  deepEqual(calls, ["sub node/n1/resources", "pub gateway/n1/discover resources"]);
});

Deno.test("topics: hostile payloads and topics are counted, never thrown, never create nodes", () => {
  const { calls, topics, registry } = setup();
  const bad: [string, Uint8Array][] = [
    ["node/check", enc("")],
    ["node/check", enc("{")],
    ["node/check", enc("[1,2]")],
    ["node/check", enc('{"id":5}')],
    ["node/check", enc('{"id":"a/b"}')],
    ["node/check", enc('{"id":"#"}')],
    ["node/check", enc('{"id":""}')],
    ["node/check", enc(JSON.stringify({ id: "x".repeat(65) }))],
    ["node/check", new Uint8Array([0xff, 0xfe, 0x00])],
    ["node/check", new Uint8Array([0xa1, 0x62])], // truncated CBOR map
    ["node/check", enc("null")],
    ["node/check", enc(JSON.stringify({ id: "big", pad: "x".repeat(9000) }))],
  ];
  for (const [t, p] of bad) topics.onMessage(t, p);
  equal(registry.size, 0);
  deepEqual(calls, []);
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  calls.length = 0;
  topics.onMessage("node/n1/resources", enc('{"not":"a list"}'));
  topics.onMessage("node/n1/resources", enc("[1, null, {}]"));
  topics.onMessage("node/n1/led", enc('{"val":1}'));
  topics.onMessage("node/n1/led", enc('{"value":'));
  topics.onMessage("node/n1/led", enc("[1]"));
  topics.onMessage("node/ghost/led", enc('{"value":1}'));
  topics.onMessage("node/n1/a/b", enc('{"value":1}'));
  topics.onMessage("elsewhere", enc("x"));
  topics.onMessage("node", enc("x"));
  equal(registry.get("n1")!.resources.has("led"), false);
  ok(topics.stats.malformed >= 15, `malformed ${topics.stats.malformed}`);
  equal(topics.stats.unknownNode, 1);
  equal(topics.stats.unknownTopic, 3);
  // The all-invalid list still triggers `values` (harmless) but subscribes to nothing.
  deepEqual(calls, ["pub gateway/n1/discover values"]);
});

Deno.test("topics: the node count is bounded", () => {
  const { topics, registry } = setup({ maxNodes: 3 });
  for (let i = 0; i < 10; i++) topics.onMessage("node/check", enc(`{"id":"n${i}"}`));
  equal(registry.size, 3);
  equal(topics.stats.refused, 7);
  topics.onMessage("node/check", enc('{"id":"n0"}'));
  equal(topics.stats.refused, 7, "known nodes are still refreshed");
});

Deno.test("topics: payload decoding and topic names", () => {
  deepEqual(decodeNodePayload(enc(' {"value":1}')), { ok: true, value: { value: 1 }, text: false });
  deepEqual(decodeNodePayload(enc("23.4°C")), { ok: true, value: "23.4°C", text: true });
  equal(decodeNodePayload(new Uint8Array([0xc3, 0x28])).ok, false);
  equal(isValidTopicName("mqtt-2"), true);
  equal(isValidTopicName("a b"), false);
  equal(isValidTopicName("a+"), false);
  equal(isValidTopicName(""), false);
});

Deno.test("topics: CBOR payloads (encoded independently by cbor2) and hostile CBOR", () => {
  const { events, topics, registry } = setup();
  topics.onMessage("node/check", cborEncode({ id: "c1" }));
  ok(registry.get("c1"), "a CBOR check-in creates the node");
  topics.onMessage("node/c1/resources", cborEncode(["temperature", "position"]));
  deepEqual(topics.subscriptions(), [
    "node/check",
    "node/c1/resources",
    "node/c1/temperature",
    "node/c1/position",
  ]);
  events.length = 0;
  topics.onMessage("node/c1/temperature", cborEncode({ value: 21.5 }));
  topics.onMessage("node/c1/position", cborEncode({ value: { lat: 48.71, lng: 2.2 } }));
  deepEqual(events, [
    "update c1 temperature=21.5",
    'update c1 position={"lat":48.71,"lng":2.2}',
  ]);
  const before = topics.stats.malformed;
  const hostile = [
    new Uint8Array([0xa1, 0x65, 0x76, 0x61]), // truncated text key
    new Uint8Array([0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // absurd map length
    new Uint8Array(new Array(600).fill(0x81)), // arrays nested 600 deep
    new Uint8Array([0xbf, 0x61, 0x61]), // indefinite map, never ended
    cborEncode([1, 2]), // a list where a {"value"} map belongs
  ];
  for (const bytes of hostile) topics.onMessage("node/c1/temperature", bytes);
  equal(topics.stats.malformed, before + hostile.length);
  equal(registry.get("c1")!.resources.get("temperature")!.value, 21.5);
});

Deno.test("topics: resources per node are bounded, listed or not", () => {
  const { calls, topics, registry } = setup({ maxResources: 3 });
  topics.onMessage("node/check", enc('{"id":"n1"}'));
  calls.length = 0;
  topics.onMessage("node/n1/resources", enc('["a","b","c","d","e"]'));
  deepEqual(calls, [
    "sub node/n1/a",
    "sub node/n1/b",
    "sub node/n1/c",
    "pub gateway/n1/discover values",
  ]);
  // Unsolicited values (MQTT-SN nodes publish without being asked) hit the same bound.
  for (const r of ["a", "x", "y", "z"]) topics.onMessage(`node/n1/${r}`, enc('{"value":1}'));
  deepEqual([...registry.get("n1")!.resources.keys()], ["id", "protocol", "a", "x", "y"]);
  topics.onMessage("node/n1/a", enc('{"value":2}'));
  equal(registry.get("n1")!.resources.get("a")!.value, 2, "known resources still update");
  equal(topics.stats.refused, 2);
  // The gateway's pseudo-resources are not the node's to change.
  topics.onMessage("node/n1/protocol", enc('{"value":"CoAP"}'));
  topics.onMessage("node/n1/id", enc('{"value":"other"}'));
  equal(registry.get("n1")!.resources.get("protocol")!.value, "MQTT");
  equal(registry.get("n1")!.resources.get("id")!.value, "n1");
});
