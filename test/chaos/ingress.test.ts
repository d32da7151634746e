/**
 * Pipelined Kafka ingress under failure: each hub hands a partition's fetched batch to Redis at
 * once (src/bridges/kafka-ingress.ts), so a failure now strikes in the middle of hundreds of
 * events in flight. Nothing may be lost, doubled or reordered, and a stalled broker must hold
 * the partitions back rather than let the hubs buffer what Kafka still holds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { Burst } from '../support/burst.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { assertExact, channelsOf as channels } from '../support/exact.js';
import { Fleet } from '../support/fleet.js';
import { sleep, waitFor } from '../support/wait.js';

const HUB_CONFIG = (brokers: string[]) => ({
  kafka: { brokers, groupId: 'chaos-ingress', fromBeginning: true, sessionTimeoutMs: 6_000, stallTimeoutSeconds: 15 },
  namespaces: {
    burst: { kafkaIngress: { topic: 'burst' }, clientPublish: false },
    stall: { kafkaIngress: { topic: 'stall' }, clientPublish: false },
  },
});

/** Resident memory of a process, from /proc (bytes). */
function rss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

describe('chaos: pipelined Kafka ingress (real Kafka, Redis, HAProxy and three hubs)', () => {
  let cluster: Cluster;
  let kafka: Kafka;
  let producer: Producer;
  const fleets: Fleet[] = [];

  async function newProducer(): Promise<Producer> {
    const made = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await made.connect();
    return made;
  }

  async function fleetOn(prefix: string, count: number, clients: number): Promise<Fleet> {
    const fleet = await Fleet.connect(cluster.url, clients, (i) => [
      `${prefix}:${i % count}`,
      `${prefix}:${(i + 1) % count}`,
    ]);
    fleets.push(fleet);
    return fleet;
  }

  before(async () => {
    cluster = await startCluster({ hubs: 3, topics: ['burst', 'stall'], config: HUB_CONFIG });
    assert.ok(cluster.kafka);
    kafka = new Kafka({
      clientId: 'chaos-ingress',
      brokers: cluster.kafka.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    producer = await newProducer();
  });
  after(async () => {
    for (const fleet of fleets) fleet.close();
    await producer?.disconnect().catch(() => undefined);
    await cluster?.stop();
  });

  it('a consuming hub killed with -9 in the middle of batches: every acknowledged event delivered once, in order per channel', async () => {
    const fleet = await fleetOn('burst', 10, 30);
    // 30 sends of 500: 15,000 events, batches of hundreds per partition.
    const burst = Burst.start(() => producer, 'burst', channels('burst', 10), {
      perSend: 500,
      sends: 30,
      pauseMs: 100,
    });
    await waitFor(() => burst.sent >= 8, 'a third of the burst', 30_000);
    const victim = cluster.hubs[0];
    assert.ok(victim);
    await victim.process.kill9();
    await burst.finished();
    await cluster.respawn(0);
    assert.equal(burst.failures.length, 0, 'Kafka acknowledged every send');
    await assertExact('pipelined ingress, a hub killed', fleet, burst.acked, 90_000);
  });

  it('Kafka restarted in the middle of batches: every acknowledged event delivered once, in order per channel', async () => {
    const kafkaService = cluster.kafka;
    assert.ok(kafkaService);
    const fleet = await fleetOn('burst', 10, 20);
    let current = producer;
    const burst = Burst.start(() => current, 'burst', channels('burst', 10), { perSend: 500, sends: 30, pauseMs: 150 });
    await waitFor(() => burst.sent >= 8, 'a third of the burst', 30_000);
    await kafkaService.stop();
    await sleep(1_000);
    await kafkaService.start();
    await current.disconnect().catch(() => undefined);
    current = await newProducer();
    producer = current;
    await burst.finished();
    console.log(`chaos Kafka restart: ${burst.sent} sends, ${burst.failures.length} not acknowledged`);
    await assertExact('pipelined ingress, Kafka restarted', fleet, burst.acked, 120_000);
  });

  it('Redis paused while Kafka fills: the hubs hold the partitions back instead of buffering, then deliver everything once', async () => {
    const fleet = await fleetOn('stall', 4, 4);
    const pids = cluster.hubs.map((hub) => hub.process.pid);
    const before = pids.map(rss);
    cluster.redis.process.pause();
    let peak = before.map(() => 0);
    const sampler = setInterval(() => {
      peak = pids.map((pid, i) => Math.max(peak[i] ?? 0, rss(pid) - (before[i] ?? 0)));
    }, 100);
    try {
      // 60 sends of 1,000 events of ~1 KiB: about 60 MiB that Kafka holds while Redis answers nothing.
      const burst = Burst.start(() => producer, 'stall', channels('stall', 4), {
        perSend: 1_000,
        sends: 60,
        pauseMs: 0,
        padBytes: 1_000,
      });
      await burst.finished();
      await sleep(3_000);
      const grownMiB = Math.max(...peak) / 2 ** 20;
      console.log(
        `chaos Redis paused: ${burst.count} events (${((burst.count * 1_030) / 2 ** 20).toFixed(0)} MiB) produced; hubs' resident memory grew at most ${grownMiB.toFixed(1)} MiB`,
      );
      assert.equal(burst.failures.length, 0, 'Kafka acknowledged every send');
      // What a hub may hold: a fetch per partition (1 MiB each) and the slice in flight, plus the heap's slack.
      assert.ok(grownMiB < 40, `a hub grew ${grownMiB.toFixed(1)} MiB while Redis was paused`);
      cluster.redis.process.resume();
      await assertExact('pipelined ingress, Redis paused', fleet, burst.acked, 120_000);
    } finally {
      clearInterval(sampler);
      cluster.redis.process.resume();
    }
  });
});
