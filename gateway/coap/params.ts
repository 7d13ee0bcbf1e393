// RFC 7252 section 4.8 transmission parameters, overridable so tests can shrink the timers.

export interface CoapParams {
  /** ACK_TIMEOUT: first retransmission after a random time in [t, t * ACK_RANDOM_FACTOR]. */
  ackTimeoutMs: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  /** How long a (peer, message id) is remembered for duplicate detection. */
  exchangeLifetimeMs: number;
  /** How long a request handler may take before the reply becomes a separate response. */
  piggybackMs: number;
  /** Upper bound on remembered message ids (memory stays bounded under floods). */
  maxDedupEntries: number;
}

const MAX_LATENCY_MS = 100_000;
const PROCESSING_DELAY_MS = 2_000;

/** MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR. */
export function maxTransmitSpan(
  p: Pick<CoapParams, "ackTimeoutMs" | "ackRandomFactor" | "maxRetransmit">,
): number {
  return p.ackTimeoutMs * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
}

/** MAX_TRANSMIT_WAIT = ACK_TIMEOUT * (2^(MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR. */
export function maxTransmitWait(
  p: Pick<CoapParams, "ackTimeoutMs" | "ackRandomFactor" | "maxRetransmit">,
): number {
  return p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
}

export const DEFAULT_PARAMS: CoapParams = {
  ackTimeoutMs: 2_000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  // 45 s + 2 * 100 s + 2 s = 247 s, as RFC 7252 4.8.2 derives it.
  exchangeLifetimeMs: 45_000 + 2 * MAX_LATENCY_MS + PROCESSING_DELAY_MS,
  piggybackMs: 500,
  maxDedupEntries: 200_000,
};

export function withDefaults(p: Partial<CoapParams> = {}): CoapParams {
  const defined = Object.entries(p).filter(([, v]) => v !== undefined);
  return { ...DEFAULT_PARAMS, ...Object.fromEntries(defined) };
}
