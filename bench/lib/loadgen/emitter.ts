/**
 * The seam between the publish loop (publish.ts: when and how many) and the ingress paths
 * (ingress-*.ts: how one publication reaches the server). The rotation hands out the channels
 * round-robin with their next sequence number and keeps the count of deliveries expected.
 */
import type { PublishChannel } from './types.js';

export interface Emitter {
  /** How many publications it takes now: a path with bounded concurrency says how many slots are free. */
  capacity(): number;
  /** Publishes `count` publications, taking each channel and sequence from the rotation. */
  emit(count: number): void;
  /** Positive replies (acks, 200s) and failures so far. */
  readonly acks: number;
  readonly errors: number;
  /**
   * A path with bounded concurrency calls `wake` whenever a slot frees, so the loop refills it
   * at once instead of at its next 1 ms timer (which a busy machine stretches to tens of ms).
   */
  onFree?(wake: () => void): void;
}

/** The channels of one publish call, their sequence numbers across calls, and the deliveries expected. */
export class Rotation {
  private next = 0;
  /** Deliveries this process should see once everything emitted has arrived. */
  expected: number;
  sent = 0;
  readonly seqs: number[];

  constructor(
    readonly channels: readonly PublishChannel[],
    private readonly sequences: Map<string, number>,
    deliveredSoFar: number,
  ) {
    this.expected = deliveredSoFar;
    this.seqs = channels.map((c) => sequences.get(c.name) ?? 0);
  }

  /** The index of the next channel, advancing its sequence number; count it as sent. */
  take(): number {
    const i = this.next;
    this.next = (this.next + 1) % this.channels.length;
    this.seqs[i] = (this.seqs[i] ?? 0) + 1;
    this.expected += this.channels[i]?.fanout ?? 0;
    this.sent += 1;
    return i;
  }

  /** The index of the channel taken after `ahead` more takes. */
  indexAhead(ahead: number): number {
    return (this.next + ahead) % this.channels.length;
  }

  /** Fanout of the channel taken after `ahead` more takes (pacing). */
  fanoutAhead(ahead: number): number {
    return this.channels[this.indexAhead(ahead)]?.fanout ?? 1;
  }

  seq(i: number): number {
    return this.seqs[i] ?? 0;
  }

  name(i: number): string {
    return this.channels[i]?.name ?? '';
  }

  /** Keeps the sequence numbers for the next publish call on the same channels. */
  save(): void {
    this.channels.forEach((c, i) => {
      this.sequences.set(c.name, this.seqs[i] ?? 0);
    });
  }
}
