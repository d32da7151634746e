import type { Position } from '@switchboard/protocol';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Broker, BrokerEventHandler, ChannelRead, HistoryOptions, PublishExtras, ReadQuery } from './broker.js';
import { nodeName } from './redis-connect.js';
import { DeliveryReporter, deliver } from './redis-delivery.js';
import { PRESENCE_MARK } from './redis-envelope.js';
import { PubsubConnection } from './redis-pubsub.js';
import { ShardPlacement } from './redis-shards.js';
import { failFast, RedisStore, type RedisStoreSettings } from './redis-store.js';
import { RedisWatch } from './redis-watch.js';
import { NO_SHARD_OBSERVER, observed, type ShardObserver } from './shard-metrics.js';

/**
 * How often every connection is sent a PING (redis-watch.ts): a Redis that stops answering is
 * noticed within this plus the command timeout (3 s with the default 2 s timeout).
 */
export const WATCH_INTERVAL_MS = 1_000;

export interface RedisBrokerSettings extends RedisStoreSettings {
  /** Independent Redis instances the channels are spread over (`broker.shards`); `url` alone without. */
  readonly shards?: readonly string[] | undefined;
}

/** One Redis holding some channels: their positions and history, and their pub/sub. */
interface Shard {
  /** `host:port` of its URL, for logs, readiness and metrics. */
  readonly name: string;
  readonly store: RedisStore;
  readonly pubsub: PubsubConnection;
}

/**
 * The broker for many hubs: positions and history live in Redis (RedisStore), and each hub
 * subscribes only to the pub/sub channels of the channels it has local subscribers of (I2,
 * docs/architecture.md). With `shards`, channels are spread over independent Redis instances
 * (redis-shards.ts), each holding a channel's keys and pub/sub whole, so no publish spans two.
 *
 * Delivery counts as interrupted while any shard's subscriber is down or still resubscribing, or
 * any Redis does not answer; when all deliver again every channel's stream checks its position
 * against its shard and repairs what was lost (src/streams/).
 */
export class RedisBroker implements Broker {
  private readonly shards: readonly Shard[];
  private readonly placement: ShardPlacement;
  private handler: BrokerEventHandler | undefined;
  private readonly reporter = new DeliveryReporter(() => this.delivering);
  private readonly watch: RedisWatch;

  constructor(
    settings: RedisBrokerSettings,
    private readonly log: Logger,
    private readonly observer: ShardObserver = NO_SHARD_OBSERVER,
  ) {
    const urls = settings.shards && settings.shards.length > 0 ? settings.shards : [settings.url];
    this.placement = new ShardPlacement(urls);
    this.shards = urls.map((url) => {
      const name = nodeName(url);
      const store = new RedisStore({ ...settings, url });
      store.redis.on('error', (error: Error) => this.log.warn({ shard: name, err: error.message }, 'redis error'));
      store.redis.on('ready', () => this.log.info({ shard: name }, 'redis ready'));
      const pubsub = new PubsubConnection(
        name,
        url,
        { ...failFast(settings.commandTimeoutMs), connectionName: 'switchboard-subscriber' },
        false,
        this.log,
        {
          message: (channel, message) => {
            if (this.handler) deliver(store.keys, this.handler, this.log, channel, message);
          },
          changed: () => this.reporter.sync(),
          closed: () => this.observer.pubsubLost(name),
        },
      );
      return { name, store, pubsub };
    });
    // A Redis that holds its connections but does not answer may drop what it should deliver
    // (or deliver it late): while it stalls, delivery counts as interrupted, and once it answers
    // every channel checks its position (gap repair), as after a reconnect.
    const connections = this.shards.flatMap((shard) => [shard.store.redis as Redis, shard.pubsub.redis]);
    this.watch = new RedisWatch(() => connections, WATCH_INTERVAL_MS, {
      stalled: () => {
        this.log.warn({ timeoutMs: settings.commandTimeoutMs }, 'redis does not answer; not ready');
        this.reporter.sync();
      },
      answered: () => {
        this.log.info('redis answers again');
        this.reporter.sync();
      },
    });
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await Promise.all(this.shards.flatMap((shard) => [shard.store.redis.connect(), shard.pubsub.connect()]));
    this.watch.start();
    this.reporter.start(handler);
  }

  isReady(): boolean {
    return this.notReady().length === 0;
  }

  /** Why the broker cannot serve now, naming each shard that cannot accept publishes or deliver. */
  notReady(): string[] {
    const reasons: string[] = [];
    for (const shard of this.shards) {
      if (shard.store.redis.status !== 'ready') reasons.push(`redis ${shard.name} does not accept publishes`);
      else if (!shard.pubsub.delivering) reasons.push(`redis ${shard.name} does not deliver subscriptions`);
    }
    if (this.watch.isStalled) reasons.push('redis does not answer');
    return reasons;
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    await Promise.all(
      this.byShard(channels).map(([shard, names]) =>
        this.watch.guard(shard.pubsub.add(this.pubsubChannels(shard, names))),
      ),
    );
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await Promise.all(
      this.byShard(channels).map(([shard, names]) => shard.pubsub.remove(this.pubsubChannels(shard, names))),
    );
  }

  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras?: PublishExtras): Promise<Position> {
    const shard = this.shardOf(channel);
    return this.watch.guard(observed(this.observer, shard.name, shard.store.publish(channel, data, history, extras)));
  }

  read(channel: string, query: ReadQuery): Promise<ChannelRead> {
    return this.watch.guard(this.shardOf(channel).store.read(channel, query));
  }

  /** On the channel's envelope pub/sub channel, marked by a leading `!` (an epoch never starts with one). */
  async publishPresence(channel: string, change: string): Promise<void> {
    const { store } = this.shardOf(channel);
    await store.redis.publish(store.keys.envelope(channel), `${PRESENCE_MARK}${change}`);
  }

  async close(): Promise<void> {
    this.watch.stop();
    this.reporter.stop();
    this.handler = undefined;
    for (const shard of this.shards) shard.pubsub.close();
    await Promise.allSettled(this.shards.map((shard) => shard.store.close()));
  }

  private shardOf(channel: string): Shard {
    return this.shards[this.placement.of(channel)] as Shard;
  }

  private byShard(channels: readonly string[]): Array<[Shard, string[]]> {
    const groups = new Map<Shard, string[]>();
    for (const channel of channels) {
      const shard = this.shardOf(channel);
      const names = groups.get(shard) ?? [];
      names.push(channel);
      groups.set(shard, names);
    }
    return [...groups];
  }

  /** Whether publications flow: every subscriber is connected and subscribed, and Redis answers. */
  private get delivering(): boolean {
    return !this.watch.isStalled && this.shards.every((shard) => shard.pubsub.delivering);
  }

  private pubsubChannels(shard: Shard, channels: readonly string[]): string[] {
    const { keys } = shard.store;
    return channels.flatMap((channel) => [keys.envelope(channel), keys.raw(channel)]);
  }
}
