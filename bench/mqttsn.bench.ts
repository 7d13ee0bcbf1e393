// MQTT-SN decode/encode: WASM codec vs the plain-TS yardstick on typical gateway traffic.
// `deno bench -A bench/mqttsn.bench.ts` prints the ratios per group.
import { decodeMqttSn, encodeMqttSn, type MqttSnMessage } from "../core-wasm/mod.ts";
import { decodeMqttSnTs, encodeMqttSnTs } from "./yardstick/mqttsn_ts.ts";

const te = new TextEncoder();
// What a node sends most: a QoS 1 PUBLISH of a sensor value on a registered id.
const publish: MqttSnMessage = {
  type: 0x0c,
  dup: false,
  qos: 1,
  retain: false,
  topicIdType: 0,
  topicId: 5,
  msgId: 0x1234,
  data: te.encode('{"value":"21.4°C"}'),
};
const register: MqttSnMessage = {
  type: 0x0a,
  topicId: 0,
  msgId: 7,
  topicName: "node/mqttsn-0001/temperature",
};
const puback: MqttSnMessage = { type: 0x0d, topicId: 5, msgId: 0x1234, returnCode: 0 };
const pubBytes = encodeMqttSn(publish);
const regBytes = encodeMqttSn(register);
const ackBytes = encodeMqttSn(puback);

let sink = 0;
for (
  const [name, bytes] of [["PUBLISH", pubBytes], ["REGISTER", regBytes], [
    "PUBACK",
    ackBytes,
  ]] as const
) {
  Deno.bench(`wasm decode ${name}`, { group: `decode ${name}`, baseline: true }, () => {
    sink += decodeMqttSn(bytes).type;
  });
  Deno.bench(`ts decode ${name}`, { group: `decode ${name}` }, () => {
    sink += decodeMqttSnTs(bytes).type;
  });
}
for (
  const [name, msg] of [["PUBLISH", publish], ["REGISTER", register], ["PUBACK", puback]] as const
) {
  Deno.bench(`wasm encode ${name}`, { group: `encode ${name}`, baseline: true }, () => {
    sink += encodeMqttSn(msg).length;
  });
  Deno.bench(`ts encode ${name}`, { group: `encode ${name}` }, () => {
    sink += encodeMqttSnTs(msg).length;
  });
}
globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
