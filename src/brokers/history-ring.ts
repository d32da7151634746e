import type { PositionedPublication } from './broker.js';

/**
 * One channel's retained publications, oldest first, each with its expiry: a ring that grows to
 * the channel's history size and then overwrites its oldest entry, so that appending costs the
 * same whatever the size (an array's `shift` moves every entry: 1,000 of them per publication at
 * history size 1,000). Offsets are contiguous within it: entry i has offset `first + i`.
 */
export class HistoryRing {
  private items: PositionedPublication[] = [];
  private expiries: number[] = [];
  /** Index of the oldest entry. */
  private start = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Expiry of the newest entry, if any. */
  get newestExpiry(): number | undefined {
    return this.count === 0 ? undefined : this.expiries[(this.start + this.count - 1) % this.items.length];
  }

  /** Appends, keeping at most `capacity` entries (0 keeps none). */
  push(publication: PositionedPublication, expiresAt: number, capacity: number): void {
    if (capacity <= 0) {
      this.clear();
      return;
    }
    while (this.count >= capacity) this.dropOldest();
    if (this.count === this.items.length) {
      // No free slot: grow. Entries are in order already unless the ring wrapped before.
      if (this.start !== 0) {
        this.items = this.ordered();
        this.expiries = this.orderedExpiries();
        this.start = 0;
      }
      this.items.push(publication);
      this.expiries.push(expiresAt);
      this.count += 1;
      return;
    }
    const at = (this.start + this.count) % this.items.length;
    this.items[at] = publication;
    this.expiries[at] = expiresAt;
    this.count += 1;
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

  clear(): void {
    this.items = [];
    this.expiries = [];
    this.start = 0;
    this.count = 0;
  }

  private dropOldest(): void {
    this.start = (this.start + 1) % this.items.length;
    this.count -= 1;
  }

  private ordered(): PositionedPublication[] {
    const out: PositionedPublication[] = [];
    for (let i = 0; i < this.count; i++)
      out.push(this.items[(this.start + i) % this.items.length] as PositionedPublication);
    return out;
  }

  private orderedExpiries(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.expiries[(this.start + i) % this.items.length] as number);
    return out;
  }
}
