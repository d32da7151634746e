import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PositionedPublication } from '../../../src/brokers/broker.js';
import { entryBytes, HistoryRing } from '../../../src/brokers/history-ring.js';

const publication = (off: number): PositionedPublication => ({
  channel: 'c',
  position: { ep: 'e', off },
  data: Uint8Array.of(),
});

describe('the history ring', () => {
  it('keeps exactly the newest `capacity` publications, whatever the capacity does, as an array would', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.boolean()), { maxLength: 200 }), (steps) => {
        const ring = new HistoryRing();
        const model: number[] = [];
        let off = 0;
        for (const [capacity, read] of steps) {
          off += 1;
          ring.push(publication(off), Number.MAX_SAFE_INTEGER, capacity);
          if (capacity <= 0) model.length = 0;
          else {
            model.push(off);
            while (model.length > capacity) model.shift();
          }
          if (read)
            assert.deepEqual(
              ring.after(0, 1_000, 0).map((p) => p.position.off),
              model,
            );
        }
        assert.equal(ring.size, model.length);
      }),
    );
  });

  it('reads after an offset, at most `limit`, skipping expired entries', () => {
    const ring = new HistoryRing();
    for (let off = 1; off <= 6; off++) ring.push(publication(off), off <= 2 ? 100 : 1_000, 5);
    assert.deepEqual(
      ring.after(3, 10, 50).map((p) => p.position.off),
      [4, 5, 6],
    );
    assert.deepEqual(
      ring.after(0, 2, 50).map((p) => p.position.off),
      [2, 3],
    );
    assert.deepEqual(
      ring.after(0, 10, 500).map((p) => p.position.off),
      [3, 4, 5, 6],
      'offset 2 expired at 100',
    );
  });
});

describe('the history ring counts what it drops', () => {
  const sized = (off: number, bytes: number): PositionedPublication => ({
    channel: 'c',
    position: { ep: 'e', off },
    data: new Uint8Array(bytes),
  });

  it('reports the bytes of every entry it drops, by size, by age or all at once', () => {
    const ring = new HistoryRing();
    assert.equal(ring.push(sized(1, 10), 100, 2), 0);
    assert.equal(ring.push(sized(2, 20), 200, 2), 0);
    assert.equal(ring.push(sized(3, 30), 300, 2), entryBytes(sized(1, 10)), 'the oldest went for the size');
    assert.equal(ring.oldestOffset, 2);
    assert.equal(ring.dropExpired(250), entryBytes(sized(2, 20)), 'offset 2 expired at 200');
    assert.equal(ring.oldestOffset, 3);
    assert.equal(ring.clear(), entryBytes(sized(3, 30)));
    assert.equal(ring.oldestOffset, undefined);
    assert.equal(ring.dropOldest(), 0, 'nothing left to drop');
  });
});
