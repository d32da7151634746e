import type { HttpResponse } from 'uWebSockets.js';
import type { Forwarded } from '../proxy/forwarded.js';
import type { Session } from '../session/session.js';
import type { ClientSocket } from './socket.js';

const encoder = new TextEncoder();
/** What a WebSocket's close code would be for a connection that just went away (RFC 6455). */
const ABNORMAL_CLOSURE = 1006;
const EVENT_HEAD = encoder.encode('data: ');
const EVENT_TAIL = encoder.encode('\n\n');

/**
 * One protocol frame as one Server-Sent Event. JSON frames never hold a raw line break (JSON
 * escapes them), so each is a single `data:` line. Fan-out calls this once per publication and
 * writes the same bytes to every SSE member.
 */
export function sseEvent(frame: Uint8Array): Uint8Array {
  const event = new Uint8Array(EVENT_HEAD.byteLength + frame.byteLength + EVENT_TAIL.byteLength);
  event.set(EVENT_HEAD, 0);
  event.set(frame, EVENT_HEAD.byteLength);
  event.set(EVENT_TAIL, EVENT_HEAD.byteLength + frame.byteLength);
  return event;
}

/** A named event (the stream's address, its close): not a protocol frame, so EventSource's `onmessage` skips it. */
export function namedEvent(name: string, data: object): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** What an SSE socket needs of the registry holding every stream of the hub (sse.ts). */
export interface SseTopics {
  join(topic: string, socket: SseClientSocket): void;
  leave(topic: string, socket: SseClientSocket): void;
  /** The socket ended (either side, with a WebSocket close code): its session closes, the registry forgets it. */
  ended(socket: SseClientSocket, code: number): void;
}

/**
 * A client connection over an HTTP response that streams Server-Sent Events (`GET`/`POST /sse`):
 * the same session, channel streams and limits as a WebSocket, in the JSON flavour. Frames the
 * client sends come as HTTP POSTs to any hub, which hands them to the one holding the stream
 * (src/transport/sse.ts). uWS keeps no count of what an HTTP response still has to send, so
 * backpressure is counted here: from the first write uWS could not pass to the kernel until it
 * reports the response writable again, every byte written counts as queued. The slow-consumer
 * sweep closes a stream queued over `limits.maxBackpressureBytes` with 4001, and a stream queued
 * over twice that is closed at once, as uWS does for WebSockets (I6b).
 */
export class SseClientSocket implements ClientSocket {
  readonly format = 'json' as const;
  closed = false;
  session: Session | undefined = undefined;
  /** Bytes written since uWS last had nothing queued for this response. */
  private queued = 0;
  /** What runs once the connect succeeded (the subscribes of the URL's `ch`). */
  afterConnect: (() => void) | undefined = undefined;

  constructor(
    private readonly res: HttpResponse,
    private readonly topics: SseTopics,
    readonly remoteAddress: string,
    /** The secret a POSTed command must carry to reach this stream. */
    readonly key: string,
    /** Queued bytes at which the stream is cut at once (twice `limits.maxBackpressureBytes`). */
    private readonly hardLimit: number,
    public forwarded: Forwarded | undefined,
  ) {
    res.onWritable(() => {
      this.queued = 0;
      return true;
    });
  }

  send(frame: Uint8Array): void {
    this.write(sseEvent(frame));
  }

  /** Writes bytes already framed as events (fan-out writes one buffer to every member). */
  write(event: Uint8Array): void {
    if (this.closed) return;
    let accepted = true;
    this.res.cork(() => {
      accepted = this.res.write(event);
    });
    if (accepted && this.queued === 0) return;
    this.queued += event.byteLength;
    if (this.queued > this.hardLimit) this.end(4001, 'slow consumer');
  }

  subscribe(topic: string): void {
    if (!this.closed) this.topics.join(topic, this);
  }

  unsubscribe(topic: string): void {
    this.topics.leave(topic, this);
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.queued;
  }

  /** Tells the client why in a `close` event (EventSource has no close code), then ends the response. */
  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.res.cork(() => this.res.end(namedEvent('close', { code, reason })));
    this.topics.ended(this, code);
  }

  /** The client went away (uWS' abort): nothing may touch the response any more. */
  aborted(): void {
    if (this.closed) return;
    this.closed = true;
    this.topics.ended(this, ABNORMAL_CLOSURE);
  }

  /** The session's connect succeeded: the channels the stream's URL named are subscribed now. */
  connected(): void {
    const then = this.afterConnect;
    this.afterConnect = undefined;
    then?.();
  }
}
