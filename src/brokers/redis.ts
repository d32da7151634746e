import { type Position, Position as PositionSchema } from '@switchboard/protocol';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { dataFromText } from '../payload.js';
import type {
  Broker,
  BrokerEventHandler,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
  Publication,
  PublishExtras,
} from './broker.js';
import { FAIL_FAST, RedisStore, type RedisStoreSettings } from './redis-store.js';

/**
 * The broker for many hubs: positions and history live in Redis (RedisStore), and each hub
 * subscribes only to the pub/sub channels of the channels it has local subscribers of (I2).
 */
export class RedisBroker implements Broker {
  private readonly store: RedisStore;
  private readonly subscriber: Redis;
  private handler: BrokerEventHandler | undefined;

  constructor(
    settings: RedisStoreSettings,
    private readonly log: Logger,
  ) {
    this.store = new RedisStore(settings);
    this.subscriber = new Redis(settings.url, { ...FAIL_FAST, connectionName: 'switchboard-subscriber' });
    for (const [role, connection] of [
      ['commands', this.store.redis],
      ['subscriber', this.subscriber],
    ] as const) {
      connection.on('error', (error: Error) => this.log.warn({ role, err: error.message }, 'redis connection error'));
      connection.on('ready', () => this.log.info({ role }, 'redis ready'));
    }
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    await Promise.all([this.store.redis.connect(), this.subscriber.connect()]);
  }

  isReady(): boolean {
    return this.store.redis.status === 'ready' && this.subscriber.status === 'ready';
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    await this.subscriber.subscribe(...this.pubsubChannels(channels));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await this.subscriber.unsubscribe(...this.pubsubChannels(channels));
  }

  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras?: PublishExtras): Promise<Position> {
    return this.store.publish(channel, data, history, extras);
  }

  position(channel: string): Promise<Position> {
    return this.store.position(channel);
  }

  history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    return this.store.history(channel, query);
  }

  async close(): Promise<void> {
    this.handler = undefined;
    await Promise.allSettled([this.store.close(), this.subscriber.quit()]);
    this.subscriber.disconnect();
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
      const publication = parseEnvelope(pubsubChannel.slice(keys.envelopePrefix.length), message);
      if (publication) handler.onPublication(publication);
      else this.log.warn({ channel: pubsubChannel }, 'dropped a malformed broker envelope');
    } else if (pubsubChannel.startsWith(keys.prefix)) {
      handler.onPublication({
        channel: pubsubChannel.slice(keys.prefix.length),
        data: dataFromText(message.toString('utf8')),
      });
    }
  }
}

const COLON = 0x3a;

/**
 * `epoch:offset:time:trace:data`, as the publish script writes it (time: Unix ms of acceptance;
 * trace: a W3C traceparent or nothing).
 */
function parseEnvelope(channel: string, message: Buffer): Publication | undefined {
  const first = message.indexOf(COLON);
  const second = first === -1 ? -1 : message.indexOf(COLON, first + 1);
  const third = second === -1 ? -1 : message.indexOf(COLON, second + 1);
  const fourth = third === -1 ? -1 : message.indexOf(COLON, third + 1);
  if (fourth === -1) return undefined;
  const position = PositionSchema.safeParse({
    ep: message.toString('latin1', 0, first),
    off: Number(message.toString('latin1', first + 1, second)),
  });
  const time = Number(message.toString('latin1', second + 1, third));
  if (!position.success || !Number.isSafeInteger(time)) return undefined;
  const trace = message.toString('latin1', third + 1, fourth);
  const data = message.subarray(fourth + 1);
  return trace === ''
    ? { channel, position: position.data, data, time }
    : { channel, position: position.data, data, time, trace };
}
