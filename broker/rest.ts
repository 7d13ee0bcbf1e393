// Read-only REST API and Prometheus metrics on the broker's port. Everything here is what any
// websocket client could see anyway, so it needs no auth.
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Relay } from "./relay.ts";

export function restRoutes(relay: Relay): Hono {
  const app = new Hono();
  // The dashboard is served from another origin and may read these.
  app.use("/api/*", cors({ origin: "*", allowMethods: ["GET"] }));

  app.get("/api/nodes", (c) => c.json(relay.listNodes()));
  app.get("/api/nodes/:uid", (c) => {
    const node = relay.getNode(c.req.param("uid"));
    return node ? c.json(node) : c.json({ error: "unknown node" }, 404);
  });
  app.get("/api/gateways", (c) => c.json(relay.listGateways()));
  app.get("/api/health", (c) =>
    c.json({
      status: "ok",
      uptimeSeconds: Math.round((Date.now() - relay.metrics.started) / 1000),
      gateways: relay.gateways.size,
      clients: relay.clients.size,
      nodes: relay.nodeCount(),
    }));
  app.get("/metrics", (c) =>
    c.text(
      relay.metrics.render({
        gateways: [...relay.gateways.values()].map((g) => ({
          name: g.name,
          nodes: g.nodes.size,
          messagesIn: g.messagesIn,
        })),
        clients: relay.clients.size,
        nodes: relay.nodeCount(),
      }),
      200,
      { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    ));
  return app;
}
