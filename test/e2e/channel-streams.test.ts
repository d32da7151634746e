import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Publisher } from '../../src/publisher.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { Fleet } from '../support/fleet.js';
import { Flow } from '../support/flow.js';
import { RawClient } from '../support/raw-client.js';
import { sleep, waitFor } from '../support/wait.js';

const channels = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}:${i}`);

/** The sum over every hub of a Prometheus sample whose line starts with `prefix`. */
async function metricSum(cluster: Cluster, prefix: string): Promise<number> {
  let sum = 0;
  for (const hub of cluster.hubs) {
    const text = await (await fetch(`${hub.http}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(prefix)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

const historyReads = (cluster: Cluster, purpose: string) =>
  metricSum(cluster, `switchboard_broker_reads_total{purpose="${purpose}",kind="history"}`);

describe('channel streams repair gaps at the hub: real Redis, three hubs behind HAProxy', () => {
  let cluster: Cluster;
  let publisher: Publisher;
  before(async () => {
    cluster = await startCluster({
      hubs: 3,
      config: () => ({ defaultNamespace: { history: { size: 1_000, ttlSeconds: 300 } } }),
    });
    publisher = new Publisher({ url: cluster.redis.url, history: { size: 1_000, ttlSeconds: 300 } });
    await publisher.connect();
  });
  after(async () => {
    await publisher?.close();
    await cluster?.stop();
  });

  it("dropping the hubs' pub/sub connections under 200 msg/s: every subscriber gets everything once, in order, with one history read per channel and hub", async () => {
    const names = channels('cut', 50);
    const fleet = await Fleet.connect(cluster.url, 600, (i) => [names[i % names.length] as string]);
    const joinsBefore = await historyReads(cluster, 'join');
    const repairsBefore = await historyReads(cluster, 'repair');
    const admin = new Redis(cluster.redis.url);
    try {
      const flow = Flow.start(names, 200, (channel, seq) => publisher.publish(channel, { seq }));
      await sleep(1_500);
      const killed = Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      await sleep(2_500);
      await flow.stop();
      await fleet.received(flow.acked, 30_000).catch(() => undefined);
      const total = fleet.total(flow.acked);
      const repairs = (await historyReads(cluster, 'repair')) - repairsBefore;
      const joins = (await historyReads(cluster, 'join')) - joinsBefore;
      console.log(
        `# pub/sub connections killed: ${killed}; published ${flow.count}, delivered ${total.delivered}, lost ${total.lost}, duplicated ${total.duplicated}, out of order ${total.outOfOrder}; history reads: ${repairs} for repairs (bound ${names.length * cluster.hubs.length}), ${joins} by resubscribing clients`,
      );
      // Each hub holds two pub/sub connections: the broker's and the control bus's; both come back.
      assert.equal(killed, 2 * cluster.hubs.length, 'a broker and a control subscriber per hub');
      assert.deepEqual(
        { lost: total.lost, duplicated: total.duplicated, outOfOrder: total.outOfOrder },
        { lost: 0, duplicated: 0, outOfOrder: 0 },
      );
      assert.ok(repairs <= names.length * cluster.hubs.length, `${repairs} history reads for one incident`);
      assert.equal(joins, 0, 'no client resubscribed: the hubs repaired the gap');
      assert.ok(
        fleet.members.every((m) => m.disconnects === 0),
        'no client was disconnected',
      );
    } finally {
      admin.disconnect();
      fleet.close();
    }
  });

  it('Redis restarted (history lost) while channels are quiet: every subscriber is told within 5 s, with no publication', async () => {
    const names = channels('quiet', 10);
    const clients = await Promise.all(Array.from({ length: 30 }, () => RawClient.connected(cluster.url)));
    try {
      for (const [i, client] of clients.entries()) {
        await client.ok({ t: 'sub', ch: names[i % names.length] });
      }
      for (const channel of names) await publisher.publish(channel, { seq: 1 });
      await waitFor(() => clients.every((c) => c.publications().length === 1), 'the first publications');
      await cluster.redis.kill9();
      await cluster.redis.start();
      const back = Date.now();
      const told = () => clients.every((c) => c.frames.some((f) => f.t === 'lost'));
      await waitFor(told, 'every subscriber to be told', 15_000);
      const elapsed = Date.now() - back;
      const lost = clients.flatMap((c) => c.frames.filter((f) => f.t === 'lost'));
      console.log(
        `# Redis restarted: ${clients.length} subscribers of ${names.length} quiet channels told in ${elapsed} ms (${lost.length} lost pushes, reasons ${[...new Set(lost.map((f) => f.t === 'lost' && f.why))].join(', ')})`,
      );
      assert.ok(elapsed <= 5_000, `told after ${elapsed} ms`);
      assert.equal(lost.length, clients.length, 'each subscriber told once');
      assert.ok(lost.every((f) => f.t === 'lost' && f.why === 'epoch_changed' && f.off === 0));
      // What is published in the new epoch follows from its first offset.
      for (const channel of names) await publisher.publish(channel, { seq: 2 });
      await waitFor(() => clients.every((c) => c.publications().length === 2), 'the new epoch');
      assert.ok(clients.every((c) => c.publications()[1]?.off === 1));
    } finally {
      for (const client of clients) client.close();
    }
  });
});
