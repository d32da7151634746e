import { decodeData, encodePublicationJson, encodePublicationMsgpack, type WireFormat } from '@switchboard/protocol';
import type { Broker, BrokerEventHandler, Publication } from './brokers/broker.js';
import { limitExceeded } from './errors.js';
import { Interest } from './interest.js';
import { traceFanout } from './tracing.js';

/** Told about each fan-out, once per publication (metrics). */
export interface DeliveryObserver {
  delivered(subscribers: number, bytes: number, acceptedAt: number | undefined): void;
}

/** What the hub needs of the transport: native topic fan-out (uWS `app.publish`). */
export interface TopicPublisher {
  publish(topic: string, message: Uint8Array, isBinary: boolean): void;
}

interface ChannelEntry {
  /** Local subscribers per wire format, so a push is encoded only for formats someone reads. */
  msgpack: number;
  json: number;
  readonly msgpackTopic: string;
  readonly jsonTopic: string;
  /** Subscriptions being set up that need the publications arriving meanwhile. */
  recorders: Set<Publication[]> | undefined;
}

/** Publications of one channel recorded while a subscription is being set up. */
export interface Recorder {
  readonly publications: readonly Publication[];
  release(): void;
}

/** The push frame of a publication in one wire format. */
export function encodePush(format: WireFormat, { channel, position, data }: Publication): Uint8Array {
  if (format === 'msgpack') return encodePublicationMsgpack(channel, position, data);
  return encodePublicationJson(channel, position, JSON.stringify(decodeData(data)));
}

/** The transport topic a socket of `format` subscribes to for `channel`. */
export function topicOf(format: WireFormat, channel: string): string {
  return format === 'msgpack' ? `m:${channel}` : `j:${channel}`;
}

/**
 * The local registry of channel → subscriber counts. The first local subscriber of a channel
 * makes the node subscribe at the broker and the last one leaving releases it (I2); each
 * publication is encoded once per wire format in use and handed to native fan-out (I1).
 */
export class Hub implements BrokerEventHandler {
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly interest: Interest;
  private publisher: TopicPublisher | undefined;
  /** Frames waiting for the next turn of the event loop, in arrival order: topic, frame, binary. */
  private pending: Array<[string, Uint8Array, boolean]> = [];
  private flushScheduled = false;
  private readonly flushSoon = () => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(
    broker: Broker,
    private readonly maxChannels: number,
    private readonly observer?: DeliveryObserver,
  ) {
    this.interest = new Interest(broker, (channel) => this.channels.has(channel));
  }

  attach(publisher: TopicPublisher): void {
    this.publisher = publisher;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** Each channel with local subscribers and how many it has (read-only; the admin view). */
  *channelSubscribers(): Generator<readonly [channel: string, subscribers: number]> {
    for (const [channel, entry] of this.channels) yield [channel, entry.msgpack + entry.json];
  }

  /** Counts one local subscriber; resolves once the broker delivers the channel here. */
  add(channel: string, format: WireFormat): Promise<void> {
    let entry = this.channels.get(channel);
    if (!entry) {
      if (this.channels.size >= this.maxChannels)
        return Promise.reject(limitExceeded('channels per node', this.maxChannels));
      entry = {
        msgpack: 0,
        json: 0,
        msgpackTopic: topicOf('msgpack', channel),
        jsonTopic: topicOf('json', channel),
        recorders: undefined,
      };
      this.channels.set(channel, entry);
    }
    entry[format] += 1;
    return this.interest.want(channel);
  }

  remove(channel: string, format: WireFormat): void {
    const entry = this.channels.get(channel);
    if (!entry || entry[format] === 0) return;
    entry[format] -= 1;
    if (entry.msgpack + entry.json > 0) return;
    this.channels.delete(channel);
    this.interest.release(channel);
  }

  /**
   * Starts recording the channel's publications (it must have a local subscriber), so that a
   * subscription being set up can catch up on what arrived while it read history.
   */
  record(channel: string): Recorder {
    const entry = this.channels.get(channel);
    const publications: Publication[] = [];
    if (!entry) return { publications, release: () => undefined };
    entry.recorders ??= new Set();
    entry.recorders.add(publications);
    return {
      publications,
      release: () => {
        entry.recorders?.delete(publications);
        if (entry.recorders?.size === 0) entry.recorders = undefined;
      },
    };
  }

  /**
   * Hands every queued frame to native fan-out. Publications are queued rather than published at
   * once because they often arrive inside a uWS handler (a client's or an HTTP publish on the
   * memory broker), where uWS has corked the handled socket and must write each subscriber's
   * frame with its own syscall; published from the next turn of the loop, the topic tree batches
   * them per subscriber (measured: 9% → 97% of a bare uWS server's deliveries on one channel).
   * Call it before a socket joins a topic after being sent publications directly, so none of
   * them reaches it twice.
   */
  flush(): void {
    if (this.pending.length === 0 || !this.publisher) return;
    const pending = this.pending;
    this.pending = [];
    for (const [topic, frame, binary] of pending) this.publisher.publish(topic, frame, binary);
  }

  settled(): Promise<void> {
    return this.interest.settled();
  }

  onPublication(publication: Publication): void {
    const entry = this.channels.get(publication.channel);
    if (!entry || !this.publisher) return;
    if (entry.recorders) for (const recorded of entry.recorders) recorded.push(publication);
    let bytes = 0;
    if (entry.msgpack > 0) {
      const frame = encodePush('msgpack', publication);
      this.pending.push([entry.msgpackTopic, frame, true]);
      bytes += frame.byteLength * entry.msgpack;
    }
    if (entry.json > 0) {
      const frame = encodePush('json', publication);
      this.pending.push([entry.jsonTopic, frame, false]);
      bytes += frame.byteLength * entry.json;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
    this.observer?.delivered(entry.msgpack + entry.json, bytes, publication.time);
    if (publication.trace) traceFanout(publication.trace, publication.channel, entry.msgpack + entry.json);
  }
}
