// Prometheus text exposition (format 0.0.4) of the broker's counters, built by hand: a few
// labelled counters do not need a client library.

export type PeerKind = "gateway" | "client";

/** Counters keyed by a label set rendered once, e.g. `kind="client",type="new"`. */
class LabelledCounter {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly kind = "counter") {}
  inc(labels: string, by = 1): void {
    this.values.set(labels, (this.values.get(labels) ?? 0) + by);
  }
  get(labels: string): number {
    return this.values.get(labels) ?? 0;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`);
    for (const [labels, v] of this.values) out.push(`${this.name}{${labels}} ${v}`);
  }
}

/** Label values come from the network (gateway names): escape per the exposition format. */
export function labelValue(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Message types counted by name; anything else is counted as "other" to bound the label set. */
function typeLabel(type: unknown): string {
  return type === "new" || type === "update" || type === "out" || type === "reset" ||
      type === "error"
    ? type
    : "other";
}

export interface GatewayGauge {
  name: string;
  nodes: number;
  messagesIn: number;
}

export class BrokerMetrics {
  readonly started = Date.now();
  readonly connectionsTotal = new LabelledCounter(
    "aiot_broker_connections_total",
    "Websocket connections accepted.",
  );
  readonly messagesIn = new LabelledCounter(
    "aiot_broker_messages_in_total",
    "Frames received, by peer kind and message type.",
  );
  readonly messagesOut = new LabelledCounter(
    "aiot_broker_messages_out_total",
    "Frames sent, by peer kind and message type.",
  );
  readonly dropped = new LabelledCounter(
    "aiot_broker_dropped_messages_total",
    "Frames not relayed, by reason.",
  );
  readonly authFailures = new LabelledCounter(
    "aiot_broker_auth_failures_total",
    "Refused websocket handshakes, by endpoint and reason.",
  );
  readonly refusals = new LabelledCounter(
    "aiot_broker_refusals_total",
    "Frames or connections refused after the handshake, by peer kind and reason.",
  );

  messageIn(kind: PeerKind, type: unknown): void {
    this.messagesIn.inc(`kind="${kind}",type="${typeLabel(type)}"`);
  }
  messageOut(kind: PeerKind, type: unknown, count = 1): void {
    this.messagesOut.inc(`kind="${kind}",type="${typeLabel(type)}"`, count);
  }
  drop(reason: string, count = 1): void {
    this.dropped.inc(`reason="${labelValue(reason)}"`, count);
  }
  authFailure(path: string, reason: string): void {
    this.authFailures.inc(`path="${path}",reason="${labelValue(reason)}"`);
  }
  refuse(kind: PeerKind, reason: string): void {
    this.refusals.inc(`kind="${kind}",reason="${labelValue(reason)}"`);
  }
  connected(kind: PeerKind): void {
    this.connectionsTotal.inc(`kind="${kind}"`);
  }

  render(live: { gateways: GatewayGauge[]; clients: number; nodes: number }): string {
    const out: string[] = [];
    out.push(
      "# HELP aiot_broker_connections Open websocket connections.",
      "# TYPE aiot_broker_connections gauge",
      `aiot_broker_connections{kind="gateway"} ${live.gateways.length}`,
      `aiot_broker_connections{kind="client"} ${live.clients}`,
    );
    this.connectionsTotal.render(out);
    this.messagesIn.render(out);
    this.messagesOut.render(out);
    this.dropped.render(out);
    this.authFailures.render(out);
    this.refusals.render(out);
    out.push(
      "# HELP aiot_broker_nodes Nodes currently announced by connected gateways.",
      "# TYPE aiot_broker_nodes gauge",
      `aiot_broker_nodes ${live.nodes}`,
      "# HELP aiot_broker_gateway_nodes Nodes owned by each connected gateway.",
      "# TYPE aiot_broker_gateway_nodes gauge",
    );
    for (const g of live.gateways) {
      out.push(`aiot_broker_gateway_nodes{gateway="${labelValue(g.name)}"} ${g.nodes}`);
    }
    out.push(
      "# HELP aiot_broker_gateway_messages_in_total Frames received from each connected gateway.",
      "# TYPE aiot_broker_gateway_messages_in_total counter",
    );
    for (const g of live.gateways) {
      out.push(
        `aiot_broker_gateway_messages_in_total{gateway="${labelValue(g.name)}"} ${g.messagesIn}`,
      );
    }
    out.push(
      "# HELP aiot_broker_uptime_seconds Seconds since the broker started.",
      "# TYPE aiot_broker_uptime_seconds gauge",
      `aiot_broker_uptime_seconds ${((Date.now() - this.started) / 1000).toFixed(3)}`,
    );
    return out.join("\n") + "\n";
  }
}
