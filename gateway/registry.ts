// The gateway's node registry: which nodes are alive, what they offer, their last values.
// Every protocol gateway fills the same registry, so the broker link and the dashboard see one
// node model whatever the protocol.
import type { NodeRecord, Protocol, ResourceState } from "../common/node.ts";
import type { ResourceMeta } from "../common/wire.ts";

export type RegistryEvent =
  | { kind: "new"; node: NodeRecord }
  | { kind: "update"; node: NodeRecord; endpoint: string; state: ResourceState }
  | { kind: "out"; node: NodeRecord; reason: string }
  | { kind: "reset"; node: NodeRecord };

export type RegistryListener = (event: RegistryEvent) => void;

export interface RegistryOptions {
  /** A node silent for longer than this is dropped and announced as gone. */
  timeoutMs: number;
  now?: () => number;
}

export class NodeRegistry {
  readonly timeoutMs: number;
  #nodes = new Map<string, NodeRecord>();
  #pseudo = new Map<string, Set<string>>();
  #listeners = new Set<RegistryListener>();
  #now: () => number;

  constructor(opts: RegistryOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#nodes.size;
  }

  get(uid: string): NodeRecord | undefined {
    return this.#nodes.get(uid);
  }

  all(): NodeRecord[] {
    return [...this.#nodes.values()];
  }

  on(listener: RegistryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A node showed a sign of life. A new uid is created with its pseudo-resources (pyaiot's
   * `ip`/`id` then `protocol`, which gateways pass in that order); a known one is refreshed,
   * and its address follows the node when it moves.
   */
  seen(
    uid: string,
    address: string,
    pseudo: Record<string, string> = {},
  ): { node: NodeRecord; created: boolean } {
    const now = this.#now();
    const known = this.#nodes.get(uid);
    if (known) {
      known.lastSeen = now;
      known.address = address;
      return { node: known, created: false };
    }
    const node: NodeRecord = {
      uid,
      protocol: (pseudo.protocol ?? "CoAP") as Protocol,
      address,
      resources: new Map(),
      firstSeen: now,
      lastSeen: now,
    };
    this.#nodes.set(uid, node);
    this.#pseudo.set(uid, new Set(Object.keys(pseudo)));
    this.#emit({ kind: "new", node });
    for (const [endpoint, value] of Object.entries(pseudo)) this.setValue(uid, endpoint, value);
    return { node, created: true };
  }

  /** Records a resource value and announces it. Unknown nodes are ignored (returns false). */
  setValue(uid: string, endpoint: string, value: unknown, meta?: ResourceMeta): boolean {
    const node = this.#nodes.get(uid);
    if (!node) return false;
    const now = this.#now();
    node.lastSeen = now;
    const previous = node.resources.get(endpoint);
    const state: ResourceState = { value, meta: meta ?? previous?.meta, updatedAt: now };
    node.resources.set(endpoint, state);
    this.#emit({ kind: "update", node, endpoint, state });
    return true;
  }

  /** The node rebooted: forget what it offered (keep pseudo-resources) and tell the web side. */
  reset(uid: string): boolean {
    const node = this.#nodes.get(uid);
    if (!node) return false;
    const keep = this.#pseudo.get(uid) ?? new Set();
    for (const endpoint of [...node.resources.keys()]) {
      if (!keep.has(endpoint)) node.resources.delete(endpoint);
    }
    node.lastSeen = this.#now();
    this.#emit({ kind: "reset", node });
    return true;
  }

  remove(uid: string, reason: string): boolean {
    const node = this.#nodes.get(uid);
    if (!node) return false;
    this.#nodes.delete(uid);
    this.#pseudo.delete(uid);
    this.#emit({ kind: "out", node, reason });
    return true;
  }

  /** Drops every node silent for longer than the timeout; returns their uids. */
  sweep(): string[] {
    const limit = this.#now() - this.timeoutMs;
    const gone: string[] = [];
    for (const node of this.#nodes.values()) {
      if (node.lastSeen < limit) gone.push(node.uid);
    }
    for (const uid of gone) this.remove(uid, "timeout");
    return gone;
  }

  #emit(event: RegistryEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not stop the others nor corrupt the registry.
      }
    }
  }
}
