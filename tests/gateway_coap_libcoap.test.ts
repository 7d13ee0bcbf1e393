// Interop with libcoap (Debian libcoap3-bin), an independent CoAP implementation:
// coap-client-notls posting pyaiot's /alive and /server (also block-wise, where libcoap changes
// the token per block and adds Request-Tag/Size1), and coap-server-notls as a node: discovered
// through /.well-known/core, /time observed, and a large PUT then GET through Block1/Block2.
import assert from "node:assert/strict";
import { CoapCode, uriOptions } from "../core-wasm/mod.ts";
import { UdpEndpoint } from "../gateway/coap/udp_endpoint.ts";
import { MessageLayer } from "../gateway/coap/message_layer.ts";
import { Exchanges } from "../gateway/coap/exchanges.ts";
import { requestBlockwise } from "../gateway/coap/blockwise.ts";
import { Observation } from "../gateway/coap/observe.ts";
import { dec, enc, RawPeer, sleep, startStack, waitFor } from "./gateway_coap_harness.ts";
import { missing } from "./helpers/peers.ts";

async function coapClient(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("coap-client-notls", {
    args: ["-B", "5", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, out: dec(r.stdout).trim() };
}

function freeUdpPort(): number {
  const c = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (c.addr as Deno.NetAddr).port;
  c.close();
  return port;
}

/** coap-server-notls on a loopback port, PUT-creatable resources allowed (-d). */
async function libcoapServer() {
  const port = freeUdpPort();
  const child = new Deno.Command("coap-server-notls", {
    args: ["-A", "127.0.0.1", "-p", String(port), "-d", "10"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const endpoint = UdpEndpoint.listen({ hostname: "127.0.0.1", port: 0 });
  const layer = new MessageLayer(endpoint, { params: { ackTimeoutMs: 300, maxRetransmit: 3 } });
  const exchanges = new Exchanges(layer, { timeoutMs: 3_000 });
  const to = { hostname: "127.0.0.1", port };
  // Ready when it answers.
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const r = await exchanges.request(to, {
        code: CoapCode.GET,
        options: uriOptions(".well-known/core"),
        timeoutMs: 500,
      });
      if (r.code === CoapCode.CONTENT) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error("coap-server-notls did not start");
    await sleep(100);
  }
  return {
    port,
    to,
    exchanges,
    async close() {
      exchanges.close();
      await layer.close();
      await endpoint.close();
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

Deno.test("coap-client-notls posts pyaiot's /alive and /server to the gateway", {
  ignore: missing("libcoap"),
}, async () => {
  const s = await startStack();
  try {
    const base = `coap://127.0.0.1:${s.gateway.port}`;
    const alive = await coapClient("-m", "post", "-e", "alive:libcoap-1", `${base}/alive`);
    assert.equal(alive.out, "Received 'alive:libcoap-1'");
    assert.ok(s.gateway.registry.get("libcoap-1"));
    // Another coap-client process: another source port, same address: found by address.
    const srv = await coapClient("-m", "post", "-e", "temperature:21.5°C", `${base}/server`);
    assert.equal(srv.out, "Received 'temperature:21.5°C'");
    const rec = s.gateway.registry.get("libcoap-1")!;
    assert.equal(rec.resources.get("temperature")?.value, "21.5°C");
    // NON request (-N). (libcoap's -e percent-decodes, so no '%' in the value here.)
    const non = await coapClient("-N", "-m", "post", "-e", "humidity:40.5", `${base}/server`);
    assert.equal(non.out, "Received 'humidity:40.5'");
    assert.equal(rec.resources.get("humidity")?.value, "40.5");
    // Block-wise POST in 16-byte blocks: a new token per block, Request-Tag, Size1.
    const long = "text:" + "abcdefghij".repeat(8);
    const big = await coapClient("-m", "post", "-b", "16", "-e", long, `${base}/server`);
    assert.equal(big.code, 0);
    assert.equal(rec.resources.get("text")?.value, "abcdefghij".repeat(8));
    // A reset from libcoap resets the node.
    const reset = await coapClient("-m", "post", "-e", "reset:libcoap-1", `${base}/alive`);
    assert.equal(reset.out, "Received 'reset:libcoap-1'");
    assert.equal(rec.resources.has("temperature"), false);
    // Wrong method: 4.05, which libcoap reports on stderr with no payload.
    const get = await coapClient("-m", "get", `${base}/alive`);
    assert.equal(get.out, "");
  } finally {
    await s.close();
  }
});

Deno.test("coap-server-notls: /time observed in order, large PUT then GET via Block1/Block2", {
  ignore: missing("libcoap"),
}, async () => {
  const srv = await libcoapServer();
  const values: string[] = [];
  const obs = new Observation({
    exchanges: srv.exchanges,
    peer: srv.to,
    path: "time",
    onValue: (res) => values.push(dec(res.payload)),
  });
  try {
    await obs.start();
    await waitFor(() => new Set(values).size >= 3, "three /time notifications", 8_000);
    assert.ok(obs.active);
    assert.equal(obs.stats.registrations, 1, "one registration, several notifications");
    await obs.cancel();

    const body = enc(Array.from({ length: 300 }, (_, i) => `line ${i};`).join(""));
    assert.ok(body.length > 2048);
    const put = await requestBlockwise(srv.exchanges, srv.to, {
      code: CoapCode.PUT,
      options: uriOptions("big"),
      payload: body,
    });
    assert.equal(put.code, CoapCode.CREATED);
    const got = await requestBlockwise(srv.exchanges, srv.to, {
      code: CoapCode.GET,
      options: uriOptions("big"),
    });
    assert.equal(got.code, CoapCode.CONTENT);
    assert.equal(dec(got.payload), dec(body));
    // Smaller blocks asked by the client (SZX 2 = 64 bytes) work too.
    const small = await requestBlockwise(srv.exchanges, srv.to, {
      code: CoapCode.GET,
      options: uriOptions("big"),
    }, { szx: 2 });
    assert.equal(small.payload.length, body.length);
  } finally {
    await obs.cancel(false);
    await srv.close();
  }
});

Deno.test("the gateway discovers coap-server-notls as a node and observes its /time", {
  ignore: missing("libcoap"),
}, async () => {
  const srv = await libcoapServer();
  const s = await startStack({ nodePort: srv.port });
  const client = await s.client();
  const announcer = new RawPeer();
  try {
    // The node's announcement comes from elsewhere (libcoap's server does not post /alive).
    await announcer.send({
      type: 1,
      code: CoapCode.POST,
      messageId: 1,
      token: new Uint8Array([1]),
      options: uriOptions("alive"),
      payload: enc("alive:libcoap-server"),
    }, s.gateway.port);
    const isTime = (m: Record<string, unknown>) =>
      m.uid === "libcoap-server" && m.endpoint === "time";
    const first = await client.next(isTime, "first /time value", 8_000);
    assert.deepEqual(first.meta, {
      rt: "ticks",
      if: "clock",
      ct: 0,
      title: "Internal Clock",
      obs: true,
    });
    await waitFor(
      () => new Set(client.frames.filter(isTime).map((m) => m.data)).size >= 2,
      "a second /time value by Observe",
      8_000,
    );
    // Discovery goes on in link order past /time: /async, then /example_data.
    await waitFor(
      () => s.gateway.registry.get("libcoap-server")?.resources.has("example_data") === true,
      "example_data read",
      8_000,
    );
    // /async answers with an error or nothing: never a value.
    assert.ok(!client.frames.some((m) => m.uid === "libcoap-server" && m.endpoint === "async"));
  } finally {
    await announcer.close();
    await s.close();
    await srv.close();
  }
});
