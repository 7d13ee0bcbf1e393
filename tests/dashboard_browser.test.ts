// The dashboard in a real browser (Debian's chromium via puppeteer-core) against real services:
// broker, the websocket gateway with a simulated RIOT node (WsNode), and a second gateway link
// carrying pyaiot's special resources, all on loopback ports. The page must show the node's
// card, follow live values, send an LED toggle the node receives and confirms, survive a broker
// restart (and say so), and drop the card when the node goes. Screenshots (desktop and phone
// width) land in tests/output/ for review.
import { equal, ok } from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { generateKeys } from "../common/keys.ts";
import { type RunningBroker, startBroker } from "../broker/server.ts";
import { startGatewayCore } from "../gateway/common.ts";
import { startWsGateway } from "../gateway/ws/gateway.ts";
import { WsNode } from "../firmware/ws_node.ts";
import { Sensors } from "../firmware/sim.ts";
import { startDashboard } from "../dashboard/server.ts";
import { missing } from "./helpers/peers.ts";

const OUT = new URL("./output/", import.meta.url);
const CHROMIUM = "/usr/bin/chromium";
const WAIT_MS = 20_000;

/** Runs in the page: finds an element through the open shadow roots. */
function deepQueryScript(): string {
  return `globalThis.__deep = (selector) => {
    const walk = (root) => {
      const hit = root.querySelector(selector);
      if (hit) return hit;
      for (const el of root.querySelectorAll("*")) {
        if (el.shadowRoot) {
          const found = walk(el.shadowRoot);
          if (found) return found;
        }
      }
      return null;
    };
    return walk(document);
  };`;
}

async function waitDeep(page: Page, fn: string, what: string): Promise<unknown> {
  try {
    const handle = await page.waitForFunction(fn, { timeout: WAIT_MS, polling: 100 });
    const value = await handle.jsonValue();
    await handle.dispose();
    return value;
  } catch (err) {
    await page.screenshot({ path: new URL("dashboard-failure.png", OUT).pathname });
    throw new Error(`timed out waiting for ${what}: ${(err as Error).message}`);
  }
}

/** Polls a condition on the test's side (what the gateway received). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Text of an element found through shadow roots, or null. */
const textOf = (selector: string) =>
  `(() => { const el = __deep(${
    JSON.stringify(selector)
  }); return el ? el.textContent : null; })()`;

Deno.test("dashboard in chromium: live card, LED write, broker restart, node leaving", {
  ignore: missing("chromium"),
}, async () => {
  await Deno.mkdir(OUT, { recursive: true });
  const keys = generateKeys();
  let broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0, keys });
  const brokerPort = broker.port;
  const gwUrl = `ws://127.0.0.1:${brokerPort}/gw`;

  // The websocket gateway and a simulated RIOT weather node pushing every 250 ms.
  const gateway = await startWsGateway({
    brokerUrl: gwUrl,
    keys,
    name: "ws-lab",
    host: "127.0.0.1",
    port: 0,
    minBackoffMs: 200,
    maxBackoffMs: 500,
  });
  const node = new WsNode({
    id: "ws-weather-1",
    gatewayHost: "127.0.0.1",
    gatewayPort: gateway.port,
    intervalMs: 250,
    sensors: new Sensors("ws-weather-1", { board: "samr21-xpro", mcu: "samr21" }),
  });
  await node.start();
  const uid = node.id; // the node names itself (?id=) so the test knows its uid
  const writes: { uid: string; endpoint: string; payload: string }[] = [];
  const nodeGot = (endpoint: string, payload: string) =>
    node.writes.some((w) => w.endpoint === endpoint && w.payload === payload);

  // A second gateway with pyaiot's special resources, to render every widget.
  const showcase = startGatewayCore(
    { brokerUrl: gwUrl, keys, name: "coap-lab", minBackoffMs: 200, maxBackoffMs: 500 },
    "coap",
    (node, endpoint, payload) => {
      writes.push({ uid: node.uid, endpoint, payload });
    },
  );
  const sUid = "2a0b1c3d4e5f607";
  showcase.registry.seen(sUid, "[fd00::2]:5683", { ip: "fd00::2", protocol: "CoAP" });
  const special: Record<string, unknown> = {
    name: "IMU Unit",
    board: "iotlab-m3",
    mcu: "stm32f103re",
    os: "riot",
    position: '{"lat":48.714784,"lng":2.205502}',
    imu: '[{"type":"acc","values":[12,-30,980]},{"type":"gyro","values":[1,-2,3]}]',
    eco2: "612ppm",
    robot: "s",
    js: "print('hello')",
    version: "1.0.3",
    suit_state: "6",
    dwnld: "42",
  };
  for (const [k, v] of Object.entries(special)) showcase.registry.setValue(sUid, k, v);
  // RIOT's IMU node pushes acc and gyro readings every 200 ms (spec 6.3).
  let step = 0;
  const imuPusher = setInterval(() => {
    step++;
    const w = (k: number) => Math.round(Math.sin(step / 3 + k) * 40);
    showcase.registry.setValue(
      sUid,
      "imu",
      JSON.stringify([
        { type: "acc", values: [w(0), w(1), 980 + w(2)] },
        { type: "gyro", values: [w(0), w(2), w(4)] },
      ]),
    );
  }, 200);
  const dashboard = await startDashboard({
    host: "127.0.0.1",
    port: 0,
    brokerUrl: `ws://127.0.0.1:${brokerPort}/ws`,
    title: "aiot lab",
  });

  const profile = await Deno.makeTempDir({ prefix: "aiot-chromium-" });
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    // Nothing may be fetched from anywhere but our dashboard and broker.
    const foreign: string[] = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (!["127.0.0.1", ""].includes(u.hostname) && u.protocol !== "data:") foreign.push(r.url());
    });
    await page.setViewport({ width: 1280, height: 860 });
    await page.evaluateOnNewDocument(deepQueryScript());
    await page.goto(dashboard.url, { waitUntil: "load" });

    // The card appears with its facts and the gateway's name.
    const card = `article[data-uid="${uid}"]`;
    await waitDeep(page, `${textOf(`${card} h2`)} === "Weather Sensor"`, "the node's card");
    const facts = String(await page.evaluate(textOf(`${card} dl.facts`)));
    for (const word of ["samr21-xpro", "samr21", "riot", "WebSocket", "ws-lab"]) {
      ok(facts.includes(word), `card facts show ${word}: ${facts}`);
    }
    // The temperature is a sensor widget with a parsed unit, and its value moves.
    const tempSel = `${card} section[data-endpoint="temperature"][data-widget="sensor"] .num`;
    const first = await waitDeep(page, textOf(tempSel), "the temperature value");
    await waitDeep(
      page,
      `(() => { const v = ${textOf(tempSel)}; return v !== null && v !== ${
        JSON.stringify(first)
      }; })()`,
      "a new temperature value",
    );
    equal(
      await page.evaluate(textOf(`${card} section[data-endpoint="temperature"] .unit`)),
      "°C",
    );
    await waitDeep(
      page,
      `__deep('${card} section[data-endpoint="temperature"] polyline')?.getAttribute("points")?.split(" ").length > 2`,
      "a sparkline",
    );

    // Every special widget of the second node renders.
    const sCard = `article[data-uid="${sUid}"]`;
    await waitDeep(page, `${textOf(`${sCard} h2`)} === "IMU Unit"`, "the showcase card");
    for (
      const [endpoint, widget] of [
        ["position", "position"],
        ["imu", "imu"],
        ["eco2", "sensor"],
        ["robot", "robot"],
        ["js", "js"],
        ["version", "firmware"],
      ]
    ) {
      await waitDeep(
        page,
        `!!__deep('${sCard} section[data-endpoint="${endpoint}"][data-widget="${widget}"]')`,
        `${endpoint} as ${widget}`,
      );
    }
    ok(String(await page.evaluate(textOf(`${sCard} .firmware`))).includes("Download started"));

    // Toggle the LED with a real click: the node gets "1" and the page shows the confirmation.
    const toggle = await page.waitForSelector(`pierce/${card} button.toggle`, {
      timeout: WAIT_MS,
    });
    await toggle!.click();
    await waitDeep(
      page,
      `!!__deep('${card} section[data-endpoint="led"] [data-confirmed]')`,
      "the LED confirmation",
    );
    ok(nodeGot("led", "1"), `node got the write: ${JSON.stringify(node.writes)}`);
    equal(await page.evaluate(textOf(`${card} section[data-endpoint="led"] .state`)), "ON");
    // A text write: typed, sent, received, confirmed, shown.
    const input = await page.waitForSelector(`pierce/${card} section[data-endpoint="text"] input`, {
      timeout: WAIT_MS,
    });
    await input!.type("bonjour");
    await input!.press("Enter");
    await until(() => nodeGot("text", "bonjour"), "the text write");
    await waitDeep(
      page,
      `${textOf(`${card} section[data-endpoint="text"] .current`)} === "bonjour"`,
      "the new text",
    );
    ok(await page.evaluate(`!!__deep('${card} section[data-endpoint="text"] [data-confirmed]')`));
    // The robot pad sends its one-letter commands.
    const up = await page.waitForSelector(`pierce/${sCard} button.pad-u`, { timeout: WAIT_MS });
    await up!.click();
    await until(
      () => writes.some((w) => w.uid === sUid && w.endpoint === "robot" && w.payload === "u"),
      "the robot command",
    );

    await page.screenshot({ path: new URL("dashboard.png", OUT).pathname, fullPage: true });
    // Filter by name: only the matching card stays.
    const search = await page.waitForSelector("pierce/input[type=search]", { timeout: WAIT_MS });
    await search!.type("imu unit");
    await waitDeep(page, `!__deep('${card}') && !!__deep('${sCard}')`, "the filtered view");
    await search!.click({ count: 3 });
    await page.keyboard.press("Backspace");
    await waitDeep(page, `!!__deep('${card}')`, "the unfiltered view");

    // The site map shows the positioned node; clicking its pin filters to it.
    const pin = await page.waitForSelector(`pierce/.map g[data-uid="${sUid}"] circle`, {
      timeout: WAIT_MS,
    });
    await pin!.click();
    await waitDeep(page, `!__deep('${card}') && !!__deep('${sCard}')`, "the map's filter");
    await search!.click({ count: 3 });
    await page.keyboard.press("Backspace");
    await waitDeep(page, `!!__deep('${card}')`, "the unfiltered view again");

    // Dark theme, switched by its button.
    const themeButton = await page.waitForSelector("pierce/button.theme", { timeout: WAIT_MS });
    await themeButton!.click();
    await waitDeep(
      page,
      `document.querySelector("aiot-dashboard").getAttribute("theme") === "dark"`,
      "the dark theme",
    );
    await page.screenshot({ path: new URL("dashboard-dark.png", OUT).pathname, fullPage: true });
    await themeButton!.click();

    // Phone width in a second tab (switching a tab to mobile emulation reloads it).
    const phone = await browser.newPage();
    await phone.setViewport({ width: 390, height: 844, isMobile: true, deviceScaleFactor: 2 });
    await phone.evaluateOnNewDocument(deepQueryScript());
    // The page passes `?token=` on to the element (and so to the broker's /ws URL).
    await phone.goto(`${dashboard.url}/?token=t0ken`, { waitUntil: "load" });
    equal(
      await phone.evaluate(`document.querySelector("aiot-dashboard").getAttribute("write-token")`),
      "t0ken",
    );
    await waitDeep(phone, `!!__deep('${sCard} section[data-endpoint="position"]')`, "phone view");
    await phone.screenshot({ path: new URL("dashboard-phone.png", OUT).pathname });
    await phone.close();

    // Embedded in another page with two lines: a standalone <aiot-node> with its own socket.
    const embed = await browser.newPage();
    await embed.setContent(
      `<h1>Some other page</h1>
      <script type="module" src="${dashboard.url}/components.js"></script>
      <aiot-node uid="${uid}" broker="ws://127.0.0.1:${brokerPort}/ws"></aiot-node>`,
    );
    await embed.evaluate(deepQueryScript()); // setContent makes no new document to hook
    await waitDeep(embed, `${textOf(`${card} h2`)} === "Weather Sensor"`, "the embedded card");
    await waitDeep(
      embed,
      `!!__deep('${card} section[data-endpoint="temperature"] .num')`,
      "the embedded card's temperature",
    );
    await embed.close();

    // Broker restart: the page says it lost the broker, then comes back by itself.
    await broker.close();
    await waitDeep(page, `!!__deep('.banner[role="alert"]')`, "the reconnecting banner");
    await waitDeep(page, `__deep('${card}')?.dataset.online === "false"`, "the greyed card");
    broker = await startBroker({ host: "127.0.0.1", port: brokerPort, keys });
    await waitDeep(page, `!__deep('.banner[role="alert"]')`, "the banner to go");
    await waitDeep(page, `__deep('${card}')?.dataset.online === "true"`, "the card back online");

    // The node goes: offline first, then the card is removed.
    await page.evaluate(`document.querySelector("aiot-dashboard").keepOffline = 2`);
    await node.stop();
    await waitDeep(page, `__deep('${card}')?.dataset.online === "false"`, "the card offline");
    await waitDeep(page, `!__deep('${card}')`, "the card to go");
    ok(await page.evaluate(`!!__deep('${sCard}')`), "the other node stays");

    equal(pageErrors.length, 0, `page errors: ${pageErrors.join("\n")}`);
    equal(foreign.length, 0, `requests to other hosts: ${foreign.join(", ")}`);
  } finally {
    clearInterval(imuPusher);
    await node.stop();
    await browser?.close();
    await dashboard.close();
    await gateway.close();
    await showcase.close();
    await broker.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
});
