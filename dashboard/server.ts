// The dashboard's web server (Hono): the page at `/`, the components bundle at `/components.js`
// (CORS-open so other pages can embed it), and a favicon. Everything the page needs comes from
// here: no CDN, no web fonts, no map tiles, so it works on an offline site network.
import { Hono } from "hono";
import { createLogger } from "../common/log.ts";

const log = createLogger("dashboard");

export interface DashboardOptions {
  host?: string;
  port?: number;
  /** The broker's web-client endpoint as browsers reach it: `ws(s)://host:port/ws`. */
  brokerUrl: string;
  title?: string;
}

export interface RunningDashboard {
  port: number;
  url: string;
  close(): Promise<void>;
}

const BUNDLE_URL = new URL("./static/components.js", import.meta.url);

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<rect width="24" height="24" rx="6" fill="#0b7a75"/><circle cx="12" cy="12" r="2.6" fill="#fff"/>
<path d="M6.3 6.3a8 8 0 0 0 0 11.4M17.7 6.3a8 8 0 0 1 0 11.4M9 9a4.3 4.3 0 0 0 0 6M15 9a4.3 4.3 0 0 1 0 6"
 fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/></svg>`;

/** The page: one <aiot-dashboard>, exactly what an embedding page would write. */
export function indexHtml(opts: { brokerUrl: string; title: string }): string {
  const title = escapeHtml(opts.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  html, body { margin: 0; min-height: 100%; background: #f3f5f8; }
  @media (prefers-color-scheme: dark) { html, body { background: #0f141a; } }
  aiot-dashboard { min-height: 100vh; }
</style>
<script type="module" src="/components.js"></script>
</head>
<body>
<aiot-dashboard broker="${escapeHtml(opts.brokerUrl)}" heading="${title}"></aiot-dashboard>
<noscript>This dashboard needs JavaScript.</noscript>
<script type="module">
  const el = document.querySelector("aiot-dashboard");
  const page = new URL(location.href);
  // A dashboard told "localhost" runs next to the broker: a browser on another machine (a phone
  // on the site network) must use the host it loaded this page from instead.
  const broker = new URL(el.getAttribute("broker"));
  const loopback = ["localhost", "127.0.0.1", "[::1]"];
  if (loopback.includes(broker.hostname) && !loopback.includes(page.hostname)) {
    broker.hostname = page.hostname;
    el.setAttribute("broker", broker.href);
  }
  // Writes may need the broker's write token: open the page as /?token=SECRET. It is never
  // written into the page by the server, so viewers without it stay read-only.
  const token = page.searchParams.get("token");
  if (token) el.setAttribute("write-token", token);
  // The dashboard's background follows its theme switch.
  const paint = () => document.body.style.background =
    el.getAttribute("theme") === "dark" ? "#0f141a" : "#f3f5f8";
  new MutationObserver(paint).observe(el, { attributes: true, attributeFilter: ["theme"] });
  customElements.whenDefined("aiot-dashboard").then(paint);
</script>
</body>
</html>
`;
}

/** The Hono app, separate from the listener so it can be mounted elsewhere. */
export async function dashboardApp(opts: { brokerUrl: string; title?: string }): Promise<Hono> {
  let bundle: string;
  try {
    bundle = await Deno.readTextFile(BUNDLE_URL);
  } catch (err) {
    throw new Error(
      `dashboard: cannot read ${BUNDLE_URL.pathname} (${
        err instanceof Error ? err.message : err
      }); run \`deno task build\``,
    );
  }
  const page = indexHtml({ brokerUrl: opts.brokerUrl, title: opts.title ?? "IoT dashboard" });
  const app = new Hono();
  app.get("/", (c) => {
    c.header("Cache-Control", "no-cache");
    return c.html(page);
  });
  app.get("/components.js", (c) => {
    // Module scripts loaded from another origin need CORS: embedding is the point of the bundle.
    c.header("Access-Control-Allow-Origin", "*");
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(bundle);
  });
  app.get("/favicon.svg", (c) => {
    c.header("Content-Type", "image/svg+xml");
    return c.body(FAVICON_SVG);
  });
  app.get("/favicon.ico", (c) => c.redirect("/favicon.svg"));
  return app;
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const app = await dashboardApp(opts);
  const host = opts.host ?? "0.0.0.0";
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: host, port: opts.port ?? 8080, onListen: (addr) => resolve(addr as Deno.NetAddr) },
    app.fetch,
  );
  const addr = await listening;
  const shownHost = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `http://${shownHost}:${addr.port}`;
  log.info("dashboard listening", { url, broker: opts.brokerUrl });
  return {
    port: addr.port,
    url,
    async close() {
      await server.shutdown();
    },
  };
}
