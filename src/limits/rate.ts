/** A token bucket: `capacity` tokens at most, refilled at `perSecond`; each take costs one. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    now: number = performance.now(),
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  take(now: number = performance.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket is back to full (nothing to remember about its owner). */
  isFull(now: number = performance.now()): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
    this.updatedAt = now;
  }
}

export type RateVerdict = 'ok' | 'refuse' | 'close';

/**
 * The message rate of one connection. Within the bucket a message is `ok`; beyond it `refuse`
 * (error 111, the frame does nothing). A client that keeps sending regardless — more refused
 * messages within one second than `perSecond` — gets `close` (4003): it ignores the 111s.
 */
export class MessageRate {
  private readonly bucket: TokenBucket;
  private windowStart = 0;
  private refusedInWindow = 0;

  constructor(
    private readonly perSecond: number,
    burst: number,
    now: number = performance.now(),
  ) {
    this.bucket = new TokenBucket(perSecond, burst, now);
  }

  admit(now: number = performance.now()): RateVerdict {
    if (this.bucket.take(now)) return 'ok';
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.refusedInWindow = 0;
    }
    this.refusedInWindow += 1;
    return this.refusedInWindow > this.perSecond ? 'close' : 'refuse';
  }
}
