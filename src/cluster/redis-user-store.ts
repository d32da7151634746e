import type { RedisCommands as Redis } from '../brokers/redis-store.js';
import { defineScript, type RedisScript } from './redis-script.js';
import { MAX_SERVER_SUBSCRIPTIONS, type RevokeTarget, type TokenFacts, type UserStore } from './user-store.js';

/** Server-side subscriptions of a user nobody touched for this long are forgotten. */
const SUBSCRIPTIONS_TTL_SECONDS = 30 * 24 * 3600;

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS[1] the user's connection set (client → expiry ms). ARGV: 1 client, 2 max, 3 ttl ms.
 * Returns 1 when admitted, 0 when the user already has `max` live connections.
 */
const ADMIT_SCRIPT = `${NOW_MS}redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** KEYS[1] the user's connection set. ARGV: 1 ttl ms, then client ids. */
const REFRESH_SCRIPT = `${NOW_MS}local expiry = now + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], expiry, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0`;

/** KEYS[1] the user's server-side subscriptions. ARGV: 1 channel, 2 max, 3 ttl s. 0 when full. */
const ADD_SUBSCRIPTION_SCRIPT = `if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

/**
 * The user store in Redis. Each user's keys carry the user in a hash tag (one cluster slot per
 * user); `!` keeps them apart from channel keys, whose names cannot contain it.
 */
export class RedisUserStore implements UserStore {
  private readonly admit: RedisScript;
  private readonly refresh: RedisScript;
  private readonly addSubscription: RedisScript;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.admit = defineScript(redis, 'sbUserAdmit', 1, ADMIT_SCRIPT);
    this.refresh = defineScript(redis, 'sbUserRefresh', 1, REFRESH_SCRIPT);
    this.addSubscription = defineScript(redis, 'sbUserAddSubscription', 1, ADD_SUBSCRIPTION_SCRIPT);
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}!${kind}{${id}}`;
  }

  async admitConnection(user: string, client: string, max: number, ttlMs: number): Promise<boolean> {
    return (await this.admit(this.key('u', user), client, max, ttlMs)) === 1;
  }

  async releaseConnection(user: string, client: string): Promise<void> {
    await this.redis.zrem(this.key('u', user), client);
  }

  async refreshConnections(entries: ReadonlyArray<readonly [string, string]>, ttlMs: number): Promise<void> {
    const byUser = new Map<string, string[]>();
    for (const [user, client] of entries) {
      const clients = byUser.get(user) ?? [];
      clients.push(client);
      byUser.set(user, clients);
    }
    // One script per user (a cluster slot each), all in flight at once.
    await Promise.all([...byUser].map(([user, clients]) => this.refresh(this.key('u', user), ttlMs, ...clients)));
  }

  async addServerSubscription(user: string, channel: string): Promise<void> {
    const added = await this.addSubscription(
      this.key('s', user),
      channel,
      MAX_SERVER_SUBSCRIPTIONS,
      SUBSCRIPTIONS_TTL_SECONDS,
    );
    if (added !== 1) throw new RangeError(`user has ${MAX_SERVER_SUBSCRIPTIONS} server-side subscriptions`);
  }

  async removeServerSubscription(user: string, channel: string): Promise<boolean> {
    return (await this.redis.srem(this.key('s', user), channel)) === 1;
  }

  async serverSubscriptions(user: string): Promise<readonly string[]> {
    return this.redis.smembers(this.key('s', user));
  }

  async revoke(target: RevokeTarget, until: number): Promise<void> {
    const ttl = Math.max(1, until - Date.now());
    const writes: Array<Promise<unknown>> = [];
    if (target.tokenId !== undefined) writes.push(this.redis.set(this.key('rt', target.tokenId), '1', 'PX', ttl));
    if (target.user !== undefined) {
      const before = String(target.issuedBefore ?? Date.now());
      writes.push(this.redis.set(this.key('ru', target.user), before, 'PX', ttl));
    }
    await Promise.all(writes);
  }

  async isRevoked(token: TokenFacts): Promise<boolean> {
    const [byToken, byUser] = await Promise.all([
      token.tokenId === undefined ? null : this.redis.get(this.key('rt', token.tokenId)),
      token.user === undefined ? null : this.redis.get(this.key('ru', token.user)),
    ]);
    if (byToken !== null) return true;
    return byUser !== null && (token.issuedAt ?? 0) < Number(byUser);
  }

  async close(): Promise<void> {}
}
