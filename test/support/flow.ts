/**
 * Publications at a steady rate, round-robin over channels, each carrying `{seq}` (1, 2, … per
 * channel). A publish that fails still uses up its seq, since it may have reached the backbone
 * after all: only `acked` seqs are owed to subscribers.
 */
export class Flow {
  /** Seqs whose publish was acknowledged, per channel, in order. */
  readonly acked = new Map<string, number[]>();
  /** Publishes that were refused or failed, with why. */
  readonly failures: unknown[] = [];
  private readonly next = new Map<string, number>();
  private running = true;
  private readonly done: Promise<void>;

  private constructor(
    channels: readonly string[],
    ratePerSecond: number,
    publish: (channel: string, seq: number) => Promise<unknown>,
    maxMs: number,
  ) {
    for (const channel of channels) this.acked.set(channel, []);
    const intervalMs = 1000 / ratePerSecond;
    this.done = (async () => {
      const started = Date.now();
      for (let tick = 0; this.running && Date.now() - started < maxMs; tick++) {
        const channel = channels[tick % channels.length] as string;
        const seq = (this.next.get(channel) ?? 0) + 1;
        this.next.set(channel, seq);
        try {
          await publish(channel, seq);
          this.acked.get(channel)?.push(seq);
        } catch (error) {
          // Unacknowledged: neither owed nor forbidden.
          this.failures.push(error);
        }
        const due = started + (tick + 1) * intervalMs;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
    })();
  }

  /** Starts publishing; it stops by itself after `maxMs` at the latest. */
  static start(
    channels: readonly string[],
    ratePerSecond: number,
    publish: (channel: string, seq: number) => Promise<unknown>,
    maxMs = 60_000,
  ): Flow {
    return new Flow(channels, ratePerSecond, publish, maxMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** How many publications were acknowledged so far, per channel: acked seqs after it are `ackedSince(mark)`. */
  mark(): Map<string, number> {
    return new Map([...this.acked].map(([channel, seqs]) => [channel, seqs.length]));
  }

  /** The seqs acknowledged after `mark`, per channel. */
  ackedSince(mark: ReadonlyMap<string, number>): Map<string, number[]> {
    return new Map([...this.acked].map(([channel, seqs]) => [channel, seqs.slice(mark.get(channel) ?? 0)]));
  }

  /** How many publications were acknowledged, over all channels. */
  get count(): number {
    let total = 0;
    for (const seqs of this.acked.values()) total += seqs.length;
    return total;
  }
}
