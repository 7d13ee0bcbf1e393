// One topic-id table per client [7.3]: normal ids counted from 1, separate from pre-defined ids.
// `known` says whether the client has learnt the id (its own REGISTER, a SUBACK, or a REGACK to
// the gateway's REGISTER); an unknown id must be REGISTERed before the gateway publishes on it.

export interface TopicEntry {
  id: number;
  name: string;
  known: boolean;
}

export class TopicIds {
  #byName = new Map<string, TopicEntry>();
  #byId = new Map<number, TopicEntry>();
  #next = 1;
  readonly max: number;

  constructor(max = 1024) {
    this.max = max;
  }

  get size(): number {
    return this.#byName.size;
  }

  /** The entry for `name`, created on first use; undefined when the table is full. */
  idFor(name: string): TopicEntry | undefined {
    const e = this.#byName.get(name);
    if (e) return e;
    if (this.#byName.size >= this.max) return undefined;
    // 0x0000 and 0xFFFF are reserved [5.3.11]; skip ids still in use after a wrap.
    while (this.#next === 0 || this.#next === 0xffff || this.#byId.has(this.#next)) {
      this.#next = (this.#next + 1) & 0xffff;
    }
    const entry = { id: this.#next, name, known: false };
    this.#next = (this.#next + 1) & 0xffff;
    this.#byName.set(name, entry);
    this.#byId.set(entry.id, entry);
    return entry;
  }

  byId(id: number): TopicEntry | undefined {
    return this.#byId.get(id);
  }

  byName(name: string): TopicEntry | undefined {
    return this.#byName.get(name);
  }

  /** After a reconnect the client may have forgotten every id. */
  forgetKnown(): void {
    for (const e of this.#byName.values()) e.known = false;
  }

  clear(): void {
    this.#byName.clear();
    this.#byId.clear();
    this.#next = 1;
  }
}
