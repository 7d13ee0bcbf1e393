// A pyaiot-style gateway written with Tornado's websocket client and python-cryptography's
// Fernet (the libraries pyaiot's gateways use) against our broker: handshake, announce, cache
// replay, a page's LED toggle routed to it, its echo, and `out` when it goes away.
// Needs Debian's python3-tornado and python3-cryptography; skipped cleanly without them.
import assert from "node:assert/strict";
import { openClient, testBroker, TIMEOUT_MS, until } from "./broker_harness.ts";

const PY = "/usr/bin/python3";
const hasPeers = (() => {
  try {
    return new Deno.Command(PY, {
      args: ["-c", "import tornado.websocket, cryptography.fernet"],
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
})();

// Modelled on pyaiot/gateway/common/gateway.py (spec 2.2, 2.5, 2.6): json.dumps with
// ensure_ascii=False, subprotocols ["token", <fernet>], cache replay on the broker's `new`.
const GATEWAY = `
import json, sys
from cryptography.fernet import Fernet
from tornado import ioloop, gen
from tornado.websocket import websocket_connect

url, secret, private = sys.argv[1], sys.argv[2], sys.argv[3]
cache = {"1234": [("ip", "10.0.0.7"), ("protocol", "CoAP"), ("led", "0"), ("temperature", "23.4°C")]}

def send(conn, msg):
    conn.write_message(json.dumps(msg, ensure_ascii=False))

@gen.coroutine
def main():
    token = Fernet(private.encode()).encrypt(secret.encode()).decode()
    conn = yield websocket_connect(url, subprotocols=["token", token])
    print("CONNECTED", conn.selected_subprotocol, flush=True)
    send(conn, {"type": "update", "uid": "alive"})
    for uid, resources in cache.items():
        send(conn, {"type": "new", "uid": uid, "dst": "all"})
        for endpoint, value in resources:
            send(conn, {"type": "update", "uid": uid, "endpoint": endpoint, "data": value, "dst": "all"})
    while True:
        raw = yield conn.read_message()
        if raw is None:
            print("CLOSED", conn.close_code, flush=True)
            return
        msg = json.loads(raw)
        if msg["type"] == "new":
            for uid, resources in cache.items():
                send(conn, {"type": "new", "uid": uid, "dst": msg["src"]})
                for endpoint, value in resources:
                    send(conn, {"type": "update", "uid": uid, "endpoint": endpoint, "data": value, "dst": msg["src"]})
        elif msg["type"] == "update":
            d = msg["data"]
            print("WRITE", d["uid"], d["endpoint"], d["payload"], flush=True)
            send(conn, {"type": "update", "uid": d["uid"], "endpoint": d["endpoint"], "data": d["payload"], "dst": "all"})
        if msg.get("data") == {"uid": "1234", "endpoint": "led", "payload": "bye"}:
            conn.close()
            print("BYE", flush=True)
            return

ioloop.IOLoop.current().run_sync(main, timeout=${TIMEOUT_MS / 1000 * 2})
`;

Deno.test({
  name: "pyaiot-style Tornado gateway: announce, replay, LED toggle, out",
  ignore: !hasPeers,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const b = await testBroker();
    const child = new Deno.Command(PY, {
      args: ["-c", GATEWAY, `${b.ws}/gw`, b.keys.secret, b.keys.private],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "";
    const lines = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
    })();
    const errText = new Response(child.stderr).text();
    const waitOut = async (s: string) => {
      const end = Date.now() + TIMEOUT_MS;
      while (!out.includes(s)) {
        if (Date.now() > end) throw new Error(`no "${s}" from the gateway: ${out}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      await waitOut("CONNECTED token");
      await until(() => b.relay.gateways.get("gw-1")?.nodes.get("1234")?.resources.size === 4);
      const web = await openClient(b);
      // The replay the Tornado gateway sends to this client alone (dst = our id).
      const replay = [];
      for (let i = 0; i < 5; i++) replay.push(await web.next());
      assert.deepEqual(replay.map((m) => m.endpoint ?? m.type), [
        "new",
        "ip",
        "protocol",
        "led",
        "temperature",
      ]);
      assert.ok(replay.every((m) => m.gw === "gw-1" && m.uid === "1234"));
      assert.equal(replay[4].data, "23.4°C");
      // The page's LED toggle, byte for byte (spec 2.7).
      web.send('{"type":"update","data":{"uid":"1234","endpoint":"led","payload":"1"}}');
      await waitOut("WRITE 1234 led 1");
      const echo = await web.next((m) => m.type === "update" && m.dst === "all");
      assert.deepEqual([echo.endpoint, echo.data, echo.dst, echo.gw], ["led", "1", "all", "gw-1"]);
      // The gateway leaves: its node is announced as gone.
      web.send('{"type":"update","data":{"uid":"1234","endpoint":"led","payload":"bye"}}');
      assert.deepEqual(await web.next((m) => m.type === "out"), {
        type: "out",
        uid: "1234",
        gw: "gw-1",
      });
      await waitOut("BYE");
      assert.equal((await child.status).code, 0, await errText);
      await web.close();
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await lines;
      await errText;
      await b.close();
    }
  },
});
