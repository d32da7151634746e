/**
 * The channels one connection holds: an array of exactly their number, since a connection holds
 * few (two in the common case, at most `limits.maxSubscriptionsPerConnection`) and every idle
 * connection pays for it. A Set of two cost about 130 B; an array grown by `push` reserves 17
 * slots at the first one (152 B); a copy of the right length for two costs 32 B. Adding and
 * removing copy the array, which only subscribes and unsubscribes do.
 */
export class ChannelList implements Iterable<string> {
  private items: readonly string[] = [];

  get size(): number {
    return this.items.length;
  }

  has(channel: string): boolean {
    return this.items.includes(channel);
  }

  add(channel: string): void {
    if (!this.items.includes(channel)) this.items = [...this.items, channel];
  }

  /** Removes `channel`; false when it was not there. */
  delete(channel: string): boolean {
    if (!this.items.includes(channel)) return false;
    this.items = this.items.filter((item) => item !== channel);
    return true;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.items[Symbol.iterator]();
  }
}
