// The site plan: every node with a `position`, placed relative to the others on a plain SVG
// (pyaiot used a Google map; this needs no tile server, no API key, nothing from outside).
import { css, html, svg, type TemplateResult } from "lit";
import {
  formatDistance,
  nodeTitle,
  type NodeView,
  parsePosition,
  type Position,
  siteMap,
} from "./state.ts";

// A grid cell like a node card: the plan sits among the cards instead of pushing them down.
const W = 320;
const H = 240;

export const siteMapStyles = css`
  .map {
    background: var(--aiot-card);
    border: 1px solid var(--aiot-line);
    border-radius: var(--aiot-radius);
    padding: 8px 12px 4px;
  }
  .map h2 {
    font-size: 0.85rem;
    margin: 0;
    color: var(--aiot-muted);
    font-weight: 600;
  }
  .map svg {
    display: block;
    width: 100%;
    margin-top: 6px;
  }
  .map .grid line {
    stroke: var(--aiot-line);
    stroke-width: 1;
  }
  .map .pin {
    fill: var(--aiot-accent);
    stroke: var(--aiot-card);
    stroke-width: 2;
    cursor: pointer;
  }
  .map .pin.offline {
    fill: var(--aiot-muted);
  }
  .map text {
    fill: var(--aiot-fg);
    font-size: 13px;
    paint-order: stroke;
    stroke: var(--aiot-card);
    stroke-width: 3px;
  }
  .map .scale line {
    stroke: var(--aiot-fg);
    stroke-width: 2;
  }
  .map .scale text {
    font-size: 11px;
  }
`;

/** The map panel, or nothing to draw when no node has a position. */
export function renderSiteMap(
  nodes: NodeView[],
  onPick: (uid: string) => void,
): TemplateResult | null {
  const placed: { uid: string; position: Position; node: NodeView }[] = [];
  for (const node of nodes) {
    const position = parsePosition(node.resources.get("position")?.value);
    if (position) placed.push({ uid: node.uid, position, node });
  }
  if (placed.length === 0) return null;
  const map = siteMap(placed, W, H, 28);
  const grid = [];
  for (let x = 0; x <= W; x += 32) grid.push(svg`<line x1=${x} y1="0" x2=${x} y2=${H}></line>`);
  for (let y = 0; y <= H; y += 32) grid.push(svg`<line x1="0" y1=${y} x2=${W} y2=${y}></line>`);
  return html`
    <section class="map" aria-label="Site map">
      <h2>Site map · ${placed.length} node${placed.length === 1 ? "" : "s"} with a position</h2>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Nodes by position, north up">
          <g class="grid">${grid}</g>
          ${map.points.map((p, i) => {
            const { node, position } = placed[i];
            return svg`
              <g class="node" data-uid=${p.uid} @click=${() => onPick(p.uid)}>
                <title>${nodeTitle(node)} (${position.lat.toFixed(6)}, ${position.lng.toFixed(
                  6,
                )})</title>
                <circle class="pin ${node.online ? "" : "offline"}" cx=${p.x} cy=${p
                  .y} r="7"></circle>
                <text x=${p.x + 11} y=${p.y + 4}>${nodeTitle(node)}</text>
              </g>
            `;
          })}
          <g class="scale">
            <line x1="16" y1=${H - 14} x2=${16 + map.scaleLength} y2=${H - 14}></line>
            <line x1="16" y1=${H - 19} x2="16" y2=${H - 9}></line>
            <line x1=${16 + map.scaleLength} y1=${H - 19} x2=${16 + map.scaleLength} y2=${H -
              9}></line>
            <text x="16" y=${H - 22}>${formatDistance(map.scaleMetres)}</text>
          </g>
          <text x=${W - 16} y="20" text-anchor="end">N ↑</text>
        </svg>
    </section>
  `;
}
