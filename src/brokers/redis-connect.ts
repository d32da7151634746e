import type * as IORedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { optional } from '../optional.js';

const SENTINEL_SCHEME = 'redis+sentinel://';

/**
 * A connection to one Redis, named by a URL: `redis://` or `rediss://` for a Redis at a fixed
 * address, or `redis+sentinel://host:port[,host:port…]/<master name>` for a primary/replica group
 * managed by Sentinel, where the connection asks the sentinels for the current primary on every
 * (re)connect, so that a failover is a reconnection like any other outage.
 */
export function redisConnection(url: string, options: RedisOptions): Redis {
  const { Redis: RedisClass } = optional<typeof IORedis>('ioredis');
  const sentinel = parseSentinelUrl(url);
  if (!sentinel) return new RedisClass(url, options);
  return new RedisClass({ ...options, sentinels: sentinel.sentinels, name: sentinel.name, role: 'master' });
}

/** The sentinels and the master name of a `redis+sentinel://` URL; undefined for any other URL. */
export function parseSentinelUrl(
  url: string,
): { sentinels: Array<{ host: string; port: number }>; name: string } | undefined {
  if (!url.startsWith(SENTINEL_SCHEME)) return undefined;
  const rest = url.slice(SENTINEL_SCHEME.length);
  const slash = rest.indexOf('/');
  const hosts = slash === -1 ? rest : rest.slice(0, slash);
  const name = slash === -1 ? '' : rest.slice(slash + 1);
  const sentinels = hosts.split(',').map((hostPort) => {
    const colon = hostPort.lastIndexOf(':');
    return colon === -1
      ? { host: hostPort, port: 26_379 }
      : { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) };
  });
  return { sentinels, name: name || 'mymaster' };
}

/** `host:port` of a Redis URL (never its credentials), or `sentinel/<master name>`, to name a shard. */
export function nodeName(url: string): string {
  const sentinel = parseSentinelUrl(url);
  if (sentinel) return `sentinel/${sentinel.name}`;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'redis';
  }
}
