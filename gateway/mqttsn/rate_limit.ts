// Per-source token buckets: a flooding address loses its excess datagrams before they are
// decoded; everyone else is unaffected. Idle buckets are pruned so the table stays bounded.

export interface RateLimitOptions {
  /** Sustained datagrams per second per source. */
  perSecond: number;
  /** Burst allowance. */
  burst: number;
  /** Sources tracked at most; beyond that new sources share one overflow bucket. */
  maxSources?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  #buckets = new Map<string, Bucket>();
  #overflow: Bucket;
  #rate: number;
  #burst: number;
  #max: number;
  #now: () => number;

  constructor(opts: RateLimitOptions) {
    this.#rate = opts.perSecond / 1000;
    this.#burst = opts.burst;
    this.#max = opts.maxSources ?? 100_000;
    this.#now = opts.now ?? Date.now;
    this.#overflow = { tokens: this.#burst * 10, at: this.#now() };
  }

  get sources(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `source`; false means drop the datagram. */
  allow(source: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(source);
    if (!b) {
      if (this.#buckets.size >= this.#max) b = this.#overflow;
      else this.#buckets.set(source, b = { tokens: this.#burst, at: now });
    }
    const cap = b === this.#overflow ? this.#burst * 10 : this.#burst;
    b.tokens = Math.min(cap, b.tokens + (now - b.at) * this.#rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled completely (idle sources). */
  prune(): void {
    const now = this.#now();
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#rate >= this.#burst) this.#buckets.delete(k);
    }
  }
}
