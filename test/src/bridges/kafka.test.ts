import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { createTopics, type KafkaService, startKafka } from '../../services/index.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

describe('kafka bridge', () => {
  let kafka: KafkaService;
  let hub: TestHub;
  let client: Kafka;
  before(async () => {
    kafka = await startKafka();
    await createTopics(kafka.brokers, ['orders', 'commands'], 3);
    client = new Kafka({ clientId: 'test-service', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    hub = await startHub({
      kafka: { brokers: kafka.brokers, fromBeginning: true, groupId: `ingress-${process.pid}` },
      namespaces: {
        orders: { kafkaIngress: { topic: 'orders' }, clientPublish: false },
        cmd: { egress: { type: 'kafka', topic: 'commands' } },
      },
    });
    await waitFor(() => hub.node.bridges.notReady().length === 0, 'the bridges to be ready', 60_000);
  });
  after(async () => {
    await hub?.stop();
    await kafka?.destroy();
  });

  it('delivers events a plain producer sends, keyed by channel or named by a channel header', async () => {
    const subscriber = await RawClient.connected(hub.url);
    await subscriber.ok({ t: 'sub', ch: 'orders:42' });
    await subscriber.ok({ t: 'sub', ch: 'orders:7' });
    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic: 'orders',
      messages: [
        { key: 'orders:42', value: JSON.stringify({ n: 1 }) },
        { key: 'ignored-key', value: JSON.stringify({ n: 2 }), headers: { channel: 'orders:7' } },
        { key: 'admin:1', value: JSON.stringify({ n: 3 }) },
        { key: 'orders:42', value: 'plain text' },
      ],
    });
    await producer.disconnect();
    await waitFor(() => subscriber.publications().length === 3, 'three deliveries', 30_000);
    assert.deepEqual(
      subscriber.publications('orders:42').map((p) => [p.off, p.d]),
      [
        [1, { n: 1 }],
        [2, 'plain text'],
      ],
    );
    assert.deepEqual(
      subscriber.publications('orders:7').map((p) => p.d),
      [{ n: 2 }],
    );
    subscriber.close();
  });

  it('sends a client publish to the egress topic keyed by channel, with headers, and acks after Kafka accepted it', async () => {
    const consumer = client.consumer({ groupId: `service-${process.pid}` });
    const received: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'commands', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
      },
    });
    const publisher = await RawClient.connected(hub.url);
    const ack = await publisher.request({ t: 'pub', ch: 'cmd:refund', d: { amount: 5 } });
    assert.deepEqual(ack, { t: 'ok', id: ack.id, r: {} });
    await waitFor(() => received.length === 1, 'the service to receive it', 30_000);
    const [message] = received;
    assert.equal(message?.key?.toString(), 'cmd:refund');
    assert.deepEqual(JSON.parse(message?.value?.toString() ?? ''), { amount: 5 });
    const session = [...hub.node.sessions][0];
    assert.equal(message?.headers?.connection?.toString(), session?.id);
    assert.equal(message?.headers?.channel?.toString(), 'cmd:refund');
    assert.ok(Number(message?.headers?.timestamp?.toString()) > 0);
    await consumer.disconnect();
    publisher.close();
  });

  it('refuses client publishes into an ingress-only namespace', async () => {
    const publisher = await RawClient.connected(hub.url);
    const reply = await publisher.request({ t: 'pub', ch: 'orders:1', d: 1 });
    assert.equal(reply.t === 'err' && reply.code, ErrorCode.PERMISSION_DENIED);
    publisher.close();
  });
});
