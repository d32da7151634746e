import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { Publisher } from '../../src/publisher.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { assertExact, channelsOf as channels } from '../support/exact.js';
import { Fleet } from '../support/fleet.js';
import { Flow } from '../support/flow.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep, waitFor } from '../support/wait.js';

// History and recovery as configured by default (the last two minutes); drain, cuts every 2 s and
// Redis failures under load are in drain.test.ts and redis.test.ts.
const HUB_CONFIG = (brokers: string[]) => ({
  shutdownGraceSeconds: 2,
  kafka: { brokers, groupId: 'chaos', fromBeginning: true, sessionTimeoutMs: 6_000, stallTimeoutSeconds: 15 },
  namespaces: {
    ingress: { kafkaIngress: { topic: 'ingress' }, clientPublish: false },
    short: { history: { size: 5, ttlSeconds: 300 } },
  },
});

describe('chaos: real Redis, Kafka, HAProxy and three hubs', () => {
  let cluster: Cluster;
  let publisher: Publisher;
  const fleets: Fleet[] = [];
  const proxies: TcpProxy[] = [];

  /** Publishes through the publisher helper straight into Redis, so that no hub is on the path. */
  const viaRedis = (channel: string, seq: number) => publisher.publish(channel, { seq });

  async function fleetOn(prefix: string, count: number, clients: number, url?: (i: number) => string) {
    const fleet = await Fleet.connect(url ?? cluster.url, clients, (i) => [
      `${prefix}:${i % count}`,
      `${prefix}:${(i + 1) % count}`,
    ]);
    fleets.push(fleet);
    return fleet;
  }

  async function proxyToBalancer(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(cluster.haproxy.port);
    proxies.push(proxy);
    return proxy;
  }

  before(async () => {
    cluster = await startCluster({ hubs: 3, topics: ['ingress'], config: HUB_CONFIG });
    publisher = new Publisher({ url: cluster.redis.url });
    await publisher.connect();
  });
  after(async () => {
    for (const fleet of fleets) fleet.close();
    for (const proxy of proxies) await proxy.close();
    await publisher?.close();
    await cluster?.stop();
  });

  it("cutting one client's network for 2 s while 200 msg/s flow loses, doubles and reorders nothing", async () => {
    const proxy = await proxyToBalancer();
    const fleet = await fleetOn('cut', 5, 20, (i) => (i === 0 ? proxy.urlFor(cluster.url) : cluster.url));
    const flow = Flow.start(channels('cut', 5), 200, viaRedis);
    await sleep(1_000);
    proxy.cut(2_000);
    await sleep(3_000);
    await flow.stop();
    await assertExact('cut socket', fleet, flow.acked);
    const victim = fleet.members[0];
    assert.ok(victim && victim.disconnects > 0, 'the cut client lost its connection');
    assert.ok(
      [...victim.recoveries.values()].every((r) => r.length > 0 && r.every((x) => x.recovered)),
      'and recovered',
    );
  });

  it('killing a hub with -9 under load: its clients reconnect through HAProxy and recover exactly', async () => {
    const fleet = await fleetOn('kill', 10, 60);
    const flow = Flow.start(channels('kill', 10), 200, viaRedis);
    await sleep(1_000);
    const victim = cluster.hubs[0];
    assert.ok(victim);
    await victim.process.kill9();
    await sleep(4_000);
    await flow.stop();
    await cluster.respawn(0);
    await assertExact('kill -9 a hub', fleet, flow.acked);
    assert.ok(
      fleet.members.some((m) => m.disconnects > 0),
      'some clients were on the killed hub',
    );
  });

  it('a client offline longer than history reaches is told recovered: false and gets no partial replay', async () => {
    const proxy = await proxyToBalancer();
    const fleet = await fleetOn('short', 1, 1, () => proxy.urlFor(cluster.url));
    const [member] = fleet.members;
    assert.ok(member);
    // History as the namespace `short` keeps it: the last 5 publications.
    const shortHistory = new Publisher({ url: cluster.redis.url, history: { size: 5, ttlSeconds: 300 } });
    await shortHistory.connect();
    const publish = (seq: number) => shortHistory.publish('short:0', { seq });
    for (let seq = 1; seq <= 3; seq++) await publish(seq);
    await waitFor(() => member.received.get('short:0')?.length === 3, 'the first three');
    proxy.cut(3_000);
    await waitFor(() => member.client.state !== 'connected', 'the client to notice the cut');
    for (let seq = 4; seq <= 20; seq++) await publish(seq);
    await waitFor(() => (member.recoveries.get('short:0')?.length ?? 0) > 0, 'the resubscription', 15_000);
    await publish(21);
    await waitFor(() => member.received.get('short:0')?.includes(21) === true, 'the next live publication');
    const recoveries = member.recoveries.get('short:0') ?? [];
    console.log(
      `chaos offline too long: ${JSON.stringify(recoveries)}, received ${JSON.stringify(member.received.get('short:0'))}`,
    );
    assert.deepEqual(
      recoveries.map((r) => r.recovered),
      [false],
    );
    assert.ok(['trimmed', 'too_many_missed'].includes(recoveries[0]?.reason ?? ''), recoveries[0]?.reason);
    assert.deepEqual(member.received.get('short:0'), [1, 2, 3, 21], 'nothing of the unrecoverable span');
    await shortHistory.close();
  });

  it('restarting Kafka during ingress delivers every event Kafka acknowledged, once', async () => {
    const kafkaService = cluster.kafka;
    assert.ok(kafkaService);
    const fleet = await fleetOn('ingress', 5, 20);
    const kafka = new Kafka({
      clientId: 'chaos-service',
      brokers: kafkaService.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    let producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const viaKafka = async (channel: string, seq: number) => {
      await producer.send({
        topic: 'ingress',
        acks: -1,
        timeout: 2_000,
        messages: [{ key: channel, value: JSON.stringify({ seq }) }],
      });
    };
    const flow = Flow.start(channels('ingress', 5), 100, viaKafka);
    await sleep(1_000);
    await kafkaService.stop();
    await sleep(1_000);
    await kafkaService.start();
    await producer.disconnect().catch(() => undefined);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await sleep(2_000);
    await flow.stop();
    await producer.disconnect();
    await assertExact('restart Kafka', fleet, flow.acked, 90_000);
  });
});
