import {
  type ClientFrame,
  CloseCode,
  codecs,
  decodeClientFrame,
  ErrorCode,
  type ErrorReply,
  type Position,
  type PresenceEntry,
  type SubscribeResult,
} from '@switchboard/protocol';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import type { NodeContext } from '../context.js';
import { HubError } from '../errors.js';
import type { MessageRate } from '../limits/rate.js';
import { type Lane, PLAIN } from '../streams/lanes.js';
import type { ClientSocket } from '../transport/socket.js';
import { Access } from './access.js';
import { ChannelList } from './channel-list.js';

type SessionState = 'new' | 'connected' | 'closed';

/** What a command that answered its request itself (through Session.reply) resolves with. */
export const REPLIED = Symbol('replied');

/**
 * Runs one command of a session: resolves with the reply's result (or REPLIED when it answered
 * itself), or rejects with a HubError.
 */
export type Dispatch = (session: Session, frame: ClientFrame) => Promise<object | undefined | typeof REPLIED>;

/**
 * One client connection: its state, its channels and the dispatch of its commands (the command
 * table is given by the transport, src/handlers/). Every request gets exactly one reply.
 * Subscribe and unsubscribe run in arrival order, so a client that unsubscribes right after
 * subscribing ends up unsubscribed; other commands run at once. Channels are joined and left
 * only through the node's channel streams (src/streams/), and nothing a session started outlives
 * it: its queued commands do nothing once it closed, and closing leaves every channel.
 */
export class Session {
  /** Channels this connection holds in the node's streams, including joins in progress. */
  readonly channels = new ChannelList();
  /** The lanes of channels joined other than plainly (deltas), to leave by the same; made with the first. */
  private lanes: Map<string, Lane> | undefined;
  private readonly rate: MessageRate;
  private state: SessionState = 'new';
  /** The subscribes and unsubscribes queued; undefined when none is (no promise held per idle connection). */
  private subscriptionQueue: Promise<void> | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Made by the first decision that needs state (a principal that expires, a subscription token). */
  private accessState: Access | undefined;
  /** What ends with the connection (calls waiting for a service's reply); made by the first. */
  private endTasks: Set<() => void> | undefined;

  constructor(
    readonly socket: ClientSocket,
    readonly node: NodeContext,
    private readonly dispatchCommand: Dispatch,
    /** This connection's number on its hub; with the hub's id, the connection's id. */
    private readonly serial: number,
  ) {
    this.rate = node.limits.messageRate();
    this.connectTimer = setTimeout(() => {
      node.limits.hit('connectTimeout');
      this.close(CloseCode.CONNECT_TIMEOUT, 'no connect frame in time');
    }, node.config.limits.connectTimeoutSeconds * 1000);
  }

  /**
   * The connection's id, unique across hubs and restarts: the hub's random id and this
   * connection's number. Made when asked (connect, logs, egress headers), not kept: a UUID string
   * per idle connection was 56 B.
   */
  get id(): string {
    return `${this.node.id}.${this.serial.toString(36)}`;
  }

  /** Who the connection acts as and what it was granted (src/auth decides): set by connect, renewed by refresh. */
  get access(): Access {
    this.accessState ??= new Access(this, this.node.auth);
    return this.accessState;
  }

  /** Who the connection acts as; anonymous until a connect says otherwise. */
  get principal(): Principal {
    return this.accessState?.principal ?? ANONYMOUS;
  }

  /** Whether a still valid subscription token granted `channel`. */
  hasTokenGrant(channel: string): boolean {
    return this.accessState?.hasTokenGrant(channel) ?? false;
  }

  /** Acts as `principal` from now on; an anonymous principal needs no state at all. */
  become(principal: Principal): void {
    if (principal === ANONYMOUS && !this.accessState) return;
    this.access.become(principal);
  }

  /** Ends the connection at `expiresAt` (Unix ms; undefined: never), as a refresh would, keeping who it acts as. */
  setExpiry(expiresAt: number | undefined): void {
    this.access.become({ ...this.principal, expiresAt });
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  markConnected(): void {
    this.state = 'connected';
    // Dropped once connected: an idle connection holds no timer.
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.socket.connected?.();
  }

  /**
   * Joins `channel` through its stream, which answers through `respond` right before what follows
   * the answer; rejects with a HubError (the channel is then not held). In a namespace with
   * presence the connection then shows in it, with `info` when the namespace lets clients say.
   */
  async join(
    channel: string,
    since: Position | undefined,
    respond: (result: SubscribeResult) => void,
    info?: unknown,
    lane: Lane = PLAIN,
  ): Promise<SubscribeResult | undefined> {
    this.channels.add(channel);
    if (lane !== PLAIN) {
      this.lanes ??= new Map();
      this.lanes.set(channel, lane);
    }
    let result: SubscribeResult | undefined;
    try {
      result = await this.node.streams.join(channel, this.socket, since, respond, lane);
    } catch (error) {
      this.channels.delete(channel);
      this.lanes?.delete(channel);
      throw error;
    }
    if (this.isClosed || result === undefined || !this.channels.has(channel)) return undefined;
    const presence = this.node.namespaces.of(channel).settings.presence;
    if (presence.enabled) this.node.presence.join(channel, this.presenceEntry(presence.clientInfo ? info : undefined));
    return result;
  }

  /**
   * Subscribes the connection to `channel` on the hub's own initiative (the server API, or the
   * user's server-side subscriptions at connect): in order with the client's own subscribes, and
   * told with a `subd` push instead of a reply. Resolves with whether it is subscribed now.
   */
  serverSubscribe(channel: string, since?: Position): Promise<boolean> {
    let joined = false;
    const done = this.enqueue(async () => {
      if (this.isClosed || this.channels.has(channel)) {
        joined = this.channels.has(channel);
        return;
      }
      const limit = this.node.config.limits.maxSubscriptionsPerConnection;
      if (this.channels.size >= limit) {
        this.send({ t: 'unsubd', ch: channel, code: ErrorCode.LIMIT_EXCEEDED, msg: 'subscriptions per connection' });
        return;
      }
      try {
        const result = await this.join(channel, since, (reply) => this.send({ t: 'subd', ch: channel, ...reply }));
        joined = result !== undefined;
      } catch (error) {
        const hubError = error instanceof HubError ? error : new HubError(ErrorCode.NOT_AVAILABLE, 'broker');
        this.send({ t: 'unsubd', ch: channel, code: hubError.code, msg: hubError.message });
      }
    });
    return done.then(() => joined);
  }

  /** Ends a subscription in order with the client's own subscribes; false when it was not held. */
  serverUnsubscribe(channel: string, code: number, reason: string): Promise<boolean> {
    let left = false;
    return this.afterSubscriptions(() => {
      left = this.channels.has(channel);
      this.revoke(channel, code, reason);
    }).then(() => left);
  }

  /** Leaves `channel`; false when the connection did not hold it. */
  leave(channel: string): boolean {
    if (!this.channels.delete(channel)) return false;
    const lane = this.lanes?.get(channel) ?? PLAIN;
    this.lanes?.delete(channel);
    this.node.streams.leave(channel, this.socket, lane);
    if (this.node.namespaces.of(channel).settings.presence.enabled) this.node.presence.leave(channel, this.id);
    return true;
  }

  /** Ends a subscription on the hub's own initiative and tells the client why (`unsubd`). */
  revoke(channel: string, code: number, reason: string): void {
    if (this.leave(channel)) this.send({ t: 'unsubd', ch: channel, code, msg: reason });
  }

  /** Runs `task` when the connection closes, so that work started for it dies with it; the returned function forgets it. */
  whenClosed(task: () => void): () => void {
    this.endTasks ??= new Set();
    this.endTasks.add(task);
    return () => this.endTasks?.delete(task);
  }

  /** What presence shows of this connection. */
  private presenceEntry(clientInfo: unknown): PresenceEntry {
    const { sub, info } = this.principal;
    const entry: PresenceEntry = { c: this.id };
    if (sub !== undefined) entry.u = sub;
    const shown = clientInfo ?? info;
    if (shown !== undefined) entry.i = shown;
    return entry;
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
    const decoded = decodeClientFrame(codecs[this.socket.format], bytes);
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

  /** The socket closed: timers stop and every channel is left. */
  onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    this.accessState?.dispose();
    for (const task of [...(this.endTasks ?? [])]) task();
    this.endTasks = undefined;
    for (const channel of [...this.channels]) this.leave(channel);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.socket.end(code, reason);
    this.onClose();
  }

  send(frame: object): void {
    if (this.state !== 'closed') this.socket.send(codecs[this.socket.format].encode(frame));
  }

  /** The `ok` reply to request `id`. */
  reply(id: number, result: object | undefined): void {
    this.send(result === undefined ? { t: 'ok', id } : { t: 'ok', id, r: result });
  }

  /** Runs `task` after the subscribes and unsubscribes queued so far, so that none interleaves with it. */
  afterSubscriptions(task: () => void): Promise<void> {
    const done = this.enqueue(async () => task());
    return done;
  }

  /** Runs `work` after what is queued; the queue forgets itself once it is empty. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    const done = (this.subscriptionQueue ?? Promise.resolve()).then(work);
    const tail = done.catch(() => undefined);
    this.subscriptionQueue = tail;
    void tail.then(() => {
      if (this.subscriptionQueue === tail) this.subscriptionQueue = undefined;
    });
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
        : this.runCommand(frame).then(
            (result) => {
              if (result !== REPLIED) this.reply(frame.id, result);
            },
            (error: unknown) => this.sendError(frame.id, error),
          );
    if (frame.t === 'sub' || frame.t === 'unsub') void this.enqueue(run);
    else void run();
  }

  private runCommand(frame: ClientFrame): Promise<object | undefined | typeof REPLIED> {
    try {
      return this.dispatchCommand(this, frame);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private sendError(id: number, error: unknown): void {
    if (!(error instanceof HubError)) {
      this.node.log.error({ err: error, session: this.id }, 'command failed');
    }
    const hubError = error instanceof HubError ? error : new HubError(ErrorCode.INTERNAL, 'internal error');
    const reply: ErrorReply = { t: 'err', id, code: hubError.code, msg: hubError.message };
    if (hubError.temporary) reply.tmp = true;
    if (hubError.serviceCode !== undefined) reply.svc = hubError.serviceCode;
    this.send(reply);
  }
}
