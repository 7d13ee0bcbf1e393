// The dashboard's rendering logic without a browser: frames applied to the node table, RIOT
// value/unit parsing, widget choice, write confirmation, offline sweeping.
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  ago,
  brokerUrlWithToken,
  chooseWidget,
  formatDistance,
  HISTORY_LENGTH,
  ledState,
  NodeTable,
  nodeTitle,
  parseImu,
  parseMeasure,
  parsePosition,
  siteMap,
  sparkPoints,
  suitStateLabel,
} from "../dashboard/src/state.ts";
import { dms } from "../dashboard/src/widgets.ts";

Deno.test("parseMeasure reads RIOT's value strings", () => {
  deepEqual(parseMeasure("23.4°C"), { value: 23.4, unit: "°C" });
  deepEqual(parseMeasure("1013.25hPa"), { value: 1013.25, unit: "hPa" });
  deepEqual(parseMeasure("45.12%"), { value: 45.12, unit: "%" });
  deepEqual(parseMeasure("400ppm"), { value: 400, unit: "ppm" });
  deepEqual(parseMeasure("120lx"), { value: 120, unit: "lx" });
  deepEqual(parseMeasure("-3.5 °C"), { value: -3.5, unit: "°C" });
  deepEqual(parseMeasure("0.5g/m3"), { value: 0.5, unit: "g/m3" });
  // ccs811 pads its GET replies with NULs to 64 bytes
  deepEqual(parseMeasure("612ppm\u0000\u0000\u0000"), { value: 612, unit: "ppm" });
  // bare numbers (CBOR, JSON) take the resource's usual unit
  deepEqual(parseMeasure(21.5, "temperature"), { value: 21.5, unit: "°C" });
  deepEqual(parseMeasure("7", "humidity"), { value: 7, unit: "%" });
  deepEqual(parseMeasure(3), { value: 3, unit: "" });
  equal(parseMeasure("Weather Sensor"), null);
  equal(parseMeasure(""), null);
  equal(parseMeasure(null), null);
  equal(parseMeasure(Number.NaN), null);
  equal(parseMeasure({ v: 1 }), null);
});

Deno.test("imu, position, LED state, SUIT labels", () => {
  const imu = '[{"type":"acc","values":[3,4,0]},{"type":"gyro","values":[1,2,3]},{"type":"x"}]';
  deepEqual(parseImu(imu), [
    { type: "acc", values: [3, 4, 0] },
    { type: "gyro", values: [1, 2, 3] },
  ]);
  deepEqual(parseImu("not json"), []);
  deepEqual(parsePosition('{"lat":48.714784,"lng":2.205502}'), { lat: 48.714784, lng: 2.205502 });
  deepEqual(parsePosition({ lat: "1.5", lng: -2 }), { lat: 1.5, lng: -2 });
  equal(parsePosition({ lat: 91, lng: 0 }), null);
  equal(parsePosition("nowhere"), null);
  equal(ledState("1"), true);
  equal(ledState("0"), false);
  equal(ledState(""), null);
  equal(ledState("led:1"), null);
  equal(suitStateLabel("6"), "Download started");
  equal(suitStateLabel(11), "Download completed");
  equal(suitStateLabel("4"), "State 4");
  equal(dms(48.714784, "N", "S"), "48°42′53.2″N");
  equal(dms(-2.5, "E", "W"), "2°30′00.0″W");
});

Deno.test("widget choice: link-format attributes first, then pyaiot names, else raw", () => {
  // rt/if from CoAP discovery win over the name
  equal(chooseWidget("lamp", "0", { rt: "core.led", if: "core.a" }), "led");
  equal(chooseWidget("t1", "21.5°C", { if: "core.s" }), "sensor");
  equal(chooseWidget("relay", "1", { if: "core.a" }), "led");
  equal(chooseWidget("motor", "fast", { if: "core.a" }), "write");
  equal(chooseWidget("label", "hi", { if: "core.p" }), "write");
  equal(chooseWidget("whatever", "x", { rt: "temperature" }), "sensor");
  equal(chooseWidget("temperature", "x", { rt: "vendor.thing core.s", if: "core.s" }), "sensor");
  // pyaiot's names
  equal(chooseWidget("led", "0"), "led");
  for (const name of ["temperature", "pressure", "humidity", "eco2", "tvoc", "illuminance"]) {
    equal(chooseWidget(name, "1"), "sensor", name);
  }
  equal(chooseWidget("imu", "[]"), "imu");
  equal(chooseWidget("position", { lat: 1, lng: 2 }), "position");
  equal(chooseWidget("robot", "s"), "robot");
  equal(chooseWidget("text", "hello"), "write");
  equal(chooseWidget("js", "print(1)"), "js");
  equal(chooseWidget("version", "1.0.0"), "firmware");
  equal(chooseWidget("suit_state", "6", undefined, true), "folded");
  equal(chooseWidget("suit_state", "6", undefined, false), "raw");
  for (const name of ["name", "board", "mcu", "os", "protocol", "ip", "id", "vendor"]) {
    equal(chooseWidget(name, "x"), "info", name);
  }
  equal(chooseWidget("mystery", "42"), "raw");
});

Deno.test("node table applies new/update/out/reset as pyaiot's page does", () => {
  const t = new NodeTable();
  // updates for unknown nodes are ignored
  equal(t.apply({ type: "update", uid: "n1", endpoint: "name", data: "x" }, 0), false);
  equal(t.apply({ type: "new", uid: "n1", dst: "all", gw: "ws-gw" }, 0), true);
  const n = t.nodes.get("n1")!;
  equal(nodeTitle(n), "Discovering node…");
  equal(n.gw, "ws-gw");
  t.apply({ type: "update", uid: "n1", endpoint: "/name", data: "Weather Sensor" }, 1);
  t.apply({ type: "update", uid: "n1", endpoint: "temperature", data: "21.0°C" }, 2);
  t.apply({ type: "update", uid: "n1", endpoint: "position", data: '{"lat":1,"lng":2}' }, 3);
  equal(nodeTitle(n), "Weather Sensor");
  deepEqual([...n.resources.keys()], ["name", "temperature", "position"]);
  deepEqual(n.resources.get("position")!.value, { lat: 1, lng: 2 });
  // last-change time moves only when the value changes (replays repeat values)
  t.apply({ type: "update", uid: "n1", endpoint: "temperature", data: "21.0°C" }, 10);
  equal(n.resources.get("temperature")!.changedAt, 2);
  t.apply({ type: "update", uid: "n1", endpoint: "temperature", data: "21.5°C" }, 11);
  equal(n.resources.get("temperature")!.changedAt, 11);
  deepEqual(n.resources.get("temperature")!.series.value, [21, 21, 21.5]);
  // meta from discovery is kept
  t.apply({
    type: "update",
    uid: "n1",
    endpoint: "led",
    data: "0",
    meta: { rt: "core.led", if: "core.a" },
  }, 12);
  deepEqual(n.resources.get("led")!.meta, { rt: "core.led", if: "core.a" });
  // reset clears data (but the gateway's pseudo-resources), keeps the card
  t.apply({ type: "update", uid: "n1", endpoint: "protocol", data: "CoAP" }, 12);
  const rev = n.rev;
  t.apply({ type: "reset", uid: "n1" }, 13);
  deepEqual([...n.resources.keys()], ["protocol"]);
  ok(n.rev > rev);
  ok(t.nodes.has("n1"));
  // out: offline, then swept after the grace period
  t.apply({ type: "out", uid: "n1" }, 20);
  equal(n.online, false);
  deepEqual(t.sweep(5, 24), []);
  deepEqual(t.sweep(5, 25), ["n1"]);
  equal(t.nodes.size, 0);
  // junk is ignored
  equal(t.apply("nope"), false);
  equal(t.apply({ type: "update" }), false);
  equal(t.apply({ type: "bogus", uid: "n1" }), false);
});

Deno.test("sparkline history is bounded; imu keeps acc norm and gyro axes", () => {
  const t = new NodeTable();
  t.apply({ type: "new", uid: "a" });
  for (let i = 0; i < HISTORY_LENGTH + 15; i++) {
    t.apply({ type: "update", uid: "a", endpoint: "pressure", data: `${1000 + i}.00hPa` }, i);
  }
  const series = t.nodes.get("a")!.resources.get("pressure")!.series.value;
  equal(series.length, HISTORY_LENGTH);
  equal(series[series.length - 1], 1000 + HISTORY_LENGTH + 14);
  t.apply({ type: "update", uid: "a", endpoint: "imu", data: '[{"type":"acc","values":[3,4,0]}]' });
  t.apply({
    type: "update",
    uid: "a",
    endpoint: "imu",
    data: '[{"type":"gyro","values":[1,2,3]}]',
  });
  const imu = t.nodes.get("a")!.resources.get("imu")!.series;
  deepEqual(imu, { acc: [5], "gyro.x": [1], "gyro.y": [2], "gyro.z": [3] });
});

Deno.test("a write is confirmed by the node's echo, or refused by the broker", () => {
  const t = new NodeTable();
  t.apply({ type: "new", uid: "a" });
  t.apply({ type: "update", uid: "a", endpoint: "led", data: "0" }, 0);
  t.noteWrite("a", "led", "1", 100);
  const led = t.nodes.get("a")!.resources.get("led")!;
  deepEqual(led.pending, { payload: "1", at: 100 });
  // an unrelated value is no confirmation
  t.apply({ type: "update", uid: "a", endpoint: "led", data: "0" }, 150);
  ok(led.pending);
  t.apply({ type: "update", uid: "a", endpoint: "led", data: "1" }, 200);
  equal(led.pending, undefined);
  equal(led.confirmedAt, 200);
  t.noteWrite("a", "led", "0", 300);
  t.apply({
    type: "error",
    error: "forbidden",
    message: "writing needs the write token",
    uid: "a",
    endpoint: "led",
  }, 310);
  equal(led.pending, undefined);
  deepEqual(led.refused, { message: "writing needs the write token", at: 310 });
});

Deno.test("broker loss greys nodes; after reconnect, nodes not replayed go", () => {
  const t = new NodeTable();
  t.apply({ type: "new", uid: "a" });
  t.apply({ type: "new", uid: "b" });
  t.markAllOffline(100);
  ok(![...t.nodes.values()].some((n) => n.online));
  t.restartGrace(1000); // reconnected
  t.apply({ type: "new", uid: "a" }, 1001); // replayed by its gateway
  deepEqual(t.sweep(500, 1499), []);
  deepEqual(t.sweep(500, 1500), ["b"]);
  equal(t.nodes.get("a")!.online, true);
});

Deno.test("filter searches name, uid, board, gateway and resource names", () => {
  const t = new NodeTable();
  t.apply({ type: "new", uid: "abc", gw: "coap-1" });
  t.apply({ type: "update", uid: "abc", endpoint: "name", data: "Weather Sensor" });
  t.apply({ type: "update", uid: "abc", endpoint: "board", data: "samr21-xpro" });
  t.apply({ type: "new", uid: "def", gw: "mqtt-1" });
  t.apply({ type: "update", uid: "def", endpoint: "led", data: "0" });
  const uids = (q: string) => t.filter(q).map((n) => n.uid);
  t.apply({ type: "new", uid: "aaa" });
  t.apply({ type: "update", uid: "aaa", endpoint: "name", data: "Light Sensor" });
  // sorted by name, unnamed last
  deepEqual(uids(""), ["aaa", "abc", "def"]);
  deepEqual(uids("weather"), ["abc"]);
  deepEqual(uids("sensor"), ["aaa", "abc"]);
  deepEqual(uids("SAMR21"), ["abc"]);
  deepEqual(uids("mqtt"), ["def"]);
  deepEqual(uids("led"), ["def"]);
  deepEqual(uids("zzz"), []);
});

Deno.test("small helpers: ago, sparkline points, token URL", () => {
  equal(ago(0, 500), "just now");
  equal(ago(0, 12_000), "12 s ago");
  equal(ago(0, 180_000), "3 min ago");
  equal(ago(0, 7_200_000), "2 h ago");
  equal(sparkPoints([0, 5, 10], 100, 10), "0,10 50,5 100,0");
  equal(sparkPoints([3, 3], 100, 10), "0,5 100,5");
  equal(sparkPoints([], 100, 10), "");
  equal(brokerUrlWithToken("ws://h:8000/ws", ""), "ws://h:8000/ws");
  equal(brokerUrlWithToken("ws://h:8000/ws", "a b&c"), "ws://h:8000/ws?token=a%20b%26c");
  equal(brokerUrlWithToken("ws://h/ws?x=1", "t"), "ws://h/ws?x=1&token=t");
});

Deno.test("site map: nodes placed north-up on a local plan with a round scale bar", () => {
  const lat = 48.714784, lng = 2.205502;
  // ~111 m north and ~73 m east (1e-3 deg of longitude at 48.7° N)
  const map = siteMap(
    [
      { uid: "a", position: { lat, lng } },
      { uid: "b", position: { lat: lat + 0.001, lng: lng + 0.001 } },
    ],
    400,
    200,
    20,
  );
  const [a, b] = map.points;
  ok(b.y < a.y, "north is up");
  ok(b.x > a.x, "east is right");
  // the taller axis (111 m over 160 units) sets the scale; both points inside the margins
  for (const p of map.points) ok(p.x >= 20 && p.x <= 380 && p.y >= 20 && p.y <= 180);
  equal(Math.round(a.y - b.y), 160);
  equal(Math.round(b.x - a.x), Math.round(160 * (73.5 / 110.54)));
  // a quarter of the width is ~69 m: the scale bar takes 50 m
  equal(map.scaleMetres, 50);
  equal(formatDistance(50), "50 m");
  equal(formatDistance(2000), "2 km");
  // one node: centred, 100 m view
  const one = siteMap([{ uid: "a", position: { lat, lng } }], 400, 200, 20);
  deepEqual(one.points, [{ uid: "a", x: 200, y: 100 }]);
  equal(one.scaleMetres, 20);
  deepEqual(siteMap([], 400, 200).points, []);
});
