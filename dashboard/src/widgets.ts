// One render function per widget kind (state.ts chooses the kind). Plain Lit templates, no
// elements of their own: the node card calls them and passes a `write` callback that sends
// `{"type":"update","data":{uid,endpoint,payload}}` through whoever owns the broker socket.
import { html, nothing, svg, type TemplateResult } from "lit";
import { formField } from "./dom.ts";
import {
  ago,
  CONFIRM_TIMEOUT_MS,
  ledState,
  type NodeView,
  parseImu,
  parseMeasure,
  parsePosition,
  type ResourceView,
  sparkPoints,
  suitStateLabel,
  valueText,
  type WidgetKind,
} from "./state.ts";

export type WriteFn = (endpoint: string, payload: string) => void;

export interface WidgetContext {
  node: NodeView;
  now: number;
  write: WriteFn;
}

const SPARK_W = 120;
const SPARK_H = 32;

function sparkline(values: readonly number[], label: string): TemplateResult {
  if (values.length < 2) return html`<svg class="spark" viewBox="0 0 ${SPARK_W} ${SPARK_H}"></svg>`;
  return html`
    <svg class="spark" viewBox="-2 -2 ${SPARK_W + 4} ${SPARK_H + 4}" role="img"
      aria-label=${label} preserveAspectRatio="none">
      <polyline points=${sparkPoints(
        values,
        SPARK_W,
        SPARK_H,
      )} vector-effect="non-scaling-stroke"></polyline>
    </svg>
  `;
}

/** Several series on one chart with a shared scale (the gyro's x/y/z). */
function multiline(series: [string, readonly number[]][], label: string): TemplateResult {
  const all = series.flatMap(([, v]) => v);
  if (all.length < 2) return html`<svg class="spark" viewBox="0 0 ${SPARK_W} ${SPARK_H}"></svg>`;
  const range = { min: Math.min(...all), max: Math.max(...all) };
  return html`
    <svg class="spark" viewBox="-2 -2 ${SPARK_W + 4} ${SPARK_H + 4}" role="img"
      aria-label=${label} preserveAspectRatio="none">
        ${series.map(([name, v], i) =>
          svg`
            <polyline class=${`s${i}`} data-series=${name}
              points=${sparkPoints(
                v,
                SPARK_W,
                SPARK_H,
                range,
              )} vector-effect="non-scaling-stroke"></polyline>
          `
        )}
      </svg>
  `;
}

/**
 * The write's progress: sending, confirmed by the node, or no answer. Commands such as the
 * robot's or a js upload get no echo from pyaiot's nodes (2.05, no update): they show "sent".
 */
function writeStatus(
  res: ResourceView,
  now: number,
  expectEcho = true,
): TemplateResult | typeof nothing {
  if (res.refused) {
    return html`<span class="status warn" data-refused>refused: ${res.refused.message}</span>`;
  }
  if (res.pending && !expectEcho) {
    return now - res.pending.at < CONFIRM_TIMEOUT_MS
      ? html`<span class="status" data-sent>sent “${res.pending.payload.slice(0, 24)}”</span>`
      : nothing;
  }
  if (res.pending) {
    const late = now - res.pending.at > CONFIRM_TIMEOUT_MS;
    return late
      ? html`<span class="status warn">no confirmation</span>`
      : html`<span class="status">sending…</span>`;
  }
  if (res.confirmedAt !== undefined && now - res.confirmedAt < CONFIRM_TIMEOUT_MS) {
    return html`<span class="status ok" data-confirmed>✓ confirmed</span>`;
  }
  return nothing;
}

function sensor(res: ResourceView): TemplateResult {
  const m = parseMeasure(res.value, res.endpoint);
  const main = m
    ? html`<span class="num">${formatNumber(m.value)}</span><span class="unit">${m.unit}</span>`
    : html`<span class="num">${valueText(res.value)}</span>`;
  return html`<div class="sensor">
    <div class="reading">${main}</div>
    ${sparkline(res.series.value ?? [], `${res.endpoint} history`)}
  </div>`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

function led(res: ResourceView, ctx: WidgetContext): TemplateResult {
  const on = ledState(res.value);
  const next = on ? "0" : "1";
  return html`<div class="led">
    <span class="lamp ${on ? "on" : ""}" aria-hidden="true"></span>
    <span class="state">${on === null ? valueText(res.value) || "—" : on ? "ON" : "OFF"}</span>
    <button class="toggle ${on ? "on" : ""}" role="switch" aria-checked=${on ? "true" : "false"}
      aria-label="Toggle ${res.endpoint}" data-endpoint=${res.endpoint}
      @click=${() => ctx.write(res.endpoint, next)}><span></span></button>
    ${writeStatus(res, ctx.now)}
  </div>`;
}

function submitField(endpoint: string, ctx: WidgetContext, clear: boolean) {
  return (e: Event) => {
    e.preventDefault();
    const field = formField(e, "payload");
    ctx.write(endpoint, field.value);
    if (clear) field.value = "";
  };
}

function write(res: ResourceView, ctx: WidgetContext): TemplateResult {
  return html`<form class="write" @submit=${submitField(res.endpoint, ctx, true)}>
    <div class="current">${valueText(res.value) || html`<em>empty</em>`}</div>
    <div class="row">
      <input name="payload" aria-label="New ${res.endpoint}" placeholder="New value">
      <button type="submit">Send</button>
    </div>
    ${writeStatus(res, ctx.now)}
  </form>`;
}

function js(res: ResourceView, ctx: WidgetContext): TemplateResult {
  return html`
    <form class="write js" @submit=${submitField(res.endpoint, ctx, false)}>
      <textarea name="payload" rows="5" spellcheck="false" aria-label="JavaScript source"
        .value=${valueText(res.value)}></textarea>
      <div class="row end"><button type="submit">Send</button>${writeStatus(
        res,
        ctx.now,
        false,
      )}</div>
    </form>
  `;
}

const ROBOT_KEYS: [string, string, string][] = [
  ["u", "▲", "Forward"],
  ["l", "◀", "Left"],
  ["s", "■", "Stop"],
  ["r", "▶", "Right"],
];

function robot(res: ResourceView, ctx: WidgetContext): TemplateResult {
  return html`<div class="robot">
    ${
    ROBOT_KEYS.map(([cmd, glyph, label]) =>
      html`
        <button class="pad-${cmd}" title=${label} aria-label=${label}
          @click=${() => ctx.write(res.endpoint, cmd)}>${glyph}</button>
      `
    )
  }
    <span class="robot-state">${writeStatus(res, ctx.now, false)}</span>
  </div>`;
}

function imu(res: ResourceView): TemplateResult {
  const latest = parseImu(res.value);
  const acc = res.series.acc ?? [];
  const gyro: [string, number[]][] = ["gyro.x", "gyro.y", "gyro.z"].map((k) => [
    k,
    res.series[k] ?? [],
  ]);
  return html`
    <div class="imu">
      <div class="imu-row"><span class="label">|acc|</span>
          <span class="num small">${acc.length ? formatNumber(acc[acc.length - 1]) : "—"}</span>
          ${sparkline(acc, "acceleration norm")}</div>
      <div class="imu-row"><span class="label">gyro</span>
          <span class="legend"><i class="s0">x</i> <i class="s1">y</i> <i class="s2">z</i></span>
          ${multiline(gyro, "gyroscope x, y, z")}</div>
      <div class="imu-raw">${latest.map((r) =>
        html`<span>${r.type}: ${r.values.map(formatNumber).join(", ")}</span>`
      )}</div>
    </div>
  `;
}

/** Degrees as 48°42′53.2″N, the way a site plan or GPS shows them. */
export function dms(deg: number, pos: string, neg: string): string {
  const a = Math.abs(deg);
  const d = Math.floor(a);
  const mFull = (a - d) * 60;
  const m = Math.floor(mFull);
  const s = (mFull - m) * 60;
  return `${d}°${String(m).padStart(2, "0")}′${s.toFixed(1).padStart(4, "0")}″${
    deg >= 0 ? pos : neg
  }`;
}

/**
 * The node on a small world graticule (equirectangular), drawn by us: no map tiles or API key,
 * so it works on an offline site network.
 */
function position(res: ResourceView): TemplateResult {
  const p = parsePosition(res.value);
  if (!p) return raw(res);
  const x = p.lng + 180, y = 90 - p.lat;
  const lines = [];
  for (let lng = 0; lng <= 360; lng += 30) {
    lines.push(svg`<line x1=${lng} y1="0" x2=${lng} y2="180"></line>`);
  }
  for (let lat = 0; lat <= 180; lat += 30) {
    lines.push(svg`<line x1="0" y1=${lat} x2="360" y2=${lat}></line>`);
  }
  return html`
    <div class="position">
      <svg class="globe" viewBox="0 0 360 180" role="img" aria-label="Position on a world grid">
        <rect width="360" height="180"></rect>
        <g class="grid">${lines}</g>
        <line class="equator" x1="0" y1="90" x2="360" y2="90"></line>
        <line class="cross" x1=${x} y1="0" x2=${x} y2="180"></line>
        <line class="cross" x1="0" y1=${y} x2="360" y2=${y}></line>
        <circle class="halo" cx=${x} cy=${y} r="18"></circle>
        <circle class="pin" cx=${x} cy=${y} r="8"></circle>
      </svg>
      <div class="coords">
          <span>${dms(p.lat, "N", "S")}</span><span>${dms(p.lng, "E", "W")}</span>
          <span class="dec">${p.lat.toFixed(6)}, ${p.lng.toFixed(6)}</span>
        </div>
    </div>
  `;
}

function firmware(res: ResourceView, ctx: WidgetContext): TemplateResult {
  const state = ctx.node.resources.get("suit_state");
  const dl = ctx.node.resources.get("dwnld");
  const pct = dl ? parseMeasure(dl.value, "dwnld")?.value : undefined;
  const label = state ? suitStateLabel(state.value) : "";
  const bad = /error/i.test(label);
  return html`<div class="firmware">
    ${
    res.endpoint === "version"
      ? html`<span class="version">v${valueText(res.value)}</span>`
      : nothing
  }
    ${label ? html`<span class="badge ${bad ? "bad" : ""}">${label}</span>` : nothing}
    ${
    pct !== undefined
      ? html`
        <div class="progress" role="progressbar" aria-valuenow=${pct} aria-valuemin="0"
          aria-valuemax="100"><span style="width:${Math.max(0, Math.min(100, pct))}%"></span></div>
        <span class="small">${formatNumber(pct)} %</span>
      `
      : nothing
  }
  </div>`;
}

function raw(res: ResourceView): TemplateResult {
  return html`<div class="raw">${valueText(res.value) || html`<em>empty</em>`}</div>`;
}

/** Display names where the resource name is an abbreviation. */
const LABELS: Record<string, string> = {
  led: "LED",
  imu: "IMU",
  js: "JavaScript",
  eco2: "eCO₂",
  tvoc: "TVOC",
  uvindex: "UV index",
  tsp: "TSP",
  tlp: "TLP",
  version: "Firmware",
  suit_state: "Firmware update",
  dwnld: "Download",
};

function label(endpoint: string): string {
  return LABELS[endpoint] ?? endpoint.charAt(0).toUpperCase() + endpoint.slice(1);
}

/** One resource row: name, widget, and when its value last changed. */
export function renderResource(
  res: ResourceView,
  kind: WidgetKind,
  ctx: WidgetContext,
): TemplateResult {
  let body: TemplateResult;
  switch (kind) {
    case "sensor":
      body = sensor(res);
      break;
    case "led":
      body = led(res, ctx);
      break;
    case "write":
      body = write(res, ctx);
      break;
    case "js":
      body = js(res, ctx);
      break;
    case "robot":
      body = robot(res, ctx);
      break;
    case "imu":
      body = imu(res);
      break;
    case "position":
      body = position(res);
      break;
    case "firmware":
    case "folded":
      body = firmware(res, ctx);
      break;
    default:
      body = raw(res);
  }
  return html`<section class="res" data-endpoint=${res.endpoint} data-widget=${kind}>
    <header><span class="res-name">${label(res.endpoint)}</span>
      <time title=${new Date(res.changedAt).toLocaleString()}>${ago(res.changedAt, ctx.now)}</time>
    </header>
    ${body}
  </section>`;
}
