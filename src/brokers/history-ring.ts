import type { PositionedPublication } from './broker.js';

/**
 * What one retained publication costs the memory broker beyond its data bytes: the publication
 * and position objects, the data's Uint8Array view, the ring's two slots and the budget's record.
 * Measured over 100,000 retained publications of 97 data bytes on Node 20: 276 bytes of heap and
 * 137 of array buffers each, 413 in all, so 316 beyond the data (docs/operations.md, "History and
 * memory").
 */
export const ENTRY_OVERHEAD_BYTES = 320;

/** What a retained publication is counted as, against the node-wide bound (history-budget.ts). */
export function entryBytes(publication: PositionedPublication): number {
  return publication.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/**
 * One channel's retained publications, oldest first, each with its expiry: a ring that grows to
 * the channel's history size and then overwrites its oldest entry, so that appending costs the
 * same whatever the size (an array's `shift` moves every entry: 1,000 of them per publication at
 * history size 1,000). Offsets are contiguous within it: entry i has offset `first + i`. Every
 * change that removes entries says how many bytes they counted (entryBytes), so that the node
 * can bound all rings together.
 */
export class HistoryRing {
  /** Slots of dropped entries are emptied, so that their data is not kept alive until overwritten. */
  private items: Array<PositionedPublication | undefined> = [];
  private expiries: number[] = [];
  /** Index of the oldest entry. */
  private start = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Offset of the oldest entry, if any. */
  get oldestOffset(): number | undefined {
    return this.count === 0 ? undefined : this.items[this.start]?.position.off;
  }

  /** Appends, keeping at most `capacity` entries (0 keeps none); returns the bytes of the entries it dropped. */
  push(publication: PositionedPublication, expiresAt: number, capacity: number): number {
    if (capacity <= 0) return this.clear();
    let dropped = 0;
    while (this.count >= capacity) dropped += this.dropOldest();
    if (this.count === this.items.length) {
      // No free slot: grow. Entries are in order already unless the ring wrapped before.
      if (this.start !== 0) {
        this.items = this.ordered(this.items);
        this.expiries = this.ordered(this.expiries);
        this.start = 0;
      }
      this.items.push(publication);
      this.expiries.push(expiresAt);
      this.count += 1;
      return dropped;
    }
    const at = (this.start + this.count) % this.items.length;
    this.items[at] = publication;
    this.expiries[at] = expiresAt;
    this.count += 1;
    return dropped;
  }

  /** The unexpired entries with offset > `after`, oldest first, at most `limit`. */
  after(after: number, limit: number, now: number): PositionedPublication[] {
    const out: PositionedPublication[] = [];
    const length = this.items.length;
    for (let i = 0; i < this.count && out.length < limit; i++) {
      const at = (this.start + i) % length;
      const item = this.items[at] as PositionedPublication;
      if ((this.expiries[at] as number) <= now || item.position.off <= after) continue;
      out.push(item);
    }
    return out;
  }

  /** Drops the oldest entry; returns its bytes (0 when empty). */
  dropOldest(): number {
    if (this.count === 0) return 0;
    const oldest = this.items[this.start] as PositionedPublication;
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.items.length;
    this.count -= 1;
    return entryBytes(oldest);
  }

  /** Drops the entries expired at `now` (the oldest expire first); returns their bytes. */
  dropExpired(now: number): number {
    let dropped = 0;
    while (this.count > 0 && (this.expiries[this.start] as number) <= now) dropped += this.dropOldest();
    return dropped;
  }

  /** Drops every entry; returns their bytes. */
  clear(): number {
    let dropped = 0;
    while (this.count > 0) dropped += this.dropOldest();
    this.items = [];
    this.expiries = [];
    this.start = 0;
    return dropped;
  }

  private ordered<T>(slots: readonly T[]): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(slots[(this.start + i) % slots.length] as T);
    return out;
  }
}
