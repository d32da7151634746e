import type { WireFormat } from '@switchboard/protocol';
import type { Forwarded } from '../proxy/forwarded.js';

/** A client connection as sessions see it, independent of the WebSocket server behind it. */
export interface ClientSocket {
  readonly format: WireFormat;
  readonly remoteAddress: string;
  /** The upgrade's headers and cookies for the connect hook, until it had them. */
  forwarded?: Forwarded | undefined;
  send(frame: Uint8Array): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Bytes queued for the client that it has not read yet. */
  bufferedAmount(): number;
  /** The session's connect succeeded (an SSE stream then subscribes the channels its URL named). */
  connected?(): void;
  /** Closes with a WebSocket close code; the session's close handler runs right away. */
  end(code: number, reason: string): void;
}
