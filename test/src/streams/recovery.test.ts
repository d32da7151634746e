import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Position } from '@switchboard/protocol';
import type { ChannelRead, PositionedPublication, ReadQuery } from '../../../src/brokers/broker.js';
import { recover } from '../../../src/streams/recovery.js';

const publication = (ep: string, off: number): PositionedPublication => ({
  channel: 'c',
  position: { ep, off },
  data: Uint8Array.of(off),
});

/** A channel holding offsets `from..top` of epoch `ep` (nothing when from > top), read as a broker would. */
function channel(ep: string, top: number, from = 1) {
  const reads: ReadQuery[] = [];
  const read = async (query: ReadQuery): Promise<ChannelRead> => {
    reads.push(query);
    const publications: PositionedPublication[] = [];
    for (let off = Math.max(from, query.after + 1); off <= top && publications.length < query.limit; off++)
      publications.push(publication(ep, off));
    return { top: { ep, off: top }, publications };
  };
  return { read, reads };
}

const offsets = (list: readonly PositionedPublication[]) => list.map((p) => p.position.off);
const at = (ep: string, off: number): Position => ({ ep, off });

describe('recovery: one decision for joins and repairs, whatever the broker', () => {
  it('recovers everything after a position still in history, with one read', async () => {
    const { read, reads } = channel('e', 9);
    const outcome = await recover(at('e', 6), read, 100);
    assert.equal(outcome.recovered, true);
    assert.deepEqual(offsets(outcome.replay), [7, 8, 9]);
    assert.deepEqual(reads, [{ after: 6, limit: 100 }]);
  });

  it('recovers nothing to replay when nothing was missed', async () => {
    const outcome = await recover(at('e', 9), channel('e', 9).read, 100);
    assert.deepEqual(outcome, { recovered: true, replay: [], top: at('e', 9) });
  });

  it('reports trimmed when history starts after the position, and continues at the top', async () => {
    const outcome = await recover(at('e', 2), channel('e', 9, 5).read, 100);
    assert.deepEqual(outcome, { recovered: false, reason: 'trimmed', from: at('e', 9), replay: [], top: at('e', 9) });
  });

  describe('with an archive (a namespace replaying from Kafka)', () => {
    /** An archive holding offsets `from..` of epoch `ep`; it records what it was asked. */
    function archive(ep: string, from: number) {
      const asked: Array<{ from: number; to: number }> = [];
      const fetch = async (request: { ep: string; from: number; to: number }) => {
        asked.push({ from: request.from, to: request.to });
        if (request.ep !== ep || request.from < from) return undefined;
        return Array.from({ length: request.to - request.from + 1 }, (_, i) => publication(ep, request.from + i));
      };
      return { fetch, asked };
    }

    it('asks it for exactly what history trimmed, and recovers with both in order', async () => {
      const { fetch, asked } = archive('e', 1);
      const { read, reads } = channel('e', 9, 5);
      const outcome = await recover(at('e', 2), read, 100, fetch);
      assert.equal(outcome.recovered, true);
      assert.deepEqual(offsets(outcome.replay), [3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(asked, [{ from: 3, to: 4 }]);
      assert.deepEqual(
        reads,
        [
          { after: 2, limit: 100 },
          { after: 2, limit: 100, sources: true },
        ],
        'the anchors are read only once history turned out trimmed',
      );
    });

    it('reports trimmed when the archive no longer holds all of it either', async () => {
      const outcome = await recover(at('e', 2), channel('e', 9, 5).read, 100, archive('e', 4).fetch);
      assert.equal(!outcome.recovered && outcome.reason, 'trimmed');
    });

    it('is not asked when history holds everything, nor beyond the limit', async () => {
      const { fetch, asked } = archive('e', 1);
      const { read, reads } = channel('e', 9, 5);
      assert.equal((await recover(at('e', 6), read, 100, fetch)).recovered, true);
      assert.deepEqual(reads, [{ after: 6, limit: 100 }], 'no anchors read');
      const outcome = await recover(at('e', 2), channel('e', 9, 5).read, 3, fetch);
      assert.equal(!outcome.recovered && outcome.reason, 'too_many_missed');
      assert.deepEqual(asked, []);
    });
  });

  it('reports too_many_missed beyond the limit', async () => {
    const outcome = await recover(at('e', 2), channel('e', 9).read, 3);
    assert.equal(!outcome.recovered && outcome.reason, 'too_many_missed');
  });

  it('reports ahead_of_stream for a position the channel never reached', async () => {
    const outcome = await recover(at('e', 12), channel('e', 9).read, 100);
    assert.equal(!outcome.recovered && outcome.reason, 'ahead_of_stream');
  });

  it('after an epoch change with the new epoch whole, continues from its offset 0 and replays it', async () => {
    const { read, reads } = channel('new', 3);
    const outcome = await recover(at('old', 40), read, 100);
    assert.equal(outcome.recovered, false);
    assert.equal(!outcome.recovered && outcome.reason, 'epoch_changed');
    assert.deepEqual(!outcome.recovered && outcome.from, at('new', 0));
    assert.deepEqual(offsets(outcome.replay), [1, 2, 3]);
    assert.deepEqual(reads, [
      { after: 40, limit: 100 },
      { after: 0, limit: 100 },
    ]);
  });

  it('after an epoch change with the new epoch trimmed or too long, continues at the top', async () => {
    const trimmed = await recover(at('old', 1), channel('new', 9, 4).read, 100);
    assert.deepEqual(!trimmed.recovered && trimmed.from, at('new', 9));
    assert.deepEqual(trimmed.replay, []);
    const long = await recover(at('old', 1), channel('new', 9).read, 5);
    assert.deepEqual(!long.recovered && [long.reason, long.from], ['epoch_changed', at('new', 9)]);
  });

  it('after an epoch change with nothing published yet, continues from offset 0 with one read', async () => {
    const { read, reads } = channel('new', 0);
    const outcome = await recover(at('old', 5), read, 100);
    assert.deepEqual(!outcome.recovered && outcome.from, at('new', 0));
    assert.equal(reads.length, 1);
  });
});
