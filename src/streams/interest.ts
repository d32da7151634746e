import type { Broker } from '../brokers/broker.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Keeps the broker subscribed to exactly the channels this node wants (I2, docs/architecture.md). Changes are
 * collected and applied in one batched call per turn of the event loop, and flushes never
 * overlap, so a channel dropped and wanted again in quick succession cannot end up unsubscribed.
 */
export class Interest {
  private readonly atBroker = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private flushing: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly broker: Broker,
    private readonly isWanted: (channel: string) => boolean,
  ) {}

  /** Resolves once the broker delivers the channel's publications to this node. */
  want(channel: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(channel);
      if (list) list.push({ resolve, reject });
      else this.waiters.set(channel, [{ resolve, reject }]);
      this.markDirty(channel);
    });
  }

  release(channel: string): void {
    this.markDirty(channel);
  }

  /** Waits until every change made so far has reached the broker. */
  async settled(): Promise<void> {
    while (this.scheduled || this.flushing) await (this.flushing ?? new Promise((r) => setImmediate(r)));
  }

  private markDirty(channel: string): void {
    this.dirty.add(channel);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Applies changes until none are left; changes made meanwhile join the next round of the loop. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = this.drainDirty();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async drainDirty(): Promise<void> {
    while (this.dirty.size > 0) {
      const toSubscribe: string[] = [];
      const toUnsubscribe: string[] = [];
      for (const channel of this.dirty) {
        const wanted = this.isWanted(channel);
        const subscribed = this.atBroker.has(channel);
        if (wanted && !subscribed) toSubscribe.push(channel);
        else if (!wanted && subscribed) toUnsubscribe.push(channel);
        else if (wanted) this.settle(channel);
        else this.settle(channel, new Error('subscription withdrawn before it was made'));
      }
      this.dirty.clear();
      await this.apply(toSubscribe, toUnsubscribe);
    }
  }

  private async apply(toSubscribe: string[], toUnsubscribe: string[]): Promise<void> {
    if (toUnsubscribe.length > 0) {
      for (const channel of toUnsubscribe) this.atBroker.delete(channel);
      // A failed unsubscribe only costs unwanted deliveries, which the hub drops; never retry it here.
      await this.broker.unsubscribe(toUnsubscribe).catch(() => undefined);
    }
    if (toSubscribe.length === 0) return;
    try {
      await this.broker.subscribe(toSubscribe);
      for (const channel of toSubscribe) {
        this.atBroker.add(channel);
        this.settle(channel);
      }
    } catch (error) {
      for (const channel of toSubscribe) this.settle(channel, error);
    }
  }

  private settle(channel: string, error?: unknown): void {
    const list = this.waiters.get(channel);
    if (!list) return;
    this.waiters.delete(channel);
    for (const waiter of list) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
