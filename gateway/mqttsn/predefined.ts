// Pre-defined topic ids [5.3.3, 6.7]: a mapping both sides know in advance, read from a JSON
// config file `{"topic/name": id, ...}`. Used for PUBLISH/SUBSCRIBE with TopicIdType 1 and for
// QoS -1 publishes from clients that never connect.
import { isValidFilter } from "./topic_tree.ts";

export class PredefinedTopics {
  readonly #byId = new Map<number, string>();
  readonly #byName = new Map<string, number>();

  constructor(map: Record<string, number> = {}) {
    for (const [name, id] of Object.entries(map)) {
      if (!Number.isInteger(id) || id < 1 || id > 0xfffe) {
        throw new Error(`pre-defined topic id for "${name}" must be 1..65534, got ${id}`);
      }
      if (!isValidFilter(name) || name.includes("+") || name.includes("#")) {
        throw new Error(`pre-defined topic "${name}" is not a topic name`);
      }
      if (this.#byId.has(id)) throw new Error(`pre-defined topic id ${id} used twice`);
      this.#byId.set(id, name);
      this.#byName.set(name, id);
    }
  }

  name(id: number): string | undefined {
    return this.#byId.get(id);
  }

  id(name: string): number | undefined {
    return this.#byName.get(name);
  }

  get size(): number {
    return this.#byId.size;
  }
}

/** Reads a `{"topic": id}` JSON file (the gateway's `--predefined FILE`). */
export async function readPredefinedFile(path: string): Promise<Record<string, number>> {
  const parsed = JSON.parse(await Deno.readTextFile(path));
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${path}: expected a JSON object {"topic": id}`);
  }
  return parsed as Record<string, number>;
}
