// Gateway authentication at the handshake (spec 2.2), checked byte for byte with hand-written
// HTTP upgrades: each refusal is a 401 with pyaiot's body (never a 500), and an accepted gateway
// gets the `token` subprotocol echoed.
import assert from "node:assert/strict";
import { fernetEncrypt } from "../common/fernet.ts";
import { generateKeys } from "../common/keys.ts";
import {
  gatewayToken,
  openGateway,
  rawHandshake,
  testBroker,
  upgradeHeaders,
} from "./broker_harness.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("every bad gateway handshake is a 401 with pyaiot's body", sanitize, async () => {
  const b = await testBroker();
  try {
    const token = await gatewayToken(b.keys);
    const otherKeys = generateKeys();
    const cases: [string | undefined, string, string][] = [
      [undefined, "Invalid subprotocols", "no header"],
      ["token", "Invalid subprotocols", "one item"],
      [`bearer,${token}`, "Invalid subprotocols", "first item not token"],
      [`token,${token},extra`, "Invalid subprotocols", "third item not aiot.cbor"],
      [`token,${token},aiot.cbor,more`, "Invalid subprotocols", "four items"],
      ["token,", "Invalid subprotocols", "empty token"],
      ["token,not-a-fernet-token", "Invalid token", "garbage (pyaiot: 500)"],
      ["token,@@@@", "Invalid token", "not base64"],
      [`token,${token.slice(0, -4)}AAAA`, "Invalid token", "bad HMAC"],
      [
        `token,${await fernetEncrypt(otherKeys.private, b.keys.secret)}`,
        "Invalid token",
        "other key",
      ],
      [
        `token,${await fernetEncrypt(b.keys.private, "not the secret")}`,
        "Invalid token",
        "wrong secret",
      ],
      [
        `token,${await gatewayToken(b.keys, Math.floor(Date.now() / 1000) - 3600)}`,
        "Invalid token",
        "older than the replay window",
      ],
      [
        `token,${await gatewayToken(b.keys, Math.floor(Date.now() / 1000) + 3600)}`,
        "Invalid token",
        "from the future",
      ],
    ];
    for (const [header, body, what] of cases) {
      const res = await rawHandshake(b.port, "/gw", upgradeHeaders(header));
      assert.equal(res.status, 401, what);
      assert.equal(res.body, body, what);
    }
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    const failures = [...metrics.matchAll(/^aiot_broker_auth_failures_total\{[^}]*\} (\d+)$/gm)]
      .reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(failures, cases.length);
    assert.match(metrics, /aiot_broker_auth_failures_total\{path="\/gw",reason="expired"\} 2/);
    assert.equal(b.relay.gateways.size, 0);
  } finally {
    await b.close();
  }
});

Deno.test(
  "a valid token is accepted and `token` is echoed; spaces after commas are fine",
  sanitize,
  async () => {
    const b = await testBroker({ binary: false });
    try {
      const token = await gatewayToken(b.keys);
      // Tornado's (pyaiot's gateways') exact header: joined with a bare ",".
      const tornado = await rawHandshake(b.port, "/gw", upgradeHeaders(`token,${token}`));
      assert.equal(tornado.status, 101);
      assert.equal(tornado.headers.get("sec-websocket-protocol"), "token");
      const res = await rawHandshake(b.port, "/gw", upgradeHeaders(`token, ${token}`));
      assert.equal(res.status, 101);
      assert.equal(res.headers.get("sec-websocket-protocol"), "token");
      // Without the binary link, a gateway offering aiot.cbor still gets in, on JSON text.
      const res3 = await rawHandshake(b.port, "/gw", upgradeHeaders(`token,${token},aiot.cbor`));
      assert.equal(res3.status, 101);
      assert.equal(res3.headers.get("sec-websocket-protocol"), "token");
      // Deno's own WebSocket client checks the echo: the handshake completes.
      const gw = await openGateway(b, { name: "real" });
      assert.equal(gw.ws.protocol, "token");
      await gw.close();
    } finally {
      await b.close();
    }
  },
);

Deno.test("--token-max-age 0 accepts old tokens, as pyaiot did", sanitize, async () => {
  const b = await testBroker({ tokenMaxAgeSeconds: 0 });
  try {
    const old = await gatewayToken(b.keys, Math.floor(Date.now() / 1000) - 86400 * 365);
    const res = await rawHandshake(b.port, "/gw", upgradeHeaders(`token,${old}`));
    assert.equal(res.status, 101);
  } finally {
    await b.close();
  }
});

Deno.test(
  "non-upgrade requests and bad gateway names get a 400, unknown paths 404",
  sanitize,
  async () => {
    const b = await testBroker();
    try {
      const plain = await fetch(`${b.url}/gw`);
      assert.equal(plain.status, 400);
      assert.equal(await plain.text(), 'Can "Upgrade" only to "WebSocket".');
      const ws = await fetch(`${b.url}/ws`);
      assert.equal(ws.status, 400);
      await ws.body?.cancel();
      const token = await gatewayToken(b.keys);
      const bad = await rawHandshake(
        b.port,
        "/gw?name=" + encodeURIComponent('x"\n{evil}'),
        upgradeHeaders(`token,${token}`),
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.body, "Invalid gateway name");
      const missing = await fetch(`${b.url}/nothing`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      await b.close();
    }
  },
);
