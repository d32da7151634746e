/**
 * Redis names for one channel. The channel sits in a hash tag so that its keys share a cluster
 * slot. Channel names cannot contain `{`, `}` or start with `#`, so raw ingress channels
 * (`<prefix><channel>`) never collide with the hub's own (`<prefix>#<channel>`).
 */
export class RedisKeys {
  readonly envelopePrefix: string;

  /**
   * `sharded`: the envelope channel carries the channel in a hash tag too, so that the publish
   * script's SPUBLISH goes to the slot of the channel's keys (Redis Cluster, redis-cluster.ts).
   */
  constructor(
    readonly prefix: string,
    readonly sharded = false,
  ) {
    this.envelopePrefix = `${prefix}#`;
  }

  meta(channel: string): string {
    return `${this.prefix}{${channel}}:m`;
  }

  history(channel: string): string {
    return `${this.prefix}{${channel}}:h`;
  }

  /** Checkpoints of the history stream's time, `ms:offset` oldest first, to trim it by age (redis-scripts.ts). */
  checkpoints(channel: string): string {
    return `${this.prefix}{${channel}}:t`;
  }

  /** Source anchors (source-anchors.ts), `off|source|sequence` oldest first, to read trimmed history again from its source. */
  sources(channel: string): string {
    return `${this.prefix}{${channel}}:s`;
  }

  /** The keys every script takes, in their order: meta, history, checkpoints, source anchors. */
  of(channel: string): [string, string, string, string] {
    return [this.meta(channel), this.history(channel), this.checkpoints(channel), this.sources(channel)];
  }

  /** Pub/sub channel carrying positioned publications (`epoch:offset:data`). */
  envelope(channel: string): string {
    return this.sharded ? `${this.envelopePrefix}{${channel}}` : `${this.envelopePrefix}${channel}`;
  }

  /** The channel an envelope pub/sub channel is named after (its name starts with `envelopePrefix`). */
  channelOfEnvelope(name: string): string {
    const rest = name.slice(this.envelopePrefix.length);
    return this.sharded && rest.startsWith('{') && rest.endsWith('}') ? rest.slice(1, -1) : rest;
  }

  /** Pub/sub channel where any Redis client may `PUBLISH` live-only data for the channel. */
  raw(channel: string): string {
    return `${this.prefix}${channel}`;
  }
}
