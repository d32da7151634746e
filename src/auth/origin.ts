/**
 * The browser origins allowed to open a WebSocket (against Cross-Site WebSocket Hijacking): the
 * `Origin` header must equal one entry exactly — no prefix, suffix, substring or wildcard
 * matching, so `https://app.example.com.evil.example` is not `https://app.example.com`. An empty
 * list allows every origin. A request without `Origin` is not from a browser page (browsers always
 * send it on WebSocket upgrades) and is allowed: non-browser clients can claim any origin anyway,
 * so they are held back by authentication, not by this check.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;
  /** Upgrades refused, for metrics. */
  refused = 0;

  constructor(origins: readonly string[]) {
    this.allowed = new Set(origins);
  }

  /** Why the upgrade is refused, or undefined when `origin` (the header, '' when absent) may connect. */
  check(origin: string): string | undefined {
    if (this.allowed.size === 0 || origin === '' || this.allowed.has(origin)) return undefined;
    this.refused += 1;
    return 'origin not allowed';
  }
}
