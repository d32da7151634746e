import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import { RedisBroker } from './redis.js';
import { RedisClusterBroker } from './redis-cluster.js';

export function createBroker(settings: Config['broker'], log: Logger): Broker {
  switch (settings.type) {
    case 'memory':
      return new MemoryBroker({ maxHistoryBytes: settings.maxHistoryBytes });
    case 'redis':
      return settings.cluster
        ? new RedisClusterBroker({ ...settings, nodes: settings.cluster }, log.child({ component: 'redis-broker' }))
        : new RedisBroker(settings, log.child({ component: 'redis-broker' }));
  }
}
