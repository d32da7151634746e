import {
  type ClientFrame,
  type Codec,
  codecs,
  decodeServerFrame,
  type ServerFrame,
  SUBPROTOCOLS,
  type WireFormat,
} from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import type { WebSocketConstructor, WebSocketLike } from './types.js';

export interface TransportEvents {
  open(): void;
  frame(frame: ServerFrame): void;
  badFrame(error: SwitchboardError): void;
  close(code: number, reason: string): void;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

const ignore = () => {};

/**
 * Browsers throw from `WebSocket.close()` for a code other than 1000 or 3000–4999 (such as the
 * 1006 of a connection that failed) and for a reason over 123 UTF-8 bytes. A throw there would
 * cut the client's reconnect short, so both are made acceptable.
 */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

function sendableReason(reason: string): string {
  let kept = '';
  let bytes = 0;
  for (const character of reason) {
    bytes += textEncoder.encode(character).byteLength;
    if (bytes > 123) break;
    kept += character;
  }
  return kept;
}

/** One WebSocket speaking one wire format: frames in, frames out. */
export class Transport {
  private readonly codec: Codec;
  private readonly socket: WebSocketLike;

  constructor(WebSocket: WebSocketConstructor, url: string, format: WireFormat, events: TransportEvents) {
    this.codec = codecs[format];
    this.socket = new WebSocket(url, SUBPROTOCOLS[format]);
    this.socket.binaryType = 'arraybuffer';
    this.socket.onopen = () => events.open();
    this.socket.onmessage = (event) => {
      const bytes = toBytes(event.data);
      if (!bytes) {
        events.badFrame(new SwitchboardError(ClientErrorCode.BAD_FRAME, 'unexpected WebSocket message type', false));
        return;
      }
      const decoded = decodeServerFrame(this.codec, bytes);
      if (decoded.kind === 'frame') events.frame(decoded.frame);
      else
        events.badFrame(
          new SwitchboardError(ClientErrorCode.BAD_FRAME, `ignored a bad frame: ${decoded.reason}`, false),
        );
    };
    this.socket.onclose = (event) => {
      this.detach();
      events.close(event.code, event.reason);
    };
    // Every error is followed by a close event, which is where the client reacts.
    this.socket.onerror = ignore;
  }

  /** The hub's frame limit, from its connect reply; larger frames would get the socket closed. */
  maxFrame = Number.POSITIVE_INFINITY;

  /** Sends the frame, or returns false without sending when it is over `maxFrame`. */
  send(frame: ClientFrame): boolean {
    const bytes = this.codec.encode(frame);
    if (bytes.byteLength > this.maxFrame) return false;
    this.socket.send(this.codec.binary ? bytes : textDecoder.decode(bytes));
    return true;
  }

  /**
   * Closes without waiting for the closing handshake, which a dead peer would never complete;
   * no events follow.
   */
  close(code: number, reason: string): void {
    this.detach();
    this.socket.close(sendableCode(code), sendableReason(reason));
  }

  private detach(): void {
    this.socket.onopen = null;
    this.socket.onmessage = null;
    this.socket.onclose = null;
    // Kept, because some implementations (`ws`) throw on an error event nobody listens to.
    this.socket.onerror = ignore;
  }
}

/** Binary frames arrive as ArrayBuffer (binaryType), text frames (the JSON flavour) as string. */
function toBytes(data: unknown): Uint8Array | undefined {
  if (typeof data === 'string') return textEncoder.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}
