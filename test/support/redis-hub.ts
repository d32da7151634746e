import { after, before } from 'node:test';
import { type RedisService, startRedis } from '../services/index.js';
import { startHub, type TestHub } from './hub.js';

export interface RedisHub {
  readonly redis: RedisService;
  readonly hub: TestHub;
}

/**
 * For the enclosing suite: a real redis-server and an in-process hub using it as its broker,
 * started before the suite's tests and stopped after them.
 */
export function useRedisHub(): RedisHub {
  const fixture = {} as { redis: RedisService; hub: TestHub };
  before(async () => {
    fixture.redis = await startRedis();
    fixture.hub = await startHub({ broker: { type: 'redis', url: fixture.redis.url } });
  });
  after(async () => {
    await fixture.hub?.stop();
    await fixture.redis?.destroy();
  });
  return fixture;
}
