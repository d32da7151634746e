import {
  codecs,
  decodeData,
  encodeChannelName,
  encodePublicationJson,
  encodePublicationMsgpack,
  type WireFormat,
} from '@switchboard/protocol';
import type { Publication } from '../brokers/broker.js';

/** What fan-out needs of the transport: native topic publishing (uWS `app.publish`). */
export interface TopicPublisher {
  publish(topic: string, message: Uint8Array, isBinary: boolean): void;
}

export const FORMATS: readonly WireFormat[] = ['msgpack', 'json'];

/**
 * The push frame of a publication in one wire format. `msgpackName` is the channel's name as
 * encodeChannelName writes it, which a stream keeps so as not to encode it per publication.
 */
export function encodePush(
  format: WireFormat,
  { channel, position, data }: Publication,
  msgpackName?: Uint8Array,
  /** The data's JSON text, when the caller made it already. */
  text?: string,
): Uint8Array {
  if (format === 'msgpack')
    return encodePublicationMsgpack(msgpackName ?? encodeChannelName(channel), position?.off, data);
  return encodePublicationJson(channel, position?.off, text ?? JSON.stringify(decodeData(data)));
}

/** Any other hub → client frame (a `lost` push), in one wire format. */
export function encodeFrame(format: WireFormat, frame: object): Uint8Array {
  return codecs[format].encode(frame);
}

/** The transport topic a socket of `format` subscribes to for `channel` (`delta`: the delta lane's, src/streams/delta.ts). */
export function topicOf(format: WireFormat, channel: string, delta = false): string {
  const topic = format === 'msgpack' ? `m:${channel}` : `j:${channel}`;
  return delta ? `d${topic}` : topic;
}

/**
 * Frames on their way to native fan-out, published from the next turn of the event loop in
 * arrival order. Publications often arrive inside a uWS handler (a client's or an HTTP publish on
 * the memory broker), where uWS has corked the handled socket and writes each subscriber's frame
 * with its own syscall; published from the next turn, the topic tree batches them per subscriber
 * (measured: 9% → 97% of a bare uWS server's deliveries on one channel). A stream flushes the
 * queue before a socket joins a topic after being sent publications directly, so none of them
 * reaches it twice.
 */
export class FrameQueue {
  private publisher: TopicPublisher | undefined;
  private pending: Array<[topic: string, frame: Uint8Array, binary: boolean]> = [];
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  attach(publisher: TopicPublisher): void {
    this.publisher = publisher;
  }

  push(topic: string, frame: Uint8Array, binary: boolean): void {
    this.pending.push([topic, frame, binary]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushSoon);
  }

  flush(): void {
    if (this.pending.length === 0 || !this.publisher) return;
    const pending = this.pending;
    this.pending = [];
    for (const [topic, frame, binary] of pending) this.publisher.publish(topic, frame, binary);
  }
}
