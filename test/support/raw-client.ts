import {
  type Codec,
  codecs,
  decodeServerFrame,
  type ErrorReply,
  type OkReply,
  type PublicationPush,
  type ServerFrame,
  SUBPROTOCOLS,
  type WireFormat,
} from '@switchboard/protocol';
import WebSocket from 'ws';
import { waitFor } from './wait.js';

/**
 * A protocol client with no SDK logic: it sends exactly the frames a test gives it and records
 * every frame the hub sends, so tests can assert on the wire itself.
 */
export class RawClient {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private nextId = 1;

  private constructor(
    readonly ws: WebSocket,
    readonly codec: Codec,
  ) {
    ws.on('message', (data: ArrayBuffer | Buffer) => {
      const bytes =
        data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.length);
      const decoded = decodeServerFrame(codec, bytes);
      if (decoded.kind !== 'frame') throw new Error(`hub sent an undecodable frame: ${decoded.reason}`);
      this.frames.push(decoded.frame);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static async open(url: string, format: WireFormat = 'msgpack'): Promise<RawClient> {
    const ws = new WebSocket(url, SUBPROTOCOLS[format]);
    ws.binaryType = 'arraybuffer';
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws, codecs[format]);
  }

  /** Opens a socket and completes the connect handshake. */
  static async connected(url: string, format: WireFormat = 'msgpack'): Promise<RawClient> {
    const client = await RawClient.open(url, format);
    await client.request({ t: 'connect' });
    return client;
  }

  send(frame: object): void {
    this.ws.send(this.codec.encode(frame));
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Sends a request with a fresh id and resolves with its reply, ok or err. */
  async request(frame: object): Promise<OkReply | ErrorReply> {
    const id = this.nextId++;
    this.send({ ...frame, id });
    let reply: OkReply | ErrorReply | undefined;
    await waitFor(
      () => {
        reply = this.frames.find((f): f is OkReply | ErrorReply => (f.t === 'ok' || f.t === 'err') && f.id === id);
        return reply !== undefined || this.closed !== undefined;
      },
      `reply to ${JSON.stringify(frame)}`,
    );
    if (!reply) throw new Error(`socket closed before the reply: ${JSON.stringify(this.closed)}`);
    return reply;
  }

  /** Like request, but fails unless the reply is ok; returns its result. */
  async ok(frame: object): Promise<unknown> {
    const reply = await this.request(frame);
    if (reply.t !== 'ok') throw new Error(`expected ok for ${JSON.stringify(frame)}, got ${JSON.stringify(reply)}`);
    return reply.r;
  }

  publications(channel?: string): PublicationPush[] {
    return this.frames.filter(
      (f): f is PublicationPush => f.t === 'msg' && (channel === undefined || f.ch === channel),
    );
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closed !== undefined, 'the socket to close');
    return this.closed as { code: number; reason: string };
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}
