import { after, before, describe } from 'node:test';
import { Redis } from 'ioredis';
import { RedisPresenceStore } from '../../../src/presence/redis-store.js';
import { MemoryPresenceStore } from '../../../src/presence/store.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { presenceStoreContract } from './contract.js';

presenceStoreContract('memory', async () => new MemoryPresenceStore());

describe('against a real redis-server', () => {
  let redis: RedisService;
  const connections: Redis[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const connection of connections) connection.disconnect();
    await redis.destroy();
  });
  presenceStoreContract('redis', async () => {
    const connection = new Redis(redis.url);
    connections.push(connection);
    return new RedisPresenceStore(connection, 'sb:');
  });
});
