/**
 * A minimal WebSocket client over `node:net`, for the load generator only.
 *
 * Why hand-written: a library client allocates a Buffer and an event per message and, at a
 * million deliveries per second, would itself become the bottleneck being measured. This one:
 * - reads every socket of the process into ONE shared buffer (`onread`), so reads allocate nothing;
 * - parses unmasked server frames in place and hands `(buf, start, end)` to a sink that must use
 *   them synchronously; only a frame split across two reads is copied, into a per-connection
 *   carry buffer reused for the connection's lifetime;
 * - answers pings, and closes with a close frame followed by a TCP reset (no TIME_WAIT on the
 *   client side, so connection churn cannot exhaust ephemeral ports);
 * - masks client frames with the all-zero key: RFC 6455 requires the mask bit and a key, and
 *   XOR with zeros leaves the payload as is, so frame templates can be written without a copy.
 *   (A real client must use random keys; a benchmark on loopback does not need them.)
 * - does not verify `Sec-WebSocket-Accept` (it checks the 101 status only). No fragmentation,
 *   no extensions: the hub negotiates neither. It records the subprotocol the server chose
 *   (`wire`), which says how pushes look (wire.ts).
 * - speaks TLS (wss:) with `tls: true`, still reading into the shared buffer; it does not check
 *   the certificate: the servers are this machine's, with a self-signed one made for the run.
 *   Node refuses a TCP reset on a TLS socket, so there a connection ends with a plain close.
 */
import net from 'node:net';
import tls from 'node:tls';
import { monoMicros } from './clock.js';
import { OFFERED, SUBPROTOCOLS, type Wire, wireOf } from './wire.js';

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const HANDSHAKE_KEY = 'c3dpdGNoYm9hcmRiZW5jaA==';
const EMPTY = Buffer.alloc(0);
const CRLFCRLF = Buffer.from('\r\n\r\n');

export const OP_TEXT = 1;
export const OP_BINARY = 2;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

export interface WsSink {
  /** The upgrade succeeded. */
  open(conn: WsConn): void;
  /** One complete data frame; `buf` is only valid during the call. `now` is the read's time (µs). */
  frame(conn: WsConn, opcode: number, buf: Buffer, start: number, end: number, now: number): void;
  /** The connection is gone: `code` is the close code, 1006 without one, or −HTTP status on a refused upgrade. */
  closed(conn: WsConn, code: number, error?: string): void;
}

export interface WsOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly path?: string;
  /** The subprotocol offered (default: msgpack, as OFFERED says). */
  readonly wire?: Wire;
  readonly noDelay?: boolean;
  readonly tls?: boolean;
}

export class WsConn {
  readonly socket: net.Socket;
  /** Free for the owner: e.g. index, last sequence seen, pending replies. */
  index = 0;
  lastSeq = -1;
  pending = 0;
  startedAt = 0;
  /** The wire the server chose in its 101 answer (what was offered until then). */
  wire: Wire;
  private carry: Buffer = EMPTY;
  private carryLen = 0;
  private handshaking = true;
  private closing = false;
  private done = false;

  constructor(
    options: WsOptions,
    private readonly sink: WsSink,
  ) {
    this.wire = options.wire ?? OFFERED.msgpack;
    const onread = {
      buffer: READ_BUFFER,
      callback: (nread: number, buf: Uint8Array) => {
        this.onRead(nread, buf as Buffer);
        return true;
      },
    };
    const where = { host: options.host, port: options.port, localAddress: options.localAddress, onread };
    this.socket = options.tls
      ? tls.connect({ ...where, rejectUnauthorized: false })
      : net.connect({ ...where, noDelay: options.noDelay ?? false });
    if (options.tls && options.noDelay) this.socket.setNoDelay(true);
    this.socket.on(options.tls ? 'secureConnect' : 'connect', () => {
      this.socket.write(
        `GET ${options.path ?? '/ws'} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Protocol: ${SUBPROTOCOLS[this.wire]}\r\n\r\n`,
      );
    });
    this.socket.on('error', (error) => this.finish(1006, error.message));
    this.socket.on('close', () => this.finish(1006));
  }

  get isOpen(): boolean {
    return !this.handshaking && !this.done && !this.closing;
  }

  /** Sends one binary (or `opcode`) frame with payload `payload`. */
  send(payload: Uint8Array, opcode = OP_BINARY): void {
    if (this.done) return;
    const frame = Buffer.allocUnsafe(frameHeaderLength(payload.length) + payload.length);
    const at = writeFrameHeader(frame, 0, opcode, payload.length);
    frame.set(payload, at);
    this.socket.write(frame);
  }

  /** Writes bytes that already are complete masked frames (see `writeFrameHeader`). */
  sendRaw(frames: Uint8Array): void {
    if (!this.done) this.socket.write(frames);
  }

  /** Starts the closing handshake; the socket is reset once the server's close frame arrives. */
  close(code = 1000): void {
    if (this.done || this.closing) return;
    this.closing = true;
    const body = Buffer.allocUnsafe(2);
    body.writeUInt16BE(code, 0);
    this.send(body, OP_CLOSE);
  }

  /** Drops the connection at once, with a TCP reset. */
  destroy(): void {
    if (this.done) return;
    this.drop();
    this.finish(1006);
  }

  /** A TCP reset where Node allows one: not under TLS, whose wrapped handle refuses it (plain close). */
  private drop(): void {
    if (this.socket instanceof tls.TLSSocket) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  private finish(code: number, error?: string): void {
    if (this.done) return;
    this.done = true;
    if (!this.socket.destroyed) this.drop();
    this.carry = EMPTY;
    this.sink.closed(this, code, error);
  }

  private onRead(nread: number, buf: Buffer): void {
    if (this.done) return;
    const now = monoMicros();
    let off = 0;
    if (this.handshaking) {
      off = this.readHandshake(buf, nread);
      if (off < 0) return;
    }
    // Complete a frame split across reads from the carry buffer, taking only the bytes it needs.
    while (this.carryLen > 0 && off < nread) {
      const need = frameNeeds(this.carry, 0, this.carryLen);
      const take = Math.min(need - this.carryLen, nread - off);
      this.ensureCarry(this.carryLen + take);
      buf.copy(this.carry, this.carryLen, off, off + take);
      this.carryLen += take;
      off += take;
      if (frameNeeds(this.carry, 0, this.carryLen) <= this.carryLen) {
        const length = this.carryLen;
        this.carryLen = 0;
        this.parse(this.carry, 0, length, now);
        if (this.done) return;
      }
    }
    off = this.parse(buf, off, nread, now);
    if (off < nread && !this.done) {
      this.ensureCarry(nread - off);
      buf.copy(this.carry, 0, off, nread);
      this.carryLen = nread - off;
    }
  }

  /** Returns where frames start in `buf`, or −1 while the response head is incomplete. */
  private readHandshake(buf: Buffer, nread: number): number {
    this.ensureCarry(this.carryLen + nread);
    buf.copy(this.carry, this.carryLen, 0, nread);
    const total = this.carryLen + nread;
    const head = this.carry.subarray(0, total);
    const endOfHead = head.indexOf(CRLFCRLF);
    if (endOfHead < 0) {
      this.carryLen = total;
      if (total > 8192) this.finish(-1, 'response head too long');
      return -1;
    }
    const status = Number(head.subarray(9, 12).toString('latin1'));
    this.handshaking = false;
    this.carryLen = 0;
    if (status !== 101) {
      this.finish(
        -status,
        head
          .subarray(endOfHead + 4)
          .toString('utf8')
          .slice(0, 200),
      );
      return -1;
    }
    const chosen = /\r\nsec-websocket-protocol: *([^\r]*)/i.exec(head.subarray(0, endOfHead).toString('latin1'));
    this.wire = wireOf(chosen?.[1]?.trim() ?? '');
    // Bytes after the head (frames sent right after the 101) are still in `buf`, at the same distance from its end.
    const rest = total - (endOfHead + 4);
    this.sink.open(this);
    return nread - rest;
  }

  private ensureCarry(size: number): void {
    if (this.carry.length >= size) return;
    const bigger = Buffer.allocUnsafe(Math.max(size, 512, this.carry.length * 2));
    this.carry.copy(bigger, 0, 0, this.carryLen);
    this.carry = bigger;
  }

  /** Handles every complete frame in [off, end); returns where the first incomplete one starts. */
  private parse(buf: Buffer, from: number, end: number, now: number): number {
    let off = from;
    while (end - off >= 2) {
      const need = frameNeeds(buf, off, end - off);
      if (need > end - off) break;
      const b0 = buf[off] ?? 0;
      const l7 = (buf[off + 1] ?? 0) & 0x7f;
      const header = l7 < 126 ? 2 : l7 === 126 ? 4 : 10;
      const opcode = b0 & 0x0f;
      const start = off + header;
      off += need;
      if (opcode === OP_BINARY || opcode === OP_TEXT) this.sink.frame(this, opcode, buf, start, off, now);
      else if (opcode === OP_PING) this.send(buf.subarray(start, off), OP_PONG);
      else if (opcode === OP_CLOSE) {
        const code = off - start >= 2 ? buf.readUInt16BE(start) : 1005;
        if (!this.closing) this.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000);
        this.finish(code);
        return off;
      }
      if (this.done) return off;
    }
    return off;
  }
}

/** Bytes of a server (unmasked) frame header for a payload of `length` bytes. */
export function serverHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Total bytes of the frame starting at `off` given `available` bytes, or the header bytes still needed to tell. */
function frameNeeds(buf: Buffer, off: number, available: number): number {
  if (available < 2) return 2;
  const l7 = (buf[off + 1] ?? 0) & 0x7f;
  if (l7 < 126) return 2 + l7;
  if (l7 === 126) return available < 4 ? 4 : 4 + buf.readUInt16BE(off + 2);
  return available < 10 ? 10 : 10 + buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
}

/** Length of a masked client frame header for a payload of `length` bytes. */
export function frameHeaderLength(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
}

/** Writes a FIN, masked (all-zero key) frame header at `at`; returns where the payload goes. */
export function writeFrameHeader(buf: Uint8Array, at: number, opcode: number, length: number): number {
  let i = at;
  buf[i++] = 0x80 | opcode;
  if (length < 126) {
    buf[i++] = 0x80 | length;
  } else if (length < 65536) {
    buf[i++] = 0x80 | 126;
    buf[i++] = length >>> 8;
    buf[i++] = length & 0xff;
  } else {
    buf[i++] = 0x80 | 127;
    for (let shift = 7; shift >= 0; shift--) buf[i++] = shift >= 4 ? 0 : (length >>> (shift * 8)) & 0xff;
  }
  buf[i++] = 0;
  buf[i++] = 0;
  buf[i++] = 0;
  buf[i++] = 0;
  return i;
}

/** A complete masked frame of `payload` (binary unless `opcode` says text), for templates. */
export function maskedFrame(payload: Uint8Array, opcode = OP_BINARY): Uint8Array {
  const frame = new Uint8Array(frameHeaderLength(payload.length) + payload.length);
  frame.set(payload, writeFrameHeader(frame, 0, opcode, payload.length));
  return frame;
}
