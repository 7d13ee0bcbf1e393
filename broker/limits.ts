// Per-connection limits: a token bucket for message rate, and the frame size check.
// Both run before a frame is parsed, so a flood or an oversized frame costs as little as possible.

export interface RateLimit {
  /** Sustained rate. */
  messagesPerSecond: number;
  /** How many messages may arrive at once before the sustained rate applies. */
  burst: number;
}

/** Web clients send a `new` and the odd write; pyaiot's joystick sends one frame per second. */
export const DEFAULT_CLIENT_RATE: RateLimit = { messagesPerSecond: 50, burst: 200 };
/**
 * Gateways replay whole caches on every client `new` (1000 nodes x 10 resources is 11 000
 * frames per client): allow long bursts; the sustained cap keeps one gateway from starving others.
 */
export const DEFAULT_GATEWAY_RATE: RateLimit = { messagesPerSecond: 20000, burst: 100000 };
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/** Token bucket. `take()` is false once the connection is over its budget. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(readonly limit: RateLimit, readonly now: () => number = () => performance.now()) {
    this.#tokens = limit.burst;
    this.#last = now();
  }

  take(): boolean {
    const t = this.now();
    // Refill lazily on use: no timer per connection.
    this.#tokens = Math.min(
      this.limit.burst,
      this.#tokens + (t - this.#last) * this.limit.messagesPerSecond / 1000,
    );
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

const encoder = new TextEncoder();

/** True when a frame (text or binary) is larger than `max` bytes. */
export function frameTooBig(data: string | ArrayBuffer, max: number): boolean {
  if (typeof data === "string") {
    if (data.length > max) return true;
    if (data.length * 3 <= max) return false;
    return encoder.encode(data).length > max;
  }
  return data.byteLength > max;
}

/**
 * A close reason must fit in 123 bytes of UTF-8 (RFC 6455 5.5): pyaiot's reasons quote the raw
 * frame, so long ones are cut at a character boundary and marked with an ellipsis.
 */
export function closeReason(reason: string): string {
  if (encoder.encode(reason).length <= 123) return reason;
  let out = "";
  let bytes = 0;
  for (const ch of reason) {
    const n = encoder.encode(ch).length;
    if (bytes + n > 120) break;
    out += ch;
    bytes += n;
  }
  return out + "...";
}
