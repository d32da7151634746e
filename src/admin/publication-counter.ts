import type { BrokerEventHandler, Publication } from '../brokers/broker.js';

/**
 * Counts the publications the broker delivers here, per channel, on their way to the hub, so the
 * admin view can show each channel's rate. One Map update per publication, and only while the
 * admin view is enabled; the broker delivers only channels with local subscribers, so it counts
 * at most as many channels as the hub holds, and forgets those the hub no longer holds.
 */
export class PublicationCounter implements BrokerEventHandler {
  private readonly counts = new Map<string, number>();

  constructor(private readonly next: BrokerEventHandler) {}

  onPublication(publication: Publication): void {
    this.counts.set(publication.channel, (this.counts.get(publication.channel) ?? 0) + 1);
    this.next.onPublication(publication);
  }

  /** Publications of `channel` delivered here so far. */
  count(channel: string): number {
    return this.counts.get(channel) ?? 0;
  }

  /** Forgets every channel not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const channel of this.counts.keys()) if (!keep.has(channel)) this.counts.delete(channel);
  }
}
