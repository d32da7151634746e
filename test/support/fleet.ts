import { Client, type ConnectResult, type Subscription } from '@switchboard/client';
import WebSocket from 'ws';
import { waitFor } from './wait.js';

/** One simulated browser: an SDK client and what it received, per channel, in order. */
export interface Member {
  readonly client: Client;
  readonly channels: readonly string[];
  readonly subscriptions: Subscription[];
  /** The `seq` of every publication received, per channel, in arrival order. */
  readonly received: Map<string, number[]>;
  /** Recovery outcomes reported on resubscription, per channel. */
  readonly recoveries: Map<string, Array<{ recovered: boolean; reason?: string | undefined }>>;
  /** The hub name of each connection, latest last. */
  readonly nodes: string[];
  disconnects: number;
  /** When it last received a publication (ms), and its longest time without one, since `measureSilences`. */
  lastArrival: number | undefined;
  longestSilenceMs: number;
}

/** The longest time each member went without a publication, over a window. */
export interface Silences {
  readonly longestMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Members whose longest silence was over `boundMs`. */
  over(boundMs: number): number;
}

export interface Delivery {
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
}

/**
 * Many SDK clients, each with its own WebSocket, subscribed to their channels. Publications
 * carry `{seq}`; the fleet counts, at the application level, what each client lost, got twice
 * or got out of order.
 */
export class Fleet {
  private constructor(readonly members: Member[]) {}

  /** `url` may differ per client, e.g. to put one behind a proxy that a test cuts. */
  static async connect(
    url: string | ((index: number) => string),
    count: number,
    channelsOf: (index: number) => string[],
  ): Promise<Fleet> {
    const members = Array.from({ length: count }, (_, index): Member => {
      const address = typeof url === 'string' ? url : url(index);
      const client = new Client(address, { WebSocket, backoff: { initialMs: 100, maxMs: 1_000 } });
      const member: Member = {
        client,
        channels: channelsOf(index),
        subscriptions: [],
        received: new Map(),
        recoveries: new Map(),
        nodes: [],
        disconnects: 0,
        lastArrival: undefined,
        longestSilenceMs: 0,
      };
      client.on('connected', (result: ConnectResult) => member.nodes.push(result.node ?? '?'));
      client.on('disconnected', () => {
        member.disconnects += 1;
      });
      for (const channel of member.channels) {
        const seqs: number[] = [];
        const recoveries: Array<{ recovered: boolean; reason?: string | undefined }> = [];
        member.received.set(channel, seqs);
        member.recoveries.set(channel, recoveries);
        const subscription = client.subscribe(channel);
        member.subscriptions.push(subscription);
        subscription.on('publication', ({ data }) => {
          seqs.push((data as { seq: number }).seq);
          const now = performance.now();
          if (member.lastArrival !== undefined)
            member.longestSilenceMs = Math.max(member.longestSilenceMs, now - member.lastArrival);
          member.lastArrival = now;
        });
        subscription.on('subscribed', ({ recovered, reason }) => {
          if (recovered !== undefined) recoveries.push({ recovered, reason });
        });
      }
      return member;
    });
    const fleet = new Fleet(members);
    await fleet.settled();
    return fleet;
  }

  /** Waits until every member is connected and subscribed to all its channels. */
  async settled(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      () =>
        this.members.every(
          (m) => m.client.state === 'connected' && m.subscriptions.every((s) => s.state === 'subscribed'),
        ),
      'every client connected and subscribed',
      timeoutMs,
    );
  }

  /** Members subscribed to `channel`. */
  of(channel: string): Member[] {
    return this.members.filter((m) => m.channels.includes(channel));
  }

  /** Waits until every subscriber of each channel received every one of its expected seqs. */
  async received(expected: ReadonlyMap<string, readonly number[]>, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      () =>
        [...expected].every(([channel, seqs]) =>
          this.of(channel).every((m) => {
            const got = new Set(m.received.get(channel));
            return seqs.every((seq) => got.has(seq));
          }),
        ),
      'every subscriber to receive every publication',
      timeoutMs,
    );
  }

  /**
   * Over all subscribers of `channel`: expected seqs never received, seqs received more than
   * once, and seqs received after a higher one.
   */
  delivery(channel: string, expected: readonly number[]): Delivery {
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const member of this.of(channel)) {
      const seqs = member.received.get(channel) ?? [];
      const distinct = new Set(seqs);
      for (const seq of expected) if (!distinct.has(seq)) lost += 1;
      duplicated += seqs.length - distinct.size;
      for (let i = 1; i < seqs.length; i++) if ((seqs[i] ?? 0) < (seqs[i - 1] ?? 0)) outOfOrder += 1;
    }
    return { lost, duplicated, outOfOrder };
  }

  /** The sum of `delivery` over channels, for a printed summary. */
  total(expected: ReadonlyMap<string, readonly number[]>): Delivery & { delivered: number } {
    const sum = { delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0 };
    for (const [channel, seqs] of expected) {
      const d = this.delivery(channel, seqs);
      sum.lost += d.lost;
      sum.duplicated += d.duplicated;
      sum.outOfOrder += d.outOfOrder;
      for (const member of this.of(channel)) sum.delivered += member.received.get(channel)?.length ?? 0;
    }
    return sum;
  }

  /** Starts measuring, per member, the longest time without a publication (from now). */
  measureSilences(): void {
    const now = performance.now();
    for (const member of this.members) {
      member.lastArrival = now;
      member.longestSilenceMs = 0;
    }
  }

  /** The longest silence of each member since `measureSilences`, up to now. */
  silences(): Silences {
    const now = performance.now();
    const longest = this.members
      .map((m) => Math.max(m.longestSilenceMs, now - (m.lastArrival ?? now)))
      .sort((a, b) => a - b);
    const at = (q: number) => longest[Math.min(longest.length - 1, Math.floor(q * longest.length))] ?? 0;
    return {
      longestMs: longest.at(-1) ?? 0,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      over: (boundMs) => longest.filter((ms) => ms > boundMs).length,
    };
  }

  close(): void {
    for (const member of this.members) member.client.close();
  }
}
