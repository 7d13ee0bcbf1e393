// Broker settings from flags and an optional JSON config file (flags win). Config keys may be
// written like the flags (`key-file`), pyaiot-style (`key_file`, `broker_port`) or camelCase;
// unknown keys are ignored so one file can serve several services, as in pyaiot.
import { parseArgs } from "node:util";
import { defaultKeyPath } from "../common/keys.ts";
import type { RateLimit } from "./limits.ts";
import { DEFAULT_CLIENT_RATE, DEFAULT_GATEWAY_RATE, DEFAULT_MAX_FRAME_BYTES } from "./limits.ts";
import { DEFAULT_PORT, DEFAULT_TOKEN_MAX_AGE_S } from "./server.ts";
import { DEFAULT_CLIENT_BUFFERED_BYTES } from "./relay.ts";

export class ConfigError extends Error {}

export interface BrokerSettings {
  host: string;
  port: number;
  keyFile: string;
  debug: boolean;
  writeToken?: string;
  tokenMaxAgeSeconds: number;
  maxFrameBytes: number;
  tls?: { cert: string; key: string };
  rateLimit: RateLimit;
  gatewayRateLimit: RateLimit;
  binary: boolean;
  clientBufferBytes: number;
}

const STRING_KEYS = ["host", "key-file", "write-token", "tls-cert", "tls-key", "config"] as const;
const NUMBER_KEYS = [
  "port",
  "token-max-age",
  "max-frame-bytes",
  "rate-limit",
  "rate-burst",
  "gateway-rate-limit",
  "gateway-rate-burst",
  "client-buffer-bytes",
] as const;
const BOOL_KEYS = ["debug", "no-binary"] as const;
type Key = typeof STRING_KEYS[number] | typeof NUMBER_KEYS[number] | typeof BOOL_KEYS[number];

export const USAGE = `Usage: deno task broker [options]
  --port N               listen port (default ${DEFAULT_PORT}; --broker-port also accepted)
  --host ADDR            bind address (default 0.0.0.0)
  --key-file PATH        pyaiot keys file (default ~/.pyaiot/keys; --keys also accepted)
  --config FILE          JSON config file; flags win over it
  --write-token TOKEN    web clients may write only with /ws?token=TOKEN
  --token-max-age S      gateway token replay window in seconds (default ${DEFAULT_TOKEN_MAX_AGE_S}, 0 = off)
  --max-frame-bytes N    largest accepted frame (default ${DEFAULT_MAX_FRAME_BYTES})
  --rate-limit N         web client messages/s (default ${DEFAULT_CLIENT_RATE.messagesPerSecond}), --rate-burst N (default ${DEFAULT_CLIENT_RATE.burst})
  --gateway-rate-limit N gateway messages/s (default ${DEFAULT_GATEWAY_RATE.messagesPerSecond}), --gateway-rate-burst N (default ${DEFAULT_GATEWAY_RATE.burst})
  --client-buffer-bytes N  unsent bytes per web client before its frames are dropped (default ${DEFAULT_CLIENT_BUFFERED_BYTES})
  --tls-cert PEM --tls-key PEM   serve https and wss
  --no-binary            do not offer the binary CBOR gateway link
  --debug                per-message logs`;

/** `key_file`, `keyFile`, `broker_port` -> `key-file`, `key-file`, `port`. */
function normalise(key: string): string {
  const dashed = key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replaceAll("_", "-").toLowerCase();
  if (dashed === "broker-port") return "port";
  if (dashed === "keys") return "key-file";
  return dashed;
}

function fromConfig(text: string, path: string): Partial<Record<Key, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Invalid config file '${path}': ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`Invalid config file '${path}': expected a JSON object`);
  }
  const out: Partial<Record<Key, unknown>> = {};
  for (const [k, v] of Object.entries(value)) out[normalise(k) as Key] = v;
  return out;
}

function asNumber(key: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new ConfigError(`--${key} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return n;
}

function asString(key: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new ConfigError(`--${key} must be a string`);
  return v;
}

/** Parses argv (and the config file it names) into settings; throws ConfigError. */
export async function loadSettings(args: string[]): Promise<BrokerSettings> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        "broker-port": { type: "string" },
        host: { type: "string" },
        "key-file": { type: "string" },
        keys: { type: "string" },
        config: { type: "string" },
        "write-token": { type: "string" },
        "token-max-age": { type: "string" },
        "max-frame-bytes": { type: "string" },
        "rate-limit": { type: "string" },
        "rate-burst": { type: "string" },
        "gateway-rate-limit": { type: "string" },
        "gateway-rate-burst": { type: "string" },
        "client-buffer-bytes": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "no-binary": { type: "boolean" },
        debug: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (parsed.help) throw new ConfigError(USAGE);
  const flags: Partial<Record<Key, unknown>> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (v !== undefined) flags[normalise(k) as Key] = v;
  }
  let file: Partial<Record<Key, unknown>> = {};
  const configPath = asString("config", flags.config);
  if (configPath !== undefined) {
    let text: string;
    try {
      text = await Deno.readTextFile(configPath);
    } catch {
      throw new ConfigError(`Config file not found: '${configPath}'`);
    }
    file = fromConfig(text, configPath);
  }
  const get = (k: Key) => flags[k] ?? file[k];
  const num = (k: Key) => asNumber(k, get(k));
  const str = (k: Key) => asString(k, get(k));

  const port = num("port") ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port > 65535) throw new ConfigError(`--port: bad port ${port}`);
  const cert = str("tls-cert");
  const key = str("tls-key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError("--tls-cert and --tls-key go together");
  }
  const maxFrameBytes = num("max-frame-bytes") ?? DEFAULT_MAX_FRAME_BYTES;
  if (maxFrameBytes < 64) throw new ConfigError("--max-frame-bytes must be at least 64");
  const rate = (limit: Key, burst: Key, dflt: RateLimit): RateLimit => {
    const messagesPerSecond = num(limit) ?? dflt.messagesPerSecond;
    const b = num(burst) ?? Math.max(dflt.burst, messagesPerSecond);
    if (messagesPerSecond <= 0 || b < 1) throw new ConfigError(`--${limit}/--${burst} must be > 0`);
    return { messagesPerSecond, burst: b };
  };
  const clientBufferBytes = num("client-buffer-bytes") ?? DEFAULT_CLIENT_BUFFERED_BYTES;
  if (!Number.isInteger(clientBufferBytes) || clientBufferBytes < 65536) {
    throw new ConfigError("--client-buffer-bytes must be a whole number of at least 65536");
  }
  const debug = get("debug");
  const noBinary = get("no-binary");
  return {
    host: str("host") ?? "0.0.0.0",
    port,
    keyFile: str("key-file") ?? defaultKeyPath(),
    debug: debug === true,
    writeToken: str("write-token") || undefined,
    tokenMaxAgeSeconds: num("token-max-age") ?? DEFAULT_TOKEN_MAX_AGE_S,
    maxFrameBytes,
    tls: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    rateLimit: rate("rate-limit", "rate-burst", DEFAULT_CLIENT_RATE),
    gatewayRateLimit: rate("gateway-rate-limit", "gateway-rate-burst", DEFAULT_GATEWAY_RATE),
    binary: noBinary !== true,
    clientBufferBytes,
  };
}
