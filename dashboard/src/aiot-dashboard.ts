// <aiot-dashboard broker="ws://host:8000/ws">: the live node table. Owns the broker connection
// (reconnecting with back-off and saying so), applies frames to a NodeTable, renders one
// <aiot-node> card per node, sends the cards' writes, and offers search and a light/dark switch.
import { css, html, LitElement, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import type { WriteRequest } from "./aiot-node.ts";
import "./aiot-node.ts";
import { BrokerConnection, type ConnectionState } from "./connection.ts";
import { defineOnce, prefersDark, targetValue } from "./dom.ts";
import { brokerUrlWithToken, NodeTable } from "./state.ts";
import { renderSiteMap, siteMapStyles } from "./site-map.ts";
import { theme } from "./styles.ts";

/** pyaiot's page keeps the theme in localStorage under this key (spec 7). */
const THEME_KEY = "theme";
const MAP_KEY = "showMap";

export class AiotDashboard extends LitElement {
  static override properties = {
    broker: { type: String },
    writeToken: { type: String, attribute: "write-token" },
    heading: { type: String },
    theme: { type: String, reflect: true },
    keepOffline: { type: Number, attribute: "keep-offline" },
    showMap: { type: Boolean, attribute: false },
    _query: { state: true },
    _conn: { state: true },
    _tick: { state: true },
  };

  static override styles = [
    theme,
    siteMapStyles,
    css`
      :host {
        display: block;
        background: var(--aiot-bg);
        min-height: 100%;
      }
      header.bar {
        position: sticky;
        top: 0;
        z-index: 1;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 14px;
        padding: 10px 16px;
        background: var(--aiot-card);
        border-bottom: 1px solid var(--aiot-line);
      }
      h1 {
        font-size: 1.15rem;
        margin: 0;
        display: flex;
        align-items: center;
        gap: 8px;
      }
      .logo {
        width: 22px;
        height: 22px;
        flex: none;
      }
      .count {
        color: var(--aiot-muted);
        font-size: 0.85rem;
      }
      .spacer {
        flex: 1;
      }
      input[type="search"] {
        font: inherit;
        padding: 6px 10px;
        border-radius: 8px;
        border: 1px solid var(--aiot-line);
        background: var(--aiot-bg);
        color: var(--aiot-fg);
        width: 14em;
        max-width: 100%;
        box-sizing: border-box;
      }
      button[aria-pressed="true"] {
        border-color: var(--aiot-accent);
        color: var(--aiot-accent);
      }
      button {
        font: inherit;
        cursor: pointer;
        border-radius: 8px;
        border: 1px solid var(--aiot-line);
        background: var(--aiot-bg);
        color: var(--aiot-fg);
        padding: 5px 10px;
      }
      .conn {
        font-size: 0.8rem;
        display: flex;
        align-items: center;
        gap: 6px;
        color: var(--aiot-muted);
      }
      .dot {
        width: 9px;
        height: 9px;
        border-radius: 50%;
        background: var(--aiot-warn);
      }
      .conn.open .dot {
        background: var(--aiot-ok);
      }
      .banner {
        margin: 12px 16px 0;
        padding: 10px 14px;
        border-radius: 10px;
        border: 1px solid var(--aiot-warn);
        color: var(--aiot-warn);
        background: var(--aiot-card);
        font-size: 0.9rem;
      }
      main {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(290px, 1fr));
        gap: 14px;
        padding: 14px 16px 24px;
        align-items: start;
      }
      .none {
        grid-column: 1 / -1;
        text-align: center;
        color: var(--aiot-muted);
        padding: 48px 0;
      }
      @media (max-width: 520px) {
        header.bar {
          padding: 8px 10px;
        }
        .spacer {
          display: none;
        }
        input[type="search"] {
          flex: 1;
          width: auto;
        }
        main {
          grid-template-columns: 1fr;
          padding: 10px;
        }
        .banner {
          margin: 10px 10px 0;
        }
      }
    `,
  ];

  declare broker: string;
  declare writeToken: string;
  declare heading: string;
  declare theme: string;
  /** Seconds an offline node's card stays (greyed) before it goes; 0 removes it at once. */
  declare keepOffline: number;
  /** The site map of positioned nodes (pyaiot's `showMap` setting, kept in localStorage). */
  declare showMap: boolean;
  declare _query: string;
  declare _conn: ConnectionState;
  declare _tick: number;
  // Inherited from HTMLElement; typed here as the DOM lib is not loaded (see dom.ts).
  declare readonly isConnected: boolean;
  declare addEventListener: (type: string, listener: (event: Event) => void) => void;

  readonly table = new NodeTable();
  #connection?: BrokerConnection;
  #url = "";
  #ticker?: ReturnType<typeof setInterval>;
  #renderTimer?: ReturnType<typeof setTimeout>;

  constructor() {
    super();
    this.broker = "";
    this.writeToken = "";
    this.heading = "IoT dashboard";
    this.theme = "";
    this.keepOffline = 8;
    this.showMap = globalThis.localStorage?.getItem(MAP_KEY) !== "false";
    this._query = "";
    this._conn = { kind: "closed" };
    this._tick = Date.now();
    this.addEventListener("aiot-write", (e) => this.#onWrite(e as CustomEvent<WriteRequest>));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.theme) {
      const saved = globalThis.localStorage?.getItem(THEME_KEY);
      const dark = prefersDark();
      this.theme = saved === "dark" || saved === "light" ? saved : dark ? "dark" : "light";
    }
    this.#ticker = setInterval(() => this.#onTick(), 1000);
    this.#reconnectIfChanged();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.#ticker);
    clearTimeout(this.#renderTimer);
    this.#renderTimer = undefined;
    this.#connection?.close();
    this.#connection = undefined;
    this.#url = "";
  }

  protected override updated(): void {
    this.#reconnectIfChanged();
  }

  /** Where the broker is when no attribute says: pyaiot's default port on the page's host. */
  #brokerUrl(): string {
    if (this.broker) return this.broker;
    const secure = globalThis.location?.protocol === "https:";
    return `${secure ? "wss" : "ws"}://${globalThis.location?.hostname || "localhost"}:8000/ws`;
  }

  #reconnectIfChanged(): void {
    if (!this.isConnected) return;
    const url = brokerUrlWithToken(this.#brokerUrl(), this.writeToken);
    if (url === this.#url) return;
    this.#connection?.close();
    this.#url = url;
    this.#connection = new BrokerConnection({
      url,
      onFrame: (frame) => {
        if (this.table.apply(frame)) {
          if (this.keepOffline <= 0) this.table.sweep(0);
          this.#renderSoon();
        }
      },
      onState: (state) => {
        if (state.kind === "waiting" && this._conn.kind === "open") this.table.markAllOffline();
        // Nodes still offline a grace period after the broker is back were not replayed: gone.
        if (state.kind === "open") this.table.restartGrace();
        this._conn = state;
      },
    });
    this.#connection.start();
  }

  /**
   * Frames arrive one per task, each a separate Lit update of the whole grid: coalesce them so
   * a busy site (hundreds of nodes pushing) renders at most ten times a second.
   */
  #renderSoon(): void {
    if (this.#renderTimer !== undefined) return;
    this.#renderTimer = setTimeout(() => {
      this.#renderTimer = undefined;
      this.requestUpdate();
    }, 100);
  }

  #onTick(): void {
    const now = Date.now();
    // While the broker is away, nodes stay as last seen (greyed) instead of vanishing.
    const gone = this._conn.kind === "open" ? this.table.sweep(this.keepOffline * 1000, now) : [];
    // The clock only moves "12 s ago" labels: with many cards, every 5 s is enough.
    const period = this.table.nodes.size > 200 ? 5000 : 1000;
    if (now - this._tick >= period - 50) this._tick = now;
    else if (gone.length) this.requestUpdate();
  }

  #onWrite(e: CustomEvent<WriteRequest>): void {
    const { uid, endpoint, payload } = e.detail;
    const sent = this.#connection?.send({ type: "update", data: { uid, endpoint, payload } });
    if (sent) this.table.noteWrite(uid, endpoint, payload);
    this.requestUpdate();
  }

  #toggleTheme(): void {
    this.theme = this.theme === "dark" ? "light" : "dark";
    globalThis.localStorage?.setItem(THEME_KEY, this.theme);
  }

  #toggleMap(): void {
    this.showMap = !this.showMap;
    globalThis.localStorage?.setItem(MAP_KEY, String(this.showMap));
  }

  #connText(): string {
    const c = this._conn;
    switch (c.kind) {
      case "open":
        return "live";
      case "connecting":
        return c.attempt > 1 ? "reconnecting…" : "connecting…";
      case "waiting": {
        const s = Math.max(1, Math.ceil((c.retryAt - this._tick) / 1000));
        return `offline, retrying in ${s} s`;
      }
      default:
        return "closed";
    }
  }

  override render() {
    const nodes = this.table.filter(this._query);
    const total = this.table.nodes.size;
    const online = [...this.table.nodes.values()].filter((n) => n.online).length;
    const c = this._conn;
    const down = c.kind === "waiting" || (c.kind === "connecting" && c.attempt > 1);
    const why = c.kind === "waiting" ? ` (${c.reason})` : "";
    return html`
      <header class="bar" part="bar">
        <h1>
          <svg class="logo" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="3"
            fill="var(--aiot-accent)"/><path d="M5.6 5.6a9 9 0 0 0 0 12.8M18.4 5.6a9 9 0 0 1 0 12.8M8.5 8.5a5 5 0 0 0 0 7M15.5 8.5a5 5 0 0 1 0 7"
            fill="none" stroke="var(--aiot-accent)" stroke-width="2" stroke-linecap="round"/></svg>
          ${this.heading}
        </h1>
        <span class="count"
          data-count=${total}>${online} of ${total} node${total === 1 ? "" : "s"} online</span>
        <span class="spacer"></span>
        <span class="conn ${c.kind}" role="status"
          aria-live="polite"><span class="dot"></span>${this.#connText()}</span>
        <input type="search" placeholder="Filter nodes…"
          aria-label="Filter nodes by name, board or resource"
          .value=${this._query} @input=${(e: Event) => {
            this._query = targetValue(e);
          }}>
        <button class="map-toggle" @click=${this.#toggleMap} aria-pressed=${this.showMap
          ? "true"
          : "false"}
          title="Show or hide the site map">Map</button>
        <button class="theme" @click=${this.#toggleTheme} aria-label="Switch light or dark theme"
          title="Light / dark">${this.theme === "dark" ? "☀" : "☾"}</button>
      </header>
      ${down
        ? html`<div class="banner" role="alert">
          Lost the connection to the broker${why}. Reconnecting by itself; the cards show the
          last known values.</div>`
        : nothing}
      <main>
        ${this.showMap
          ? renderSiteMap(this.table.filter(""), (uid) => {
            this._query = uid;
          })
          : nothing}
        ${repeat(
          nodes,
          (n) => n.uid,
          (n) =>
            html`
              <aiot-node .node=${n} .rev=${n.rev} .now=${this._tick} uid=${n.uid}
                theme=${this.theme}></aiot-node>
            `,
        )}
        ${nodes.length === 0
          ? html`<div class="none">${
            total
              ? "No node matches the filter."
              : c.kind === "open"
              ? "No node yet. Nodes appear here as soon as a gateway announces them."
              : "Connecting to the broker…"
          }</div>`
          : nothing}
      </main>
    `;
  }
}

defineOnce("aiot-dashboard", AiotDashboard);
