// Colours as custom properties so light/dark is one switch and an embedding page can restyle
// the components (`aiot-dashboard { --aiot-accent: teal }`). System fonts only: nothing fetched.
import { css } from "lit";

export const theme = css`
  :host {
    --aiot-bg: #f3f5f8;
    --aiot-card: #ffffff;
    --aiot-fg: #17202b;
    --aiot-muted: #5f6b7a;
    --aiot-line: #dde3ea;
    --aiot-accent: #0b7a75;
    --aiot-accent-fg: #ffffff;
    --aiot-ok: #1d8a3a;
    --aiot-warn: #b25e00;
    --aiot-bad: #c0392b;
    --aiot-s0: #0b7a75;
    --aiot-s1: #c2410c;
    --aiot-s2: #6d28d9;
    --aiot-radius: 12px;
    font-family:
      system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
    color: var(--aiot-fg);
  }
  :host([theme="dark"]) {
    --aiot-bg: #0f141a;
    --aiot-card: #18202a;
    --aiot-fg: #e6edf3;
    --aiot-muted: #93a1b0;
    --aiot-line: #2a3644;
    --aiot-accent: #2dd4bf;
    --aiot-accent-fg: #06201d;
    --aiot-ok: #4ade80;
    --aiot-warn: #fbbf24;
    --aiot-bad: #f87171;
    --aiot-s0: #2dd4bf;
    --aiot-s1: #fb923c;
    --aiot-s2: #a78bfa;
  }
`;

export const cardStyles = css`
  :host {
    display: block;
  }
  .card {
    background: var(--aiot-card);
    border: 1px solid var(--aiot-line);
    border-radius: var(--aiot-radius);
    padding: 14px 16px 10px;
    box-shadow: 0 1px 2px rgb(0 0 0 / 6%);
    transition: opacity 0.3s;
  }
  .card.offline {
    opacity: 0.55;
  }
  .head {
    display: flex;
    align-items: flex-start;
    gap: 10px;
  }
  .head h2 {
    font-size: 1.05rem;
    margin: 0;
    line-height: 1.3;
    overflow-wrap: anywhere;
  }
  .head .uid {
    color: var(--aiot-muted);
    font-size: 0.75rem;
    font-family: ui-monospace, "DejaVu Sans Mono", monospace;
    overflow-wrap: anywhere;
  }
  .head .titles {
    flex: 1;
    min-width: 0;
  }
  .pill {
    font-size: 0.72rem;
    font-weight: 600;
    padding: 2px 8px;
    border-radius: 999px;
    white-space: nowrap;
    border: 1px solid currentColor;
  }
  .pill.online {
    color: var(--aiot-ok);
  }
  .pill.offline {
    color: var(--aiot-muted);
  }
  dl.facts {
    display: flex;
    flex-wrap: wrap;
    gap: 4px 6px;
    margin: 10px 0 4px;
    font-size: 0.75rem;
  }
  dl.facts div {
    display: flex;
    gap: 4px;
    background: var(--aiot-bg);
    border-radius: 6px;
    padding: 2px 7px;
  }
  dl.facts dt {
    color: var(--aiot-muted);
  }
  dl.facts dd {
    margin: 0;
    font-weight: 500;
  }
  .res {
    border-top: 1px solid var(--aiot-line);
    padding: 8px 0;
  }
  .res header {
    display: flex;
    justify-content: space-between;
    align-items: baseline;
    font-size: 0.78rem;
    color: var(--aiot-muted);
    margin-bottom: 4px;
  }
  .res-name {
    font-weight: 600;
    color: var(--aiot-fg);
  }
  time {
    font-size: 0.72rem;
  }
  .sensor {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 12px;
  }
  .num {
    font-size: 1.5rem;
    font-weight: 600;
    font-variant-numeric: tabular-nums;
    overflow-wrap: anywhere;
  }
  .num.small {
    font-size: 0.95rem;
  }
  .unit {
    margin-left: 2px;
    color: var(--aiot-muted);
    font-size: 0.95rem;
  }
  .reading {
    white-space: nowrap;
  }
  svg.spark {
    width: 120px;
    min-width: 56px;
    height: 34px;
    flex: 0 1 auto;
    overflow: visible;
  }
  svg.spark polyline {
    fill: none;
    stroke: var(--aiot-s0);
    stroke-width: 2;
    stroke-linejoin: round;
  }
  svg.spark polyline.s1 {
    stroke: var(--aiot-s1);
  }
  svg.spark polyline.s2 {
    stroke: var(--aiot-s2);
  }
  .legend i {
    font-style: normal;
    font-size: 0.72rem;
    font-weight: 700;
  }
  .legend .s0 {
    color: var(--aiot-s0);
  }
  .legend .s1 {
    color: var(--aiot-s1);
  }
  .legend .s2 {
    color: var(--aiot-s2);
  }
  .imu-row {
    display: flex;
    align-items: center;
    gap: 8px;
    margin: 2px 0;
  }
  .imu-row .label {
    width: 3.2em;
    font-size: 0.8rem;
    color: var(--aiot-muted);
  }
  .imu-row svg.spark {
    margin-left: auto;
  }
  .imu-raw {
    display: flex;
    flex-wrap: wrap;
    gap: 2px 12px;
    font-size: 0.7rem;
    color: var(--aiot-muted);
    font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  }
  .led {
    display: flex;
    align-items: center;
    gap: 10px;
  }
  .lamp {
    width: 14px;
    height: 14px;
    border-radius: 50%;
    background: var(--aiot-line);
    box-shadow: inset 0 0 0 1px rgb(0 0 0 / 15%);
  }
  .lamp.on {
    background: #facc15;
    box-shadow: 0 0 10px #facc15;
  }
  .led .state {
    font-weight: 600;
    min-width: 2.4em;
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 8px;
    border: 1px solid var(--aiot-line);
    background: var(--aiot-bg);
    color: var(--aiot-fg);
    padding: 5px 12px;
  }
  button:hover {
    border-color: var(--aiot-accent);
  }
  button:focus-visible,
  input:focus-visible,
  textarea:focus-visible {
    outline: 2px solid var(--aiot-accent);
    outline-offset: 1px;
  }
  button[type="submit"] {
    background: var(--aiot-accent);
    color: var(--aiot-accent-fg);
    border-color: var(--aiot-accent);
  }
  button.toggle {
    position: relative;
    width: 46px;
    height: 26px;
    padding: 0;
    border-radius: 999px;
    background: var(--aiot-line);
    border: none;
  }
  button.toggle span {
    position: absolute;
    top: 3px;
    left: 3px;
    width: 20px;
    height: 20px;
    border-radius: 50%;
    background: #fff;
    box-shadow: 0 1px 2px rgb(0 0 0 / 30%);
    transition: left 0.15s;
  }
  button.toggle.on {
    background: var(--aiot-accent);
  }
  button.toggle.on span {
    left: 23px;
  }
  .status {
    font-size: 0.75rem;
    color: var(--aiot-muted);
  }
  .status.ok {
    color: var(--aiot-ok);
    font-weight: 600;
  }
  .status.warn {
    color: var(--aiot-warn);
  }
  .write .row {
    display: flex;
    gap: 6px;
    margin: 4px 0;
  }
  .write .row.end {
    align-items: center;
  }
  .write .current {
    overflow-wrap: anywhere;
  }
  input,
  textarea {
    font: inherit;
    flex: 1;
    min-width: 0;
    padding: 5px 8px;
    border-radius: 8px;
    border: 1px solid var(--aiot-line);
    background: var(--aiot-bg);
    color: var(--aiot-fg);
  }
  textarea {
    width: 100%;
    box-sizing: border-box;
    font-family: ui-monospace, "DejaVu Sans Mono", monospace;
    font-size: 0.8rem;
    resize: vertical;
  }
  .robot {
    display: grid;
    grid-template-columns: repeat(3, 40px) 1fr;
    grid-template-areas: ". u . st" "l s r st";
    gap: 4px;
    align-items: center;
  }
  .robot button {
    padding: 6px 0;
  }
  .pad-u {
    grid-area: u;
  }
  .pad-l {
    grid-area: l;
  }
  .pad-s {
    grid-area: s;
  }
  .pad-r {
    grid-area: r;
  }
  .robot-state {
    grid-area: st;
    padding-left: 10px;
    font-size: 0.85rem;
  }
  .position {
    display: flex;
    gap: 12px;
    align-items: center;
  }
  svg.globe {
    width: 120px;
    height: 60px;
    flex: none;
    border-radius: 6px;
  }
  svg.globe rect {
    fill: var(--aiot-bg);
  }
  svg.globe .grid line {
    stroke: var(--aiot-line);
    stroke-width: 1;
  }
  svg.globe .equator {
    stroke: var(--aiot-muted);
    stroke-width: 1;
    stroke-dasharray: 4 3;
  }
  svg.globe .cross {
    stroke: var(--aiot-accent);
    stroke-width: 1;
    opacity: 0.6;
  }
  svg.globe .halo {
    fill: var(--aiot-bad);
    opacity: 0.25;
  }
  svg.globe .pin {
    fill: var(--aiot-bad);
    stroke: var(--aiot-card);
    stroke-width: 2;
  }
  .coords {
    display: flex;
    flex-direction: column;
    font-size: 0.85rem;
    font-variant-numeric: tabular-nums;
  }
  .coords .dec {
    font-size: 0.72rem;
    color: var(--aiot-muted);
  }
  .firmware {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
  }
  .version {
    font-weight: 600;
    font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  }
  .badge {
    font-size: 0.75rem;
    padding: 2px 8px;
    border-radius: 6px;
    background: var(--aiot-bg);
    border: 1px solid var(--aiot-line);
  }
  .badge.bad {
    color: var(--aiot-bad);
    border-color: var(--aiot-bad);
  }
  .progress {
    flex: 1;
    min-width: 80px;
    height: 8px;
    border-radius: 4px;
    background: var(--aiot-line);
    overflow: hidden;
  }
  .progress span {
    display: block;
    height: 100%;
    background: var(--aiot-accent);
  }
  .small {
    font-size: 0.8rem;
  }
  .raw {
    overflow-wrap: anywhere;
    font-size: 0.9rem;
    max-height: 8em;
    overflow: auto;
  }
  em {
    color: var(--aiot-muted);
  }
  .empty {
    color: var(--aiot-muted);
    font-size: 0.85rem;
    padding: 8px 0;
  }
`;
