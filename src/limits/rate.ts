/**
 * A token bucket: `capacity` tokens at most, refilled at `perSecond`; each take costs one. Kept
 * in whole milli-tokens and whole milliseconds so that its fields stay small integers, which V8
 * stores in the object itself: doubles would each be a separate 16-byte heap number, and every
 * connection has a bucket (docs/BENCHMARKS.md, idle memory).
 */
export class TokenBucket {
  private milliTokens: number;
  private updatedAt: number;

  constructor(
    /** Shared by every bucket of the same kind: one reference per bucket instead of two numbers. */
    private readonly rate: { readonly perSecond: number; readonly capacity: number },
    now: number = performance.now(),
  ) {
    this.milliTokens = rate.capacity * 1000;
    this.updatedAt = Math.floor(now);
  }

  take(now: number = performance.now()): boolean {
    this.refill(now);
    if (this.milliTokens < 1000) return false;
    this.milliTokens -= 1000;
    return true;
  }

  /** Whether the bucket is back to full (nothing to remember about its owner). */
  isFull(now: number = performance.now()): boolean {
    this.refill(now);
    return this.milliTokens >= this.rate.capacity * 1000;
  }

  private refill(now: number): void {
    const at = Math.floor(now);
    const elapsed = at - this.updatedAt;
    if (elapsed <= 0) return;
    // elapsed ms × tokens/s = milli-tokens.
    this.milliTokens = Math.min(this.rate.capacity * 1000, this.milliTokens + elapsed * this.rate.perSecond);
    this.updatedAt = at;
  }
}

export type RateVerdict = 'ok' | 'refuse' | 'close';

/**
 * The message rate of one connection. Within the bucket a message is `ok`; beyond it `refuse`
 * (error 111, the frame does nothing). A client that keeps sending regardless — more refused
 * messages within one second than `perSecond` — gets `close` (4003): it ignores the 111s. One
 * object per connection: the bucket is its base class, not a second object.
 */
export class MessageRate extends TokenBucket {
  private windowStart = 0;
  private refusedInWindow = 0;

  constructor(
    private readonly settings: { readonly perSecond: number; readonly capacity: number },
    now: number = performance.now(),
  ) {
    super(settings, now);
  }

  admit(now: number = performance.now()): RateVerdict {
    if (this.take(now)) return 'ok';
    if (now - this.windowStart >= 1000) {
      this.windowStart = Math.floor(now);
      this.refusedInWindow = 0;
    }
    this.refusedInWindow += 1;
    return this.refusedInWindow > this.settings.perSecond ? 'close' : 'refuse';
  }
}
