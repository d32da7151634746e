import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { codecs, encodeData, fromWire } from '@switchboard/protocol';
import fc from 'fast-check';
import type { Publication } from '../../../src/brokers/broker.js';
import { ConflatedLanes, conflate } from '../../../src/streams/conflation.js';

interface Sent {
  readonly at: number;
  readonly topic: string;
  readonly off: number | undefined;
  readonly skip: number;
  readonly data: unknown;
}

function publication(off: number, data: unknown): Publication {
  return { channel: 'ticker:x', position: { ep: 'e', off }, data: encodeData(data) };
}

/** Lanes whose frames are decoded as a client would, stamped with the mocked clock. */
function lanes(key?: string) {
  const sent: Sent[] = [];
  const made = new ConflatedLanes(
    'ticker:x',
    key,
    ([topic, frame]) => {
      const push = fromWire(codecs.msgpack.parse(frame)) as { off?: number; d: unknown; skip?: number };
      sent.push({ at: Date.now(), topic, off: push.off, skip: push.skip ?? 0, data: push.d });
    },
    () => undefined,
  );
  return { made, sent };
}

describe('conflated lanes (src/streams/conflation.ts)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('members of one rate share one topic and one timer: each publication goes out once per rate', () => {
    const { made, sent } = lanes();
    made.count(10, 'msgpack', +1);
    made.count(10, 'msgpack', +1);
    made.count(2, 'msgpack', +1);
    made.accept(publication(1, 1));
    assert.deepEqual(
      sent.map((s) => s.topic),
      ['r10m:ticker:x', 'r2m:ticker:x'],
    );
    made.stop();
  });

  it('property: never more than the rate, the latest within one period, and every skip told', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
        (rate, gaps) => {
          mock.timers.reset();
          mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
          const { made, sent } = lanes();
          made.count(rate, 'msgpack', +1);
          const period = 1000 / rate;
          const tick = Math.ceil(period);
          let off = 0;
          for (const gap of gaps) {
            mock.timers.tick(gap);
            off += 1;
            made.accept(publication(off, { price: off }));
          }
          const lastAt = Date.now();
          mock.timers.tick(tick);
          // Never two within a period.
          for (let i = 1; i < sent.length; i++)
            assert.ok((sent[i]?.at ?? 0) - (sent[i - 1]?.at ?? 0) >= period - 1e-9, 'two pushes within a period');
          // The latest value goes out within one period of its publication.
          const last = sent.at(-1);
          assert.equal(last?.off, off);
          assert.ok((last?.at ?? 0) - lastAt <= tick);
          // What was left out is told: the skips and the pushes account for every offset.
          assert.equal(sent.length + sent.reduce((sum, s) => sum + s.skip, 0), off);
          made.stop();
        },
      ),
    );
  });

  it('with a key, the latest per key goes out each period, in offset order', () => {
    const { made, sent } = lanes('symbol');
    made.count(1, 'msgpack', +1);
    made.accept(publication(1, { symbol: 'A', price: 1 }));
    made.accept(publication(2, { symbol: 'B', price: 2 }));
    made.accept(publication(3, { symbol: 'A', price: 3 }));
    made.accept(publication(4, { symbol: 'A', price: 4 }));
    mock.timers.tick(1000);
    assert.deepEqual(
      sent.map((s) => [s.off, s.skip, s.data]),
      [
        [1, 0, { symbol: 'A', price: 1 }],
        [2, 0, { symbol: 'B', price: 2 }],
        [4, 1, { symbol: 'A', price: 4 }],
      ],
    );
    made.stop();
  });

  it('the last member gone stops the timer: nothing goes out after', () => {
    const { made, sent } = lanes();
    made.count(5, 'msgpack', +1);
    made.accept(publication(1, 1));
    made.accept(publication(2, 2));
    made.count(5, 'msgpack', -1);
    mock.timers.tick(1000);
    assert.equal(sent.length, 1);
  });

  it('a replay is conflated the same way, counting from what the reader holds', () => {
    const replay = [1, 2, 3].map((off) => publication(off + 10, off));
    assert.deepEqual(
      conflate(replay, undefined, 10).map(({ publication: p, skip }) => [p.position?.off, skip]),
      [[13, 2]],
    );
  });
});
