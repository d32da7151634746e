import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeData, encodeData } from '@switchboard/protocol';
import { Redis } from 'ioredis';
import type { Publication } from '../../../src/brokers/broker.js';
import { RedisBroker } from '../../../src/brokers/redis.js';
import { createLogger } from '../../../src/log.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { waitFor } from '../../support/wait.js';
import { collector } from '../support.js';
import { brokerContract } from './contract.js';

const log = createLogger('silent');
const history = { size: 10, ttlMs: 60_000 };
const settings = (url: string, commandTimeoutMs = 2_000) => ({
  url,
  prefix: 'sb:',
  positionTtlSeconds: 3600,
  commandTimeoutMs,
});

describe('redis broker', () => {
  let redis: RedisService;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.destroy());

  brokerContract('redis', async () => new RedisBroker(settings(redis.url), log));

  describe('against a real redis-server', () => {
    let broker: RedisBroker;
    let client: Redis;
    const delivered: Publication[] = [];
    before(async () => {
      broker = new RedisBroker(settings(redis.url), log);
      await broker.start(collector(delivered));
      client = new Redis(redis.url);
    });
    after(async () => {
      await broker.close();
      client.disconnect();
    });

    it('delivers a plain PUBLISH <prefix><channel> from any client live, without a position', async () => {
      await broker.subscribe(['raw:1']);
      await client.publish('sb:raw:1', '{"from":"redis-cli"}');
      await client.publish('sb:raw:1', 'not json');
      await waitFor(() => delivered.filter((p) => p.channel === 'raw:1').length === 2, 'two raw deliveries');
      const [json, text] = delivered.filter((p) => p.channel === 'raw:1');
      assert.equal(json?.position, undefined);
      assert.deepEqual(decodeData(json?.data ?? new Uint8Array()), { from: 'redis-cli' });
      assert.equal(decodeData(text?.data ?? new Uint8Array()), 'not json');
    });

    it('reads no source anchors at all when one of them is unreadable, so that no replay counts across a missing one', async () => {
      const anchored = { ...history, anchors: true };
      const idempotency = (sequence: number) => ({ idempotency: { source: 'orders/0', sequence } });
      await broker.publish('anchored', encodeData(1), anchored, idempotency(1));
      await broker.publish('anchored', encodeData(2), anchored);
      assert.equal((await broker.read('anchored', { after: 0, limit: 1, sources: true })).sources?.length, 2);
      await client.rpush('sb:{anchored}:s', 'not an anchor');
      assert.deepEqual((await broker.read('anchored', { after: 0, limit: 1, sources: true })).sources, []);
    });

    it('keeps one channel contiguous under concurrent publishers', async () => {
      const publishers = [broker, new RedisBroker(settings(redis.url), log)];
      await publishers[1]?.start(collector([]));
      const positions = await Promise.all(
        Array.from({ length: 200 }, (_, i) => publishers[i % 2]?.publish('busy', encodeData(i), history)),
      );
      const offsets = positions.map((p) => p?.off ?? 0).sort((a, b) => a - b);
      assert.deepEqual(
        offsets,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      await publishers[1]?.close();
    });

    it('trims history by age in Redis itself, not only when read: an entry outlives its time to live by an eighth at most', async () => {
      const aged = { size: 10_000, ttlMs: 800 };
      for (let i = 1; i <= 20; i++) await broker.publish('aged', encodeData(i), aged);
      assert.equal(await client.xlen('sb:{aged}:h'), 20);
      await new Promise((resolve) => setTimeout(resolve, 800 + 100 + 50));
      await broker.publish('aged', encodeData(21), aged);
      assert.equal(await client.xlen('sb:{aged}:h'), 1, 'the 20 older than 800 ms are gone from Redis');
      const read = await broker.read('aged', { after: 0, limit: 100 });
      assert.deepEqual(
        read.publications.map((p) => p.position.off),
        [21],
      );
    });
  });

  describe('when Redis stops answering but keeps its connections (SIGSTOP)', () => {
    it('fails commands within the command timeout, turns not ready, and reports delivery interrupted, then resumed', async () => {
      const own = await startRedis();
      const broker = new RedisBroker(settings(own.url, 300), log);
      const events: string[] = [];
      await broker.start({
        onPublication: () => undefined,
        onPresence: () => undefined,
        onDeliveryInterrupted: () => events.push('interrupted'),
        onDeliveryResumed: () => events.push('resumed'),
      });
      await broker.subscribe(['stalled']);
      await broker.publish('stalled', encodeData(1), history);
      own.process.pause();
      try {
        const started = Date.now();
        await assert.rejects(broker.publish('stalled', encodeData(2), history), /timed out/);
        const waited = Date.now() - started;
        assert.ok(waited < 300 + 200, `answered after ${waited} ms, within the 300 ms timeout`);
        assert.equal(broker.isReady(), false, 'not ready once a command timed out');
        assert.deepEqual(events, ['interrupted']);
      } finally {
        own.process.resume();
      }
      await waitFor(() => broker.isReady(), 'ready once Redis answers', 5_000);
      assert.deepEqual(events, ['interrupted', 'resumed']);
      assert.equal((await broker.publish('stalled', encodeData(3), history)).off >= 2, true);
      await broker.close();
      await own.destroy();
    });

    it('notices a stall without any command of its own, through its PING', async () => {
      const own = await startRedis();
      const broker = new RedisBroker(settings(own.url, 300), log);
      await broker.start(collector([]));
      own.process.pause();
      try {
        await waitFor(() => !broker.isReady(), 'not ready while paused', 3_000);
      } finally {
        own.process.resume();
      }
      await waitFor(() => broker.isReady(), 'ready again', 5_000);
      await broker.close();
      await own.destroy();
    });
  });

  describe('when Redis goes away', () => {
    it('reports not ready and fails publishes fast, then recovers with a new epoch', async () => {
      const own = await startRedis();
      const broker = new RedisBroker(settings(own.url), log);
      const delivered: Publication[] = [];
      await broker.start(collector(delivered));
      await broker.subscribe(['r']);
      const before = await broker.publish('r', encodeData(1), history);
      await own.kill9();
      await waitFor(() => !broker.isReady(), 'not ready');
      await assert.rejects(broker.publish('r', encodeData(2), history));
      await own.start();
      await waitFor(() => broker.isReady(), 'ready again', 10_000);
      const after = await broker.publish('r', encodeData(3), history);
      assert.notEqual(after.ep, before.ep, 'history was lost, so the epoch changed');
      assert.equal(after.off, 1);
      await waitFor(() => delivered.some((p) => p.position?.ep === after.ep), 'delivery after resubscribe', 10_000);
      await broker.close();
      await own.destroy();
    });
  });
});
