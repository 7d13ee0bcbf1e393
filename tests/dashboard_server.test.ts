// The dashboard's HTTP side on a real socket: the page, the embeddable bundle (with CORS), the
// favicon, and that nothing the page loads comes from another host.
import { equal, match, ok } from "node:assert/strict";
import { startDashboard } from "../dashboard/server.ts";
import { brokerWsUrl } from "../dashboard/main.ts";

Deno.test("dashboard serves the page, the bundle and the favicon", async () => {
  const dash = await startDashboard({
    host: "127.0.0.1",
    port: 0,
    brokerUrl: "ws://127.0.0.1:8000/ws",
    title: 'Lab <1> & "friends"',
  });
  try {
    ok(dash.port > 0);
    equal(dash.url, `http://127.0.0.1:${dash.port}`);

    const page = await fetch(`${dash.url}/`);
    equal(page.status, 200);
    match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    match(html, /<aiot-dashboard broker="ws:\/\/127\.0\.0\.1:8000\/ws"/);
    match(html, /<script type="module" src="\/components\.js"><\/script>/);
    match(html, /<title>Lab &lt;1&gt; &amp; &quot;friends&quot;<\/title>/);
    match(html, /name="viewport"/);
    // everything from our own server: no absolute http(s) URL in src/href attributes
    equal(/(src|href)="https?:/.test(html), false);

    const js = await fetch(`${dash.url}/components.js`);
    equal(js.status, 200);
    match(js.headers.get("content-type") ?? "", /javascript/);
    equal(js.headers.get("access-control-allow-origin"), "*");
    const code = await js.text();
    // (that they really get defined is the browser test's job)
    ok(code.includes("customElements.define("), "defines custom elements");
    ok(code.includes('"aiot-dashboard"') && code.includes('"aiot-node"'), "names both elements");
    // a standalone module: no bare imports left for the browser to resolve
    equal(/\bimport\s*["'{*]|\bfrom\s*["'](?![./])/.test(code), false);

    const icon = await fetch(`${dash.url}/favicon.svg`);
    equal(icon.status, 200);
    match(await icon.text(), /^<svg/);

    const missing = await fetch(`${dash.url}/nope`);
    equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await dash.close();
  }
});

Deno.test("broker URL from pyaiot-style flags", () => {
  equal(brokerWsUrl("localhost", 8000, false), "ws://localhost:8000/ws");
  equal(brokerWsUrl("broker.lan", 443, true), "wss://broker.lan:443/ws");
  equal(brokerWsUrl("::1", 8000, false), "ws://[::1]:8000/ws");
});
