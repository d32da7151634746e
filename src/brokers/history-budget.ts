import type { HistoryRing } from './history-ring.js';

/** Below this many records nothing is compacted: copying a short queue saves nothing. */
const COMPACT_MIN_RECORDS = 1_024;

/**
 * The memory broker's bound on the history of all channels together (`broker.maxHistoryBytes`).
 * Each channel keeps its own size and time; when all of them together count more bytes than the
 * bound, the node's oldest publications go first, whichever channel holds them: the ones least
 * likely to be asked for, since a client resumes from where it left off.
 *
 * The node's publications are recorded in order as (ring, offset) pairs. A ring drops entries on
 * its own too (its size, time to live, a forgotten channel): such a record is stale, recognised
 * because its offset is older than its ring's oldest, and skipped. Records cost about 16 bytes;
 * the queue is compacted (stale and consumed records forgotten) whenever it has doubled since the
 * last compaction, so every operation is amortised constant time and the queue holds at most
 * twice the records that were live at the last compaction.
 */
export class HistoryBudget {
  private rings: Array<HistoryRing | undefined> = [];
  private offsets: number[] = [];
  /** Index of the oldest record not yet consumed. */
  private head = 0;
  /** Bytes retained by every ring, as they reported them. */
  private bytes = 0;
  /** Records kept by the last compaction. */
  private compacted = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes of history retained over all channels. */
  get used(): number {
    return this.bytes;
  }

  /** `ring` retained a publication at `offset` counting `bytes`, and dropped `dropped` bytes doing so. */
  added(ring: HistoryRing, offset: number, bytes: number, dropped: number): void {
    this.rings.push(ring);
    this.offsets.push(offset);
    this.bytes += bytes - dropped;
    while (this.bytes > this.maxBytes && this.evictOldest());
    this.compact();
  }

  /** A ring dropped entries on its own (size, time, a forgotten channel): `bytes` of them. */
  released(bytes: number): void {
    this.bytes -= bytes;
  }

  /** Drops the node's oldest retained publication; false when nothing is retained. */
  private evictOldest(): boolean {
    while (this.head < this.rings.length) {
      const ring = this.rings[this.head] as HistoryRing;
      const offset = this.offsets[this.head] as number;
      this.rings[this.head] = undefined;
      this.head += 1;
      if (ring.oldestOffset !== offset) continue;
      this.bytes -= ring.dropOldest();
      return true;
    }
    return false;
  }

  /** Forgets consumed and stale records once the queue doubled since it last did. */
  private compact(): void {
    if (this.rings.length < 2 * this.compacted + COMPACT_MIN_RECORDS) return;
    const rings: HistoryRing[] = [];
    const offsets: number[] = [];
    for (let i = this.head; i < this.rings.length; i++) {
      const ring = this.rings[i] as HistoryRing;
      const offset = this.offsets[i] as number;
      const oldest = ring.oldestOffset;
      if (oldest === undefined || offset < oldest) continue;
      rings.push(ring);
      offsets.push(offset);
    }
    this.rings = rings;
    this.offsets = offsets;
    this.head = 0;
    this.compacted = rings.length;
  }
}
