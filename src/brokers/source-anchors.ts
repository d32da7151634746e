import type { SourceAnchor } from './broker.js';

/**
 * Source anchors: where a channel's publications came from, kept beside its history so that what
 * history no longer holds can be read again from the source (a Kafka partition still holds what
 * Redis trimmed; src/bridges/kafka-replay.ts). The publications of one source between two
 * anchors are consecutive offsets of the channel and in the order of their sequences, so reading
 * the source from an anchor's sequence and counting the channel's records numbers each one
 * exactly as it was numbered when published.
 *
 * Only channels whose history options ask for them (`anchors`: namespaces with replay) keep any.
 * An anchor is made when a publication's source differs from the latest anchor's, when the
 * offset before it was published without anchors (replay was switched on since), and every
 * ANCHOR_INTERVAL offsets within one source, so that a read from a source starts at most that
 * many of the channel's records before what it needs (a channel fed by one partition would
 * otherwise have one anchor, and a replay would read the partition from the channel's first
 * record). At most MAX_ANCHORS are kept, the oldest dropped first: with one source that reaches
 * 204,800 publications back, at about 30 B each in Redis, 61 KB for a channel that published
 * that many, one entry for a channel that published fewer than ANCHOR_INTERVAL.
 */

/** Offsets of one source between two anchors, at most. */
export const ANCHOR_INTERVAL = 100;
/** Anchors kept per channel, at most. */
export const MAX_ANCHORS = 2_048;

/** An anchor as the Redis publish script stores it: `off|source|sequence` (redis-scripts.ts). */
export function parseAnchor(entry: string): SourceAnchor | undefined {
  const first = entry.indexOf('|');
  const last = entry.lastIndexOf('|');
  if (first < 1 || last === first) return undefined;
  const off = Number(entry.slice(0, first));
  const sequence = Number(entry.slice(last + 1));
  if (!Number.isSafeInteger(off) || !Number.isSafeInteger(sequence)) return undefined;
  return { off, source: entry.slice(first + 1, last), sequence };
}

/** One channel's anchors in memory (the memory broker), made by the same rule as the Redis script's. */
export class AnchorList {
  private anchors: SourceAnchor[] = [];
  /** The last offset recorded: one that does not follow it was published without anchors. */
  private last = -1;

  /** Notes the publication at `off` from `source` ('' for none) with `sequence`. */
  record(off: number, source: string, sequence: number): void {
    const latest = this.anchors[this.anchors.length - 1];
    const follows = off === this.last + 1;
    this.last = off;
    if (follows && latest?.source === source && (source === '' || off - latest.off < ANCHOR_INTERVAL)) return;
    this.anchors.push({ off, source, sequence });
    // Dropping a quarter at once keeps the cost per anchor constant (a splice moves the rest).
    if (this.anchors.length > MAX_ANCHORS) this.anchors = this.anchors.slice(MAX_ANCHORS / 4);
  }

  list(): readonly SourceAnchor[] {
    return [...this.anchors];
  }
}
