import type { Producer } from 'kafkajs';

export interface BurstOptions {
  /** Events per `send` (one produce request), spread round-robin over the channels. */
  readonly perSend: number;
  /** Sends at most; the burst also stops after `maxMs`. */
  readonly sends: number;
  /** Pause between sends, so that a burst lasts long enough for something to happen during it. */
  readonly pauseMs: number;
  /** Bytes of filler in each event's value, beside its `{seq}`. */
  readonly padBytes?: number;
  readonly maxMs?: number;
}

/**
 * Events produced to a Kafka topic in large sends, keyed by channel, each carrying `{seq}` (1, 2, …
 * per channel): a hub then fetches batches of hundreds of events per partition, which is what the
 * pipelined ingress hands over at once. Only the seqs of acknowledged sends are owed to
 * subscribers; a failed send's seqs are used up (it may have been written after all).
 */
export class Burst {
  /** Seqs whose send was acknowledged, per channel, in order. */
  readonly acked = new Map<string, number[]>();
  readonly failures: unknown[] = [];
  /** Sends attempted so far. */
  sent = 0;
  private readonly next = new Map<string, number>();
  private running = true;
  private readonly done: Promise<void>;

  private constructor(producer: () => Producer, topic: string, channels: readonly string[], options: BurstOptions) {
    for (const channel of channels) this.acked.set(channel, []);
    const pad = 'x'.repeat(options.padBytes ?? 0);
    const maxMs = options.maxMs ?? 60_000;
    this.done = (async () => {
      const started = Date.now();
      for (let send = 0; this.running && send < options.sends && Date.now() - started < maxMs; send++) {
        const events = Array.from({ length: options.perSend }, (_, i) => {
          const channel = channels[(send * options.perSend + i) % channels.length] as string;
          const seq = (this.next.get(channel) ?? 0) + 1;
          this.next.set(channel, seq);
          return { channel, seq };
        });
        this.sent += 1;
        try {
          await producer().send({
            topic,
            acks: -1,
            timeout: 5_000,
            messages: events.map(({ channel, seq }) => ({ key: channel, value: JSON.stringify({ seq, pad }) })),
          });
          for (const { channel, seq } of events) this.acked.get(channel)?.push(seq);
        } catch (error) {
          this.failures.push(error);
        }
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    })();
  }

  static start(producer: () => Producer, topic: string, channels: readonly string[], options: BurstOptions): Burst {
    return new Burst(producer, topic, channels, options);
  }

  /** Resolves when the burst has sent everything (or was stopped). */
  finished(): Promise<void> {
    return this.done;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  get count(): number {
    let total = 0;
    for (const seqs of this.acked.values()) total += seqs.length;
    return total;
  }
}
