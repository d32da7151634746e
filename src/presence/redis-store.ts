import { PresenceEntry } from '@switchboard/protocol';
import type { RedisCommands as Redis } from '../brokers/redis-store.js';
import { defineScript, type RedisScript } from '../cluster/redis-script.js';
import type { PresenceList, PresenceStats, PresenceStore } from './store.js';

/**
 * Per channel, four keys in the channel's hash tag (one cluster slot, beside its history):
 * `p` client → entry (JSON), `e` client → expiry (ms, sorted), `c` client → user, `u` user →
 * connections. Every script reads Redis' clock, so hubs with skewed clocks agree on expiry.
 */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Removes client `c` (its entry known as `json`) and counts its user out. */
const REMOVE_ONE = `local function remove_one(c)
  local json = redis.call('HGET', KEYS[1], c)
  if not json then return nil end
  redis.call('HDEL', KEYS[1], c)
  redis.call('ZREM', KEYS[2], c)
  local user = redis.call('HGET', KEYS[3], c)
  if user then
    redis.call('HDEL', KEYS[3], c)
    if redis.call('HINCRBY', KEYS[4], user, -1) <= 0 then redis.call('HDEL', KEYS[4], user) end
  end
  return json
end
`;

/** Entries swept per call at most: a dead hub's thousands of entries go over a few sweeps. */
const SWEEP_BATCH = 1_000;
const SWEEP = `local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, ${SWEEP_BATCH})
local left = {}
for _, c in ipairs(expired) do
  local json = remove_one(c)
  if json then table.insert(left, json) end
end
`;

/** ARGV: 1 ttl ms, then (client, entry JSON, user or '') triples. Returns the entries that were new. */
const ADD_SCRIPT = `${NOW_MS}local ttl = tonumber(ARGV[1])
local joined = {}
for i = 2, #ARGV, 3 do
  local c, json, user = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HSETNX', KEYS[1], c, json) == 1 then
    table.insert(joined, json)
    if user ~= '' then
      redis.call('HSET', KEYS[3], c, user)
      redis.call('HINCRBY', KEYS[4], user, 1)
    end
  end
  redis.call('ZADD', KEYS[2], now + ttl, c)
end
for k = 1, 4 do redis.call('PEXPIRE', KEYS[k], ttl * 2) end
return joined`;

/** ARGV: client ids. Returns the entries removed. */
const REMOVE_SCRIPT = `${REMOVE_ONE}local left = {}
for i = 1, #ARGV do
  local json = remove_one(ARGV[i])
  if json then table.insert(left, json) end
end
return left`;

const EXPIRE_SCRIPT = `${NOW_MS}${REMOVE_ONE}${SWEEP}return left`;

/** Sweeps, then returns {the entries swept, every live entry}. */
const LIST_SCRIPT = `${NOW_MS}${REMOVE_ONE}${SWEEP}return {left, redis.call('HVALS', KEYS[1])}`;

/** Sweeps, then returns {the entries swept, connections, users}. */
const STATS_SCRIPT = `${NOW_MS}${REMOVE_ONE}${SWEEP}return {left, redis.call('HLEN', KEYS[1]), redis.call('HLEN', KEYS[4])}`;

/** Presence in Redis (memory: O(members) per channel; `stats` O(1) after the sweep). */
export class RedisPresenceStore implements PresenceStore {
  private readonly scripts: Record<'add' | 'remove' | 'expire' | 'list' | 'stats', RedisScript>;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    const define = (name: string, lua: string) => defineScript(redis, `sbPresence${name}`, 4, lua);
    this.scripts = {
      add: define('Add', ADD_SCRIPT),
      remove: define('Remove', REMOVE_SCRIPT),
      expire: define('Expire', EXPIRE_SCRIPT),
      list: define('List', LIST_SCRIPT),
      stats: define('Stats', STATS_SCRIPT),
    };
  }

  async add(channel: string, entries: readonly PresenceEntry[], ttlMs: number): Promise<PresenceEntry[]> {
    if (entries.length === 0) return [];
    const args: Array<string | number> = [ttlMs];
    for (const entry of entries) args.push(entry.c, JSON.stringify(entry), entry.u ?? '');
    return parseEntries(await this.run(this.scripts.add, channel, args));
  }

  async remove(channel: string, clients: readonly string[]): Promise<PresenceEntry[]> {
    if (clients.length === 0) return [];
    return parseEntries(await this.run(this.scripts.remove, channel, clients));
  }

  async expire(channel: string): Promise<PresenceEntry[]> {
    return parseEntries(await this.run(this.scripts.expire, channel, []));
  }

  async list(channel: string, limit: number): Promise<PresenceList> {
    const reply = await this.run(this.scripts.list, channel, []);
    const [left, live] = Array.isArray(reply) ? reply : [];
    const expired = parseEntries(left);
    const entries = parseEntries(live);
    return entries.length > limit
      ? { entries: entries.slice(0, limit), more: true, expired }
      : { entries, more: false, expired };
  }

  async stats(channel: string): Promise<PresenceStats> {
    const reply = await this.run(this.scripts.stats, channel, []);
    const [left, clients, users] = Array.isArray(reply) ? reply : [];
    return { clients: Number(clients ?? 0), users: Number(users ?? 0), expired: parseEntries(left) };
  }

  async close(): Promise<void> {}

  private run(script: RedisScript, channel: string, args: ReadonlyArray<string | number>): Promise<unknown> {
    const tag = `${this.prefix}{${channel}}`;
    return script(`${tag}:p`, `${tag}:pe`, `${tag}:pc`, `${tag}:pu`, ...args);
  }
}

/** Entries as Redis returns them; one that does not parse (written by something else) is skipped. */
function parseEntries(reply: unknown): PresenceEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: PresenceEntry[] = [];
  for (const item of reply) {
    if (typeof item !== 'string') continue;
    try {
      const parsed = PresenceEntry.safeParse(JSON.parse(item));
      if (parsed.success) entries.push(parsed.data);
    } catch {
      // Not JSON: not ours.
    }
  }
  return entries;
}
