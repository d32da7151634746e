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

  it('publishMany: in order, one outcome per item, a bad item failing alone', async () => {
    const subscriber = await RawClient.connected(fixture.hub.url);
    await subscriber.ok({ t: 'sub', ch: 'ticks:1' });
    const publisher = new Publisher({ url: fixture.redis.url, history: { size: 1_000, ttlSeconds: 60 } });
    await publisher.connect();
    const items = Array.from({ length: 600 }, (_, i) => ({ channel: i % 2 ? 'ticks:1' : 'ticks:2', data: { i } }));
    const outcomes = await publisher.publishMany(items);
    assert.deepEqual(
      outcomes.filter((_, i) => i % 2).map((o) => ('offset' in o ? o.offset : -1)),
      Array.from({ length: 300 }, (_, n) => n + 1),
    );
    await waitFor(() => subscriber.publications('ticks:1').length === 300, 'every publication');
    assert.deepEqual(
      subscriber.publications('ticks:1').map((p) => p.d),
      items.filter((_, i) => i % 2).map((item) => item.data),
    );
    const [bad, good] = await publisher.publishMany([
      { channel: 'bad channel', data: 1 },
      { channel: 'ticks:1', data: 'after' },
    ]);
    assert.ok(bad && 'error' in bad, 'the bad item fails');
    assert.ok(good && 'offset' in good && good.offset === 301, 'the next one stands');
    await publisher.close();
    subscriber.close();
  });
});
