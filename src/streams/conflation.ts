import { codecs, decodeData, type WireFormat } from '@switchboard/protocol';
import type { Publication } from '../brokers/broker.js';
import type { TopicFrame } from './delta.js';
import { encodePush, FORMATS, topicOf } from './fanout.js';

/** Highest `maxRate` a subscription may ask for: 100 lanes per channel at most, each one timer. */
export const MAX_RATE = 100;

/** The topic of a rate lane. */
export function rateTopic(rate: number, format: WireFormat, channel: string): string {
  return `r${rate}${topicOf(format, channel)}`;
}

/** What a lane sends: positioned pushes carry `skip` when the lane left publications out before them. */
export interface Conflated {
  readonly publication: Publication;
  readonly skip: number;
}

/**
 * The latest of `publications` per key (one key when `key` is undefined), in offset order, each
 * with how many the lane left out since `after` (the offset of what the reader holds).
 */
export function conflate(
  publications: readonly Publication[],
  key: string | undefined,
  after: number | undefined,
): Conflated[] {
  const latest = new Map<unknown, Publication>();
  for (const publication of publications) latest.set(keyOf(publication, key), publication);
  const kept = [...latest.values()].sort((a, b) => (a.position?.off ?? 0) - (b.position?.off ?? 0));
  let previous = after;
  return kept.map((publication) => {
    const off = publication.position?.off;
    const skip = off === undefined || previous === undefined ? 0 : Math.max(0, off - previous - 1);
    if (off !== undefined) previous = off;
    return { publication, skip };
  });
}

/** The value of field `key` of a publication's data (a map), or one key for all when there is none. */
function keyOf(publication: Publication, key: string | undefined): unknown {
  if (key === undefined) return undefined;
  const data = decodeData(publication.data);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const value = (data as Record<string, unknown>)[key];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** One frame of a conflated publication: the plain push when nothing was left out, else a map with `skip`. */
export function conflatedFrame(format: WireFormat, { publication, skip }: Conflated, name?: Uint8Array): Uint8Array {
  if (skip === 0) return encodePush(format, publication, name);
  const { channel, position, data } = publication;
  return codecs[format].encode({ t: 'msg', ch: channel, off: position?.off, d: decodeData(data), skip });
}

/**
 * Members of one channel that asked for at most `rate` publications a second: one timer and one
 * topic per wire format for all of them, so the cost is per channel and rate, never per member.
 * A publication after a quiet period goes out at once; one within the period waits, replacing an
 * older one of its key, and goes out when the period ends, telling how many were left out.
 */
class RateLane {
  msgpackMembers = 0;
  jsonMembers = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: Publication[] = [];
  /** The offset of the last positioned publication sent: what `skip` counts from. */
  private lastSent: number | undefined;

  constructor(
    readonly rate: number,
    private readonly lanes: ConflatedLanes,
  ) {}

  get size(): number {
    return this.msgpackMembers + this.jsonMembers;
  }

  accept(publication: Publication): void {
    if (this.timer) {
      this.pending.push(publication);
      return;
    }
    this.send([publication]);
  }

  /** Publications were lost: the lane continues after `off`, and what waited is older than that. */
  reset(off: number): void {
    this.pending = [];
    this.lastSent = off;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private send(publications: readonly Publication[]): void {
    const out = conflate(publications, this.lanes.key, this.lastSent);
    for (const item of out) {
      const off = item.publication.position?.off;
      if (off !== undefined) this.lastSent = off;
      for (const format of FORMATS) {
        if ((format === 'msgpack' ? this.msgpackMembers : this.jsonMembers) === 0) continue;
        this.lanes.push([this.lanes.topic(this.rate, format), this.lanes.frame(format, item), format === 'msgpack']);
      }
    }
    // Whole milliseconds, rounded up: timers run on them, and a shorter period would exceed the rate.
    this.timer = setTimeout(() => this.tick(), Math.ceil(1000 / this.rate));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    const pending = this.pending;
    this.pending = [];
    if (pending.length > 0) this.send(pending);
  }
}

/**
 * The conflated lanes of one channel (`sub` with `maxRate`), by rate; made with the first such
 * member and dropped with the last, timers and all.
 */
export class ConflatedLanes {
  private readonly lanes = new Map<number, RateLane>();

  constructor(
    private readonly channel: string,
    /** The data field whose latest value per key is kept (namespace `conflation.key`); one value when undefined. */
    readonly key: string | undefined,
    readonly push: (frame: TopicFrame) => void,
    private readonly msgpackName: () => Uint8Array | undefined,
  ) {}

  get size(): number {
    let size = 0;
    for (const lane of this.lanes.values()) size += lane.size;
    return size;
  }

  count(rate: number, format: WireFormat, delta: number): void {
    let lane = this.lanes.get(rate);
    if (!lane) {
      lane = new RateLane(rate, this);
      this.lanes.set(rate, lane);
    }
    if (format === 'msgpack') lane.msgpackMembers += delta;
    else lane.jsonMembers += delta;
    if (lane.size > 0) return;
    lane.stop();
    this.lanes.delete(rate);
  }

  topic(rate: number, format: WireFormat): string {
    return rateTopic(rate, format, this.channel);
  }

  /** Every topic in use, with its format, for pushes every member gets (`lost`, `pres`). */
  *topics(): Generator<readonly [topic: string, format: WireFormat]> {
    for (const lane of this.lanes.values()) {
      if (lane.msgpackMembers > 0) yield [this.topic(lane.rate, 'msgpack'), 'msgpack'];
      if (lane.jsonMembers > 0) yield [this.topic(lane.rate, 'json'), 'json'];
    }
  }

  frame(format: WireFormat, item: Conflated): Uint8Array {
    return conflatedFrame(format, item, format === 'msgpack' ? this.msgpackName() : undefined);
  }

  accept(publication: Publication): void {
    for (const lane of this.lanes.values()) lane.accept(publication);
  }

  reset(off: number): void {
    for (const lane of this.lanes.values()) lane.reset(off);
  }

  stop(): void {
    for (const lane of this.lanes.values()) lane.stop();
    this.lanes.clear();
  }
}
