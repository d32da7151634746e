/**
 * Redis names for one channel. The channel sits in a hash tag so that its keys share a cluster
 * slot. Channel names cannot contain `{`, `}` or start with `#`, so raw ingress channels
 * (`<prefix><channel>`) never collide with the hub's own (`<prefix>#<channel>`).
 */
export class RedisKeys {
  readonly envelopePrefix: string;

  constructor(readonly prefix: string) {
    this.envelopePrefix = `${prefix}#`;
  }

  meta(channel: string): string {
    return `${this.prefix}{${channel}}:m`;
  }

  history(channel: string): string {
    return `${this.prefix}{${channel}}:h`;
  }

  /** Pub/sub channel carrying positioned publications (`epoch:offset:data`). */
  envelope(channel: string): string {
    return `${this.envelopePrefix}${channel}`;
  }

  /** Pub/sub channel where any Redis client may `PUBLISH` live-only data for the channel. */
  raw(channel: string): string {
    return `${this.prefix}${channel}`;
  }
}
