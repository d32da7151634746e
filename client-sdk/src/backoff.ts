/**
 * Exponential backoff with full jitter: each delay is uniformly random below a cap that doubles
 * per attempt, so that clients dropped together by one hub do not all come back together.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(initialMs > 0) || !(maxMs >= initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${initialMs} and ${maxMs}`);
    }
  }

  next(): number {
    const cap = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    // Stop counting once capped, so the exponent cannot grow without bound.
    if (cap < this.maxMs) this.attempt += 1;
    return Math.floor(this.random() * cap);
  }

  reset(): void {
    this.attempt = 0;
  }
}
