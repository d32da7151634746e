import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, sseLink } from '../../client-sdk/src/index.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

const CLIENTS = 100;
const CHANNELS = 10;
/** Publications each client makes before a hub is killed, and after. */
const BEFORE = 3;
const AFTER = 2;
/** Publications a service makes on each channel while the killed hub's clients reconnect. */
const DURING = 10;

interface Received {
  readonly from: string;
  readonly seq: number;
}

interface FallbackClient {
  readonly id: number;
  readonly client: Client;
  readonly channel: string;
  readonly received: Received[];
  recovered: boolean | undefined;
}

/** Per publisher: what `member` lost, got twice, or got out of order, against seqs 1..count. */
function delivery(member: FallbackClient, expected: ReadonlyMap<string, number>) {
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (const [from, count] of expected) {
    const seqs = member.received.filter((r) => r.from === from).map((r) => r.seq);
    duplicated += seqs.length - new Set(seqs).size;
    for (let i = 1; i < seqs.length; i++) if ((seqs[i] as number) <= (seqs[i - 1] as number)) outOfOrder += 1;
    for (let seq = 1; seq <= count; seq++) if (!seqs.includes(seq)) lost += 1;
  }
  return { lost, duplicated, outOfOrder };
}

async function metric(http: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (pattern.test(line)) total += Number(line.split(' ').at(-1));
  return total;
}

describe('HTTP-streaming clients behind HAProxy, three hubs in round-robin, no stickiness', {
  timeout: 180_000,
}, () => {
  let cluster: Cluster;
  const members: FallbackClient[] = [];
  const channelOf = (i: number) => `fleet:${i % CHANNELS}`;
  const publishRun = (member: FallbackClient, from: number, to: number) =>
    (async () => {
      for (let seq = from; seq <= to; seq++)
        await member.client.publish(member.channel, { from: `c${member.id}`, seq });
    })();

  before(async () => {
    cluster = await startCluster({ hubs: 3 });
  });
  after(async () => {
    for (const member of members) member.client.close();
    await cluster?.stop();
  });

  it(`${CLIENTS} clients subscribe, publish and recover from a killed hub: 0 lost, 0 duplicated, 0 out of order`, async () => {
    const ready: Promise<void>[] = [];
    for (let id = 0; id < CLIENTS; id++) {
      const client = new Client(cluster.url, { link: sseLink(), backoff: { initialMs: 100, maxMs: 1_000 } });
      const member: FallbackClient = { id, client, channel: channelOf(id), received: [], recovered: undefined };
      const subscription = client.subscribe(member.channel);
      subscription.on('publication', ({ data }) => member.received.push(data as Received));
      subscription.on('subscribed', (event) => {
        if ('recovered' in event && event.recovered !== undefined) member.recovered = event.recovered;
      });
      members.push(member);
      ready.push(subscription.ready);
    }
    await Promise.all(ready);
    assert.ok(members.every((member) => member.client.transport === 'sse'));

    await Promise.all(members.map((member) => publishRun(member, 1, BEFORE)));

    // Kill a hub; a service keeps publishing on every channel while its clients come back.
    await cluster.hubs[0]?.process.kill9();
    for (let seq = 1; seq <= DURING; seq++) {
      for (let channel = 0; channel < CHANNELS; channel++) {
        const response = await fetch(`${cluster.hubs[1]?.http}/api/publish`, {
          method: 'POST',
          body: JSON.stringify({ channel: `fleet:${channel}`, data: { from: 'service', seq } }),
        });
        assert.equal(response.status, 200);
      }
    }
    await cluster.respawn(0);
    await waitFor(() => members.every((member) => member.client.state === 'connected'), 'every client back', 30_000);

    await Promise.all(members.map((member) => publishRun(member, BEFORE + 1, BEFORE + AFTER)));

    const expected = (channel: string) => {
      const map = new Map<string, number>([['service', DURING]]);
      for (const member of members) if (member.channel === channel) map.set(`c${member.id}`, BEFORE + AFTER);
      return map;
    };
    const total = (channel: string) => [...expected(channel).values()].reduce((a, b) => a + b, 0);
    await waitFor(
      () => members.every((member) => member.received.length >= total(member.channel)),
      'every publication everywhere',
      30_000,
    );
    const sum = { lost: 0, duplicated: 0, outOfOrder: 0 };
    for (const member of members) {
      const counts = delivery(member, expected(member.channel));
      sum.lost += counts.lost;
      sum.duplicated += counts.duplicated;
      sum.outOfOrder += counts.outOfOrder;
    }
    const forwarded = (
      await Promise.all(
        cluster.hubs.map((hub) =>
          metric(hub.http, /^switchboard_sse_commands_total\{route="forwarded",status="202"\}/),
        ),
      )
    ).reduce((a, b) => a + b, 0);
    const recovered = members.filter((member) => member.recovered === true).length;
    console.log(
      `sse fleet: ${CLIENTS} clients, ${members.reduce((n, m) => n + m.received.length, 0)} deliveries, ` +
        `lost ${sum.lost}, duplicated ${sum.duplicated}, out of order ${sum.outOfOrder}; ` +
        `${recovered} resubscriptions recovered; ${forwarded} command POSTs forwarded to the hub holding the stream (hub 0 counted since its respawn)`,
    );
    assert.deepEqual(sum, { lost: 0, duplicated: 0, outOfOrder: 0 });
    assert.ok(forwarded > 0, 'some commands reached a hub without the stream and were forwarded');
  });
});
