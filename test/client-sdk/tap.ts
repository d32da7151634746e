import { type ClientFrame, type Codec, codecs, decodeClientFrame, negotiateSubprotocol } from '@switchboard/protocol';
import WebSocket from 'ws';
import type { WebSocketConstructor, WebSocketLike } from '../../client-sdk/src/index.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * A real `ws` socket that a test can watch and disturb: it records the frames the client sends,
 * can go deaf (drop inbound messages, like a connection an L4 balancer silently lost), can
 * deliver every inbound message twice, and can inject frames as if the hub sent them.
 */
export class TapSocket implements WebSocketLike {
  readonly sent: ClientFrame[] = [];
  /** Whether each sent message was text (the JSON flavour sends text frames). */
  readonly sentText: boolean[] = [];
  deaf = false;
  /** Records what the client sends without sending it. */
  mute = false;
  duplicate = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  private readonly ws: WebSocket;
  private faked = false;
  private readonly codec: Codec;

  constructor(url: string, protocols?: string | string[]) {
    this.ws = new WebSocket(url, protocols);
    this.codec = codecs[negotiateSubprotocol([protocols ?? []].flat().join(',')) ?? 'msgpack'];
    this.ws.onopen = (event) => this.onopen?.(event);
    this.ws.onmessage = (event) => {
      if (this.deaf) return;
      this.onmessage?.({ data: event.data });
      if (this.duplicate) this.onmessage?.({ data: event.data });
    };
    this.ws.onclose = (event) => {
      if (!this.faked) this.onclose?.({ code: event.code, reason: event.reason });
    };
    this.ws.onerror = (event) => this.onerror?.(event);
  }

  get binaryType(): string {
    return this.ws.binaryType;
  }

  set binaryType(type: string) {
    this.ws.binaryType = type as WebSocket['binaryType'];
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  send(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? textEncoder.encode(data) : data;
    const decoded = decodeClientFrame(this.codec, bytes);
    if (decoded.kind !== 'frame') throw new Error(`the client sent a bad frame: ${JSON.stringify(decoded)}`);
    this.sent.push(decoded.frame);
    this.sentText.push(typeof data === 'string');
    if (!this.mute) this.ws.send(data);
  }

  /** Sends bytes to the hub behind the client's back, e.g. a frame no SDK would send. */
  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  /** Drops the TCP connection without a close frame, as a network failure would (close code 1006). */
  terminate(): void {
    this.ws.terminate();
  }

  /** Drops the connection and tells the client it closed with `code`, a code the hub would send. */
  closeAs(code: number, reason: string): void {
    this.faked = true;
    this.ws.terminate();
    this.onclose?.({ code, reason });
  }

  /** Delivers `frame` to the client as if the hub had sent it. */
  inject(frame: object): void {
    this.injectBytes(this.codec.encode(frame));
  }

  injectBytes(bytes: Uint8Array): void {
    // A copy, because `bytes` may be a view into a larger (pooled) buffer.
    const data = this.codec.binary ? new Uint8Array(bytes).buffer : textDecoder.decode(bytes);
    this.onmessage?.({ data });
  }

  framesOf<T extends ClientFrame['t']>(type: T): Extract<ClientFrame, { t: T }>[] {
    return this.sent.filter((frame): frame is Extract<ClientFrame, { t: T }> => frame.t === type);
  }
}

export interface Tap {
  /** Pass as the client's `WebSocket` option. */
  readonly WebSocket: WebSocketConstructor;
  /** Every socket the client opened, oldest first. */
  readonly sockets: TapSocket[];
}

/** `prepare` can set up each socket as the client opens it, before anything is sent. */
export function tap(prepare: (socket: TapSocket, index: number) => void = () => {}): Tap {
  const sockets: TapSocket[] = [];
  class Tapped extends TapSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      prepare(this, sockets.length);
      sockets.push(this);
    }
  }
  return { WebSocket: Tapped, sockets };
}

/** The socket at `index`, failing clearly when the client has not opened it. */
export function socketAt(tapped: Tap, index: number): TapSocket {
  const socket = tapped.sockets[index];
  if (!socket) throw new Error(`the client opened ${tapped.sockets.length} sockets, not ${index + 1}`);
  return socket;
}
