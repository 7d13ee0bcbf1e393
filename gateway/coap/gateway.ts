// The CoAP gateway: the RFC 7252 stack (udp endpoint -> message layer -> exchanges) serving
// pyaiot's /alive and /server, discovering nodes on their own CoAP port, observing what they
// mark `obs`, and carrying web clients' writes back as PUT with pyaiot's echo on 2.04.
import { CoapCode, uriOptions } from "../../core-wasm/mod.ts";
import { createLogger } from "../../common/log.ts";
import type { ResourceMeta } from "../../common/wire.ts";
import type { NodeRecord } from "../../common/node.ts";
import { type GatewayBaseOptions, type RunningGateway, startGatewayCore } from "../common.ts";
import { Block1Assembler, requestBlockwise } from "./blockwise.ts";
import { discover, type DiscoveredResource, forwardValue } from "./discovery.ts";
import { Exchanges } from "./exchanges.ts";
import { MessageLayer } from "./message_layer.ts";
import { TaskLimiter } from "./limiter.ts";
import { Observation } from "./observe.ts";
import type { CoapParams } from "./params.ts";
import { AddressBook, type AliveEvent, ServerRoutes } from "./server.ts";
import { type Peer, peerKey, type RateLimit, UdpEndpoint } from "./udp_endpoint.ts";

const log = createLogger("gateway-coap");
const encoder = new TextEncoder();

export interface CoapGatewayOptions extends GatewayBaseOptions {
  host?: string;
  /** UDP port nodes post to (pyaiot's --coap-port, 5683). */
  port?: number;
  /**
   * The port of the nodes' CoAP servers, for discovery and writes: a number (5683 by default,
   * as pyaiot), or "source" for the port their /alive came from. A node's `?port=N` query on
   * /alive always wins.
   */
  nodePort?: number | "source";
  /** RFC 7252 transmission parameters (shortened in tests). */
  params?: Partial<CoapParams>;
  /** Per-source datagram rate limit; null turns it off. */
  rateLimit?: RateLimit | null;
  /** Deadline for one request to a node. */
  requestTimeoutMs?: number;
  /** Observe tuning: slack after Max-Age before re-registering, and the retry period. */
  observeSlackMs?: number;
  observeRetryMs?: number;
  /** Nodes discovered at the same time; the others wait their turn (default 32). */
  maxConcurrentDiscoveries?: number;
}

interface NodeState {
  uid: string;
  /** The node's CoAP server: where discovery, observations and writes go. */
  target: Peer;
  observations: Map<string, Observation>;
  discovering: boolean;
  discovered: boolean;
  /** Bumped on reset/leave: results of an older discovery are dropped. */
  generation: number;
}

export interface CoapGatewayStats {
  udp: UdpEndpoint["stats"];
  messages: MessageLayer["stats"];
  exchanges: Exchanges["stats"];
  server: ServerRoutes["stats"];
  observations: number;
  discoveries: number;
  discoveryFailures: number;
  discoveriesQueued: number;
  refusedNodes: number;
}

export interface RunningCoapGateway extends RunningGateway {
  stats(): CoapGatewayStats;
}

export function startCoapGateway(opts: CoapGatewayOptions): Promise<RunningCoapGateway> {
  const endpoint = UdpEndpoint.listen({
    hostname: opts.host ?? "0.0.0.0",
    port: opts.port ?? 5683,
    rateLimit: opts.rateLimit,
  });
  const layer = new MessageLayer(endpoint, { params: opts.params });
  const exchanges = new Exchanges(layer, { timeoutMs: opts.requestTimeoutMs });
  const book = new AddressBook();
  const states = new Map<string, NodeState>();
  const counters = { discoveries: 0, discoveryFailures: 0, refusedNodes: 0 };
  const nodePort = opts.nodePort ?? 5683;
  const discoveries = new TaskLimiter(opts.maxConcurrentDiscoveries ?? 32);

  const core = startGatewayCore(opts, "coap", (node, ep, payload) => write(node, ep, payload));
  const { registry } = core;

  const unsubscribe = registry.on((e) => {
    if (e.kind !== "out") return;
    const st = states.get(e.node.uid);
    if (st) forget(st);
    states.delete(e.node.uid);
    book.delete(e.node.uid);
  });

  const routes = new ServerRoutes({
    book,
    blocks: new Block1Assembler(),
    onAlive: (e) => alive(e),
    onValue: (uid, resource, value) => registry.setValue(uid, resource, value),
  });
  layer.onRequest((req, peer) => routes.handle(req, peer));

  function forget(st: NodeState): void {
    st.generation++;
    for (const o of st.observations.values()) o.cancel(false);
    st.observations.clear();
    st.discovered = false;
  }

  function alive(e: AliveEvent): boolean {
    if (registry.size >= core.maxNodes && !registry.get(e.uid)) {
      counters.refusedNodes++;
      return false; // a flood of made-up uids must not grow the node list without bound
    }
    const target = {
      hostname: e.source.hostname,
      port: e.port ?? (nodePort === "source" ? e.source.port : nodePort),
    };
    const { created } = registry.seen(e.uid, peerKey(e.source), {
      ip: e.source.hostname,
      protocol: "CoAP",
    });
    let st = states.get(e.uid);
    if (!st) {
      st = {
        uid: e.uid,
        target,
        observations: new Map(),
        discovering: false,
        discovered: false,
        generation: 0,
      };
      states.set(e.uid, st);
    }
    const moved = st.target.hostname !== target.hostname || st.target.port !== target.port;
    if (e.reset && !created) {
      log.info("node reset", { uid: e.uid });
      registry.reset(e.uid);
      // The web side cleared the node on `reset`: give it back its pseudo-resources.
      registry.setValue(e.uid, "ip", e.source.hostname);
      registry.setValue(e.uid, "protocol", "CoAP");
      forget(st);
    } else if (moved) {
      forget(st);
    } else if (created) {
      log.info("node joined", { uid: e.uid, from: peerKey(e.source) });
    }
    st.target = target;
    if (!st.discovered && !st.discovering) runDiscovery(st);
    return true;
  }

  function runDiscovery(st: NodeState): void {
    const gen = ++st.generation;
    st.discovering = true;
    counters.discoveries++;
    const current = () => st.generation === gen && states.get(st.uid) === st;
    const setValue = (ep: string, value: unknown, meta: ResourceMeta) => {
      if (current()) registry.setValue(st.uid, ep, value, meta);
    };
    discoveries.run(async () => {
      if (!current()) return; // reset or gone while queued
      try {
        await discover(st.target, {
          exchanges,
          timeoutMs: opts.requestTimeoutMs,
          onValue: setValue,
          observe: (r) => current() ? observe(st, r, setValue) : Promise.resolve(),
        });
        if (current()) st.discovered = true;
      } catch (err) {
        counters.discoveryFailures++;
        log.warn("discovery failed", { uid: st.uid, target: peerKey(st.target), err });
      } finally {
        if (st.generation === gen) st.discovering = false;
      }
    });
  }

  function observe(
    st: NodeState,
    r: DiscoveredResource,
    setValue: (ep: string, value: unknown, meta: ResourceMeta) => void,
  ): Promise<void> {
    st.observations.get(r.endpoint)?.cancel(false);
    const obs = new Observation({
      exchanges,
      peer: st.target,
      path: r.endpoint,
      onValue: (res) => forwardValue(res, r, setValue),
      onEnd: (why, res) => {
        if (why !== "cancelled") {
          log.debug("observation ended", { uid: st.uid, why, code: res?.code });
        }
      },
      slackMs: opts.observeSlackMs,
      retryMs: opts.observeRetryMs,
      timeoutMs: opts.requestTimeoutMs,
    });
    st.observations.set(r.endpoint, obs);
    return obs.start();
  }

  async function write(node: NodeRecord, ep: string, payload: string): Promise<void> {
    const st = states.get(node.uid);
    if (!st) return;
    const res = await requestBlockwise(exchanges, st.target, {
      code: CoapCode.PUT,
      options: uriOptions(ep),
      payload: encoder.encode(payload),
      timeoutMs: opts.requestTimeoutMs,
    });
    // pyaiot echoes the written value only on 2.04 Changed.
    if (res.code === CoapCode.CHANGED) registry.setValue(node.uid, ep, payload);
    else log.debug("write not applied", { uid: node.uid, endpoint: ep, code: res.code });
  }

  log.info("coap gateway listening", { host: endpoint.hostname, port: endpoint.port });

  return Promise.resolve({
    name: core.name,
    port: endpoint.port,
    registry,
    link: core.link,
    stats: () => ({
      udp: endpoint.stats,
      messages: layer.stats,
      exchanges: exchanges.stats,
      server: routes.stats,
      observations: [...states.values()].reduce((n, s) => n + s.observations.size, 0),
      discoveriesQueued: discoveries.queued,
      ...counters,
    }),
    async close() {
      unsubscribe();
      discoveries.close();
      for (const st of states.values()) forget(st);
      states.clear();
      await core.close();
      exchanges.close();
      await layer.close();
      await endpoint.close();
    },
  });
}
