import { Channel, encodeData, type Position } from '@switchboard/protocol';
import type { HistoryOptions } from './brokers/broker.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, RedisStore } from './brokers/redis-store.js';

export interface PublisherOptions {
  /** The Redis the hubs use as their broker. */
  readonly url: string;
  /** The hubs' `broker.prefix` (default `sb:`). */
  readonly prefix?: string;
  /** History kept for the channels published to; match the namespace's `history` in the hubs' config (default: the hubs' default). */
  readonly history?: { readonly size: number; readonly ttlSeconds: number };
  /** The hubs' `broker.positionTtlSeconds` (default 7 days). */
  readonly positionTtlSeconds?: number;
  /** How long a publish may wait for Redis before it rejects (default 2,000, the hubs' `broker.commandTimeoutMs`). */
  readonly commandTimeoutMs?: number;
}

/**
 * For services: publishes straight into the Redis the hubs use, exactly as a hub would, so each
 * publication gets a position, lands in history and is recoverable by clients — unlike a plain
 * `PUBLISH`, which is live-only. The hubs need not be reachable.
 *
 * ```ts
 * const publisher = new Publisher({ url: 'redis://redis:6379' });
 * await publisher.connect();
 * const { epoch, offset } = await publisher.publish('orders:42', { status: 'shipped' });
 * ```
 */
export class Publisher {
  private readonly store: RedisStore;
  private readonly history: HistoryOptions;

  constructor(options: PublisherOptions) {
    this.store = new RedisStore({
      url: options.url,
      prefix: options.prefix ?? 'sb:',
      positionTtlSeconds: options.positionTtlSeconds ?? 7 * 24 * 3600,
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    });
    // While Redis is away every publish rejects with why, and the connection retries on its own:
    // without a listener ioredis would print each failed reconnect as an unhandled error.
    this.store.redis.on('error', () => undefined);
    // The hubs' default namespace history: the last two minutes, up to 10,000 publications.
    const history = options.history ?? { size: 10_000, ttlSeconds: 120 };
    this.history = { size: history.size, ttlMs: history.ttlSeconds * 1000 };
  }

  async connect(): Promise<void> {
    await this.store.redis.connect();
  }

  /** Resolves with the publication's position once Redis accepted it; rejects while Redis is away. */
  async publish(channel: string, data: unknown): Promise<{ epoch: string; offset: number }> {
    const name = Channel.parse(channel);
    const position: Position = await this.store.publish(name, encodeData(data), this.history);
    return { epoch: position.ep, offset: position.off };
  }

  /**
   * Publishes many, in order, in as few Redis round trips as they allow (one script call per
   * channel for up to 256 publications): resolves with one outcome per item, in order — its
   * position, or why it failed (a failed item does not fail the others). Publications of one
   * channel keep their order.
   */
  async publishMany(
    items: ReadonlyArray<{ readonly channel: string; readonly data: unknown }>,
  ): Promise<Array<{ epoch: string; offset: number } | { error: Error }>> {
    return Promise.all(
      items.map(async ({ channel, data }) => {
        try {
          const position = await this.store.publish(Channel.parse(channel), encodeData(data), this.history);
          return { epoch: position.ep, offset: position.off };
        } catch (error) {
          return { error: error instanceof Error ? error : new Error('publish failed') };
        }
      }),
    );
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
