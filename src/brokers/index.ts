import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import { RedisBroker } from './redis.js';
import { RedisClusterBroker } from './redis-cluster.js';
import type { ShardObserver } from './shard-metrics.js';

/** `observer` hears of each Redis shard (cluster master or independent shard) with a Redis broker. */
export function createBroker(settings: Config['broker'], log: Logger, observer?: ShardObserver): Broker {
  switch (settings.type) {
    case 'memory':
      return new MemoryBroker({ maxHistoryBytes: settings.maxHistoryBytes });
    case 'redis':
      return settings.cluster
        ? new RedisClusterBroker(
            { ...settings, nodes: settings.cluster },
            log.child({ component: 'redis-broker' }),
            observer,
          )
        : new RedisBroker(settings, log.child({ component: 'redis-broker' }), observer);
  }
}
