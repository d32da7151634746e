import type { Position, SubscribeResult } from '@switchboard/protocol';
import type { Broker, BrokerEventHandler, Publication } from '../brokers/broker.js';
import { limitExceeded } from '../errors.js';
import type { Archive } from './archive.js';
import {
  ChannelStream,
  type ReadPurpose,
  type StreamContext,
  type StreamMember,
  type StreamObserver,
} from './channel-stream.js';
import { FrameQueue, type TopicPublisher } from './fanout.js';
import { Interest } from './interest.js';
import { type Lane, PLAIN } from './lanes.js';
import { presencePush } from './presence-push.js';
import type { Reader } from './recovery.js';

export interface StreamsOptions {
  /** Distinct channels with local members (`limits.maxChannelsPerNode`); one more is refused with 106. */
  readonly maxChannels: number;
  /** Publications one join or repair may read (`limits.maxRecoveryPublications`). */
  readonly maxRecovery: number;
  /** A namespace's own cap (its `maxRecovery`), by channel, in place of `maxRecovery`. */
  readonly recoveryCap?: ((channel: string) => number | undefined) | undefined;
  /** The data field whose latest value per key a conflated lane keeps, by channel (namespace `conflation.key`). */
  readonly conflationKey?: ((channel: string) => string | undefined) | undefined;
  /**
   * How often every channel's position is compared with the broker's, in ms; 0 never. A quiet
   * channel whose publications were lost learns of it within two intervals, without waiting for
   * its next publication.
   */
  readonly positionCheckMs: number;
  /** Where publications history trimmed may still be read (Kafka ingress topics with `replay`). */
  readonly archive?: Archive | undefined;
}

/** Channels checked per tick at most, so that a hub with many channels spreads its reads out. */
const CHECK_TICKS_PER_INTERVAL = 10;

/**
 * The node's channel streams (channel-stream.ts): the only way a socket joins or leaves a
 * channel. A stream exists while the channel has local members; with the first one the broker is
 * asked for the channel (I2, docs/architecture.md), with the last one it is released. Publications from the broker go
 * to their channel's stream; when delivery to this node was interrupted, every stream checks its
 * position once delivery is back.
 */
export class Streams implements BrokerEventHandler {
  private readonly streams = new Map<string, ChannelStream>();
  private readonly interest: Interest;
  private readonly queue = new FrameQueue();
  /** One context for every stream: per-channel closures would cost every channel a few hundred bytes. */
  private readonly context: StreamContext;
  /** Bumped whenever the broker's delivery to this node was interrupted. */
  private generation = 0;
  private checker: NodeJS.Timeout | undefined;
  /** Channels still to check in the current round of position checks. */
  private toCheck: string[] = [];

  constructor(
    broker: Broker,
    private readonly options: StreamsOptions,
    observer: StreamObserver,
  ) {
    this.interest = new Interest(broker, (channel) => this.streams.has(channel));
    this.context = {
      queue: this.queue,
      observer,
      maxRecovery: (channel) => options.recoveryCap?.(channel) ?? options.maxRecovery,
      conflationKey: (channel) => options.conflationKey?.(channel),
      reader: (channel: string, purpose: ReadPurpose): Reader => {
        return (query) => {
          observer.read(purpose, query.limit > 0);
          return broker.read(channel, query);
        };
      },
      archive: (channel) => {
        const { archive } = options;
        if (!archive?.covers(channel)) return undefined;
        return { fetch: (request) => archive.fetch({ ...request, channel }), timeoutMs: archive.timeoutMs };
      },
      generation: () => this.generation,
      release: (stream) => {
        if (this.streams.get(stream.channel) !== stream) return;
        this.streams.delete(stream.channel);
        this.interest.release(stream.channel);
      },
    };
  }

  attach(publisher: TopicPublisher): void {
    this.queue.attach(publisher);
  }

  get channelCount(): number {
    return this.streams.size;
  }

  /** Every channel with local members: its member count and publications fanned out so far. */
  *channels(): Generator<readonly [channel: string, members: number, published: number]> {
    for (const [channel, stream] of this.streams) yield [channel, stream.size, stream.published];
  }

  /** Local members of `channel` (0 when it has no stream here). */
  members(channel: string): number {
    return this.streams.get(channel)?.size ?? 0;
  }

  /** The last position delivered here on `channel`, if it has a stream that started. */
  position(channel: string): Position | undefined {
    return this.streams.get(channel)?.position;
  }

  /** Joins `member` to `channel` (see ChannelStream.join); the first member creates the stream. */
  join(
    channel: string,
    member: StreamMember,
    since: Position | undefined,
    respond: (result: SubscribeResult) => void,
    lane: Lane = PLAIN,
  ): Promise<SubscribeResult | undefined> {
    let stream = this.streams.get(channel);
    if (!stream) {
      if (this.streams.size >= this.options.maxChannels)
        return Promise.reject(limitExceeded('channels per node', this.options.maxChannels));
      stream = new ChannelStream(channel, this.context);
      this.streams.set(channel, stream);
      stream.start(this.interest.want(channel));
    }
    return stream.join(member, since, respond, lane);
  }

  /** Removes `member` from `channel`, which it joined in `lane`: the caller leaves each channel once. */
  leave(channel: string, member: StreamMember, lane: Lane = PLAIN): void {
    this.streams.get(channel)?.leave(member, lane);
  }

  onPublication(publication: Publication): void {
    this.streams.get(publication.channel)?.accept(publication);
  }

  /** A presence change from a hub: pushed to this hub's members of the channel as it came. */
  onPresence(channel: string, change: string): void {
    const stream = this.streams.get(channel);
    if (!stream) return;
    const push = presencePush(channel, change);
    if (push) stream.announce(push);
  }

  onDeliveryInterrupted(): void {
    this.generation += 1;
  }

  /** Each stream not repaired since the interruption checks its position: one read per channel. */
  onDeliveryResumed(): void {
    for (const stream of this.streams.values()) {
      if (stream.syncedGeneration < this.generation) void stream.sync();
    }
  }

  /** Starts the periodic position checks (when configured). */
  start(): void {
    if (this.options.positionCheckMs <= 0) return;
    this.checker = setInterval(() => this.checkSome(), this.options.positionCheckMs / CHECK_TICKS_PER_INTERVAL);
    this.checker.unref();
  }

  /** Sends what is queued for native fan-out now (before the hub stops). */
  flush(): void {
    this.queue.flush();
  }

  /** Waits until every broker subscription change made so far reached the broker. */
  settled(): Promise<void> {
    return this.interest.settled();
  }

  stop(): void {
    clearInterval(this.checker);
  }

  /** One tick of the position checks: a tenth of the channels, so each is checked once per interval. */
  private checkSome(): void {
    if (this.toCheck.length === 0) this.toCheck = [...this.streams.keys()];
    const count = Math.ceil(this.streams.size / CHECK_TICKS_PER_INTERVAL);
    for (const channel of this.toCheck.splice(0, count)) {
      this.streams
        .get(channel)
        ?.check()
        .catch(() => undefined);
    }
  }
}
