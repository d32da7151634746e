import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeData, encodeData } from '@switchboard/protocol';
import type { Broker, Publication } from '../../../src/brokers/broker.js';
import { recover } from '../../../src/streams/recovery.js';
import { waitFor } from '../../support/wait.js';
import { collector } from '../support.js';

const history = { size: 3, ttlMs: 60_000 };
let unique = 0;
/** A channel name no other test of the run uses, so suites can share one Redis. */
const fresh = (name: string) => `${name}-${process.pid}-${++unique}`;

/** What every Broker must do, whatever backs it. */
export function brokerContract(name: string, create: () => Promise<Broker>): void {
  describe(`${name} broker contract`, () => {
    let broker: Broker;
    const delivered: Publication[] = [];
    before(async () => {
      broker = await create();
      await broker.start(collector(delivered));
    });
    after(() => broker.close());

    it('is ready once started', () => {
      assert.equal(broker.isReady(), true);
    });

    const top = async (channel: string) => (await broker.read(channel, { after: 0, limit: 0 })).top;
    const reader = (channel: string) => (query: { after: number; limit: number }) => broker.read(channel, query);

    it('gives each publication of a channel the next offset within one epoch', async () => {
      const c = fresh('c');
      const a = await broker.publish(c, encodeData(1), history);
      const b = await broker.publish(c, encodeData(2), history);
      assert.equal(a.off, 1);
      assert.equal(b.off, 2);
      assert.equal(a.ep, b.ep);
      assert.deepEqual(await top(c), b);
      assert.equal((await broker.publish(fresh('d'), encodeData(3), history)).off, 1);
    });

    it('reports offset 0 and a stable epoch for a channel without publications', async () => {
      const c = fresh('empty');
      const before = await top(c);
      assert.equal(before.off, 0);
      const first = await broker.publish(c, encodeData(1), history);
      assert.deepEqual(first, { ep: before.ep, off: 1 });
    });

    it('delivers exactly the subscribed channels, in order, with data intact', async () => {
      const wanted = fresh('wanted');
      const unwanted = fresh('unwanted');
      await broker.subscribe([wanted]);
      for (let i = 1; i <= 5; i++) await broker.publish(wanted, encodeData({ i }), history);
      await broker.publish(unwanted, encodeData(0), history);
      await waitFor(() => delivered.filter((p) => p.channel === wanted).length === 5, 'five deliveries');
      const got = delivered.filter((p) => p.channel === wanted);
      assert.deepEqual(
        got.map((p) => [p.position?.off, decodeData(p.data)]),
        [1, 2, 3, 4, 5].map((i) => [i, { i }]),
      );
      await broker.unsubscribe([wanted]);
      await broker.publish(wanted, encodeData(6), history);
      await broker.subscribe([unwanted]);
      await broker.publish(unwanted, encodeData(7), history);
      await waitFor(() => delivered.some((p) => p.channel === unwanted), 'the resubscribed channel');
      assert.equal(delivered.filter((p) => p.channel === wanted).length, 5, 'nothing after unsubscribe');
      await broker.unsubscribe([unwanted]);
    });

    it('reads exactly the retained publications after an offset, and the top', async () => {
      const c = fresh('replay');
      for (let i = 1; i <= 5; i++) await broker.publish(c, encodeData(i), history);
      const { ep } = await top(c);
      const read = await broker.read(c, { after: 3, limit: 100 });
      assert.deepEqual(read.top, { ep, off: 5 });
      assert.deepEqual(
        read.publications.map((p) => [p.position.off, decodeData(p.data)]),
        [
          [4, 4],
          [5, 5],
        ],
      );
      assert.deepEqual((await broker.read(c, { after: 5, limit: 100 })).publications, []);
      assert.deepEqual((await broker.read(c, { after: 0, limit: 100 })).publications.length, 3, 'size 3 keeps 3');
      assert.deepEqual(
        (await broker.read(c, { after: 2, limit: 1 })).publications.map((p) => p.position.off),
        [3],
        'at most `limit`',
      );
    });

    it('holds what recovery needs to tell each reason apart', async () => {
      const c = fresh('lost');
      for (let i = 1; i <= 5; i++) await broker.publish(c, encodeData(i), history);
      const { ep } = await top(c);
      const reason = async (since: { ep: string; off: number }, limit = 100) => {
        const outcome = await recover(since, reader(c), limit);
        assert.deepEqual(outcome.top, { ep, off: 5 });
        return outcome.recovered ? 'recovered' : outcome.reason;
      };
      assert.equal(await reason({ ep, off: 1 }), 'trimmed');
      assert.equal(await reason({ ep: 'other', off: 4 }), 'epoch_changed');
      assert.equal(await reason({ ep, off: 9 }), 'ahead_of_stream');
      assert.equal(await reason({ ep, off: 2 }, 1), 'too_many_missed');
      assert.equal(await reason({ ep, off: 2 }), 'recovered');
    });

    it('keeps no history when the size is 0, yet keeps offsets contiguous', async () => {
      const c = fresh('nohistory');
      await broker.publish(c, encodeData(1), { size: 0, ttlMs: 1000 });
      const second = await broker.publish(c, encodeData(2), { size: 0, ttlMs: 1000 });
      assert.equal(second.off, 2);
      const outcome = await recover({ ep: second.ep, off: 1 }, reader(c), 100);
      assert.equal(outcome.recovered ? 'recovered' : outcome.reason, 'trimmed');
    });

    it('keeps source anchors: one where the source changes and every 100 offsets of one source, none for a duplicate', async () => {
      const c = fresh('anchors');
      const anchored = { ...history, anchors: true };
      const from = (source: string, sequence: number) => ({ idempotency: { source, sequence } });
      for (let i = 0; i < 3; i++) await broker.publish(c, encodeData(i), anchored, from('orders/0', 10 + i));
      await broker.publish(c, encodeData('again'), anchored, from('orders/0', 12));
      await broker.publish(c, encodeData('http'), anchored);
      await broker.publish(c, encodeData('http'), anchored);
      const batch = Array.from({ length: 250 }, (_, i) =>
        broker.publish(c, encodeData(i), anchored, from('orders/1', 100 + i)),
      );
      await Promise.all(batch);
      const read = await broker.read(c, { after: 0, limit: 1, sources: true });
      assert.deepEqual(read.sources, [
        { off: 1, source: 'orders/0', sequence: 10 },
        { off: 4, source: '', sequence: 0 },
        { off: 6, source: 'orders/1', sequence: 100 },
        { off: 106, source: 'orders/1', sequence: 200 },
        { off: 206, source: 'orders/1', sequence: 300 },
      ]);
      assert.equal((await broker.read(c, { after: 0, limit: 1 })).sources, undefined, 'only when asked');
    });

    it('keeps no anchors unless asked, and anchors afresh after publications made without them', async () => {
      const c = fresh('anchors-off');
      const anchored = { ...history, anchors: true };
      const from = (sequence: number) => ({ idempotency: { source: 'orders/0', sequence } });
      await broker.publish(c, encodeData(1), history, from(1));
      assert.deepEqual((await broker.read(c, { after: 0, limit: 1, sources: true })).sources, []);
      await broker.publish(c, encodeData(2), anchored, from(2));
      await broker.publish(c, encodeData(3), history, from(3));
      await broker.publish(c, encodeData(4), anchored, from(4));
      await broker.publish(c, encodeData(5), anchored, from(5));
      // Offset 3 came without an anchor: what follows cannot be counted from offset 2's anchor.
      assert.deepEqual((await broker.read(c, { after: 0, limit: 1, sources: true })).sources, [
        { off: 2, source: 'orders/0', sequence: 2 },
        { off: 4, source: 'orders/0', sequence: 4 },
      ]);
    });

    it('drops a publication whose idempotency sequence it has already seen from that source', async () => {
      const c = fresh('idem');
      const first = await broker.publish(c, encodeData('a'), history, {
        idempotency: { source: 'orders/0', sequence: 10 },
      });
      const again = await broker.publish(c, encodeData('a'), history, {
        idempotency: { source: 'orders/0', sequence: 10 },
      });
      const older = await broker.publish(c, encodeData('z'), history, {
        idempotency: { source: 'orders/0', sequence: 9 },
      });
      const otherSource = await broker.publish(c, encodeData('b'), history, {
        idempotency: { source: 'orders/1', sequence: 10 },
      });
      const next = await broker.publish(c, encodeData('c'), history, {
        idempotency: { source: 'orders/0', sequence: 11 },
      });
      assert.deepEqual(
        [first, again, older, otherSource, next].map((p) => p.off),
        [1, 1, 1, 2, 3],
      );
      const replay = await broker.read(c, { after: 0, limit: 10 });
      assert.deepEqual(
        replay.publications.map((p) => decodeData(p.data)),
        ['a', 'b', 'c'],
      );
    });

    it('applies publishes made without waiting in the order they were made, each with its own position', async () => {
      // 3 channels × 400 interleaved: more than one call of a channel per turn (256 at most) in Redis.
      const channels = [fresh('burst'), fresh('burst'), fresh('burst')];
      await broker.subscribe(channels);
      const wide = { size: 1_000, ttlMs: 60_000 };
      const made = Array.from({ length: 1_200 }, (_, i) => ({
        channel: channels[i % 3] as string,
        n: Math.floor(i / 3),
      }));
      const positions = await Promise.all(made.map(({ channel, n }) => broker.publish(channel, encodeData(n), wide)));
      for (const channel of channels) {
        const offsets = positions.filter((_, i) => made[i]?.channel === channel).map((p) => p.off);
        assert.deepEqual(
          offsets,
          Array.from({ length: 400 }, (_, n) => n + 1),
          `${channel}: offsets in call order`,
        );
        const read = await broker.read(channel, { after: 0, limit: 1_000 });
        assert.deepEqual(
          read.publications.map((p) => decodeData(p.data)),
          Array.from({ length: 400 }, (_, n) => n),
          `${channel}: history in call order`,
        );
      }
      await waitFor(() => delivered.filter((p) => channels.includes(p.channel)).length === 1_200, 'every delivery');
      for (const channel of channels) {
        assert.deepEqual(
          delivered.filter((p) => p.channel === channel).map((p) => decodeData(p.data)),
          Array.from({ length: 400 }, (_, n) => n),
          `${channel}: delivered in call order`,
        );
      }
    });

    it('drops duplicates among publishes made without waiting, and answers where the channel was', async () => {
      const c = fresh('idem-burst');
      const publish = (data: string, source: string, sequence: number) =>
        broker.publish(c, encodeData(data), history, { idempotency: { source, sequence } });
      const outcomes = await Promise.all([
        publish('a', 'orders/0', 5),
        publish('a again', 'orders/0', 5),
        publish('b', 'orders/1', 1),
        publish('older', 'orders/0', 4),
        publish('c', 'orders/0', 6),
      ]);
      assert.deepEqual(
        outcomes.map((p) => p.off),
        [1, 1, 2, 2, 3],
      );
      const read = await broker.read(c, { after: 0, limit: 10 });
      assert.deepEqual(
        read.publications.map((p) => decodeData(p.data)),
        ['a', 'b', 'c'],
      );
    });

    it('treats expired history as trimmed', async () => {
      const c = fresh('expiry');
      await broker.publish(c, encodeData(1), { size: 10, ttlMs: 30 });
      const second = await broker.publish(c, encodeData(2), { size: 10, ttlMs: 30 });
      await new Promise((resolve) => setTimeout(resolve, 80));
      const read = await broker.read(c, { after: 1, limit: 100 });
      assert.deepEqual(read.publications, [], 'expired history is not read');
      assert.equal(read.top.off, second.off);
    });
  });
}
