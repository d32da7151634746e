import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Position, PublicationPush } from '@switchboard/protocol';
import { type RedisService, startRedis } from '../../services/index.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

/** The offset in the latest publish ack a client received. */
function lastAck(client: RawClient): number {
  const acks = client.frames.flatMap((f) =>
    f.t === 'ok' && typeof (f.r as Position | undefined)?.off === 'number' ? [(f.r as Position).off] : [],
  );
  return acks.at(-1) ?? 0;
}

/** Offsets a socket received for `channel` before and after its `sub` reply with id `id`. */
function around(client: RawClient, channel: string, id: number) {
  const replyAt = client.frames.findIndex((f) => (f.t === 'ok' || f.t === 'err') && f.id === id);
  const offsets = (frames: typeof client.frames) =>
    frames.filter((f): f is PublicationPush => f.t === 'msg' && f.ch === channel).map((p) => p.off);
  return { before: offsets(client.frames.slice(0, replyAt)), after: offsets(client.frames.slice(replyAt + 1)) };
}

for (const broker of ['memory', 'redis'] as const) {
  describe(`subscribe with since (${broker} broker)`, () => {
    let redis: RedisService | undefined;
    let hub: TestHub;
    before(async () => {
      redis = broker === 'redis' ? await startRedis() : undefined;
      hub = await startHub({
        broker: redis ? { type: 'redis', url: redis.url } : { type: 'memory' },
        defaultNamespace: { history: { size: 1000, ttlSeconds: 60 } },
        limits: { maxRecoveryPublications: 200 },
      });
    });
    after(async () => {
      await hub.stop();
      await redis?.destroy();
    });

    async function publish(channel: string, count: number): Promise<Position> {
      const publisher = await RawClient.connected(hub.url);
      let last: Position = { ep: '', off: 0 };
      for (let i = 0; i < count; i++) last = (await publisher.ok({ t: 'pub', ch: channel, d: { i } })) as Position;
      publisher.close();
      return last;
    }

    it('replies recovered, then replays the publications after `since`, then continues live', async () => {
      const top = await publish('r1', 10);
      const client = await RawClient.connected(hub.url);
      const reply = await client.ok({ t: 'sub', ch: 'r1', since: { ep: top.ep, off: 6 } });
      assert.deepEqual(reply, { ep: top.ep, off: 10, rec: true });
      await publish('r1', 1);
      await waitFor(() => client.publications('r1').length === 5, 'four replayed and one live');
      // The reply first: pushes carry no epoch, so a client learns it from the reply (protocol §4).
      assert.deepEqual(around(client, 'r1', 2), { before: [], after: [7, 8, 9, 10, 11] });
      client.close();
    });

    it('reports recovered: false with the reason when history cannot bridge the gap', async () => {
      const top = await publish('r2', 250);
      const client = await RawClient.connected(hub.url);
      const why = async (since: Position) => {
        const r = (await client.ok({ t: 'sub', ch: 'r2', since })) as { rec: boolean; why: string; off: number };
        await client.ok({ t: 'unsub', ch: 'r2' });
        assert.equal(r.rec, false);
        assert.equal(r.off, 250);
        return r.why;
      };
      assert.equal(await why({ ep: top.ep, off: 1 }), 'too_many_missed');
      assert.equal(await why({ ep: 'gone', off: 55 }), 'epoch_changed');
      assert.equal(await why({ ep: top.ep, off: 999 }), 'ahead_of_stream');
      assert.equal(client.publications('r2').length, 0, 'no partial replay is ever sent');
      client.close();
    });

    it('loses and duplicates nothing when publications race the recovery', async () => {
      const first = await publish('race', 5);
      const publisher = await RawClient.connected(hub.url);
      let stop = false;
      const flow = (async () => {
        for (let i = 0; i < 400 && !stop; i++) await publisher.ok({ t: 'pub', ch: 'race', d: i });
      })();
      await waitFor(() => lastAck(publisher) > 50, 'the flow to start');
      const since = lastAck(publisher) - 10;
      const client = await RawClient.connected(hub.url);
      const reply = (await client.ok({ t: 'sub', ch: 'race', since: { ep: first.ep, off: since } })) as {
        rec: boolean;
      };
      assert.equal(reply.rec, true);
      await waitFor(() => lastAck(publisher) > since + 100, 'more publications after the subscription');
      stop = true;
      await flow;
      const last = lastAck(publisher);
      await waitFor(() => client.publications('race').at(-1)?.off === last, 'the last publication');
      const offsets = client.publications('race').map((p) => p.off);
      assert.deepEqual(
        offsets,
        Array.from({ length: last - since }, (_, i) => since + i + 1),
      );
      publisher.close();
      client.close();
    });

    it('delivers everything after the reply position to a fresh subscriber, even under load', async () => {
      const publisher = await RawClient.connected(hub.url);
      let stop = false;
      const flow = (async () => {
        for (let i = 0; i < 300 && !stop; i++) await publisher.ok({ t: 'pub', ch: 'fresh', d: i });
      })();
      await waitFor(() => lastAck(publisher) > 30, 'the flow to start');
      const client = await RawClient.connected(hub.url);
      const reply = (await client.ok({ t: 'sub', ch: 'fresh' })) as Position;
      stop = true;
      await flow;
      const last = lastAck(publisher);
      await waitFor(() => client.publications('fresh').some((p) => p.off === last), 'the last publication');
      const afterReply = client
        .publications('fresh')
        .filter((p) => (p.off ?? 0) > reply.off)
        .map((p) => p.off);
      assert.deepEqual(
        afterReply,
        Array.from({ length: last - reply.off }, (_, i) => reply.off + i + 1),
      );
      publisher.close();
      client.close();
    });
  });
}
