// The simulated CoapNode (firmware/coap_node.ts) as independent clients see it: libcoap's
// coap-client reads /.well-known/core, GETs and PUTs resources and observes a sensor; a raw
// peer checks the boot `reset:` post, the alive period, RST ending an observation, and CBOR.
import assert from "node:assert/strict";
import {
  CoapCode,
  type CoapMessage,
  CoapOption,
  CoapType,
  decodeCbor,
  encodeUint,
  getContentFormat,
  getObserve,
  getUriPath,
  getUriQuery,
  parseLinkFormat,
  uriOptions,
} from "../core-wasm/mod.ts";
import { CoapNode } from "../firmware/coap_node.ts";
import { dec, EMPTY, RawPeer, waitFor } from "./gateway_coap_harness.ts";
import { missing } from "./helpers/peers.ts";

async function coapClient(...args: string[]): Promise<string> {
  const r = await new Deno.Command("coap-client-notls", {
    args: ["-B", "5", ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return dec(r.stdout).trim();
}

Deno.test("boot: reset:<uid> then alive:<uid> to /alive, with the server's own port", async () => {
  const gw = new RawPeer();
  const node = new CoapNode({
    id: "boot-1",
    gatewayPort: gw.port,
    aliveMs: 150,
    intervalMs: 60_000,
  });
  try {
    await node.start();
    const first = (await gw.next()).msg;
    assert.equal(getUriPath(first), "alive");
    assert.equal(first.code, CoapCode.POST);
    assert.equal(dec(first.payload), "reset:boot-1");
    assert.deepEqual(getUriQuery(first), [`port=${node.port}`]);
    const from = gw.log[0].from;
    assert.equal(from.port, node.port, "posted from the node's server socket, like gcoap");
    const second = (await gw.next()).msg;
    assert.equal(dec(second.payload), "alive:boot-1");
  } finally {
    await node.stop();
    await gw.close();
  }
});

Deno.test("libcoap coap-client: link-format, GET, PUT, refused PUT, observe", {
  ignore: missing("libcoap"),
}, async () => {
  const gw = new RawPeer(); // a silent gateway
  const node = new CoapNode({ id: "lib-obs", gatewayPort: gw.port, intervalMs: 150 });
  try {
    await node.start();
    const base = `coap://127.0.0.1:${node.port}`;
    const links = parseLinkFormat(await coapClient("-m", "get", `${base}/.well-known/core`));
    const temp = links.find((l) => l.href === "/temperature")!;
    assert.deepEqual(temp.attrs, { rt: "temperature", if: "core.s", ct: "0", obs: true });
    assert.deepEqual(links.map((l) => l.href).sort(), [
      "/board",
      "/humidity",
      "/led",
      "/mcu",
      "/name",
      "/os",
      "/pressure",
      "/temperature",
      "/text",
    ]);
    assert.equal(await coapClient("-m", "get", `${base}/os`), "riot");
    assert.equal(await coapClient("-m", "put", "-e", "1", `${base}/led`), "led:1");
    assert.equal(await coapClient("-m", "get", `${base}/led`), "1");
    assert.equal(await coapClient("-m", "put", "-e", "2", `${base}/led`), "", "4.00, no payload");
    assert.equal(await coapClient("-m", "put", "-e", "x", `${base}/name`), "", "4.05");
    assert.deepEqual(node.writes, [{ endpoint: "led", payload: "1" }]);
    // Observe for 1 s: the first value and a few notifications, concatenated by coap-client.
    const observed = await coapClient("-s", "1", "-m", "get", `${base}/temperature`);
    const values = observed.match(/-?\d+\.\d°C/g) ?? [];
    assert.ok(values.length >= 3, `observed ${observed}`);
  } finally {
    await node.stop();
    await gw.close();
  }
});

Deno.test("an RST to a notification ends the observation; CON notifications come every 10th", async () => {
  const gw = new RawPeer();
  const observer = new RawPeer();
  const node = new CoapNode({ id: "rst-1", gatewayPort: gw.port, intervalMs: 40 });
  try {
    await node.start();
    const reg: CoapMessage = {
      type: CoapType.CON,
      code: CoapCode.GET,
      messageId: 1,
      token: new Uint8Array([0xaa]),
      options: [{ number: CoapOption.OBSERVE, value: encodeUint(0) }, ...uriOptions("humidity")],
      payload: EMPTY,
    };
    await observer.send(reg, node.port);
    const ack = (await observer.next()).msg;
    assert.equal(ack.type, CoapType.ACK);
    assert.equal(typeof getObserve(ack), "number");
    assert.equal(node.observerCount("humidity"), 1);
    // Collect notifications until a confirmable one arrives; acknowledge it.
    const con = (await observer.next((m) => m.type === CoapType.CON, 5_000)).msg;
    assert.deepEqual(con.token, reg.token);
    await observer.send({
      ...con,
      type: CoapType.ACK,
      code: 0,
      token: EMPTY,
      options: [],
      payload: EMPTY,
    }, node.port);
    const seqs = observer.log.map((r) => getObserve(r.msg)!).filter((n) => n !== undefined);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), "sequence numbers increase");
    assert.equal(node.observerCount("humidity"), 1, "an acknowledged CON keeps the observer");
    // Now reject the next non-confirmable notification.
    const non = (await observer.next((m) => m.type === CoapType.NON)).msg;
    await observer.send({
      type: CoapType.RST,
      code: 0,
      messageId: non.messageId,
      token: EMPTY,
      options: [],
      payload: EMPTY,
    }, node.port);
    await waitFor(() => node.observerCount("humidity") === 0, "observer dropped after RST");
  } finally {
    await node.stop();
    await observer.close();
    await gw.close();
  }
});

Deno.test("--cbor: values are CBOR with Content-Format 60, sensors as numbers", async () => {
  const gw = new RawPeer();
  const peer = new RawPeer();
  const node = new CoapNode({ id: "cbor-n", gatewayPort: gw.port, cbor: true, intervalMs: 60_000 });
  try {
    await node.start();
    for (
      const [path, check] of [
        ["pressure", (v: unknown) => typeof v === "number" && v > 900],
        ["name", (v: unknown) => v === "Weather Sensor"],
      ] as const
    ) {
      await peer.send({
        type: CoapType.CON,
        code: CoapCode.GET,
        messageId: path.length,
        token: new Uint8Array([path.length]),
        options: uriOptions(path),
        payload: EMPTY,
      }, node.port);
      const res = (await peer.next((m) => m.messageId === path.length)).msg;
      assert.equal(getContentFormat(res), 60);
      assert.ok(check(decodeCbor(res.payload)), path);
    }
  } finally {
    await node.stop();
    await peer.close();
    await gw.close();
  }
});
