// Broker CPU per frame, without sockets: what the binary CBOR link costs or saves on the broker
// (decode to the JSON the relay needs) and on the gateway (encode), and the relay core's cost
// of routing one update to 10 clients. Sizes are printed once for the README.
import { cborToJson, encodeCbor } from "../core-wasm/mod.ts";
import { checkFrame } from "../common/wire.ts";
import { BrokerMetrics } from "../broker/metrics.ts";
import { type GatewayEntry, type Peer, Relay } from "../broker/relay.ts";

const frames = {
  small: { type: "update", uid: "1234", endpoint: "temperature", data: "23.4°C", dst: "all" },
  meta: {
    type: "update",
    uid: "05b3a2c1f7e4d90",
    endpoint: "humidity",
    data: "45.12%",
    dst: "all",
    meta: { rt: "humidity", if: "core.s", ct: 0, obs: true },
  },
  imu: {
    type: "update",
    uid: "05b3a2c1f7e4d90",
    endpoint: "imu",
    data: JSON.stringify([[0.01, -0.02, 9.81], [0.1, 0.2, 0.3], [12.5, -3.25, 0.5]]),
    dst: "all",
  },
};
for (const [name, f] of Object.entries(frames)) {
  const json = new TextEncoder().encode(JSON.stringify(f)).length;
  const cbor = encodeCbor(f).length;
  console.log(
    `${name}: JSON ${json} B, CBOR ${cbor} B (${((1 - cbor / json) * 100).toFixed(0)}% less)`,
  );
}

for (const [name, f] of Object.entries(frames)) {
  const text = JSON.stringify(f);
  const cbor = encodeCbor(f);
  Deno.bench(`broker decode ${name}: JSON text -> checkFrame`, {
    group: `decode-${name}`,
    baseline: true,
  }, () => {
    checkFrame(text);
  });
  Deno.bench(
    `broker decode ${name}: CBOR -> cborToJson -> checkFrame`,
    { group: `decode-${name}` },
    () => {
      checkFrame(cborToJson(cbor));
    },
  );
  Deno.bench(
    `gateway encode ${name}: JSON.stringify`,
    { group: `encode-${name}`, baseline: true },
    () => {
      JSON.stringify(f);
    },
  );
  Deno.bench(`gateway encode ${name}: encodeCbor`, { group: `encode-${name}` }, () => {
    encodeCbor(f);
  });
}

// The relay core with peers that only count, to separate routing cost from socket cost.
const sink: Peer = { send() {}, close() {}, bufferedAmount: 0 };
const relay = new Relay(new BrokerMetrics(), { writesOpen: true });
const gw: GatewayEntry = {
  name: "bench",
  peer: sink,
  binary: false,
  remote: "-",
  connectedAt: Date.now(),
  nodes: new Map(),
  messagesIn: 0,
};
relay.addGateway(gw);
for (let i = 0; i < 10; i++) {
  relay.addClient({ id: `c${i}`, peer: sink, remote: "-", canWrite: true, registered: false });
  relay.onClientFrame(relay.clients.get(`c${i}`)!, { type: "new", data: "client" });
}
relay.onGatewayFrame(gw, { type: "new", uid: "1234", dst: "all" });
const smallText = JSON.stringify(frames.small);
Deno.bench("relay: one update, parsed and routed to 10 clients", () => {
  const c = checkFrame(smallText);
  if (c.ok) relay.onGatewayFrame(gw, c.msg);
});
