import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { optional } from '../optional.js';
import { type Egress, type EgressMessage, within } from './egress.js';

/**
 * A connection to one Redis for client publishes; commands fail fast while it is away, and after
 * `timeoutMs` while it is there but does not answer (ioredis' command timeout, the same bound as
 * the race below, which also covers a command still waiting for the connection).
 */
export class RedisEgressConnection {
  readonly redis: Redis;

  constructor(
    url: string,
    private readonly timeoutMs: number,
    log: Logger,
  ) {
    this.redis = new (optional<typeof IORedis>('ioredis').Redis)(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectionName: 'switchboard-egress',
      commandTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    });
    this.redis.on('error', (error: Error) => log.warn({ err: error.message }, 'redis egress connection error'));
  }

  async start(): Promise<void> {
    await this.redis.connect();
  }

  isReady(): boolean {
    return this.redis.status === 'ready';
  }

  async stop(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** XADD to a bounded stream: durable in Redis, for services reading with consumer groups. */
  streamEgress(stream: string, maxLen: number): Egress {
    return {
      send: async (message: EgressMessage) => {
        await within(
          this.redis.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...fieldsOf(message)),
          this.timeoutMs,
          `XADD ${stream}`,
        );
      },
    };
  }

  /** PUBLISH the message as JSON: live only, to whoever listens at that moment. */
  pubsubEgress(channel: string): Egress {
    return {
      send: async (message: EgressMessage) => {
        const { json, ...meta } = message;
        await within(
          this.redis.publish(channel, `{"data":${json},"meta":${JSON.stringify(meta)}}`),
          this.timeoutMs,
          `PUBLISH ${channel}`,
        );
      },
    };
  }
}

function fieldsOf(message: EgressMessage): string[] {
  const fields = [
    'channel',
    message.channel,
    'data',
    message.json,
    'connection',
    message.connection,
    'timestamp',
    String(message.timestamp),
  ];
  if (message.user !== undefined) fields.push('user', message.user);
  if (message.trace !== undefined) fields.push('traceparent', message.trace);
  return fields;
}
