import { decodeData, type WireFormat } from '@switchboard/protocol';
import type { Publication } from '../brokers/broker.js';
import { ConflatedLanes, conflate, conflatedFrame, rateTopic } from './conflation.js';
import { DeltaLanes } from './delta.js';
import { encodeFrame, encodePush, FORMATS, type FrameQueue, topicOf } from './fanout.js';

/**
 * How a member takes the channel: `delta` members get fossil deltas against the previous
 * publication (delta.ts), `rate` members at most that many publications a second, the latest
 * winning (conflation.ts); each lane has topics of its own. The session keeps a member's lane and
 * leaves with the one it joined with.
 */
export interface Lane {
  readonly delta?: boolean | undefined;
  readonly rate?: number | undefined;
}

/** The lane of a plain subscription. */
export const PLAIN: Lane = {};

/** The topic a socket of `format` subscribes to in `lane`. */
export function laneTopic(lane: Lane, format: WireFormat, channel: string): string {
  if (lane.rate) return rateTopic(lane.rate, format, channel);
  return topicOf(format, channel, lane.delta === true);
}

/** What a channel's lanes need of their stream. */
export interface LaneContext {
  readonly channel: string;
  readonly queue: FrameQueue;
  /** The data field conflated lanes keep the latest of per key (namespace `conflation.key`). */
  conflationKey(): string | undefined;
  /** The channel's name as msgpack pushes carry it, which the stream keeps. */
  msgpackName(): Uint8Array | undefined;
  /** Bytes the delta pushes of one publication saved, over every delta member. */
  deltaSaved(bytes: number): void;
}

/**
 * The lanes of one channel other than the plain one: its delta lanes and its rate lanes, each made
 * with its first member and dropped with its last. Every method works per publication or per
 * join, never per member of a lane.
 */
export class Lanes {
  private deltas: DeltaLanes | undefined;
  private rates: ConflatedLanes | undefined;

  constructor(private readonly context: LaneContext) {}

  get size(): number {
    return (this.deltas?.size ?? 0) + (this.rates?.size ?? 0);
  }

  count(lane: Lane, format: WireFormat, delta: number): void {
    const { context } = this;
    if (lane.rate) {
      this.rates ??= new ConflatedLanes(
        context.channel,
        context.conflationKey(),
        ([topic, frame, binary]) => context.queue.push(topic, frame, binary),
        () => context.msgpackName(),
      );
      this.rates.count(lane.rate, format, delta);
      if (this.rates.size === 0) this.rates = undefined;
    } else if (lane.delta) {
      this.deltas ??= new DeltaLanes(context.channel, () => context.msgpackName());
      this.deltas.count(format, delta);
      if (this.deltas.size === 0) this.deltas = undefined;
    }
  }

  /** Hands a publication to every lane: `text` is its JSON text, made at most once. Returns the bytes queued now. */
  emit(publication: Publication, text: () => string): number {
    let bytes = 0;
    const deltas = this.deltas;
    if (deltas) {
      for (const [topic, frame, binary] of deltas.frames(publication.position?.off, text())) {
        this.context.queue.push(topic, frame, binary);
        bytes += frame.byteLength * deltas.members(binary ? 'msgpack' : 'json');
      }
      this.context.deltaSaved(deltas.saved * deltas.size);
    }
    this.rates?.accept(publication);
    return bytes;
  }

  /** Queues a push other than a publication on every lane's topics, encoded once per wire format. */
  announce(frame: object): void {
    const encoded = new Map<WireFormat, Uint8Array>();
    const push = (topic: string, format: WireFormat) => {
      let bytes = encoded.get(format);
      if (!bytes) {
        bytes = encodeFrame(format, frame);
        encoded.set(format, bytes);
      }
      this.context.queue.push(topic, bytes, format === 'msgpack');
    };
    for (const format of FORMATS)
      if ((this.deltas?.members(format) ?? 0) > 0) push(topicOf(format, this.context.channel, true), format);
    if (this.rates) for (const [topic, format] of this.rates.topics()) push(topic, format);
  }

  /** Publications up to `off` were lost: deltas start again from a whole text, rate lanes from `off`. */
  lost(off: number): void {
    this.deltas?.reset();
    this.rates?.reset(off);
  }

  stop(): void {
    this.rates?.stop();
    this.rates = undefined;
  }

  /** Whether a member entering `lane` gets deltas (its reply says so). */
  grantsDelta(lane: Lane): boolean {
    return lane.delta === true && this.deltas !== undefined;
  }

  /**
   * What a member entering `lane` is sent directly, before the topic: a rate lane's replay is the
   * latest of what it missed per key (with how many it left out); a delta lane's is whole
   * publications, then the text the topic's next patch applies to.
   */
  *entry(lane: Lane, format: WireFormat, replay: readonly Publication[]): Generator<Uint8Array> {
    const name = format === 'msgpack' ? this.context.msgpackName() : undefined;
    if (lane.rate) {
      const first = replay[0]?.position?.off;
      const after = first === undefined ? undefined : first - 1;
      for (const item of conflate(replay, this.context.conflationKey(), after))
        yield conflatedFrame(format, item, name);
      return;
    }
    const deltas = this.deltas;
    if (!deltas) {
      for (const publication of replay) yield encodePush(format, publication, name);
      return;
    }
    for (const publication of replay)
      yield deltas.fullFrame(format, publication.position?.off, JSON.stringify(decodeData(publication.data)));
  }

  /** The base a delta member is sent right before it enters the topic, after the queue was flushed. */
  base(lane: Lane, format: WireFormat): Uint8Array | undefined {
    return lane.delta ? this.deltas?.baseFrame(format) : undefined;
  }
}
