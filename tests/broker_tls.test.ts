// https + wss served directly by the broker, with a self-signed certificate made at test time by
// openssl; clients trust it through Deno.createHttpClient({ caCerts }).
import assert from "node:assert/strict";
import { startGatewayCore } from "../gateway/common.ts";
import { openClient, openGateway, testBroker } from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  // deno-fmt-ignore
  const out = await new Deno.Command("openssl", {
    args: [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // rustls refuses a CA certificate as a server's own (CaUsedAsEndEntity).
      "-addext", "basicConstraints=critical,CA:FALSE",
      "-addext", "extendedKeyUsage=serverAuth",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return { cert, key };
}

Deno.test("TLS: https REST and wss relay with a self-signed certificate", sanitize, async () => {
  const dir = await Deno.makeTempDir();
  const tls = await selfSigned(dir);
  const b = await testBroker({ tls });
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(tls.cert)] });
  try {
    assert.match(b.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${b.url}/api/health`, { client });
    assert.equal((await health.json()).status, "ok");
    // Plain http on the TLS port gets nowhere.
    await assert.rejects(fetch(b.url.replace("https", "http") + "/api/health"));
    // An untrusting client refuses the self-signed certificate.
    await assert.rejects(fetch(`${b.url}/api/health`));

    const gw = await openGateway(b, { name: "secure", client });
    const web = await openClient(b, { client });
    await gw.next((m) => m.type === "new");
    gw.send({ type: "new", uid: "n1", dst: "all" });
    assert.deepEqual(await web.next(), { type: "new", uid: "n1", dst: "all", gw: "secure" });
    for (const p of [web, gw]) await p.close();
  } finally {
    client.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS: a gateway's broker link trusts a self-signed broker only when given its certificate", async () => {
  const dir = await Deno.makeTempDir();
  const tls = await selfSigned(dir);
  const b = await testBroker({ tls });
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(tls.cert)] });
  const brokerUrl = `${b.ws}/gw`;
  const untrusting = startGatewayCore(
    { brokerUrl, keys: b.keys, name: "untrusting" },
    "t",
    () => {},
  );
  const trusting = startGatewayCore(
    { brokerUrl, keys: b.keys, name: "trusting", brokerCa: await Deno.readTextFile(tls.cert) },
    "t",
    () => {},
  );
  try {
    assert.match(brokerUrl, /^wss:/);
    const web = await openClient(b, { client });
    trusting.registry.seen("tls-node", "addr", { protocol: "CoAP" });
    const deadline = Date.now() + 5000;
    while (!trusting.link.connected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(trusting.link.connected, "the link with the certificate connects over wss");
    assert.equal((await web.next((m) => m.uid === "tls-node")).gw, "trusting");
    assert.equal(untrusting.link.connected, false, "without it the certificate is refused");
    assert.ok(!b.relay.gateways.has("untrusting"));
    await web.close();
  } finally {
    await untrusting.close();
    await trusting.close();
    client.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});
