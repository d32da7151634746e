import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Publisher } from '../../src/publisher.js';
import { RawClient } from '../support/raw-client.js';
import { useRedisHub } from '../support/redis-hub.js';
import { waitFor } from '../support/wait.js';

describe('publisher helper', () => {
  const fixture = useRedisHub();

  it('publishes straight into Redis with a position that subscribers receive and history keeps', async () => {
    const subscriber = await RawClient.connected(fixture.hub.url);
    await subscriber.ok({ t: 'sub', ch: 'orders:1' });
    const publisher = new Publisher({ url: fixture.redis.url });
    await publisher.connect();
    const first = await publisher.publish('orders:1', { status: 'paid' });
    const second = await publisher.publish('orders:1', { status: 'shipped' });
    assert.deepEqual([first.offset, second.offset], [1, 2]);
    await waitFor(() => subscriber.publications('orders:1').length === 2, 'both publications');
    assert.deepEqual(
      subscriber.publications('orders:1').map((p) => [p.off, p.d]),
      [
        [1, { status: 'paid' }],
        [2, { status: 'shipped' }],
      ],
    );
    const replay = await fixture.hub.node.broker.read('orders:1', { after: 0, limit: 10 });
    assert.equal(replay.top.ep, first.epoch);
    assert.equal(replay.publications.length, 2);
    await assert.rejects(publisher.publish('bad channel', 1));
    await publisher.close();
    subscriber.close();
  });
});
