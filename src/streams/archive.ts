import type { PositionedPublication, SourceAnchor } from '../brokers/broker.js';

/** Publications of one channel that history no longer holds: offsets `from`..`to` of epoch `ep`. */
export interface ArchiveRequest {
  readonly channel: string;
  readonly ep: string;
  readonly from: number;
  readonly to: number;
  /** Where the channel's publications came from (the broker's source anchors), oldest first. */
  readonly anchors: readonly SourceAnchor[];
}

/**
 * A place beyond the broker's history that may still hold a channel's older publications: the
 * Kafka partitions that fed it (src/bridges/kafka-replay.ts). Recovery asks it only for what
 * history trimmed (recovery.ts), and it answers exactly the publications asked for, in order,
 * or nothing, in which case recovery decides `trimmed` as it would without it.
 */
export interface Archive {
  /** Whether the channel's namespace replays from the archive. */
  covers(channel: string): boolean;
  fetch(request: ArchiveRequest): Promise<readonly PositionedPublication[] | undefined>;
  /** The longest a fetch takes (ms): a join waits this much longer when it may fetch. */
  readonly timeoutMs: number;
}

/** An archive's fetch for one channel, as recovery uses it. */
export type ChannelArchive = (
  request: Omit<ArchiveRequest, 'channel'>,
) => Promise<readonly PositionedPublication[] | undefined>;
