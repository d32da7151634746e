import type { Position } from '@switchboard/protocol';
import type { ChannelRead, PositionedPublication, ReadQuery } from '../brokers/broker.js';
import type { ChannelArchive } from './archive.js';

/**
 * Whether what follows a position can be supplied from history, and why not — decided here, once,
 * for every broker and for both of its users: a client resubscribing with `since`, and a channel
 * stream repairing a gap in what reached its hub. Brokers only report what they hold.
 */

/** Why the publications after a position cannot all be supplied. */
export type LossReason = 'epoch_changed' | 'trimmed' | 'too_many_missed' | 'ahead_of_stream';

export type Recovery =
  | {
      readonly recovered: true;
      /** Every publication after the asked position, up to `top`, in order. */
      readonly replay: readonly PositionedPublication[];
      readonly top: Position;
    }
  | {
      readonly recovered: false;
      readonly reason: LossReason;
      /**
       * Where the reader continues: after this position come `replay`, then what is published
       * next. The top when nothing can be supplied; offset 0 of the new epoch when the epoch
       * changed and the new epoch's history is complete, so nothing published since is missed.
       */
      readonly from: Position;
      readonly replay: readonly PositionedPublication[];
      readonly top: Position;
    };

export type Reader = (query: ReadQuery) => Promise<ChannelRead>;

/** Whether `publications` are exactly the offsets after..top, one each, in order. */
function complete(publications: readonly PositionedPublication[], after: number, top: number): boolean {
  if (publications.length !== top - after) return false;
  return publications.every((publication, index) => publication.position.off === after + 1 + index);
}

/**
 * Reads what follows `since` (at most `limit` publications) and decides. One read, plus a second
 * one from the new epoch's start when the epoch changed (rare: history was lost). With an
 * `archive` (a namespace replaying from Kafka), what history trimmed is asked of it, and the
 * recovery is exact when it supplies all of that.
 */
export async function recover(
  since: Position,
  read: Reader,
  limit: number,
  archive?: ChannelArchive,
): Promise<Recovery> {
  const first = await read({ after: since.off, limit });
  const { top } = first;
  if (top.ep === since.ep) {
    if (since.off > top.off) return { recovered: false, reason: 'ahead_of_stream', from: top, replay: [], top };
    if (top.off - since.off > limit) return { recovered: false, reason: 'too_many_missed', from: top, replay: [], top };
    if (complete(first.publications, since.off, top.off)) return { recovered: true, replay: first.publications, top };
    const filled = archive ? await fill(since, read, limit, archive) : undefined;
    if (filled) return { recovered: true, ...filled };
    return { recovered: false, reason: 'trimmed', from: top, replay: [], top };
  }
  // The epoch changed: the old epoch's tail is lost, but the new epoch may be whole from offset 1.
  const fresh = top.off <= limit && top.off > 0 ? await read({ after: 0, limit }) : first;
  const newest = fresh.top;
  if (newest.ep === top.ep && newest.off <= limit && complete(fresh.publications, 0, newest.off)) {
    return {
      recovered: false,
      reason: 'epoch_changed',
      from: { ep: newest.ep, off: 0 },
      replay: fresh.publications,
      top: newest,
    };
  }
  return { recovered: false, reason: 'epoch_changed', from: newest, replay: [], top: newest };
}

/**
 * What history holds after `since`, preceded by what it trimmed, from the archive: undefined
 * unless the two make every publication up to the top. History is read again with the channel's
 * anchors (up to 2,048, read only once history turned out trimmed), in one call, so that they
 * describe the same epoch and top; what is missing is the run before its first retained one.
 */
async function fill(
  since: Position,
  read: Reader,
  limit: number,
  archive: ChannelArchive,
): Promise<{ replay: PositionedPublication[]; top: Position } | undefined> {
  const { top, publications, sources } = await read({ after: since.off, limit, sources: true });
  if (top.ep !== since.ep || top.off - since.off > limit) return undefined;
  const held = publications[0]?.position.off ?? top.off + 1;
  if (!complete(publications, held - 1, top.off)) return undefined;
  const fetched = await archive({ ep: top.ep, from: since.off + 1, to: held - 1, anchors: sources ?? [] });
  if (!fetched || !complete(fetched, since.off, held - 1)) return undefined;
  return { replay: [...fetched, ...publications], top };
}
