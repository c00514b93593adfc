/**
 * Remembers nonces for as long as their timestamps could still be accepted, in two generations of
 * one window each: a nonce is refused while either generation holds it. Bounded: when full, new
 * requests are refused (never forgotten early, which would let a replay through).
 */
export class NonceCache {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
    now = Date.now(),
  ) {
    this.rotatedAt = now;
  }

  /** 'ok' if new (and now remembered), 'replay' if seen, 'full' if it cannot be remembered. */
  check(nonce: string, now = Date.now()): 'ok' | 'replay' | 'full' {
    this.rotate(now);
    if (this.current.has(nonce) || this.previous.has(nonce)) return 'replay';
    if (this.current.size + this.previous.size >= this.maxEntries) return 'full';
    this.current.add(nonce);
    return 'ok';
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  private rotate(now: number): void {
    // A timestamp is valid for ±window, so a nonce must be kept 2×window after its arrival.
    const age = now - this.rotatedAt;
    if (age < 2 * this.windowMs) return;
    this.previous = age >= 4 * this.windowMs ? new Set() : this.current;
    this.current = new Set();
    this.rotatedAt = now;
  }
}
