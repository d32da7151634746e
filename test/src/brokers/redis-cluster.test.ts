import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeData, encodeData } from '@switchboard/protocol';
import { Cluster } from 'ioredis';
import type { Publication } from '../../../src/brokers/broker.js';
import { RedisClusterBroker } from '../../../src/brokers/redis-cluster.js';
import { slotOf } from '../../../src/brokers/redis-slot.js';
import { createLogger } from '../../../src/log.js';
import { type RedisClusterService, startRedisCluster } from '../../services/index.js';
import { waitFor } from '../../support/wait.js';
import { collector, deliveryRecorder } from '../support.js';
import { brokerContract } from './contract.js';

const log = createLogger('silent');
const history = { size: 100, ttlMs: 60_000 };
const settings = (nodes: readonly string[]) => ({
  nodes,
  url: 'redis://unused:6379',
  prefix: 'sb:',
  positionTtlSeconds: 3600,
  commandTimeoutMs: 2_000,
});

describe('slots', () => {
  it('are computed as Redis computes them, from the hash tag when there is one', () => {
    assert.deepEqual(
      ['foo', '123456789', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'sb:{a}:m', 'sb:#{a}'].map(slotOf),
      [12182, 12739, 3443, 8363, 4015, slotOf('a'), slotOf('a')],
    );
  });
});

describe('redis cluster broker (3 masters, one replica each)', () => {
  let cluster: RedisClusterService;
  before(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  });
  after(() => cluster.destroy());

  brokerContract('redis cluster', async () => new RedisClusterBroker(settings(cluster.urls), log));

  it('delivers each publication of 300 channels over every master once, in order, with SPUBLISH', async () => {
    const broker = new RedisClusterBroker(settings(cluster.urls), log);
    const delivered: Publication[] = [];
    await broker.start(collector(delivered));
    const channels = Array.from({ length: 300 }, (_, i) => `spread:${i}`);
    const masters = new Set(await Promise.all(channels.slice(0, 30).map((c) => cluster.masterOf(slotOf(c)))));
    assert.equal(masters.size, 3, 'the channels live on all three masters');
    await broker.subscribe(channels);
    for (let round = 1; round <= 3; round++) {
      await Promise.all(channels.map((channel) => broker.publish(channel, encodeData(round), history)));
    }
    await waitFor(() => delivered.length >= 900, '900 deliveries');
    for (const channel of channels) {
      const mine = delivered.filter((p) => p.channel === channel);
      assert.deepEqual(
        mine.map((p) => [p.position?.off, decodeData(p.data)]),
        [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      );
    }
    await broker.close();
  });

  it('delivers a plain PUBLISH <prefix><channel> sent to any node, live only', async () => {
    const broker = new RedisClusterBroker(settings(cluster.urls), log);
    const delivered: Publication[] = [];
    await broker.start(collector(delivered));
    await broker.subscribe(['raw:1']);
    const client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]?.port ?? 0 }]);
    await client.publish('sb:raw:1', '{"from":"redis-cli"}');
    await waitFor(() => delivered.some((p) => p.channel === 'raw:1'), 'the raw publication');
    assert.equal(delivered[0]?.position, undefined);
    assert.deepEqual(decodeData(delivered[0]?.data ?? new Uint8Array()), { from: 'redis-cli' });
    client.disconnect();
    await broker.close();
  });

  it('follows a failover: a killed master is named as not ready, its replica takes over, and delivery resumes on it', async () => {
    const broker = new RedisClusterBroker(settings(cluster.urls), log);
    const { handler, delivered, events } = deliveryRecorder();
    await broker.start(handler);
    const channel = 'failover:1';
    await broker.subscribe([channel]);
    await broker.publish(channel, encodeData(1), history);
    const victim = await cluster.masterOf(slotOf(channel));
    await victim.process.kill9();
    await waitFor(() => !broker.isReady(), 'not ready once the master is gone', 5_000);
    assert.ok(
      broker.notReady().some((reason) => reason.includes(`${victim.port}`)),
      `the reason names the master: ${broker.notReady().join('; ')}`,
    );
    const started = Date.now();
    await waitFor(() => broker.isReady(), 'ready once the replica took over', 30_000);
    console.log(`failover followed in ${Date.now() - started} ms (cluster-node-timeout 2,000 ms)`);
    assert.notEqual((await cluster.masterOf(slotOf(channel))).port, victim.port);
    assert.deepEqual(events, ['interrupted', 'resumed']);
    const next = await broker.publish(channel, encodeData(2), history);
    await waitFor(() => delivered.some((p) => p.position?.off === next.off), 'delivered from the new master');
    await broker.close();
  });
});
