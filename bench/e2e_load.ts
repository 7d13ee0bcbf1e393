// Load paths of the end-to-end benchmark: many simulated nodes of one protocol in one process,
// speaking exactly what the firmware nodes speak (same topics, same framing from core-wasm),
// stripped to one stamped resource and an LED so the generator is not what saturates. Each path
// answers the gateway's discovery and LED writes like a node would. This module holds what the
// paths share; e2e_load_coap.ts, e2e_load_mqttsn.ts and e2e_load_mqtt.ts hold one protocol each.
import type { WebClients } from "./e2e_client.ts";

export interface LoadPath {
  /** Row label, e.g. "MQTT QoS 1". */
  readonly label: string;
  /** Nodes set up; values are sent round-robin over them. */
  readonly nodeCount: number;
  /** Brings the nodes up and waits until client 0 sees every node's stamp resource. */
  setup(ids: string[], clients: WebClients, timeoutMs: number): Promise<void>;
  /** One stamped value from node `index`. */
  send(index: number, value: string): void;
  /** Loss counted on the node side (send errors, unacknowledged CONs, ...). */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * Waits for every id's `endpoint` at client 0, failing with how many are missing. When
 * registration stalls (a discovery message lost under the start-up burst), `nudge` re-announces
 * the missing nodes (in waves: see inWaves).
 */
export async function waitForNodes(
  clients: WebClients,
  ids: string[],
  endpoint: string,
  timeoutMs: number,
  nudge?: (missing: string[]) => void,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let missing = ids;
  let lastProgress = performance.now();
  while (performance.now() < deadline) {
    const still = missing.filter((id) => !clients.has(id, endpoint));
    if (still.length === 0) return;
    if (still.length < missing.length) lastProgress = performance.now();
    missing = still;
    if (nudge && performance.now() - lastProgress > 2000) {
      nudge(missing);
      lastProgress = performance.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${missing.length} of ${ids.length} nodes not registered in ${timeoutMs} ms`);
}

/**
 * Calls `announce` for every item in waves, so a big fleet boots like one, not like a flood: a
 * UDP socket's default receive buffer (212 KiB) holds only about 270 small datagrams.
 */
export async function inWaves<T>(items: T[], announce: (item: T) => void, perWave = 100) {
  for (let i = 0; i < items.length; i += perWave) {
    for (const item of items.slice(i, i + perWave)) announce(item);
    await new Promise((r) => setTimeout(r, 10));
  }
}
