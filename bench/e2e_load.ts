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

/** What a simulated node receives at most (IPv6's minimum MTU): its receive buffer. */
export const NODE_MTU = 1280;

/**
 * Announces nodes with at most `window` of them waiting to be seen by web client 0 at once, as
 * boards booting on a shared network; one not seen within `retryMs` is announced again (a lost
 * datagram). The window keeps the gateway's UDP receive buffer (212 KiB by default, about 270
 * small datagrams) from overflowing, while registering as fast as the gateway answers.
 */
export async function registerWindowed(
  clients: WebClients,
  ids: string[],
  endpoint: string,
  announce: (id: string) => void,
  timeoutMs: number,
  window = 64,
  retryMs = 2000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const pending = new Map<string, number>();
  let next = 0;
  while (next < ids.length || pending.size > 0) {
    const now = performance.now();
    if (now > deadline) {
      const missing = ids.length - next + pending.size;
      throw new Error(`${missing} of ${ids.length} nodes not registered in ${timeoutMs} ms`);
    }
    for (const [id, at] of pending) {
      if (clients.has(id, endpoint)) pending.delete(id);
      else if (now - at > retryMs) {
        announce(id);
        pending.set(id, now);
      }
    }
    while (pending.size < window && next < ids.length) {
      const id = ids[next++];
      announce(id);
      pending.set(id, now);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
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
