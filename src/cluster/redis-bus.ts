import type { RedisCommands as Redis } from '../brokers/redis-store.js';
import type { Logger } from '../log.js';
import type { ControlBus } from './bus.js';
import { defineScript, type RedisScript } from './redis-script.js';

/** Redis' clock for both ends, so that hubs with skewed clocks agree on who is alive. */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
/** KEYS[1] the hub set; ARGV: 1 hub id, 2 ttl ms. */
const HEARTBEAT_SCRIPT = `${NOW_MS}redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return now`;
/** KEYS[1] the hub set. Drops lapsed hubs, returns the live ones. */
const LIVE_HUBS_SCRIPT = `${NOW_MS}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1)
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')`;

/** How often a hub says it is alive, and how long the word lasts: a hub killed with -9 is "asked" for at most this long. */
export const HUB_HEARTBEAT_MS = 5_000;
export const HUB_TTL_MS = 15_000;

/**
 * The control bus over Redis pub/sub: `<prefix>!ctl` reaches every hub, `<prefix>!hub:<id>` one
 * hub. Channel names cannot contain `!` (protocol/src/channel.ts), so neither collides with a
 * channel's pub/sub names. Live hubs are a sorted set `<prefix>!hubs` scored by when each hub's
 * last heartbeat expires; a stopping hub removes itself.
 */
export class RedisBus implements ControlBus {
  private hubId = '';
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeatScript: RedisScript;
  private readonly liveHubsScript: RedisScript;

  constructor(
    /** Commands (PUBLISH, the hub set); shared with the cluster's other stores. */
    private readonly redis: Redis,
    /** A connection of its own, in subscriber mode. */
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.heartbeatScript = defineScript(redis, 'sbHubHeartbeat', 1, HEARTBEAT_SCRIPT);
    this.liveHubsScript = defineScript(redis, 'sbLiveHubs', 1, LIVE_HUBS_SCRIPT);
  }

  private get broadcastChannel(): string {
    return `${this.prefix}!ctl`;
  }

  private hubChannel(hub: string): string {
    return `${this.prefix}!hub:${hub}`;
  }

  private get hubsKey(): string {
    return `${this.prefix}!hubs`;
  }

  async start(hubId: string, handler: (message: string) => void): Promise<void> {
    this.hubId = hubId;
    const own = new Set([this.broadcastChannel, this.hubChannel(hubId)]);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (own.has(channel)) handler(message);
    });
    await this.subscriber.subscribe(...own);
    await this.beat();
    this.heartbeat = setInterval(() => {
      this.beat().catch((error: unknown) =>
        this.log.warn({ err: (error as Error).message }, 'hub heartbeat not written'),
      );
    }, HUB_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async broadcast(message: string): Promise<void> {
    await this.redis.publish(this.broadcastChannel, message);
  }

  async send(hub: string, message: string): Promise<void> {
    await this.redis.publish(this.hubChannel(hub), message);
  }

  async hubs(): Promise<readonly string[]> {
    // Hubs whose heartbeat lapsed are dropped from the set by whoever reads it.
    const ids = await this.liveHubsScript(this.hubsKey);
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.redis.zrem(this.hubsKey, this.hubId).catch(() => undefined);
    await this.subscriber.quit().catch(() => undefined);
    this.subscriber.disconnect();
  }

  private async beat(): Promise<void> {
    await this.heartbeatScript(this.hubsKey, this.hubId, HUB_TTL_MS);
  }
}
