// <aiot-node>: one node's card. Inside <aiot-dashboard> it is handed its node (`.node`) and asks
// the dashboard to send writes (an `aiot-write` event). Standalone, with a `broker` attribute
// and a `uid`, it opens its own broker connection and shows that one node:
//   <aiot-node broker="ws://host:8000/ws" uid="1234"></aiot-node>
import { html, LitElement, nothing, type PropertyValues } from "lit";
import { BrokerConnection, type ConnectionState } from "./connection.ts";
import { defineOnce, prefersDark } from "./dom.ts";
import {
  brokerUrlWithToken,
  chooseWidget,
  NodeTable,
  nodeTitle,
  type NodeView,
  valueText,
} from "./state.ts";
import { cardStyles, theme } from "./styles.ts";
import { renderResource } from "./widgets.ts";

export interface WriteRequest {
  uid: string;
  endpoint: string;
  payload: string;
}

/** Facts shown under the title, in pyaiot's order (its card dropdown, spec 7). */
const FACTS: [string, string][] = [
  ["board", "board"],
  ["mcu", "MCU"],
  ["os", "OS"],
  ["vendor", "vendor"],
  ["protocol", "protocol"],
  ["ip", "IP"],
  ["id", "id"],
];

export class AiotNode extends LitElement {
  static override properties = {
    uid: { type: String },
    broker: { type: String },
    writeToken: { type: String, attribute: "write-token" },
    theme: { type: String, reflect: true },
    node: { attribute: false },
    rev: { type: Number, attribute: false },
    now: { type: Number, attribute: false },
    _conn: { state: true },
  };
  static override styles = [theme, cardStyles];

  declare uid: string;
  declare broker: string;
  declare writeToken: string;
  declare theme: string;
  declare node: NodeView | undefined;
  /** The node's revision: a new value re-renders the card even when `node` is the same object. */
  declare rev: number;
  declare now: number;
  declare _conn: ConnectionState | undefined;
  // Inherited from HTMLElement; typed here as the DOM lib is not loaded (see dom.ts).
  declare readonly isConnected: boolean;
  declare dispatchEvent: (event: Event) => boolean;

  // Standalone mode only.
  #connection?: BrokerConnection;
  #table?: NodeTable;
  #ticker?: ReturnType<typeof setInterval>;
  #url = "";

  constructor() {
    super();
    this.uid = "";
    this.broker = "";
    this.writeToken = "";
    this.theme = "";
    this.node = undefined;
    this.rev = 0;
    this.now = Date.now();
    this._conn = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.theme && prefersDark()) {
      this.theme = "dark";
    }
    if (this.broker) this.#startStandalone();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopStandalone();
  }

  protected override updated(changed: PropertyValues): void {
    // The broker or token may be set after the element is attached (from script): follow it.
    if ((changed.has("broker") || changed.has("writeToken")) && this.isConnected) {
      const url = this.broker ? brokerUrlWithToken(this.broker, this.writeToken) : "";
      if (url !== this.#url) {
        this.#stopStandalone();
        if (url) this.#startStandalone();
      }
    }
  }

  #startStandalone(): void {
    if (this.#connection) return;
    const table = new NodeTable();
    this.#table = table;
    this.#url = brokerUrlWithToken(this.broker, this.writeToken);
    this.#connection = new BrokerConnection({
      url: this.#url,
      onFrame: (frame) => {
        if (table.apply(frame)) this.#syncFromTable();
      },
      onState: (state) => {
        this._conn = state;
        if (state.kind === "waiting") table.markAllOffline();
        this.#syncFromTable();
      },
    });
    this.#connection.start();
    this.#ticker = setInterval(() => {
      this.now = Date.now();
      table.sweep(10 * 60_000); // keep a vanished node's last values a while, then forget
      this.#syncFromTable();
    }, 1000);
  }

  #stopStandalone(): void {
    clearInterval(this.#ticker);
    this.#connection?.close();
    this.#connection = undefined;
    this.#table = undefined;
    this.#url = "";
  }

  #syncFromTable(): void {
    const node = this.#table?.nodes.get(this.uid);
    this.node = node;
    this.rev = node?.rev ?? -1;
  }

  #write(endpoint: string, payload: string): void {
    const req: WriteRequest = { uid: this.uid || this.node?.uid || "", endpoint, payload };
    if (this.#connection) {
      const sent = this.#connection.send({ type: "update", data: req });
      if (sent) this.#table?.noteWrite(req.uid, endpoint, payload);
      this.#syncFromTable();
      return;
    }
    this.dispatchEvent(
      new CustomEvent<WriteRequest>("aiot-write", { detail: req, bubbles: true, composed: true }),
    );
  }

  override render() {
    const node = this.node;
    if (!node) {
      const waiting = this._conn?.kind === "waiting";
      return html`
        <div class="card offline" part="card">
          <div class="head">
            <div class="titles">
              <h2>${this.uid || "Node"}</h2>
              <div class="uid">${waiting
                ? "broker unreachable, retrying…"
                : "waiting for the node…"}</div>
            </div>
          </div>
        </div>
      `;
    }
    const value = (key: string) => valueText(node.resources.get(key)?.value).trim();
    const hasVersion = node.resources.has("version");
    // MQTT nodes' `id` pseudo-resource repeats the uid shown under the title.
    const facts = FACTS.filter(([key]) => value(key) && !(key === "id" && value(key) === node.uid));
    const rows = [...node.resources.values()]
      .map((res) => ({ res, kind: chooseWidget(res.endpoint, res.value, res.meta, hasVersion) }))
      .filter(({ kind }) => kind !== "info" && kind !== "folded");
    const ctx = {
      node,
      now: this.now,
      write: (endpoint: string, payload: string) => this.#write(endpoint, payload),
    };
    return html`
      <article class="card ${node.online ? "" : "offline"}" part="card"
        data-uid=${node.uid} data-online=${node.online ? "true" : "false"}>
            <div class="head">
              <div class="titles">
                <h2>${nodeTitle(node)}</h2>
                <div class="uid">${node.uid}</div>
              </div>
              <span class="pill ${node.online ? "online" : "offline"}">${node.online
                ? "online"
                : "offline"}</span>
            </div>
            <dl class="facts">
              ${facts.map(([key, label]) =>
                html`
                  <div>
                    <dt>${label}</dt>
                    <dd>${value(key)}</dd>
                  </div>
                `
              )}
              ${node.gw
                ? html`
                  <div>
                    <dt>gateway</dt>
                    <dd>${node.gw}</dd>
                  </div>
                `
                : nothing}
            </dl>
            ${rows.map(({ res, kind }) => renderResource(res, kind, ctx))}
            ${rows.length === 0 && node.resources.size === 0
              ? html`<div class="empty">Discovering resources…</div>`
              : nothing}
          </article>
    `;
  }
}

defineOnce("aiot-node", AiotNode);
