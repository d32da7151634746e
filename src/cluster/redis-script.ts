import type { RedisCommands as Redis } from '../brokers/redis-store.js';

/** A Lua script bound to a connection: keys first, then arguments. */
export type RedisScript = (...keysThenArgs: Array<string | number>) => Promise<unknown>;

/**
 * Defines `lua` on `redis` as command `name` (sent by SHA once loaded, so a script of a few hundred
 * bytes is not resent with every call) and returns it.
 */
export function defineScript(redis: Redis, name: string, numberOfKeys: number, lua: string): RedisScript {
  redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, RedisScript | undefined>)[name];
  if (!command) throw new Error(`script ${name} was not defined`);
  return command.bind(redis);
}
