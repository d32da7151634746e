import { encodeData, Position } from '@switchboard/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type {
  Broker,
  BrokerEventHandler,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
  Idempotency,
  PositionedPublication,
  Publication,
} from './broker.js';
import { newEpoch } from './epoch.js';
import { RedisKeys } from './redis-keys.js';
import { HISTORY_SCRIPT, POSITION_SCRIPT, PUBLISH_SCRIPT } from './redis-scripts.js';

export interface RedisBrokerSettings {
  readonly url: string;
  readonly prefix: string;
  /** How long a channel's epoch and offset outlive its last publication. */
  readonly positionTtlSeconds: number;
}

const PublishReply = z.tuple([z.string(), z.number().int(), z.number().int()]);
const PositionReply = z.tuple([z.string(), z.number().int()]);
const HistoryEntry = z.tuple([z.instanceof(Buffer), z.array(z.instanceof(Buffer))]);
const HistoryReply = z.tuple([z.instanceof(Buffer), z.number().int(), z.number().int(), z.array(HistoryEntry)]);

type ScriptCall = (...args: Array<string | Buffer | number>) => Promise<unknown>;

/**
 * The broker for many hubs: positions and history live in Redis (a Lua script assigns the next
 * offset, appends to the channel's stream and publishes atomically), and each hub subscribes
 * only to the pub/sub channels of the channels it has local subscribers of (I2).
 */
export class RedisBroker implements Broker {
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly keys: RedisKeys;
  private handler: BrokerEventHandler | undefined;
  private readonly scripts: { publish: ScriptCall; position: ScriptCall; history: ScriptCall };

  constructor(
    private readonly settings: RedisBrokerSettings,
    private readonly log: Logger,
  ) {
    this.keys = new RedisKeys(settings.prefix);
    // Fail fast while Redis is away: callers turn the error into a temporary error code.
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    };
    this.commands = new Redis(settings.url, { ...options, connectionName: 'switchboard-commands' });
    this.subscriber = new Redis(settings.url, { ...options, connectionName: 'switchboard-subscriber' });
    for (const [name, lua] of [
      ['sbPublish', PUBLISH_SCRIPT],
      ['sbPosition', POSITION_SCRIPT],
      ['sbHistory', HISTORY_SCRIPT],
    ] as const) {
      this.commands.defineCommand(name, { numberOfKeys: 2, lua });
    }
    const commands = this.commands as unknown as Record<string, ScriptCall>;
    const bind = (name: string): ScriptCall => {
      const call = commands[name];
      if (!call) throw new Error(`script ${name} was not defined`);
      return call.bind(this.commands);
    };
    this.scripts = { publish: bind('sbPublish'), position: bind('sbPosition'), history: bind('sbHistoryBuffer') };
    for (const [role, connection] of [
      ['commands', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      connection.on('error', (error: Error) => this.log.warn({ role, err: error.message }, 'redis connection error'));
      connection.on('ready', () => this.log.info({ role }, 'redis ready'));
    }
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    await Promise.all([this.commands.connect(), this.subscriber.connect()]);
  }

  isReady(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    await this.subscriber.subscribe(...channels.flatMap((c) => [this.keys.envelope(c), this.keys.raw(c)]));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await this.subscriber.unsubscribe(...channels.flatMap((c) => [this.keys.envelope(c), this.keys.raw(c)]));
  }

  async publish(
    channel: string,
    data: Uint8Array,
    history: HistoryOptions,
    idempotency?: Idempotency,
  ): Promise<Position> {
    const reply = await this.scripts.publish(
      this.keys.meta(channel),
      this.keys.history(channel),
      this.keys.envelope(channel),
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      history.size,
      history.ttlMs,
      newEpoch(),
      this.positionTtl(history),
      idempotency ? `k:${idempotency.source}` : '',
      idempotency?.sequence ?? 0,
    );
    const [ep, off] = PublishReply.parse(reply);
    return { ep, off };
  }

  async position(channel: string): Promise<Position> {
    const reply = await this.scripts.position(
      this.keys.meta(channel),
      this.keys.history(channel),
      newEpoch(),
      this.settings.positionTtlSeconds,
    );
    const [ep, off] = PositionReply.parse(reply);
    return { ep, off };
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const { since, limit } = query;
    const reply = await this.scripts.history(
      this.keys.meta(channel),
      this.keys.history(channel),
      newEpoch(),
      this.settings.positionTtlSeconds,
      since.off + 1,
      Math.max(1, limit),
    );
    const [epochBytes, topOffset, now, entries] = HistoryReply.parse(reply);
    const top = { ep: epochBytes.toString('latin1'), off: topOffset };
    if (since.ep !== top.ep) return { recoverable: false, reason: 'epoch_changed', top };
    if (since.off > top.off) return { recoverable: false, reason: 'ahead_of_stream', top };
    const missed = top.off - since.off;
    if (missed === 0) return { recoverable: true, publications: [], top };
    if (missed > limit) return { recoverable: false, reason: 'too_many_missed', top };
    const publications: PositionedPublication[] = [];
    for (const [id, fields] of entries) {
      const off = Number(id.toString('latin1').slice(2));
      if (off > top.off) break;
      const entry = fieldsOf(fields);
      if (!entry || (publications.length === 0 && (off !== since.off + 1 || entry.expiresAt <= now))) {
        return { recoverable: false, reason: 'trimmed', top };
      }
      publications.push({ channel, position: { ep: top.ep, off }, data: entry.data });
    }
    if (publications.length !== missed) return { recoverable: false, reason: 'trimmed', top };
    return { recoverable: true, publications, top };
  }

  async close(): Promise<void> {
    this.handler = undefined;
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  /** The meta hash must outlive the history it describes, or a reader would see a fresh epoch. */
  private positionTtl(history: HistoryOptions): number {
    return Math.max(this.settings.positionTtlSeconds, Math.ceil(history.ttlMs / 1000));
  }

  private onMessage(name: Buffer, message: Buffer): void {
    const handler = this.handler;
    if (!handler) return;
    const pubsubChannel = name.toString('latin1');
    if (pubsubChannel.startsWith(this.keys.envelopePrefix)) {
      const publication = parseEnvelope(pubsubChannel.slice(this.keys.envelopePrefix.length), message);
      if (publication) handler.onPublication(publication);
      else this.log.warn({ channel: pubsubChannel }, 'dropped a malformed broker envelope');
    } else if (pubsubChannel.startsWith(this.keys.prefix)) {
      handler.onPublication({ channel: pubsubChannel.slice(this.keys.prefix.length), data: rawData(message) });
    }
  }
}

const COLON = 0x3a;

/** `epoch:offset:data`, as the publish script writes it. */
function parseEnvelope(channel: string, message: Buffer): Publication | undefined {
  const first = message.indexOf(COLON);
  const second = first === -1 ? -1 : message.indexOf(COLON, first + 1);
  if (second === -1) return undefined;
  const position = Position.safeParse({
    ep: message.toString('latin1', 0, first),
    off: Number(message.toString('latin1', first + 1, second)),
  });
  if (!position.success) return undefined;
  return { channel, position: position.data, data: message.subarray(second + 1) };
}

/** Raw `PUBLISH` payloads are JSON by convention; anything else is delivered as a string. */
function rawData(message: Buffer): Uint8Array {
  const text = message.toString('utf8');
  try {
    return encodeData(JSON.parse(text));
  } catch {
    return encodeData(text);
  }
}

function fieldsOf(fields: Buffer[]): { data: Buffer; expiresAt: number } | undefined {
  let data: Buffer | undefined;
  let expiresAt: number | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key = fields[i]?.toString('latin1');
    if (key === 'd') data = fields[i + 1];
    else if (key === 'x') expiresAt = Number(fields[i + 1]?.toString('latin1'));
  }
  return data && expiresAt !== undefined && Number.isFinite(expiresAt) ? { data, expiresAt } : undefined;
}
