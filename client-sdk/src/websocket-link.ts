import {
  type ClientFrame,
  CloseCode,
  type Codec,
  type CommandType,
  lightCodecs,
  type ServerFrame,
  SUBPROTOCOLS,
  type WireFormat,
} from '@switchboard/protocol';
import { DeltaBases } from './delta.js';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import { deliverChecked, unparsed } from './frame-check.js';
import type { Dial, Link, LinkEvents } from './link.js';
import type { WebSocketConstructor, WebSocketLike } from './types.js';

export interface WebSocketLinkOptions {
  /** The WebSocket implementation. Default: `globalThis.WebSocket` (in Node 20, pass the `ws` package). */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** Wire format. Default `'msgpack'`; `'json'` sends readable text frames for debugging. */
  readonly format?: WireFormat | undefined;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
/** Largest text a delta may make: the hub's data limit is far below it (protocol §6). */
const DELTA_MAX_BYTES = 64 * 1024 * 1024;
const ignore = () => {};

/**
 * Links over a WebSocket to a hub, one socket per link. This is the Client's boundary with the
 * hub, so every frame read is checked here (serverFrameProblem, and each `ok` result against
 * the request it answers), and msgpack passes the protocol's subset gate before it is decoded.
 * Throws at once when there is no WebSocket implementation, so a Client says so when made.
 */
export function webSocketLink(options: WebSocketLinkOptions = {}): Dial {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocket) {
    throw new SwitchboardError(
      ClientErrorCode.NO_WEBSOCKET,
      'no WebSocket implementation: pass one as the WebSocket option (in Node 20, the `ws` package)',
      false,
    );
  }
  const format = options.format ?? 'msgpack';
  return (url, events) => {
    try {
      return new WebSocketLink(new WebSocket(url, SUBPROTOCOLS[format]), format, events);
    } catch (error) {
      // The WebSocket constructor throws for a URL it cannot use; trying again would not help.
      throw new SwitchboardError(
        ClientErrorCode.CLOSED,
        `cannot open a WebSocket to ${url}: ${messageOf(error)}`,
        false,
      );
    }
  };
}

class WebSocketLink implements Link {
  readonly transport = 'websocket';
  private readonly codec: Codec;
  private maxFrame = Number.POSITIVE_INFINITY;
  /** What each request awaiting its reply asked, to check the reply's result against. */
  private readonly asked = new Map<number, CommandType>();
  /** Bases of delta subscriptions, made with the first delta push. */
  private deltas: DeltaBases | undefined;

  constructor(
    private readonly socket: WebSocketLike,
    format: WireFormat,
    private readonly events: LinkEvents,
  ) {
    this.codec = lightCodecs[format];
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => events.open();
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      this.detach();
      events.close(event.code, event.reason);
    };
    // Every error is followed by a close event, which is where the client reacts.
    socket.onerror = ignore;
  }

  send(frame: ClientFrame): SwitchboardError | undefined {
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encode(frame);
    } catch (error) {
      return new SwitchboardError(ClientErrorCode.BAD_FRAME, `cannot encode ${frame.t}: ${messageOf(error)}`, false);
    }
    if (bytes.byteLength > this.maxFrame) {
      return new SwitchboardError(
        ClientErrorCode.FRAME_TOO_LARGE,
        `${frame.t} frame over the hub's ${this.maxFrame} byte limit`,
        false,
      );
    }
    this.asked.set(frame.id, frame.t);
    this.socket.send(this.codec.binary ? bytes : textDecoder.decode(bytes));
    return undefined;
  }

  limit(maxFrame: number): void {
    this.maxFrame = maxFrame;
  }

  /** Closes without waiting for the closing handshake, which a dead peer would never complete. */
  close(code: number, reason: string): void {
    this.detach();
    this.socket.close(sendableCode(code), sendableReason(reason));
  }

  private receive(data: unknown): void {
    const bytes =
      typeof data === 'string'
        ? textEncoder.encode(data)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : undefined;
    if (!bytes) {
      unparsed(this.events, 'unexpected WebSocket message type');
      return;
    }
    let value: unknown;
    try {
      value = this.codec.parse(bytes);
    } catch (error) {
      unparsed(this.events, messageOf(error));
      return;
    }
    deliverChecked(value, this.asked, this.events, (frame) => this.whole(frame));
  }

  /**
   * A delta push made whole against its subscription's base, or undefined when nothing is to be
   * delivered. A delta that cannot be applied leaves the channel's state unknown: the link closes,
   * a new one resumes every channel from where it stands, and the hub replays the rest whole.
   */
  private whole(frame: ServerFrame): ServerFrame | undefined {
    if (frame.t !== 'dmsg') return frame;
    this.deltas ??= new DeltaBases();
    const resolved = this.deltas.resolve(frame, DELTA_MAX_BYTES);
    if (typeof resolved !== 'string') return resolved;
    this.detach();
    this.socket.close(CloseCode.INTERNAL, resolved);
    this.events.close(CloseCode.INTERNAL, resolved);
    return undefined;
  }

  private detach(): void {
    this.socket.onopen = null;
    this.socket.onmessage = null;
    this.socket.onclose = null;
    // Kept, because some implementations (`ws`) throw on an error event nobody listens to.
    this.socket.onerror = ignore;
  }
}

/**
 * Browsers throw from `WebSocket.close()` for a code other than 1000 or 3000–4999 (such as the
 * 1006 of a connection that failed) and for a reason over 123 UTF-8 bytes. A throw there would
 * cut the client's reconnect short, so both are made acceptable.
 */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

export function sendableReason(reason: string): string {
  let kept = '';
  let bytes = 0;
  for (const character of reason) {
    bytes += textEncoder.encode(character).byteLength;
    if (bytes > 123) break;
    kept += character;
  }
  return kept;
}

/**
 * An error's message, as errors.js's `messageOf`: in worker.js, errors.js is switchboard.js, which
 * exports the SDK's public names only.
 */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
