import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKafkaSource, planReplay } from '../../../src/bridges/replay-plan.js';

const topics = new Set(['orders']);
const anchor = (off: number, source: string, sequence: number) => ({ off, source, sequence });

describe('replay plan: which partition offsets a trimmed stretch of a channel is read from', () => {
  it('starts at the latest anchor at or before the first offset wanted, and checks every anchor of the source on the way', () => {
    const anchors = [anchor(1, 'orders/2', 10), anchor(101, 'orders/2', 400), anchor(201, 'orders/2', 800)];
    const plan = planReplay(anchors, 150, 230, topics);
    assert.deepEqual(plan, {
      ok: true,
      runs: [{ topic: 'orders', partition: 2, start: anchors[1], anchors: anchors.slice(1), from: 150, to: 230 }],
    });
  });

  it('splits the stretch where the source changes, each run ending before the next begins', () => {
    const anchors = [anchor(1, 'orders/0', 5), anchor(4, 'orders/1', 7), anchor(9, 'orders/0', 30)];
    const plan = planReplay(anchors, 2, 10, topics);
    assert.ok(plan.ok);
    assert.deepEqual(
      plan.runs.map((run) => [run.partition, run.start.sequence, run.from, run.to]),
      [
        [0, 5, 2, 3],
        [1, 7, 4, 8],
        [0, 30, 9, 10],
      ],
    );
  });

  it('refuses a stretch that starts before the oldest anchor kept', () => {
    assert.deepEqual(planReplay([anchor(50, 'orders/0', 5)], 10, 60, topics), { ok: false, reason: 'not_indexed' });
    assert.deepEqual(planReplay([], 1, 2, topics), { ok: false, reason: 'not_indexed' });
  });

  it('refuses a stretch holding publications that came from elsewhere (an HTTP publish, another topic)', () => {
    const http = [anchor(1, 'orders/0', 5), anchor(3, '', 0), anchor(4, 'orders/0', 9)];
    assert.deepEqual(planReplay(http, 2, 5, topics), { ok: false, reason: 'not_from_kafka' });
    assert.deepEqual(planReplay([anchor(1, 'users/0', 1)], 1, 2, topics), { ok: false, reason: 'not_from_kafka' });
    assert.equal(planReplay(http, 1, 2, topics).ok, true, 'the stretch before the HTTP publish reads fine');
  });

  it('reads a source as topic and partition, refusing anything else', () => {
    assert.deepEqual(parseKafkaSource('orders.v2/11'), { topic: 'orders.v2', partition: 11 });
    for (const bad of ['', 'orders', 'orders/', '/1', 'orders/-1', 'orders/1.5', 'orders/x']) {
      assert.equal(parseKafkaSource(bad), undefined, bad);
    }
  });
});
