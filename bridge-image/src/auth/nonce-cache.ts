/**
 * Remembers each nonce for exactly as long as its request could still be accepted: a request is
 * valid only while its signed timestamp is within ±window of the bridge's clock, and a replay carries
 * the same timestamp (changing it breaks the signature), so a nonce whose timestamp has left the
 * window can never be replayed and is dropped. Nonces are kept in one set per second of timestamp,
 * and whole seconds are dropped at once.
 *
 * At a steady rate the cache holds about one window's worth of requests (rate × 30 s), so it is never
 * full below maxEntries / window requests per second (33,000/s with the defaults). Bounded all the same:
 * when full, new requests are refused (never forgotten early, which would let a replay through).
 */
export class NonceCache {
  /** Nonces by the second of their request's timestamp. */
  private readonly bySecond = new Map<number, Set<string>>();
  private count = 0;
  /** The oldest second a set may exist for; seconds before it have been swept. */
  private sweptBelow = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  /**
   * 'ok' if new (and now remembered), 'replay' if seen, 'full' if it cannot be remembered,
   * 'forgotten' if its second was already dropped (the clock went back) and it cannot be checked.
   * `ts` is the request's signed timestamp, already checked to be within the window of `now`.
   */
  check(nonce: string, ts: number, now = Date.now()): 'ok' | 'replay' | 'full' | 'forgotten' {
    this.sweep(now);
    const second = Math.floor(ts / 1000);
    // Only after the clock stepped back: this second's nonces were already dropped, so a replay of it
    // could not be recognised.
    if (second < this.sweptBelow) return 'forgotten';
    let set = this.bySecond.get(second);
    if (set?.has(nonce)) return 'replay';
    if (this.count >= this.maxEntries) return 'full';
    if (!set) this.bySecond.set(second, (set = new Set()));
    set.add(nonce);
    this.count++;
    return 'ok';
  }

  get size(): number {
    return this.count;
  }

  /** Drops every second whose last millisecond is more than a window ago: no request of it is valid. */
  private sweep(now: number): void {
    const oldestValid = Math.floor((now - this.windowMs) / 1000);
    if (oldestValid <= this.sweptBelow) return;
    this.sweptBelow = oldestValid;
    for (const [second, set] of this.bySecond) {
      if (second < oldestValid) {
        this.count -= set.size;
        this.bySecond.delete(second);
      }
    }
  }
}
