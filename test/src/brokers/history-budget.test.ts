import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PositionedPublication } from '../../../src/brokers/broker.js';
import { HistoryBudget } from '../../../src/brokers/history-budget.js';
import { entryBytes, HistoryRing } from '../../../src/brokers/history-ring.js';

const publication = (off: number, bytes: number): PositionedPublication => ({
  channel: 'c',
  position: { ep: 'e', off },
  data: new Uint8Array(bytes),
});

describe('the history budget', () => {
  it("evicts the node's oldest publications first, whichever channel holds them, and keeps within its bound", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 200 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        (steps, capacity) => {
          const bound = 4 * entryBytes(publication(0, 100));
          const budget = new HistoryBudget(bound);
          const rings = [0, 1, 2, 3].map(() => new HistoryRing());
          // The model: every retained publication as [channel, offset, bytes], oldest of the node first.
          let model: Array<[number, number, number]> = [];
          const offsets = [0, 0, 0, 0];
          for (const [channel, size] of steps) {
            const ring = rings[channel] as HistoryRing;
            const off = ++(offsets[channel] as number);
            const added = publication(off, size);
            const dropped = ring.push(added, Number.MAX_SAFE_INTEGER, capacity);
            budget.added(ring, off, entryBytes(added), dropped);
            model.push([channel, off, entryBytes(added)]);
            const mine = model.filter(([c]) => c === channel);
            if (mine.length > capacity) model = model.filter((entry) => entry !== mine[0]);
            let used = model.reduce((sum, [, , bytes]) => sum + bytes, 0);
            while (used > bound) {
              used -= (model[0] as [number, number, number])[2];
              model = model.slice(1);
            }
            assert.equal(budget.used, used);
            assert.ok(budget.used <= bound);
          }
          for (const [channel, ring] of rings.entries()) {
            assert.deepEqual(
              ring.after(0, 1_000, 0).map((p) => p.position.off),
              model.filter(([c]) => c === channel).map(([, off]) => off),
            );
          }
        },
      ),
    );
  });

  it('counts what rings drop on their own, so that it never evicts for bytes no longer held', () => {
    const bytes = entryBytes(publication(0, 10));
    const budget = new HistoryBudget(2 * bytes);
    const quiet = new HistoryRing();
    const busy = new HistoryRing();
    budget.added(quiet, 1, bytes, quiet.push(publication(1, 10), 100, 10));
    budget.released(quiet.dropExpired(200));
    for (let off = 1; off <= 2; off++) budget.added(busy, off, bytes, busy.push(publication(off, 10), 1_000, 10));
    assert.equal(budget.used, 2 * bytes);
    assert.deepEqual(
      busy.after(0, 10, 0).map((p) => p.position.off),
      [1, 2],
      'the expired publication freed its room',
    );
  });
});
