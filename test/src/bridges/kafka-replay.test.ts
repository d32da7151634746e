import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { rebalanceDelayMs } from '../../../src/bridges/kafka-replay.js';
import { createTopics, type KafkaService, type RedisService, startKafka, startRedis } from '../../services/index.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

/**
 * Replay from Kafka beyond Redis history (namespace `kafkaIngress.replay`), against a real Kafka
 * and a real Redis: Redis keeps 5 publications per channel, Kafka all of them.
 */
describe('replay from kafka when redis history was trimmed', () => {
  let kafka: KafkaService;
  let redis: RedisService;
  let hub: TestHub;
  let producer: Producer;
  let client: Kafka;
  const history = { size: 5, ttlSeconds: 600 };

  before(async () => {
    [kafka, redis] = await Promise.all([startKafka(), startRedis()]);
    await createTopics(kafka.brokers, ['orders', 'plain'], 3);
    await createTopics(kafka.brokers, ['audit'], 1);
    client = new Kafka({ clientId: 'test-service', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    producer = client.producer();
    await producer.connect();
    hub = await startHub({
      broker: { type: 'redis', url: redis.url },
      kafka: { brokers: kafka.brokers, fromBeginning: true, groupId: `replay-${process.pid}` },
      namespaces: {
        orders: { kafkaIngress: { topic: 'orders', replay: true }, clientPublish: false, history },
        audit: { kafkaIngress: { topic: 'audit', replay: true }, clientPublish: false, history },
        plain: { kafkaIngress: { topic: 'plain' }, clientPublish: false, history },
      },
    });
    await waitFor(() => hub.node.bridges.notReady().length === 0, 'the bridges to be ready', 60_000);
  });
  after(async () => {
    await producer?.disconnect();
    await hub?.stop();
    await Promise.all([kafka?.destroy(), redis?.destroy()]);
  });

  /**
   * Produces `count` records for `channel`, each followed by one for a neighbour on the same
   * partition or not; `pad` bytes each, so that a replay spans several fetches (kafkajs fetches
   * up to 1 MiB of a partition at once).
   */
  async function produce(topic: string, channel: string, first: number, count: number, pad = 0): Promise<void> {
    // In requests of 50 pairs: one request must stay under the broker's 1 MiB message limit.
    for (let start = 0; start < count; start += 50) {
      const messages = Array.from({ length: Math.min(50, count - start) }, (_, i) => [
        { key: channel, value: JSON.stringify({ n: first + start + i, pad: 'x'.repeat(pad) }) },
        { key: `${channel}-other`, value: JSON.stringify({ noise: first + start + i }) },
      ]).flat();
      await producer.send({ topic, messages });
    }
  }

  /** Waits until the channel's top offset in Redis reached `off`; returns its epoch. */
  async function ingested(channel: string, off: number): Promise<string> {
    let ep = '';
    await waitFor(
      () => {
        void hub.node.broker.read(channel, { after: 0, limit: 0 }).then(({ top }) => {
          if (top.off >= off) ep = top.ep;
        });
        return ep !== '';
      },
      `${channel} to reach offset ${off}`,
      30_000,
    );
    return ep;
  }

  const numbers = (subscriber: RawClient, channel: string) =>
    subscriber.publications(channel).map((push) => [push.off, (push.d as { n: number }).n]);

  it('replays every publication Kafka holds after `since`, exactly and in order, then live ones with no gap', async () => {
    // 250 records of 8 KiB: the anchors every 100 offsets of one partition are crossed and
    // checked, over two fetches at least.
    await produce('orders', 'orders:42', 1, 250, 8_192);
    const ep = await ingested('orders:42', 250);
    const held = await hub.node.broker.read('orders:42', { after: 0, limit: 1_000 });
    assert.deepEqual(
      held.publications.map((p) => p.position.off),
      [246, 247, 248, 249, 250],
      'Redis keeps only the last five',
    );

    const subscriber = await RawClient.connected(hub.url);
    const reply = await subscriber.ok({ t: 'sub', ch: 'orders:42', since: { ep, off: 1 } });
    assert.deepEqual(reply, { ep, off: 250, rec: true });
    await waitFor(() => subscriber.publications('orders:42').length === 249, 'the 249 missed', 10_000);
    await produce('orders', 'orders:42', 251, 3);
    await waitFor(() => subscriber.publications('orders:42').length === 252, 'three live ones', 30_000);
    const expected = Array.from({ length: 252 }, (_, i) => [i + 2, i + 2]);
    assert.deepEqual(numbers(subscriber, 'orders:42'), expected);
    subscriber.close();
  });

  it('replays from a position between two anchors, and shares one read among resumes asking for the same', async () => {
    const ep = await ingested('orders:42', 253);
    const subscribers = await Promise.all([1, 2, 3].map(() => RawClient.connected(hub.url)));
    const replies = await Promise.all(
      subscribers.map((s) => s.ok({ t: 'sub', ch: 'orders:42', since: { ep, off: 150 } })),
    );
    for (const reply of replies) assert.deepEqual(reply, { ep, off: 253, rec: true });
    for (const subscriber of subscribers) {
      await waitFor(() => subscriber.publications('orders:42').length === 103, 'offsets 151 to 253');
      assert.deepEqual(
        numbers(subscriber, 'orders:42'),
        Array.from({ length: 103 }, (_, i) => [151 + i, 151 + i]),
      );
      subscriber.close();
    }
    const metrics = await (await fetch(`${hub.http}/metrics`)).text();
    const replayed = /switchboard_kafka_replays_total\{outcome="replayed"\} (\d+)/.exec(metrics)?.[1];
    assert.equal(replayed, '2', 'one replay for the first test, one for the three resumes here');
  });

  it('answers trimmed, with the live stream after it, when Kafka retention no longer holds what history trimmed', async () => {
    await produce('audit', 'audit:7', 1, 20);
    const ep = await ingested('audit:7', 20);
    const admin = client.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('audit');
    // Retention as Kafka applies it: the partition's start moves past the channel's first records.
    await admin.deleteTopicRecords({
      topic: 'audit',
      partitions: offsets.map(({ partition, high }) => ({ partition, offset: String(Number(high) - 10) })),
    });
    await admin.disconnect();
    const subscriber = await RawClient.connected(hub.url);
    const reply = await subscriber.ok({ t: 'sub', ch: 'audit:7', since: { ep, off: 1 } });
    assert.deepEqual(reply, { ep, off: 20, rec: false, why: 'trimmed' });
    await produce('audit', 'audit:7', 21, 1);
    await waitFor(() => subscriber.publications('audit:7').length === 1, 'the next live one');
    assert.deepEqual(numbers(subscriber, 'audit:7'), [[21, 21]]);
    const metrics = await (await fetch(`${hub.http}/metrics`)).text();
    assert.match(metrics, /switchboard_kafka_replays_total\{outcome="retention"\} 1/);
    subscriber.close();
  });

  it("reads the brokers' group join delay, which every replay waits for (this test Kafka sets it to 0)", async () => {
    const admin = client.admin();
    await admin.connect();
    try {
      assert.equal(await rebalanceDelayMs(admin), 0);
    } finally {
      await admin.disconnect();
    }
  });

  it('does not read Kafka for a namespace without replay', async () => {
    await produce('plain', 'plain:1', 1, 10);
    const ep = await ingested('plain:1', 10);
    const subscriber = await RawClient.connected(hub.url);
    const reply = await subscriber.ok({ t: 'sub', ch: 'plain:1', since: { ep, off: 1 } });
    assert.deepEqual(reply, { ep, off: 10, rec: false, why: 'trimmed' });
    subscriber.close();
  });
});
