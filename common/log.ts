// Structured, quiet-by-default logging: one logfmt line per event on stderr.
// `--debug` on any service calls setLogLevel("debug").

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = ORDER[(Deno.env.get("AIOT_LOG") as Level | undefined) ?? "info"] ??
  ORDER.info;

export function setLogLevel(level: Level): void {
  threshold = ORDER[level];
}

export function logEnabled(level: Level): boolean {
  return ORDER[level] >= threshold;
}

export type Fields = Record<string, unknown>;

function fmtValue(v: unknown): string {
  const s = typeof v === "string" ? v : v instanceof Error ? v.message : JSON.stringify(v);
  return s !== undefined && /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s ?? String(v));
}

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** A logger for one component, e.g. `createLogger("broker")`. */
export function createLogger(component: string): Logger {
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < threshold) return;
    let line = `ts=${new Date().toISOString()} level=${level} c=${component} msg=${fmtValue(msg)}`;
    if (fields) { for (const [k, v] of Object.entries(fields)) line += ` ${k}=${fmtValue(v)}`; }
    console.error(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
