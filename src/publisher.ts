import { Channel, encodeData, type Position } from '@switchboard/protocol';
import type { HistoryOptions } from './brokers/broker.js';
import { clusterConnection } from './brokers/redis-cluster.js';
import { ShardPlacement } from './brokers/redis-shards.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, RedisStore } from './brokers/redis-store.js';

export interface PublisherOptions {
  /** The Redis the hubs use as their broker (unused with `cluster` or `shards`). */
  readonly url?: string;
  /** The hubs' `broker.cluster`: seed nodes of their Redis Cluster; each publish goes to its slot's master. */
  readonly cluster?: readonly string[];
  /** The hubs' `broker.shards`, the same list: each publish goes to the shard holding its channel. */
  readonly shards?: readonly string[];
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
  /** One store per shard (one for a single Redis or a cluster), chosen per channel by `placement`. */
  private readonly stores: RedisStore[];
  private readonly placement: ShardPlacement;
  private readonly history: HistoryOptions;

  constructor(options: PublisherOptions) {
    const urls = options.shards ?? [options.url ?? 'redis://127.0.0.1:6379'];
    const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const settings = {
      prefix: options.prefix ?? 'sb:',
      positionTtlSeconds: options.positionTtlSeconds ?? 7 * 24 * 3600,
      commandTimeoutMs,
    };
    this.stores = options.cluster
      ? [
          new RedisStore(
            { ...settings, url: '' },
            clusterConnection(options.cluster, commandTimeoutMs, 'switchboard-publisher'),
          ),
        ]
      : urls.map((url) => new RedisStore({ ...settings, url }));
    this.placement = new ShardPlacement(options.cluster ? ['cluster'] : urls);
    // While Redis is away every publish rejects with why, and the connection retries on its own:
    // without a listener ioredis would print each failed reconnect as an unhandled error.
    for (const store of this.stores) store.redis.on('error', () => undefined);
    // The hubs' default namespace history: the last two minutes, up to 10,000 publications.
    const history = options.history ?? { size: 10_000, ttlSeconds: 120 };
    this.history = { size: history.size, ttlMs: history.ttlSeconds * 1000 };
  }

  async connect(): Promise<void> {
    await Promise.all(this.stores.map((store) => store.redis.connect()));
  }

  private storeOf(channel: string): RedisStore {
    return this.stores[this.placement.of(channel)] as RedisStore;
  }

  /** Resolves with the publication's position once Redis accepted it; rejects while Redis is away. */
  async publish(channel: string, data: unknown): Promise<{ epoch: string; offset: number }> {
    const name = Channel.parse(channel);
    const position: Position = await this.storeOf(name).publish(name, encodeData(data), this.history);
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
          const name = Channel.parse(channel);
          const position = await this.storeOf(name).publish(name, encodeData(data), this.history);
          return { epoch: position.ep, offset: position.off };
        } catch (error) {
          return { error: error instanceof Error ? error : new Error('publish failed') };
        }
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.stores.map((store) => store.close()));
  }
}
