import type { Position } from '@switchboard/protocol';
import type * as IORedis from 'ioredis';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { optional } from '../optional.js';
import type { Broker, BrokerEventHandler, ChannelRead, HistoryOptions, PublishExtras, ReadQuery } from './broker.js';
import { WATCH_INTERVAL_MS } from './redis.js';
import { DeliveryReporter, deliver } from './redis-delivery.js';
import { PRESENCE_MARK } from './redis-envelope.js';
import { PubsubConnection } from './redis-pubsub.js';
import { slotOf } from './redis-slot.js';
import { failFast, RedisStore, type RedisStoreSettings } from './redis-store.js';
import { RedisWatch } from './redis-watch.js';
import { NO_SHARD_OBSERVER, observed, type ShardObserver } from './shard-metrics.js';

/**
 * How often the hub asks the cluster for its slot map, besides after every MOVED: a failover or a
 * resharding is followed within this (plus the cluster's own failover time, cluster-node-timeout).
 */
const SLOTS_REFRESH_MS = 1_000;

export interface RedisClusterSettings extends RedisStoreSettings {
  /** Seed nodes of the cluster (`broker.cluster`): any reachable one tells the hub about the others. */
  readonly nodes: readonly string[];
}

/** The cluster's connection options for the hub: fail fast while a node is away (redis-store.ts). */
export function clusterConnection(nodes: readonly string[], commandTimeoutMs: number, name: string): Cluster {
  const { lazyConnect, enableOfflineQueue, ...redisOptions } = failFast(commandTimeoutMs);
  return new (optional<typeof IORedis>('ioredis').Cluster)(
    nodes.map((url) => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port || 6379) };
    }),
    {
      lazyConnect,
      enableOfflineQueue,
      slotsRefreshInterval: SLOTS_REFRESH_MS,
      slotsRefreshTimeout: commandTimeoutMs,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
      redisOptions: { ...redisOptions, connectionName: name },
    },
  );
}

/**
 * The broker on a Redis Cluster. Every key of a channel and its envelope pub/sub channel carry
 * the channel in a hash tag, so they share one slot: the publish script stays atomic on the node
 * that owns it, and delivers with SPUBLISH, which goes only to that node's subscribers — classic
 * PUBLISH is broadcast to every node of the cluster, which made one node's pub/sub the ceiling.
 *
 * So a hub holds one sharded subscriber connection per master, and SSUBSCRIBEs each channel on
 * the master owning its slot. It follows the cluster's slot map (refreshed every second and after
 * every MOVED): when a slot moves (a failover, a resharding), its channels are subscribed on the
 * new owner, and delivery counts as interrupted meanwhile, so every channel's stream checks its
 * position afterwards and repairs or reports what was published in between (src/streams/).
 *
 * Raw live-only `PUBLISH <prefix><channel>` by services still works: classic pub/sub reaches any
 * node, and the hub holds those on ioredis' own cluster subscriber.
 */
export class RedisClusterBroker implements Broker {
  private readonly cluster: Cluster;
  private readonly store: RedisStore;
  /** One sharded subscriber per master in the slot map, by `host:port`. */
  private readonly masters = new Map<string, PubsubConnection>();
  /** Envelope pub/sub channel → the master it is subscribed on, and its slot. */
  private readonly owner = new Map<string, { readonly node: string; readonly slot: number }>();
  /** Envelope channels whose master is not known yet or refused them: subscribed at the next refresh. */
  private readonly unplaced = new Set<string>();
  /** Channel moves in flight (a slot changed owner): delivery counts as interrupted meanwhile. */
  private moving = 0;
  private handler: BrokerEventHandler | undefined;
  private readonly reporter = new DeliveryReporter(() => this.delivering);
  private readonly watch: RedisWatch;

  constructor(
    private readonly settings: RedisClusterSettings,
    private readonly log: Logger,
    private readonly observer: ShardObserver = NO_SHARD_OBSERVER,
  ) {
    this.cluster = clusterConnection(settings.nodes, settings.commandTimeoutMs, 'switchboard-commands');
    this.store = new RedisStore(settings, this.cluster);
    this.cluster.on('error', (error: Error) => this.log.warn({ err: error.message }, 'redis cluster error'));
    this.cluster.on('refresh', () => this.follow());
    this.cluster.on('messageBuffer', (name: Buffer, message: Buffer) => {
      if (this.handler) deliver(this.store.keys, this.handler, this.log, name, message);
    });
    this.watch = new RedisWatch(
      () => [...this.masters.values()].map((pubsub) => pubsub.redis as Redis),
      WATCH_INTERVAL_MS,
      {
        stalled: () => {
          this.log.warn({ timeoutMs: settings.commandTimeoutMs }, 'a redis cluster node does not answer; not ready');
          this.reporter.sync();
        },
        answered: () => this.reporter.sync(),
      },
    );
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await this.cluster.connect();
    this.follow();
    await Promise.all([...this.masters.values()].map((pubsub) => pubsub.connect().catch(() => undefined)));
    this.watch.start();
    this.reporter.start(handler);
  }

  isReady(): boolean {
    return this.notReady().length === 0;
  }

  /** Names each master that cannot take publishes or deliver, and slots nobody serves. */
  notReady(): string[] {
    if (this.cluster.status !== 'ready') return ['redis cluster not connected'];
    const reasons: string[] = [];
    for (const [node, pubsub] of this.masters) {
      if (!pubsub.delivering) reasons.push(`redis ${node} does not deliver subscriptions`);
    }
    if (this.masters.size === 0 || this.uncovered() > 0) reasons.push('redis cluster slots not all served');
    if (this.moving > 0 || this.unplaced.size > 0) reasons.push('redis cluster slots moving');
    if (this.watch.isStalled) reasons.push('a redis cluster node does not answer');
    return reasons;
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    const envelopes = channels.map((channel) => this.store.keys.envelope(channel));
    const [failed] = await Promise.all([
      this.place(envelopes),
      this.cluster.subscribe(...channels.map((channel) => this.store.keys.raw(channel))),
    ]);
    if (failed.length > 0) {
      await this.unsubscribe(channels);
      throw new Error(`redis cluster could not subscribe ${failed.length} of ${channels.length} channels`);
    }
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    const byNode = new Map<string, string[]>();
    for (const channel of channels) {
      const name = this.store.keys.envelope(channel);
      const node = this.owner.get(name)?.node;
      this.owner.delete(name);
      this.unplaced.delete(name);
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), name]);
    }
    await Promise.allSettled([
      ...[...byNode].map(([node, names]) => this.masters.get(node)?.remove(names)),
      this.cluster.unsubscribe(...channels.map((channel) => this.store.keys.raw(channel))),
    ]);
  }

  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras?: PublishExtras): Promise<Position> {
    const master = this.masterOf(this.store.keys.envelope(channel)) ?? 'unknown';
    return this.watch.guard(observed(this.observer, master, this.store.publish(channel, data, history, extras)));
  }

  read(channel: string, query: ReadQuery): Promise<ChannelRead> {
    return this.watch.guard(this.store.read(channel, query));
  }

  /** On the channel's envelope shard channel (its slot), marked by a leading `!`. */
  async publishPresence(channel: string, change: string): Promise<void> {
    await this.cluster.spublish(this.store.keys.envelope(channel), `${PRESENCE_MARK}${change}`);
  }

  async close(): Promise<void> {
    this.watch.stop();
    this.reporter.stop();
    this.handler = undefined;
    for (const pubsub of this.masters.values()) pubsub.close();
    this.masters.clear();
    await this.store.close();
  }

  /** The master owning `name`'s slot in the current slot map. */
  private masterOf(name: string): string | undefined {
    return this.cluster.slots[slotOf(name)]?.[0];
  }

  /** Slots no master serves in the current slot map. */
  private uncovered(): number {
    let count = 0;
    for (let slot = 0; slot < 16_384; slot++) if (!this.cluster.slots[slot]?.[0]) count++;
    return count;
  }

  /**
   * Subscribes envelope channels on the masters of their slots, one SSUBSCRIBE per master, and
   * answers those that could not be (no known master yet, or the master refused them: MOVED).
   */
  private async place(names: readonly string[]): Promise<string[]> {
    const byNode = new Map<string, string[]>();
    const failed: string[] = [];
    for (const name of names) {
      const node = this.masterOf(name);
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), name]);
      else failed.push(name);
    }
    await Promise.all(
      [...byNode].map(([node, group]) =>
        this.master(node)
          .add(group)
          .then(
            () => {
              for (const name of group) this.owner.set(name, { node, slot: slotOf(name) });
            },
            () => failed.push(...group),
          ),
      ),
    );
    return failed;
  }

  private master(node: string): PubsubConnection {
    let pubsub = this.masters.get(node);
    if (!pubsub) {
      pubsub = new PubsubConnection(
        node,
        `redis://${node}`,
        { ...failFast(this.settings.commandTimeoutMs), connectionName: 'switchboard-subscriber' },
        true,
        this.log,
        {
          message: (name, message) => {
            if (this.handler) deliver(this.store.keys, this.handler, this.log, name, message);
          },
          changed: () => this.reporter.sync(),
          // A master that went away may have been replaced: ask the cluster now, not at the next round.
          closed: () => {
            this.observer.pubsubLost(node);
            this.cluster.refreshSlotsCache();
          },
        },
      );
      this.masters.set(node, pubsub);
      if (this.handler) pubsub.connect().catch(() => undefined);
    }
    return pubsub;
  }

  /**
   * Follows the slot map: a subscriber for every master, none for a node that no longer is one,
   * and every channel subscribed on the master of its slot. A moved channel may have missed what
   * was published meanwhile, so delivery counts as interrupted until the move is done.
   */
  private follow(): void {
    if (!this.handler) return;
    const current = new Set<string>();
    for (const nodes of this.cluster.slots) if (nodes?.[0]) current.add(nodes[0]);
    for (const node of current) this.master(node);
    for (const [node, pubsub] of this.masters) {
      if (current.has(node)) continue;
      this.log.info({ node }, 'redis node is no longer a master; its channels move');
      pubsub.close();
      this.masters.delete(node);
    }
    const moved = [...this.unplaced];
    this.unplaced.clear();
    for (const [name, { node, slot }] of this.owner) if (this.cluster.slots[slot]?.[0] !== node) moved.push(name);
    if (moved.length === 0) {
      this.reporter.sync();
      return;
    }
    this.log.info(
      { channels: moved.length },
      'redis cluster slots moved; subscribing their channels on the new masters',
    );
    for (const name of moved) {
      const node = this.owner.get(name)?.node;
      if (node)
        void this.masters
          .get(node)
          ?.remove([name])
          .catch(() => undefined);
      this.owner.delete(name);
    }
    this.moving++;
    this.reporter.sync();
    void this.place(moved).then((failed) => {
      for (const name of failed) this.unplaced.add(name);
      this.moving--;
      this.reporter.sync();
    });
  }

  /** Whether publications flow: every master's subscriber holds its channels, none moving, all answer. */
  private get delivering(): boolean {
    if (this.moving > 0 || this.unplaced.size > 0 || this.watch.isStalled) return false;
    for (const pubsub of this.masters.values()) if (!pubsub.delivering) return false;
    return true;
  }
}
