// What every simulated node has, whatever its protocol: the resources of pyaiot's test nodes
// and RIOT firmwares (shared/spec 6), with plausible drifting sensor values in RIOT's formats.

/** The common surface of CoAP, MQTT, MQTT-SN and websocket simulated nodes. */
export interface SimNode {
  readonly id: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Writes the gateway delivered (LED toggles, text), oldest first; for tests and demos. */
  readonly writes: { endpoint: string; payload: string }[];
}

/** Options every node constructor accepts; protocol nodes add their own. */
export interface SimNodeOptions {
  id: string;
  gatewayHost?: string;
  gatewayPort?: number;
  /** Send values as CBOR (Content-Format 60 / CBOR payloads) instead of text/JSON. */
  cbor?: boolean;
  /** Period of sensor pushes in ms (RIOT: 5000). */
  intervalMs?: number;
  sensors?: Sensors;
}

export type ResourceName =
  | "name"
  | "board"
  | "mcu"
  | "os"
  | "led"
  | "temperature"
  | "pressure"
  | "humidity"
  | "text";

export const STATIC_RESOURCES: ResourceName[] = ["name", "board", "mcu", "os"];
export const SENSOR_RESOURCES: ResourceName[] = ["temperature", "pressure", "humidity"];
export const WRITABLE_RESOURCES: ResourceName[] = ["led", "text"];
export const ALL_RESOURCES: ResourceName[] = [
  ...STATIC_RESOURCES,
  "led",
  ...SENSOR_RESOURCES,
  "text",
];

/** Link-format attributes CoAP nodes advertise (and the dashboard picks widgets from). */
export const RESOURCE_LINK_ATTRS: Record<ResourceName, Record<string, string | true>> = {
  name: { rt: "core.name", ct: "0" },
  board: { rt: "core.board", ct: "0" },
  mcu: { rt: "core.mcu", ct: "0" },
  os: { rt: "core.os", ct: "0" },
  led: { rt: "core.led", if: "core.a", ct: "0" },
  temperature: { rt: "temperature", if: "core.s", ct: "0", obs: true },
  pressure: { rt: "pressure", if: "core.s", ct: "0", obs: true },
  humidity: { rt: "humidity", if: "core.s", ct: "0", obs: true },
  text: { rt: "text", if: "core.p", ct: "0" },
};

/** A deterministic small PRNG so fleets are reproducible from their ids. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Resource values of one node. Sensors drift slowly, like a room would. */
export interface SensorOptions {
  name?: string;
  board?: string;
  mcu?: string;
  /** Starting values the readings drift around from (°C, hPa, %). */
  temperature?: number;
  pressure?: number;
  humidity?: number;
}

export class Sensors {
  readonly name: string;
  readonly board: string;
  readonly mcu: string;
  readonly os = "riot";
  led = "0";
  text = "hello";
  #t: number;
  #p: number;
  #h: number;
  #rand: () => number;

  constructor(id: string, opts: SensorOptions = {}) {
    this.#rand = mulberry32(hashString(id));
    this.name = opts.name ?? "Weather Sensor";
    this.board = opts.board ?? "native";
    this.mcu = opts.mcu ?? "native";
    // Random draws happen whether or not a start is given, so a node's walk depends on its id only.
    const t = 19 + this.#rand() * 6, p = 1005 + this.#rand() * 15, h = 35 + this.#rand() * 20;
    this.#t = clamp(opts.temperature ?? t, -15, 40);
    this.#p = clamp(opts.pressure ?? p, 950, 1030);
    this.#h = clamp(opts.humidity ?? h, 0, 100);
  }

  /** Moves every sensor one step; call once per push period. */
  step(): void {
    const r = this.#rand;
    this.#t = clamp(this.#t + (r() - 0.5) * 0.4, -15, 40);
    this.#p = clamp(this.#p + (r() - 0.5) * 0.6, 950, 1030);
    this.#h = clamp(this.#h + (r() - 0.5) * 1.0, 0, 100);
  }

  /** Numeric sensor values, for CBOR payloads. */
  numeric(name: "temperature" | "pressure" | "humidity"): number {
    const v = name === "temperature" ? this.#t : name === "pressure" ? this.#p : this.#h;
    return Math.round(v * 100) / 100;
  }

  /** The value as RIOT's firmwares format it (`23.4°C`, `1013.25hPa`, `45.12%`). */
  get(name: ResourceName): string {
    switch (name) {
      case "temperature":
        return `${this.#t.toFixed(1)}°C`;
      case "pressure":
        return `${this.#p.toFixed(2)}hPa`;
      case "humidity":
        return `${this.#h.toFixed(2)}%`;
      case "led":
        return this.led;
      case "text":
        return this.text;
      default:
        return this[name];
    }
  }

  /** Applies a write; returns false for values the node refuses (RIOT's LED: 4.00). */
  set(name: ResourceName, value: string): boolean {
    if (name === "led") {
      if (value !== "0" && value !== "1") return false;
      this.led = value;
      return true;
    }
    if (name === "text") {
      this.text = value.slice(0, 256);
      return true;
    }
    return false;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
