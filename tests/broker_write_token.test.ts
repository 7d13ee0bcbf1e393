// `--write-token`: read-only for everyone, writes only from clients that connected with
// `/ws?token=<token>`; refusals are answered with an error frame, logged and counted.
import assert from "node:assert/strict";
import {
  openClient,
  openGateway,
  rawHandshake,
  testBroker,
  upgradeHeaders,
} from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };
const LED = '{"type":"update","data":{"uid":"1234","endpoint":"led","payload":"1"}}';

Deno.test(
  "with a write token, only clients holding it can write; all can read",
  sanitize,
  async () => {
    const b = await testBroker({ writeToken: "s3cret/+=" });
    try {
      const gw = await openGateway(b, { name: "g" });
      gw.send({ type: "new", uid: "1234", dst: "all" });
      const reader = await openClient(b);
      const replay = await gw.next((m) => m.type === "new");
      gw.send({ type: "new", uid: "1234", dst: replay.src }); // the gateway's cache replay
      assert.equal((await reader.next((m) => m.type === "new")).uid, "1234"); // reading is open
      reader.send(LED);
      assert.deepEqual(await reader.next(), {
        type: "error",
        error: "forbidden",
        message: "writing needs the write token",
        uid: "1234",
        endpoint: "led",
      });
      await gw.none(() => true);

      const writer = await openClient(b, { token: "s3cret/+=" });
      const ask = await gw.next((m) => m.type === "new");
      writer.send(LED);
      const write = await gw.next();
      assert.deepEqual(write.data, { uid: "1234", endpoint: "led", payload: "1" });
      assert.equal(write.src, ask.src);

      // A wrong token is refused at the handshake.
      const wrong = await rawHandshake(b.port, "/ws?token=nope", upgradeHeaders());
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body, "Invalid token");

      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      assert.match(metrics, /aiot_broker_refusals_total\{kind="client",reason="forbidden"\} 1\n/);
      assert.match(
        metrics,
        /aiot_broker_auth_failures_total\{path="\/ws",reason="write_token"\} 1\n/,
      );
      for (const p of [reader, writer, gw]) await p.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test("without a write token anyone may write (pyaiot's demo default)", sanitize, async () => {
  const b = await testBroker();
  try {
    const gw = await openGateway(b);
    gw.send({ type: "new", uid: "1234", dst: "all" });
    const web = await openClient(b, { token: "ignored" });
    await gw.next((m) => m.type === "new");
    web.send(LED);
    assert.equal((await gw.next()).type, "update");
    for (const p of [web, gw]) await p.close();
  } finally {
    await b.close();
  }
});
