import type { Position } from '@switchboard/protocol';
import type { ChannelRead, PositionedPublication, ReadQuery } from '../brokers/broker.js';

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
 * one from the new epoch's start when the epoch changed (rare: history was lost).
 */
export async function recover(since: Position, read: Reader, limit: number): Promise<Recovery> {
  const first = await read({ after: since.off, limit });
  const { top } = first;
  if (top.ep === since.ep) {
    if (since.off > top.off) return { recovered: false, reason: 'ahead_of_stream', from: top, replay: [], top };
    if (top.off - since.off > limit) return { recovered: false, reason: 'too_many_missed', from: top, replay: [], top };
    if (!complete(first.publications, since.off, top.off))
      return { recovered: false, reason: 'trimmed', from: top, replay: [], top };
    return { recovered: true, replay: first.publications, top };
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
