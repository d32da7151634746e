import type { Position } from '@switchboard/protocol';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { optional } from '../optional.js';
import { dataFromText } from '../payload.js';
import type { Broker, BrokerEventHandler, ChannelRead, HistoryOptions, PublishExtras, ReadQuery } from './broker.js';
import { PRESENCE_MARK, PRESENCE_MARK_BYTE, parseEnvelope } from './redis-envelope.js';
import { failFast, RedisStore, type RedisStoreSettings } from './redis-store.js';
import { isCommandTimeout, RedisWatch } from './redis-watch.js';

/** Channels per SUBSCRIBE when resubscribing after a reconnect: bounded commands, few round trips. */
const RESUBSCRIBE_BATCH = 1_000;
/**
 * How often both connections are sent a PING (redis-watch.ts): a Redis that stops answering is
 * noticed within this plus the command timeout (3 s with the default 2 s timeout).
 */
const WATCH_INTERVAL_MS = 1_000;

/**
 * The broker for many hubs: positions and history live in Redis (RedisStore), and each hub
 * subscribes only to the pub/sub channels of the channels it has local subscribers of (I2, docs/architecture.md).
 *
 * Redis pub/sub delivers at most once: what is published while the subscriber connection is
 * down never arrives. So the broker resubscribes itself after a reconnect (ioredis' automatic
 * resubscription runs after its 'ready' event, too late to know when it is done), and only once
 * every channel is subscribed again does it report delivery resumed: from then on, each
 * channel's stream compares its position with the store and repairs what was lost.
 */
export class RedisBroker implements Broker {
  private readonly store: RedisStore;
  private readonly subscriber: Redis;
  private handler: BrokerEventHandler | undefined;
  /** Pub/sub channels subscribed, to subscribe again after a reconnect. */
  private readonly subscribed = new Set<string>();
  /** The subscriber connection dropped, until every channel is subscribed again. */
  private interrupted = false;
  private readonly watch: RedisWatch;

  constructor(
    settings: RedisStoreSettings,
    private readonly log: Logger,
  ) {
    this.store = new RedisStore(settings);
    this.subscriber = new (optional<typeof IORedis>('ioredis').Redis)(settings.url, {
      ...failFast(settings.commandTimeoutMs),
      connectionName: 'switchboard-subscriber',
      autoResubscribe: false,
    });
    // A Redis that holds its connections but does not answer may drop what it should deliver
    // (or deliver it late): while it stalls, delivery counts as interrupted, and once it answers
    // every channel checks its position (gap repair), as after a reconnect.
    this.watch = new RedisWatch([this.store.redis, this.subscriber], WATCH_INTERVAL_MS, {
      stalled: () => {
        this.log.warn({ timeoutMs: settings.commandTimeoutMs }, 'redis does not answer; not ready');
        this.deliveryChanged(!this.interrupted);
      },
      answered: () => {
        this.log.info('redis answers again');
        this.deliveryChanged(false);
      },
    });
    for (const [role, connection] of [
      ['commands', this.store.redis],
      ['subscriber', this.subscriber],
    ] as const) {
      connection.on('error', (error: Error) => this.log.warn({ role, err: error.message }, 'redis connection error'));
      connection.on('ready', () => this.log.info({ role }, 'redis ready'));
    }
    this.subscriber.on('close', () => {
      const was = this.delivering;
      this.interrupted = true;
      this.deliveryChanged(was);
    });
    this.subscriber.on('ready', () => {
      if (this.interrupted) void this.resubscribe();
    });
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    await Promise.all([this.store.redis.connect(), this.subscriber.connect()]);
    this.watch.start();
  }

  isReady(): boolean {
    return this.store.redis.status === 'ready' && this.subscriber.status === 'ready' && this.delivering;
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    const names = this.pubsubChannels(channels);
    await this.watched(this.subscriber.subscribe(...names));
    for (const name of names) this.subscribed.add(name);
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    const names = this.pubsubChannels(channels);
    for (const name of names) this.subscribed.delete(name);
    await this.subscriber.unsubscribe(...names);
  }

  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras?: PublishExtras): Promise<Position> {
    return this.watched(this.store.publish(channel, data, history, extras));
  }

  read(channel: string, query: ReadQuery): Promise<ChannelRead> {
    return this.watched(this.store.read(channel, query));
  }

  /** On the channel's envelope pub/sub channel, marked by a leading `!` (an epoch never starts with one). */
  async publishPresence(channel: string, change: string): Promise<void> {
    await this.store.redis.publish(this.store.keys.envelope(channel), `${PRESENCE_MARK}${change}`);
  }

  async close(): Promise<void> {
    this.watch.stop();
    this.handler = undefined;
    await Promise.allSettled([this.store.close(), this.subscriber.quit()]);
    this.subscriber.disconnect();
  }

  /** Subscribes every channel again, then reports delivery resumed; a failure waits for the next 'ready'. */
  private async resubscribe(): Promise<void> {
    const names = [...this.subscribed];
    try {
      for (let i = 0; i < names.length; i += RESUBSCRIBE_BATCH) {
        await this.subscriber.subscribe(...names.slice(i, i + RESUBSCRIBE_BATCH));
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'redis resubscription failed; retrying on reconnect');
      return;
    }
    if (this.subscriber.status !== 'ready') return;
    this.log.info({ channels: names.length }, 'redis pub/sub resubscribed');
    const was = this.delivering;
    this.interrupted = false;
    this.deliveryChanged(was);
  }

  /** Whether publications flow: the subscriber is connected and subscribed, and Redis answers. */
  private get delivering(): boolean {
    return !this.interrupted && !this.watch.isStalled;
  }

  /**
   * Tells the streams that delivery stopped or resumed, once each way, whichever of a reconnect
   * or a stall (or both) caused it; `was` is whether it flowed before the change.
   */
  private deliveryChanged(was: boolean): void {
    const now = this.delivering;
    if (was === now || !this.handler) return;
    if (now) this.handler.onDeliveryResumed();
    else this.handler.onDeliveryInterrupted();
  }

  /** A command that timed out tells the watch at once, rather than at its next round. */
  private watched<T>(command: Promise<T>): Promise<T> {
    return command.catch((error: unknown) => {
      if (isCommandTimeout(error)) this.watch.timedOut();
      throw error;
    });
  }

  private pubsubChannels(channels: readonly string[]): string[] {
    const { keys } = this.store;
    return channels.flatMap((channel) => [keys.envelope(channel), keys.raw(channel)]);
  }

  private onMessage(name: Buffer, message: Buffer): void {
    const handler = this.handler;
    if (!handler) return;
    const { keys } = this.store;
    const pubsubChannel = name.toString('latin1');
    if (pubsubChannel.startsWith(keys.envelopePrefix)) {
      if (message[0] === PRESENCE_MARK_BYTE) {
        handler.onPresence(pubsubChannel.slice(keys.envelopePrefix.length), message.toString('utf8', 1));
        return;
      }
      const publications = parseEnvelope(pubsubChannel.slice(keys.envelopePrefix.length), message);
      if (!publications) this.log.warn({ channel: pubsubChannel }, 'dropped a malformed broker envelope');
      else for (const publication of publications) handler.onPublication(publication);
    } else if (pubsubChannel.startsWith(keys.prefix)) {
      handler.onPublication({
        channel: pubsubChannel.slice(keys.prefix.length),
        data: dataFromText(message.toString('utf8')),
      });
    }
  }
}
