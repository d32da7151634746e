import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { redisConnection } from './redis-connect.js';
import { slotOf } from './redis-slot.js';

/** Channels per (S)SUBSCRIBE when resubscribing after a reconnect: bounded commands, few round trips. */
const RESUBSCRIBE_BATCH = 1_000;

export interface PubsubEvents {
  /** A message on a subscribed pub/sub channel, as Redis sent it. */
  message(name: Buffer, message: Buffer): void;
  /** Whether this connection delivers changed (lost, or back with every channel subscribed again). */
  changed(): void;
  /** The connection closed: the owner may want to learn whether the node still owns its slots. */
  closed?(): void;
}

/**
 * One subscriber connection to one Redis node, and the pub/sub channels it holds: classic
 * (SUBSCRIBE, broadcast over a whole cluster) or sharded (SSUBSCRIBE, only the node owning the
 * channel's slot delivers it).
 *
 * Redis pub/sub delivers at most once: what is published while the connection is down never
 * arrives. So the connection resubscribes itself after a reconnect (ioredis' automatic
 * resubscription runs after its 'ready' event, too late to know when it is done), and it counts
 * as delivering again only once every channel is subscribed again: from then on the owner's
 * streams compare their positions with the store and repair what was lost.
 */
export class PubsubConnection {
  readonly redis: Redis;
  /** Pub/sub channels subscribed, to subscribe again after a reconnect. */
  readonly names = new Set<string>();
  /** The connection dropped, until every channel is subscribed again. */
  private interrupted = false;
  private closing = false;
  private connecting: Promise<void> | undefined;

  constructor(
    /** How the node is named in logs, readiness and metrics: `host:port`. */
    readonly node: string,
    url: string,
    options: RedisOptions,
    private readonly sharded: boolean,
    private readonly log: Logger,
    private readonly events: PubsubEvents,
  ) {
    this.redis = redisConnection(url, { ...options, autoResubscribe: false });
    this.redis.on('error', (error: Error) => this.log.warn({ node, err: error.message }, 'redis subscriber error'));
    this.redis.on(sharded ? 'smessageBuffer' : 'messageBuffer', (name: Buffer, message: Buffer) =>
      this.events.message(name, message),
    );
    this.redis.on('close', () => {
      if (this.closing) return;
      const was = !this.interrupted;
      this.interrupted = true;
      if (was) this.events.changed();
      this.events.closed?.();
    });
    this.redis.on('ready', () => {
      this.log.info({ node }, 'redis subscriber ready');
      if (this.interrupted) void this.resubscribe();
      else this.events.changed();
    });
  }

  /** Connected, and every channel it should hold is subscribed. */
  get delivering(): boolean {
    return !this.interrupted && this.redis.status === 'ready';
  }

  /** Connects once, however many ask. */
  connect(): Promise<void> {
    this.connecting ??= this.redis.connect();
    return this.connecting;
  }

  async add(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.command(true, names);
    for (const name of names) this.names.add(name);
  }

  async remove(names: readonly string[]): Promise<void> {
    for (const name of names) this.names.delete(name);
    if (names.length === 0 || this.redis.status !== 'ready') return;
    await this.command(false, names);
  }

  close(): void {
    this.closing = true;
    this.redis.disconnect();
  }

  private command(subscribe: boolean, names: readonly string[]): Promise<unknown> {
    if (!this.sharded) return subscribe ? this.redis.subscribe(...names) : this.redis.unsubscribe(...names);
    // One SSUBSCRIBE per slot: Redis refuses shard channels of several slots in one (CROSSSLOT).
    const bySlot = new Map<number, string[]>();
    for (const name of names) {
      const slot = slotOf(name);
      const group = bySlot.get(slot);
      if (group) group.push(name);
      else bySlot.set(slot, [name]);
    }
    return Promise.all(
      [...bySlot.values()].map((group) =>
        subscribe ? this.redis.ssubscribe(...group) : this.redis.sunsubscribe(...group),
      ),
    );
  }

  /** Subscribes every channel again, then reports delivery back; a failure waits for the next 'ready'. */
  private async resubscribe(): Promise<void> {
    const names = [...this.names];
    try {
      for (let i = 0; i < names.length; i += RESUBSCRIBE_BATCH) {
        await this.command(true, names.slice(i, i + RESUBSCRIBE_BATCH));
      }
    } catch (error) {
      this.log.warn({ node: this.node, err: (error as Error).message }, 'redis resubscription failed; retrying');
      return;
    }
    if (this.redis.status !== 'ready' || this.closing) return;
    this.log.info({ node: this.node, channels: names.length }, 'redis pub/sub resubscribed');
    this.interrupted = false;
    this.events.changed();
  }
}
