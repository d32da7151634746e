import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { Publisher } from '../../src/publisher.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/wait.js';

const CLIENTS = 300;
const ORDERS = 10;
const FEEDS = 5;
const LIVE = 5;
const channelsOf = (i: number) => [`orders:${i % ORDERS}`, `feed:${i % FEEDS}`, `live:${i % LIVE}`];
const all = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}:${i}`);

describe('three hubs behind an L4 balancer', () => {
  let cluster: Cluster;
  let fleet: Fleet;
  let kafka: Kafka;
  let publisher: Publisher;
  let redis: Redis;

  /** Publishes seqs from..to on every channel: orders through Kafka, feed through the publisher helper, live by plain PUBLISH. */
  async function publishRound(from: number, to: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    for (let seq = from; seq <= to; seq++) {
      await producer.send({
        topic: 'orders',
        acks: -1,
        messages: all('orders', ORDERS).map((key) => ({ key, value: JSON.stringify({ seq }) })),
      });
      for (const channel of all('feed', FEEDS)) await publisher.publish(channel, { seq });
      for (const channel of all('live', LIVE)) await redis.publish(`sb:${channel}`, JSON.stringify({ seq }));
    }
    await producer.disconnect();
  }

  const everyChannel = () => [...all('orders', ORDERS), ...all('feed', FEEDS), ...all('live', LIVE)];
  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const expecting = (from: number, to: number) => new Map(everyChannel().map((c) => [c, seqs(from, to)]));

  function assertExactlyOnceInOrder(from: number, to: number): void {
    for (const channel of everyChannel()) {
      const delivery = fleet.delivery(channel, seqs(from, to));
      assert.deepEqual(delivery, { lost: 0, duplicated: 0, outOfOrder: 0 }, `${channel} seqs ${from}..${to}`);
    }
  }

  before(async () => {
    cluster = await startCluster({
      hubs: 3,
      topics: ['orders', 'commands'],
      config: (brokers) => ({
        kafka: { brokers, groupId: 'scale-out', fromBeginning: true, sessionTimeoutMs: 6_000 },
        namespaces: {
          orders: { kafkaIngress: { topic: 'orders' }, clientPublish: false },
          cmd: { egress: { type: 'kafka', topic: 'commands' } },
        },
      }),
    });
    kafka = new Kafka({ clientId: 'test-service', brokers: cluster.kafka?.brokers ?? [], logLevel: logLevel.NOTHING });
    publisher = new Publisher({ url: cluster.redis.url });
    await publisher.connect();
    redis = new Redis(cluster.redis.url);
    fleet = await Fleet.connect(cluster.url, CLIENTS, channelsOf);
  });
  after(async () => {
    fleet?.close();
    redis?.disconnect();
    await publisher?.close();
    await cluster?.stop();
  });

  it('spreads 300 clients over the three hubs', () => {
    const perHub = new Map<string, number>();
    for (const member of fleet.members) {
      const node = member.nodes.at(-1) ?? '?';
      perHub.set(node, (perHub.get(node) ?? 0) + 1);
    }
    assert.equal(perHub.size, 3, JSON.stringify([...perHub]));
    for (const [node, count] of perHub) assert.ok(count >= 50, `${node} serves ${count}`);
  });

  it('delivers events from Kafka, the publisher helper and plain PUBLISH to every subscriber exactly once, in order', async () => {
    await publishRound(1, 10);
    await fleet.received(expecting(1, 10));
    assertExactlyOnceInOrder(1, 10);
  });

  it('delivers a client publish to a Kafka consumer with its channel and connection headers', async () => {
    const consumer = kafka.consumer({ groupId: 'audit-service' });
    const received: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'commands', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
      },
    });
    const [member] = fleet.members;
    assert.ok(member);
    assert.deepEqual(await member.client.publish('cmd:audit', { seq: 1 }), {});
    await waitFor(() => received.length === 1, 'the consumer to receive the client publish', 30_000);
    assert.equal(received[0]?.key?.toString(), 'cmd:audit');
    assert.equal(received[0]?.headers?.channel?.toString(), 'cmd:audit');
    assert.ok(received[0]?.headers?.connection?.toString());
    await consumer.disconnect();
  });

  it('moves the clients of a hub killed with -9 to the others, without disturbing anyone else', async () => {
    const victim = cluster.hubs[0];
    assert.ok(victim);
    const victimName = `${hostname()}-${victim.process.pid}`;
    const onVictim = fleet.members.filter((m) => m.nodes.at(-1) === victimName);
    const others = fleet.members.filter((m) => m.nodes.at(-1) !== victimName);
    assert.ok(onVictim.length > 0, 'the victim served clients');
    await victim.process.kill9();
    await waitFor(() => onVictim.every((m) => m.disconnects > 0), 'its clients to notice');
    await fleet.settled(30_000);
    assert.ok(
      onVictim.every((m) => m.nodes.at(-1) !== victimName),
      'they reconnected to the surviving hubs',
    );
    assert.deepEqual(
      others.filter((m) => m.disconnects > 0).map((m) => m.nodes.at(-1)),
      [],
      'the other hubs kept their clients connected',
    );
    await publishRound(11, 20);
    await fleet.received(expecting(11, 20), 60_000);
    assertExactlyOnceInOrder(11, 20);
  });
});
