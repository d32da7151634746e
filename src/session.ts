import { randomUUID } from 'node:crypto';
import {
  type ClientFrame,
  CloseCode,
  type Codec,
  codecs,
  decodeClientFrame,
  ErrorCode,
  type ErrorReply,
} from '@switchboard/protocol';
import { Access } from './auth/access.js';
import type { Publication } from './brokers/broker.js';
import type { NodeContext } from './context.js';
import { HubError } from './errors.js';
import { handlers } from './handlers/index.js';
import { encodePush } from './hub.js';
import type { MessageRate } from './limits/rate.js';
import type { ClientSocket } from './transport/socket.js';

type SessionState = 'new' | 'connected' | 'closed';

/**
 * One client connection: its state, its channels and the dispatch of its commands. Every
 * request gets exactly one reply. Subscribe and unsubscribe run in arrival order, so a client
 * that unsubscribes right after subscribing ends up unsubscribed; other commands run at once.
 */
export class Session {
  readonly id = randomUUID();
  /** Channels holding one local subscription in the hub each, including those still being set up. */
  readonly channels = new Set<string>();
  /** Who the connection acts as and what it was granted (src/auth): set by connect, renewed by refresh. */
  readonly access = new Access(this);
  private readonly rate: MessageRate;
  private state: SessionState = 'new';
  private subscriptionQueue: Promise<void> = Promise.resolve();
  private readonly connectTimer: NodeJS.Timeout;
  private readonly codec: Codec;

  constructor(
    readonly socket: ClientSocket,
    readonly node: NodeContext,
  ) {
    this.codec = codecs[socket.format];
    this.rate = node.limits.messageRate();
    this.connectTimer = setTimeout(() => {
      node.limits.hit('connectTimeout');
      this.close(CloseCode.CONNECT_TIMEOUT, 'no connect frame in time');
    }, node.config.limits.connectTimeoutSeconds * 1000);
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  markConnected(): void {
    this.state = 'connected';
    clearTimeout(this.connectTimer);
  }

  /** Decodes synchronously: the transport's buffer is only valid until this returns. */
  onMessage(bytes: Uint8Array): void {
    if (bytes.byteLength > this.node.config.limits.maxFrameBytes) {
      this.node.limits.hit('frameSize');
      this.close(CloseCode.FRAME_TOO_LARGE, 'frame too large');
      return;
    }
    // Over the rate a frame gets 111 and does nothing; a client that keeps on regardless is closed.
    const rate = this.rate.admit();
    if (rate === 'close') {
      this.node.limits.hit('messageRateClose');
      this.close(CloseCode.TOO_MANY_REQUESTS, 'too many requests');
      return;
    }
    const decoded = decodeClientFrame(this.codec, bytes);
    if (decoded.kind === 'unparseable') {
      this.close(CloseCode.MALFORMED_FRAME, 'malformed frame');
    } else if (rate === 'refuse') {
      this.node.limits.hit('messageRate');
      const id = decoded.kind === 'invalid' ? decoded.id : decoded.frame.id;
      this.sendError(id, new HubError(ErrorCode.TOO_MANY_REQUESTS, 'message rate limit exceeded'));
    } else if (decoded.kind === 'invalid') {
      this.sendError(decoded.id, new HubError(ErrorCode.BAD_REQUEST, decoded.reason));
    } else {
      this.dispatch(decoded.frame);
    }
  }

  onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    this.access.dispose();
    for (const channel of this.channels) this.node.hub.remove(channel, this.socket.format);
    this.channels.clear();
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.socket.end(code, reason);
    this.onClose();
  }

  send(frame: object): void {
    if (this.state !== 'closed') this.socket.send(this.codec.encode(frame));
  }

  /** Pushes one publication to this client alone (replays; live ones go through topic fan-out). */
  sendPublication(publication: Publication): void {
    if (this.state !== 'closed') this.socket.send(encodePush(this.socket.format, publication));
  }

  /** Runs `task` after the subscribes and unsubscribes queued so far, so that none interleaves with it. */
  afterSubscriptions(task: () => void): Promise<void> {
    const done = this.subscriptionQueue.then(task);
    this.subscriptionQueue = done.catch(() => undefined);
    return done;
  }

  private dispatch(frame: ClientFrame): void {
    if (this.state === 'new' && frame.t !== 'connect') {
      this.sendError(frame.id, new HubError(ErrorCode.NOT_CONNECTED, 'send connect first'));
      return;
    }
    // A command still queued when the socket closes does nothing: its work would outlive its owner.
    const run = (): Promise<void> =>
      this.isClosed
        ? Promise.resolve()
        : runHandler(this, frame).then(
            (result) =>
              this.send(result === undefined ? { t: 'ok', id: frame.id } : { t: 'ok', id: frame.id, r: result }),
            (error: unknown) => this.sendError(frame.id, error),
          );
    if (frame.t === 'sub' || frame.t === 'unsub') this.subscriptionQueue = this.subscriptionQueue.then(run);
    else void run();
  }

  private sendError(id: number, error: unknown): void {
    if (!(error instanceof HubError)) {
      this.node.log.error({ err: error, session: this.id }, 'command failed');
    }
    const hubError = error instanceof HubError ? error : new HubError(ErrorCode.INTERNAL, 'internal error');
    const reply: ErrorReply = { t: 'err', id, code: hubError.code, msg: hubError.message };
    if (hubError.temporary) reply.tmp = true;
    this.send(reply);
  }
}

function runHandler(session: Session, frame: ClientFrame): Promise<object | undefined> {
  // Each frame type is routed to the handler of the same type; the table's type guarantees it.
  const handler = handlers[frame.t] as (s: Session, f: ClientFrame) => Promise<object | undefined>;
  try {
    return handler(session, frame);
  } catch (error) {
    return Promise.reject(error);
  }
}
