import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ShardPlacement } from '../../src/brokers/redis-shards.js';
import { slotOf } from '../../src/brokers/redis-slot.js';
import { Publisher, type PublisherOptions } from '../../src/publisher.js';
import { type RedisClusterService, type RedisService, startRedis, startRedisCluster } from '../services/index.js';
import { type Hubs, startHubsOn } from '../support/cluster.js';
import { Fleet } from '../support/fleet.js';
import { sleep, waitFor } from '../support/wait.js';

/** Polls an asynchronous condition every 100 ms until it holds, within `timeoutMs`. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const CHANNELS = 1_000;
const CLIENTS = 200;
/** Client i subscribes 10 channels: two clients on each channel, over every hub. */
const channelsOf = (i: number) => Array.from({ length: 10 }, (_, j) => `s:${(i % 100) * 10 + j}`);
const every = Array.from({ length: CHANNELS }, (_, i) => `s:${i}`);

/** What a test needs of the Redis behind the hubs, whichever kind. */
interface Backend {
  readonly broker: object;
  /** How a service reaches it with the publisher helper. */
  readonly publisher: PublisherOptions;
  /** A Redis client on which a plain PUBLISH of `channel` reaches its subscribers. */
  plain(channel: string): Redis;
  /** Kills -9 the Redis holding `channel`; answers its port and how it comes back. */
  kill(channel: string): Promise<{ port: number; back(): Promise<void> }>;
  destroy(): Promise<void>;
}

async function clusterBackend(): Promise<Backend> {
  const cluster: RedisClusterService = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  return {
    broker: { type: 'redis', cluster: cluster.urls },
    publisher: { cluster: cluster.urls },
    // Classic pub/sub is broadcast over the whole cluster: any node will do.
    plain: () => new Redis(cluster.nodes.find((node) => node.process.running)?.port ?? 0),
    async kill(channel) {
      const master = await cluster.masterOf(slotOf(channel));
      await master.process.kill9();
      // Its replica takes over after cluster-node-timeout (2 s) and an election.
      return { port: master.port, back: () => cluster.settled() };
    },
    destroy: () => cluster.destroy(),
  };
}

async function shardsBackend(): Promise<Backend> {
  const shards: RedisService[] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  return {
    broker: { type: 'redis', shards: shards.map((shard) => shard.url) },
    publisher: { shards: shards.map((shard) => shard.url) },
    // Only the shard holding the channel delivers it.
    plain: (channel) => {
      const placement = new ShardPlacement(shards.map((shard) => shard.url));
      return new Redis(shards[placement.of(channel)]?.url ?? '');
    },
    async kill() {
      const shard = shards[1] as RedisService;
      await shard.kill9();
      // Without persistence it comes back empty: its channels start a new epoch.
      return { port: shard.port, back: () => shard.start() };
    },
    destroy: async () => {
      await Promise.all(shards.map((shard) => shard.destroy()));
    },
  };
}

for (const [name, create] of [
  ['a 3-master Redis Cluster (one replica each)', clusterBackend],
  ['3 independent Redis shards', shardsBackend],
] as const) {
  describe(`three hubs behind HAProxy on ${name}`, () => {
    let backend: Backend;
    let hubs: Hubs & { stop(): Promise<void> };
    let fleet: Fleet;
    let next = 0;

    /** Publishes `rounds` seqs on every channel over HTTP, spread over the hubs; answers failures. */
    async function publish(rounds: number): Promise<number> {
      let failed = 0;
      for (let round = 0; round < rounds; round++) {
        const seq = ++next;
        for (let i = 0; i < CHANNELS; i += 500) {
          const hub = hubs.hubs[(i / 500) % hubs.hubs.length];
          const response = await fetch(`${hub?.http}/api/batch`, {
            method: 'POST',
            body: JSON.stringify({
              publications: every.slice(i, i + 500).map((channel) => ({ channel, data: { seq } })),
            }),
          });
          const { results } = (await response.json()) as { results: Array<{ offset?: number }> };
          failed += results.filter((result) => result.offset === undefined).length;
        }
      }
      return failed;
    }

    const metrics = async (hub: number) => (await fetch(`${hubs.hubs[hub]?.http}/metrics`)).text();

    before(async () => {
      backend = await create();
      hubs = await startHubsOn(3, backend.broker);
      fleet = await Fleet.connect(hubs.url, CLIENTS, channelsOf);
    });
    after(async () => {
      fleet?.close();
      await hubs?.stop();
      await backend?.destroy();
    });

    it('delivers every publication on 1,000 channels exactly once, in order', async () => {
      assert.equal(await publish(3), 0);
      const expected = new Map(every.map((channel) => [channel, [1, 2, 3]]));
      await fleet.received(expected);
      const total = fleet.total(expected);
      console.log(`${name}: ${total.delivered} delivered, ${total.lost} lost, ${total.duplicated} duplicated`);
      assert.deepEqual(
        { ...total, delivered: undefined },
        { delivered: undefined, lost: 0, duplicated: 0, outOfOrder: 0 },
      );
      const nodes = new Set(fleet.members.map((member) => member.nodes.at(-1)));
      assert.equal(nodes.size, 3, 'the clients are spread over the three hubs');
      const shards = (await metrics(0)).match(/^switchboard_redis_shard_publishes_total\{[^}]*\}/gm) ?? [];
      assert.equal(shards.length, 3, `one series per shard, each labelled by shard and outcome only: ${shards}`);
      assert.ok(
        shards.every((series) => /^[^{]*\{shard="127\.0\.0\.1:\d+",outcome="ok"\}$/.test(series)),
        shards.join(),
      );
    });

    it('answers 503 on /readyz naming the Redis that is down, then 200; no subscription silently stale', async () => {
      const { port, back } = await backend.kill('s:0');
      const named = `127.0.0.1:${port}`;
      await until(
        async () => {
          const response = await fetch(`${hubs.hubs[0]?.http}/readyz`);
          const body = (await response.json()) as { reasons?: string[] };
          return response.status === 503 && (body.reasons ?? []).some((reason) => reason.includes(named));
        },
        `/readyz 503 naming ${named}`,
        10_000,
      );
      await back();
      await until(
        async () => {
          const answers = await Promise.all(hubs.hubs.map((hub) => fetch(`${hub.http}/readyz`)));
          return answers.every((answer) => answer.status === 200);
        },
        'every hub ready again',
        30_000,
      );
      const reconnects = new RegExp(
        `^switchboard_redis_shard_pubsub_reconnects_total\\{shard="${named}"\\} [1-9]`,
        'm',
      );
      assert.match(await metrics(0), reconnects);
      const failed = await publish(3);
      assert.equal(failed, 0, 'every publish after the outage is accepted');
      await waitFor(
        () => every.every((channel) => fleet.of(channel).every((member) => member.received.get(channel)?.at(-1) === 6)),
        'the last round delivered on every channel',
        30_000,
      );
      let exact = 0;
      let told = 0;
      for (const channel of every) {
        for (const member of fleet.of(channel)) {
          const seqs = member.received.get(channel) ?? [];
          const toldLost = (member.recoveries.get(channel) ?? []).some((outcome) => !outcome.recovered);
          if (toldLost) told++;
          else assert.equal(seqs.join(), '1,2,3,4,5,6', `${channel}: a gap without being told recovered: false`);
          if (seqs.join() === '1,2,3,4,5,6') exact++;
          assert.deepEqual(
            [...seqs].sort((a, b) => a - b),
            seqs,
            `${channel} in order`,
          );
          assert.equal(new Set(seqs).size, seqs.length, `${channel} no duplicate`);
        }
      }
      console.log(
        `${name}: after a kill -9, ${exact} of ${CHANNELS * 2} subscriptions received all 6, ${told} were told recovered: false`,
      );
    });

    it("takes publishes from the publisher helper, which finds each channel's Redis, and plain PUBLISH on it", async () => {
      const publisher = new Publisher(backend.publisher);
      await publisher.connect();
      const outcomes = await publisher.publishMany(every.map((channel) => ({ channel, data: { seq: 7 } })));
      assert.equal(outcomes.filter((outcome) => 'error' in outcome).length, 0);
      await publisher.close();
      const plain = backend.plain('s:42');
      await plain.publish('sb:s:42', JSON.stringify({ seq: 8 }));
      plain.disconnect();
      await waitFor(
        () => every.every((channel) => fleet.of(channel).every((member) => member.received.get(channel)?.includes(7))),
        "the helper's publication on every channel",
        30_000,
      );
      await waitFor(
        () => fleet.of('s:42').every((member) => member.received.get('s:42')?.at(-1) === 8),
        'the plain PUBLISH, live',
      );
    });
  });
}
