import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeData, encodeData } from '@switchboard/protocol';
import { RedisBroker } from '../../../src/brokers/redis.js';
import { nodeName, parseSentinelUrl } from '../../../src/brokers/redis-connect.js';
import { createLogger } from '../../../src/log.js';
import { type RedisSentinelService, startRedisSentinel } from '../../services/index.js';
import { waitFor } from '../../support/wait.js';
import { deliveryRecorder } from '../support.js';

const log = createLogger('silent');
const history = { size: 100, ttlMs: 60_000 };

describe('sentinel URLs', () => {
  it('name the sentinels and the master, and a shard by its master name', () => {
    assert.deepEqual(parseSentinelUrl('redis+sentinel://10.0.0.1:26379,10.0.0.2/orders'), {
      sentinels: [
        { host: '10.0.0.1', port: 26_379 },
        { host: '10.0.0.2', port: 26_379 },
      ],
      name: 'orders',
    });
    assert.equal(parseSentinelUrl('redis://127.0.0.1:6379'), undefined);
    assert.equal(nodeName('redis+sentinel://10.0.0.1:26379/orders'), 'sentinel/orders');
    assert.equal(nodeName('redis://user:secret@10.0.0.1:6380'), '10.0.0.1:6380');
  });
});

describe('redis broker on a Sentinel-managed primary and replica', () => {
  let group: RedisSentinelService;
  before(async () => {
    group = await startRedisSentinel();
  });
  after(() => group.destroy());

  it('treats a failover as an outage: not ready, then on the promoted replica with delivery resumed and positions kept', async () => {
    const broker = new RedisBroker(
      { url: group.url, prefix: 'sb:', positionTtlSeconds: 3600, commandTimeoutMs: 1_000 },
      log,
    );
    const { handler, delivered, events } = deliveryRecorder();
    await broker.start(handler);
    assert.equal(broker.isReady(), true);
    await broker.subscribe(['s']);
    const first = await broker.publish('s', encodeData(1), history);
    // Let the replica take the publication before its primary dies (replication is asynchronous).
    await new Promise((resolve) => setTimeout(resolve, 200));
    await group.primary.kill9();
    await waitFor(() => !broker.isReady(), 'not ready once the primary is gone', 5_000);
    assert.ok(
      broker.notReady().some((reason) => reason.includes('sentinel/')),
      broker.notReady().join('; '),
    );
    const started = Date.now();
    await waitFor(() => broker.isReady(), 'ready on the promoted replica', 30_000);
    console.log(`sentinel failover followed in ${Date.now() - started} ms (down-after 1,000 ms)`);
    assert.equal(await group.primaryPort(), group.replica.port);
    assert.deepEqual(events, ['interrupted', 'resumed']);
    const second = await broker.publish('s', encodeData(2), history);
    assert.deepEqual(second, { ep: first.ep, off: 2 }, 'the replica kept the channel: same epoch, next offset');
    await waitFor(() => delivered.some((p) => p.position?.off === 2), 'delivered from the new primary');
    assert.equal(decodeData(delivered.at(-1)?.data ?? new Uint8Array()), 2);
    await broker.close();
  });
});
