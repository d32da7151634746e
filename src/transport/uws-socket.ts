import type { WebSocket } from 'uWebSockets.js';
import type { WireFormat } from '@switchboard/protocol';
import type { Forwarded } from '../proxy/forwarded.js';
import type { Session } from '../session/session.js';
import type { ClientSocket } from './socket.js';

/**
 * What uWebSockets.js keeps for a connection (`res.upgrade` copies the object's own properties
 * into one of its own, prototype and all methods dropped): the format and the address from the
 * upgrade, and the socket made when it opens. Every key is set at the upgrade, so none is added
 * later (a key added after creation moves the object's properties out to a second array).
 */
export interface SocketData {
  readonly format: WireFormat;
  readonly remoteAddress: string;
  /** What the connect hook is sent of the upgrade; undefined unless it forwards headers or cookies. */
  readonly forwarded: Forwarded | undefined;
  socket: UwsClientSocket | undefined;
}

/** A client connection on uWebSockets.js, as sessions and channel streams use it. */
export class UwsClientSocket implements ClientSocket {
  /** Set by the transport's close handler: uWS throws on any use of a closed socket. */
  closed = false;
  session: Session | undefined = undefined;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    readonly format: WireFormat,
    readonly remoteAddress: string,
    /** Dropped once the connect hook had it: a connection keeps nothing of its upgrade. */
    public forwarded: Forwarded | undefined,
  ) {}

  send(frame: Uint8Array): void {
    // Corked so that replies sent after an await still go out in one write.
    if (!this.closed) this.ws.cork(() => this.ws.send(frame, this.format === 'msgpack'));
  }

  subscribe(topic: string): void {
    if (!this.closed) this.ws.subscribe(topic);
  }

  /** A closed socket left every topic with its close: nothing to do. */
  unsubscribe(topic: string): void {
    if (!this.closed) this.ws.unsubscribe(topic);
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }
}
