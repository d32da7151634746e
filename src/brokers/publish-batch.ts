import type { Position } from '@switchboard/protocol';
import type { HistoryOptions, PublishExtras } from './broker.js';

/** One publication waiting for its call. */
export interface PendingPublish {
  readonly data: Uint8Array;
  readonly extras: PublishExtras;
  resolve(position: Position): void;
  reject(error: Error): void;
}

/** Publications of one channel that go to the store in one atomic call, in order. */
export interface PublishCall {
  readonly channel: string;
  readonly history: HistoryOptions;
  readonly items: PendingPublish[];
  /** Data bytes of the items, to bound a call's size. */
  bytes: number;
}

export interface CallLimits {
  /** Publications per call at most (a call blocks the store while it runs). */
  readonly maxItems: number;
  /** Data bytes per call at most, unless one publication alone is larger. */
  readonly maxBytes: number;
}

/**
 * Coalesces the publishes that arrive in one turn of the event loop: HTTP publishes, clients'
 * `pub` frames, a Kafka partition's batch handed over at once. They leave together on the next
 * turn, as one call per channel (the store applies a call atomically and in order) and all
 * calls in one round trip. Publishes of a channel keep the order they were made in, within a
 * call, across calls of a turn (sent in order on one connection) and across turns.
 *
 * Measured on the Redis broker (docs/BENCHMARKS.md, ingress): one script call and one round trip
 * per publication held Kafka ingress near 5,900 publications/s; coalesced, a turn carries
 * hundreds of publications in a few calls.
 *
 * Nothing is queued beyond one turn: a caller that publishes faster than the store answers holds
 * its own promises, so back-pressure stays with the caller (a Kafka partition waits for its batch).
 */
export class PublishBatcher {
  private calls: PublishCall[] = [];
  /** The open call of each channel this turn: later publishes of the channel join it. */
  private open = new Map<string, PublishCall>();
  private scheduled = false;

  constructor(
    private readonly limits: CallLimits,
    /** Sends a turn's calls in one round trip; settles every item of every call. */
    private readonly send: (calls: readonly PublishCall[]) => void,
  ) {}

  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras: PublishExtras): Promise<Position> {
    return new Promise<Position>((resolve, reject) => {
      let call = this.open.get(channel);
      if (
        !call ||
        call.history.size !== history.size ||
        call.history.ttlMs !== history.ttlMs ||
        call.history.anchors !== history.anchors ||
        call.items.length >= this.limits.maxItems ||
        call.bytes + data.byteLength > this.limits.maxBytes
      ) {
        call = { channel, history, items: [], bytes: 0 };
        this.calls.push(call);
        this.open.set(channel, call);
      }
      call.items.push({ data, extras, resolve, reject });
      call.bytes += data.byteLength;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const calls = this.calls;
    this.calls = [];
    this.open = new Map();
    this.scheduled = false;
    this.send(calls);
  }
}
