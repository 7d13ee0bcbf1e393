// The dashboard's model, free of DOM and Lit so it can be unit-tested with `deno test`: a node
// table that applies the broker's new/update/out/reset frames (shared/spec 2.5 and 7), value and
// unit parsing for RIOT's strings, and the choice of a widget for each resource.
import type { ResourceMeta } from "../../common/wire.ts";

/** How many recent numeric values a sparkline keeps. */
export const HISTORY_LENGTH = 60;

/** How long a write waits for the node's confirmation before the card says it got none. */
export const CONFIRM_TIMEOUT_MS = 5000;

export interface PendingWrite {
  payload: string;
  at: number;
}

export interface ResourceView {
  endpoint: string;
  value: unknown;
  meta?: ResourceMeta;
  /** When the value last differed from the one before (a replayed equal value keeps it). */
  changedAt: number;
  /** Recent numeric samples per series: `value` for scalars, `acc`/`gyro.x`/... for `imu`. */
  series: Record<string, number[]>;
  pending?: PendingWrite;
  /** Set when an update echoed the pending payload: the node confirmed the write. */
  confirmedAt?: number;
  /** The broker refused the last write (aiot's `{"type":"error"}` frame), and why. */
  refused?: { message: string; at: number };
}

export interface NodeView {
  uid: string;
  /** The gateway's name, as the aiot broker adds it (`gw`); absent behind a pyaiot broker. */
  gw?: string;
  /** Insertion-ordered, like the gateway's cache. */
  resources: Map<string, ResourceView>;
  online: boolean;
  /** When the node went offline (an `out`, or the broker connection dropped). */
  offlineSince?: number;
  /** Bumped on every change so Lit re-renders a card whose object stayed the same. */
  rev: number;
}

/** Resources that describe the node rather than measure something: shown in the card header. */
export const INFO_ENDPOINTS = [
  "name",
  "board",
  "mcu",
  "os",
  "protocol",
  "ip",
  "id",
  "vendor",
] as const;

/** Pseudo-resources gateways add (pyaiot's `ip`/`id`, `protocol`); a node reset keeps them. */
const RESET_KEEPS = new Set(["protocol", "ip", "id"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** pyaiot's page strips one leading `/` (CoAP gateways send `/temperature`). */
export function normalizeEndpoint(endpoint: string): string {
  return endpoint.startsWith("/") ? endpoint.slice(1) : endpoint;
}

/** pyaiot's page JSON-parses `position`; other values stay as the gateway sent them. */
export function normalizeValue(endpoint: string, data: unknown): unknown {
  if (endpoint === "position" && typeof data === "string") {
    try {
      return JSON.parse(data);
    } catch {
      return data;
    }
  }
  return data;
}

export class NodeTable {
  readonly nodes = new Map<string, NodeView>();

  /**
   * Applies one broker frame; returns whether anything visible changed. Unknown or malformed
   * frames are ignored, as are updates for uids never announced (pyaiot does the same).
   */
  apply(frame: unknown, now: number = Date.now()): boolean {
    if (isRecord(frame) && frame.type === "error") return this.#refused(frame, now);
    if (!isRecord(frame) || typeof frame.uid !== "string") return false;
    const uid = frame.uid;
    const gw = typeof frame.gw === "string" ? frame.gw : undefined;
    switch (frame.type) {
      case "new": {
        const known = this.nodes.get(uid);
        if (known) {
          known.online = true;
          known.offlineSince = undefined;
          if (gw) known.gw = gw;
          known.rev++;
        } else {
          this.nodes.set(uid, { uid, gw, resources: new Map(), online: true, rev: 0 });
        }
        return true;
      }
      case "update": {
        const node = this.nodes.get(uid);
        if (!node || typeof frame.endpoint !== "string") return false;
        const endpoint = normalizeEndpoint(frame.endpoint);
        const meta = isRecord(frame.meta) ? frame.meta as ResourceMeta : undefined;
        this.#setValue(node, endpoint, normalizeValue(endpoint, frame.data), meta, now);
        if (gw) node.gw = gw;
        // Updates flow only for live nodes: one after a broker reconnect brings the node back.
        node.online = true;
        node.offlineSince = undefined;
        node.rev++;
        return true;
      }
      case "out": {
        const node = this.nodes.get(uid);
        if (!node || !node.online) return false;
        node.online = false;
        node.offlineSince = now;
        node.rev++;
        return true;
      }
      case "reset": {
        const node = this.nodes.get(uid);
        if (!node) return false;
        // The node rebooted: its resources will be rediscovered. The gateway's pseudo-resources
        // (how it reaches the node) survive a reboot and are not sent again, so keep them.
        for (const key of [...node.resources.keys()]) {
          if (!RESET_KEEPS.has(key)) node.resources.delete(key);
        }
        node.rev++;
        return true;
      }
    }
    return false;
  }

  /**
   * aiot's broker answers a write it refuses (no write token, unknown node) with
   * `{"type":"error","error":..,"message":..,"uid":..,"endpoint":..}`: show it on the resource.
   */
  #refused(frame: Record<string, unknown>, now: number): boolean {
    if (typeof frame.uid !== "string" || typeof frame.endpoint !== "string") return false;
    const node = this.nodes.get(frame.uid);
    const res = node?.resources.get(normalizeEndpoint(frame.endpoint));
    if (!node || !res) return false;
    res.pending = undefined;
    const message = typeof frame.message === "string" ? frame.message : String(frame.error);
    res.refused = { message, at: now };
    node.rev++;
    return true;
  }

  #setValue(
    node: NodeView,
    endpoint: string,
    value: unknown,
    meta: ResourceMeta | undefined,
    now: number,
  ): void {
    let res = node.resources.get(endpoint);
    if (!res) {
      res = { endpoint, value, meta, changedAt: now, series: {} };
      node.resources.set(endpoint, res);
    } else {
      if (!sameValue(res.value, value)) res.changedAt = now;
      res.value = value;
      if (meta) res.meta = meta;
    }
    if (res.pending && String(valueText(value)) === res.pending.payload) {
      res.pending = undefined;
      res.confirmedAt = now;
    }
    recordSamples(res, endpoint, value);
  }

  /** Records a write the page sent, so the node's echo can be shown as its confirmation. */
  noteWrite(uid: string, endpoint: string, payload: string, now: number = Date.now()): void {
    const node = this.nodes.get(uid);
    const res = node?.resources.get(endpoint);
    if (!node || !res) return;
    res.pending = { payload, at: now };
    res.confirmedAt = undefined;
    res.refused = undefined;
    node.rev++;
  }

  /** The broker connection dropped: every node's state is now unknown. */
  markAllOffline(now: number = Date.now()): void {
    for (const node of this.nodes.values()) {
      if (!node.online) continue;
      node.online = false;
      node.offlineSince = now;
      node.rev++;
    }
  }

  /** Restarts the grace period of offline nodes, e.g. when the broker is reachable again. */
  restartGrace(now: number = Date.now()): void {
    for (const node of this.nodes.values()) if (!node.online) node.offlineSince = now;
  }

  /** Drops nodes offline for longer than keepMs; returns their uids. */
  sweep(keepMs: number, now: number = Date.now()): string[] {
    const gone: string[] = [];
    for (const node of this.nodes.values()) {
      if (!node.online && node.offlineSince !== undefined && now - node.offlineSince >= keepMs) {
        gone.push(node.uid);
      }
    }
    for (const uid of gone) this.nodes.delete(uid);
    return gone;
  }

  /**
   * Nodes whose name, uid, board, gateway or resource names contain the query, sorted by name
   * then uid so cards keep their place whatever order gateways replay them in.
   */
  filter(query: string): NodeView[] {
    const q = query.trim().toLowerCase();
    const all = [...this.nodes.values()].filter((n) => !q || searchText(n).includes(q));
    // Nodes still being discovered (no name yet) come last.
    const key = (n: NodeView) => {
      const name = valueText(n.resources.get("name")?.value).trim().toLowerCase();
      return name ? `0${name}` : "1";
    };
    return all.sort((a, b) => key(a).localeCompare(key(b)) || a.uid.localeCompare(b.uid));
  }
}

function searchText(node: NodeView): string {
  const parts = [node.uid, node.gw ?? "", ...node.resources.keys()];
  for (const key of INFO_ENDPOINTS) parts.push(valueText(node.resources.get(key)?.value));
  return parts.join(" ").toLowerCase();
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A value as text for display and comparison: strings as they are, the rest as JSON. */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function pushSample(res: ResourceView, key: string, n: number): void {
  if (!Number.isFinite(n)) return;
  const list = res.series[key] ??= [];
  list.push(n);
  if (list.length > HISTORY_LENGTH) list.splice(0, list.length - HISTORY_LENGTH);
}

function recordSamples(res: ResourceView, endpoint: string, value: unknown): void {
  if (endpoint === "imu") {
    for (const r of parseImu(value)) {
      if (r.type === "gyro") {
        pushSample(res, "gyro.x", r.values[0]);
        pushSample(res, "gyro.y", r.values[1]);
        pushSample(res, "gyro.z", r.values[2]);
      } else {
        pushSample(res, r.type, Math.hypot(...r.values));
      }
    }
    return;
  }
  const m = parseMeasure(value, endpoint);
  if (m) pushSample(res, "value", m.value);
}

// ---- values and units ----

export interface Measure {
  value: number;
  unit: string;
}

/** Units RIOT's firmwares append, used when a value arrives as a bare number (CBOR, JSON). */
export const DEFAULT_UNITS: Record<string, string> = {
  temperature: "°C",
  pressure: "hPa",
  humidity: "%",
  eco2: "ppm",
  tvoc: "ppb",
  illuminance: "lx",
  tsp: "g/m3",
  tlp: "g/m3",
  dwnld: "%",
};

const MEASURE = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$/;

/**
 * Number and unit of a sensor value as RIOT sends it: `23.4°C`, `1013.25hPa`, `45.12%`,
 * `400ppm`, `120lx` (ccs811 pads with NULs, which are dropped). Bare numbers take the resource's
 * usual unit. Returns null for anything that does not start with a number.
 */
export function parseMeasure(value: unknown, endpoint = ""): Measure | null {
  if (typeof value === "number") {
    return Number.isFinite(value) ? { value, unit: DEFAULT_UNITS[endpoint] ?? "" } : null;
  }
  if (typeof value !== "string") return null;
  // deno-lint-ignore no-control-regex
  const m = MEASURE.exec(value.replace(/\u0000+$/, ""));
  if (!m) return null;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return null;
  return { value: n, unit: m[2] ?? (DEFAULT_UNITS[endpoint] ?? "") };
}

export interface ImuReading {
  type: string;
  values: number[];
}

/** `imu` is a JSON list `[{"type":"acc","values":[x,y,z]}, ...]`, as a string or parsed. */
export function parseImu(value: unknown): ImuReading[] {
  let v = value;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(v)) return [];
  const out: ImuReading[] = [];
  for (const item of v) {
    if (!isRecord(item) || typeof item.type !== "string" || !Array.isArray(item.values)) continue;
    const values = item.values.map(Number);
    if (values.length >= 3 && values.every(Number.isFinite)) out.push({ type: item.type, values });
  }
  return out;
}

export interface Position {
  lat: number;
  lng: number;
}

export function parsePosition(value: unknown): Position | null {
  const v = normalizeValue("position", value);
  if (!isRecord(v)) return null;
  const lat = Number(v.lat), lng = Number(v.lng);
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
  return { lat, lng };
}

/** RIOT's SUIT worker states, as pyaiot's page names them (spec 7). */
export const SUIT_STATES: Record<string, string> = {
  "1": "Update triggered",
  "2": "Validating signature",
  "3": "Signature validation error",
  "5": "Sequence number error",
  "6": "Download started",
  "8": "Download error",
  "9": "Validating digest",
  "10": "Digest validation error",
  "11": "Download completed",
};

export function suitStateLabel(value: unknown): string {
  const key = valueText(value).trim();
  return SUIT_STATES[key] ?? (key ? `State ${key}` : "");
}

/** The LED's state when the value is one RIOT uses, else null (no ON/OFF shown). */
export function ledState(value: unknown): boolean | null {
  const t = valueText(value).trim();
  if (t === "1" || t === "true" || t === "on") return true;
  if (t === "0" || t === "false" || t === "off") return false;
  return null;
}

// ---- widget choice ----

export type WidgetKind =
  | "info" // name, board, ... shown in the card header, not as a resource row
  | "sensor" // value with unit and a sparkline
  | "led" // toggle
  | "write" // text field with a Send button
  | "imu"
  | "position"
  | "robot"
  | "js"
  | "firmware" // version, with suit_state and dwnld folded in
  | "folded" // suit_state, dwnld: shown inside the firmware widget when version exists
  | "raw";

/** pyaiot's resource names (spec 7) and the widget its page gives each. */
const NAMED: Record<string, WidgetKind> = {
  led: "led",
  temperature: "sensor",
  pressure: "sensor",
  humidity: "sensor",
  eco2: "sensor",
  tvoc: "sensor",
  illuminance: "sensor",
  uvindex: "sensor",
  tsp: "sensor",
  tlp: "sensor",
  imu: "imu",
  position: "position",
  robot: "robot",
  text: "write",
  js: "js",
  version: "firmware",
  suit_state: "folded",
  dwnld: "folded",
};
for (const key of INFO_ENDPOINTS) NAMED[key] = "info";

/**
 * Picks a resource's widget: the link-format attributes first (an `rt` naming a known kind,
 * then the interface: core.s sensor, core.a actuator, core.p parameter), then pyaiot's
 * resource names, else the raw value.
 */
export function chooseWidget(
  endpoint: string,
  value: unknown,
  meta?: ResourceMeta,
  hasVersion = true,
): WidgetKind {
  const fold = (k: WidgetKind): WidgetKind => (k === "folded" && !hasVersion ? "raw" : k);
  for (const rt of (meta?.rt ?? "").split(/\s+/)) {
    const kind = NAMED[rt.replace(/^core\./, "")];
    if (rt && kind) return fold(kind);
  }
  const ifs = (meta?.if ?? "").split(/\s+/);
  if (ifs.includes("core.a")) return ledState(value) === null ? "write" : "led";
  if (ifs.includes("core.p")) return "write";
  if (ifs.includes("core.s")) return "sensor";
  const named = NAMED[endpoint];
  if (named) return fold(named);
  return "raw";
}

/** The card title: pyaiot shows "Discovering node..." until data arrives, then name or "Node". */
export function nodeTitle(node: NodeView): string {
  if (node.resources.size === 0) return "Discovering node…";
  const name = valueText(node.resources.get("name")?.value).trim();
  return name || "Node";
}

/** "just now", "12 s ago", "3 min ago", "2 h ago", for last-change times. */
export function ago(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Sparkline points for an SVG polyline in a width x height box (min..max scaled, flat = mid). */
export function sparkPoints(
  values: readonly number[],
  width: number,
  height: number,
  range?: { min: number; max: number },
): string {
  if (values.length === 0) return "";
  const min = range?.min ?? Math.min(...values);
  const max = range?.max ?? Math.max(...values);
  const span = max - min;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => {
    const y = span > 0 ? height - ((v - min) / span) * height : height / 2;
    return `${round2(i * step)},${round2(y)}`;
  }).join(" ");
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The broker's web-client URL with the optional write token (aiot broker `--write-token`). */
export function brokerUrlWithToken(url: string, token?: string | null): string {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

// ---- site map ----

export interface MapPoint {
  uid: string;
  x: number;
  y: number;
}

export interface SiteMap {
  points: MapPoint[];
  /** A round distance for the scale bar, and its length in the drawing's units. */
  scaleMetres: number;
  scaleLength: number;
}

const METRES_PER_DEG_LAT = 110_540;
const METRES_PER_DEG_LNG_EQUATOR = 111_320;

/**
 * Places positioned nodes on a local flat plan (equirectangular around their centre, fine at
 * site scale), fitted into width x height with a margin, north up. Stands in for pyaiot's Google
 * map without any tile server. A single node (or nodes on one spot) sits in the middle of a
 * 100 m wide view.
 */
export function siteMap(
  nodes: { uid: string; position: Position }[],
  width: number,
  height: number,
  margin = 24,
): SiteMap {
  if (nodes.length === 0) return { points: [], scaleMetres: 0, scaleLength: 0 };
  const lat0 = nodes.reduce((s, n) => s + n.position.lat, 0) / nodes.length;
  const lng0 = nodes.reduce((s, n) => s + n.position.lng, 0) / nodes.length;
  const kx = Math.cos((lat0 * Math.PI) / 180) * METRES_PER_DEG_LNG_EQUATOR;
  const metres = nodes.map((n) => ({
    uid: n.uid,
    x: (n.position.lng - lng0) * kx,
    y: (n.position.lat - lat0) * METRES_PER_DEG_LAT,
  }));
  const spanX = Math.max(...metres.map((m) => Math.abs(m.x))) * 2;
  const spanY = Math.max(...metres.map((m) => Math.abs(m.y))) * 2;
  const innerW = width - 2 * margin, innerH = height - 2 * margin;
  // Metres per drawing unit: the tighter of the two axes; nodes on one spot get a 100 m view.
  const needed = Math.max(spanX / innerW, spanY / innerH);
  const scale = 1 / (needed > 0 ? needed : 100 / innerW);
  const points = metres.map((m) => ({
    uid: m.uid,
    x: Math.round((width / 2 + m.x * scale) * 10) / 10,
    y: Math.round((height / 2 - m.y * scale) * 10) / 10,
  }));
  const target = width / 4 / scale;
  const pow = 10 ** Math.floor(Math.log10(target));
  const scaleMetres = [5, 2, 1].map((k) => k * pow).find((d) => d <= target) ?? pow;
  return { points, scaleMetres, scaleLength: Math.round(scaleMetres * scale * 10) / 10 };
}

/** "50 m", "2 km". */
export function formatDistance(metres: number): string {
  return metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
}
