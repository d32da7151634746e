import {
  type ClientFrame,
  ConnectResult,
  EmptyResult,
  ErrorCode,
  type PublicationPush,
  PublishResult,
  RefreshResult,
  type ServerFrame,
  SubscribeResult,
  shouldReconnect,
  type UnsubscribedPush,
  type WireFormat,
} from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import { Channel } from './channels.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, messageOf, SwitchboardError } from './errors.js';
import { type Outgoing, type RequestBody, Requests } from './requests.js';
import { Subscription } from './subscription.js';
import { Transport } from './transport.js';
import type {
  ClientEvents,
  ClientOptions,
  ClientState,
  Position,
  SubscribeOptions,
  UnsubscribedEvent,
  WebSocketConstructor,
} from './types.js';

/** One socket and what is known about it. */
interface Link {
  readonly transport: Transport;
  /** Whether the connect handshake succeeded. */
  connected: boolean;
  /** Milliseconds of inbound silence after which the client pings (from the connect result). */
  pingMs: number;
  lastInbound: number;
  liveness: ReturnType<typeof setTimeout> | undefined;
  /** Renews the token before the hub's `exp`. */
  refresh: ReturnType<typeof setTimeout> | undefined;
}

/** Sent when the client drops a socket because a reply did not come (IANA-registered "Timeout"). */
const TIMEOUT_CLOSE = 3008;
const NORMAL_CLOSE = 1000;

/**
 * One WebSocket to a hub, shared by any number of subscriptions: connects, authenticates,
 * (re)subscribes every channel with handles, matches replies to requests, keeps the connection
 * alive and reconnects with backoff until closed for good.
 */
export class Client extends Emitter<ClientEvents> {
  private readonly WebSocket: WebSocketConstructor;
  private readonly format: WireFormat;
  private readonly options: ClientOptions;
  private readonly requests: Requests;
  private readonly backoff: Backoff;
  private readonly backoffOptions: { readonly initialMs: number; readonly maxMs: number };
  private readonly channels = new Map<string, Channel>();
  private current: ClientState = 'idle';
  private link: Link | undefined;
  /** Bumped whenever a connection attempt is abandoned, so that its late steps do nothing. */
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly url: string,
    options: ClientOptions = {},
  ) {
    super();
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocket) {
      throw new SwitchboardError(
        ClientErrorCode.NO_WEBSOCKET,
        'no WebSocket implementation: pass one as the WebSocket option (in Node 20, the `ws` package)',
        false,
      );
    }
    this.WebSocket = WebSocket;
    this.format = options.format ?? 'msgpack';
    this.options = options;
    this.requests = new Requests(options.requestTimeoutMs ?? 10_000);
    this.backoffOptions = { initialMs: options.backoff?.initialMs ?? 200, maxMs: options.backoff?.maxMs ?? 10_000 };
    this.backoff = new Backoff(this.backoffOptions.initialMs, this.backoffOptions.maxMs);
  }

  get state(): ClientState {
    return this.current;
  }

  /** Starts connecting; does nothing unless idle. Subscribing and publishing call it too. */
  connect(): void {
    if (this.current !== 'idle') return;
    this.setState('connecting');
    void this.open();
  }

  /** A new handle on `channel`; its channel is subscribed on the wire once, however many handles it has. */
  subscribe(channel: string, options: SubscribeOptions = {}): Subscription {
    if (this.current === 'closed') throw closedError('the client is closed');
    const handle = new Subscription(channel, (released) => this.release(released));
    let entry = this.channels.get(channel);
    if (entry) {
      entry.handles.add(handle);
      if (entry.live) this.joinLive(entry, handle);
    } else {
      entry = new Channel(channel, options.since, options.token);
      entry.handles.add(handle);
      this.channels.set(channel, entry);
      if (this.link?.connected) this.subscribeOnWire(this.link, entry);
    }
    this.connect();
    return handle;
  }

  /**
   * Publishes `data` (a JSON-compatible value) on `channel`; settles with the hub's reply. Without
   * a connection it waits for one, within the request timeout.
   */
  publish(channel: string, data: unknown): Promise<PublishResult> {
    if (this.current === 'closed') return Promise.reject(closedError('the client is closed'));
    // The hub validates the data; the type is left open for callers holding parsed JSON.
    const { request, result } = this.requests.create({ t: 'pub', ch: channel, d: data } as RequestBody, PublishResult);
    if (this.link?.connected) this.send(this.link, request);
    else this.connect();
    return result;
  }

  /** The position of the last publication seen on `channel`, while it has handles. */
  lastPosition(channel: string): Position | undefined {
    return this.channels.get(channel)?.last;
  }

  /** Closes for good: the socket closes, pending requests fail, handles end, nothing reconnects. */
  close(): void {
    this.terminate(closedError('the client was closed'));
  }

  private async open(): Promise<void> {
    const attempt = ++this.attempt;
    let token: string | undefined;
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    } catch (error) {
      if (attempt !== this.attempt) return;
      this.emit(
        'error',
        new SwitchboardError(ClientErrorCode.TOKEN, `could not get a token: ${messageOf(error)}`, true),
      );
      this.retry(this.backoff.next());
      return;
    }
    if (attempt !== this.attempt) return;
    let transport: Transport;
    try {
      transport = new Transport(this.WebSocket, this.url, this.format, {
        open: () => this.handshake(link, token),
        frame: (frame) => this.receive(link, frame),
        badFrame: (error) => this.emit('error', error),
        close: (code, reason) => this.lost(link, code, reason),
      });
    } catch (error) {
      // The WebSocket constructor throws for a URL it cannot use; retrying would not help.
      this.terminate(closedError(`cannot open a WebSocket to ${this.url}: ${messageOf(error)}`), true);
      return;
    }
    const link: Link = {
      transport,
      connected: false,
      pingMs: 0,
      lastInbound: 0,
      liveness: undefined,
      refresh: undefined,
    };
    this.link = link;
  }

  private handshake(link: Link, token: string | undefined): void {
    const { name, version } = this.options;
    const body: RequestBody = {
      t: 'connect',
      ...(token ? { token } : {}),
      ...(name === undefined ? {} : { name }),
      ...(version === undefined ? {} : { version }),
    };
    const { request, result } = this.requests.create(body, ConnectResult);
    this.send(link, request);
    result.then(
      (connectResult) => this.connected(link, connectResult),
      (error: SwitchboardError) => {
        if (this.link !== link) return;
        // An expired token is worth another try only when the next connect asks for a fresh one.
        const retryable =
          error.temporary || (error.code === ErrorCode.TOKEN_EXPIRED && typeof this.options.token === 'function');
        if (!retryable) {
          this.terminate(error, true, { code: error.code, reason: error.message });
        } else if (error.code === ClientErrorCode.TIMEOUT) {
          this.drop(TIMEOUT_CLOSE, error.message);
        } else {
          this.emit('error', error);
          this.drop(NORMAL_CLOSE, error.message);
        }
      },
    );
  }

  private connected(link: Link, result: ConnectResult): void {
    if (this.link !== link) return;
    link.connected = true;
    link.pingMs = result.ping * 1000;
    link.transport.maxFrame = result.maxFrame;
    this.backoff.reset();
    for (const entry of this.channels.values()) this.subscribeOnWire(link, entry);
    for (const request of this.requests.waiting()) this.send(link, request);
    this.watchLiveness(link);
    this.scheduleRefresh(link, result.exp);
    this.setState('connected');
    if (this.link === link) this.emit('connected', result);
  }

  private receive(link: Link, frame: ServerFrame): void {
    link.lastInbound = Date.now();
    switch (frame.t) {
      case 'ok':
        this.requests.settle(frame);
        break;
      case 'err':
        // Id 0: the hub could not tell which request a frame was; nothing waits for this.
        if (frame.id === 0) this.emit('error', new SwitchboardError(frame.code, frame.msg, frame.tmp === true));
        else this.requests.settle(frame);
        break;
      case 'msg':
        this.publication(frame);
        break;
      case 'unsubd':
        this.unsubscribedByHub(frame);
        break;
      case 'drain':
        // The hub spreads its clients' `after` itself, so no backoff on top.
        this.unlink(NORMAL_CLOSE, 'drain');
        this.emit('disconnected', { code: NORMAL_CLOSE, reason: 'drain', reconnect: true });
        this.retry(frame.after);
        break;
    }
  }

  private publication(push: PublicationPush): void {
    const entry = this.channels.get(push.ch);
    if (!entry) return;
    if (entry.breaksContinuity(push) && this.link?.connected) this.resume(this.link, entry);
    entry.push(push);
  }

  /**
   * Resubscribes from the last position seen after a push that does not follow it (publications
   * were lost on the way, or the channel's history was lost and its epoch changed): the hub then
   * replays what is missing, or the subscription reports `recovered: false`.
   */
  private resume(link: Link, entry: Channel): void {
    this.unsubscribeOnWire(link, entry.name);
    this.subscribeOnWire(link, entry);
  }

  private unsubscribedByHub(push: UnsubscribedPush): void {
    const entry = this.channels.get(push.ch);
    if (!entry) return;
    this.channels.delete(push.ch);
    entry.end(new SwitchboardError(push.code, push.msg, false), { code: push.code, reason: push.msg });
  }

  private subscribeOnWire(link: Link, entry: Channel): void {
    const since = entry.last;
    const body: RequestBody = {
      t: 'sub',
      ch: entry.name,
      ...(since ? { since } : {}),
      ...(entry.token ? { token: entry.token } : {}),
    };
    const { request, result } = this.requests.create(body, SubscribeResult);
    const { id } = this.send(link, request);
    entry.subscribing(id);
    const current = () => this.channels.get(entry.name) === entry && entry.pendingId === id;
    result.then(
      (subscribeResult) => {
        if (current()) entry.subscribed(subscribeResult);
      },
      (error: SwitchboardError) => {
        if (current()) this.subscribeFailed(link, entry, error);
      },
    );
  }

  private subscribeFailed(link: Link, entry: Channel, error: SwitchboardError): void {
    entry.unsubscribed();
    if (error.code === ClientErrorCode.TIMEOUT) {
      // The hub may still subscribe us; only a new socket makes the state known again.
      this.drop(TIMEOUT_CLOSE, error.message);
    } else if (error.temporary) {
      entry.failed(error);
      entry.retries ??= new Backoff(this.backoffOptions.initialMs, this.backoffOptions.maxMs);
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = undefined;
        if (this.channels.get(entry.name) === entry && this.link === link) this.subscribeOnWire(link, entry);
      }, entry.retries.next());
    } else {
      this.channels.delete(entry.name);
      entry.failed(error);
      entry.end(error, { code: error.code, reason: error.message });
    }
  }

  /** A handle joining a channel that is already subscribed learns so once its caller can listen. */
  private joinLive(entry: Channel, handle: Subscription): void {
    queueMicrotask(() => {
      const position = entry.last;
      if (entry.live && position && entry.handles.has(handle)) handle.subscribed({ position });
    });
  }

  private release(handle: Subscription): void {
    const entry = this.channels.get(handle.channel);
    if (!entry?.handles.delete(handle) || entry.handles.size > 0) return;
    this.channels.delete(entry.name);
    const onWire = entry.live || entry.pendingId !== 0;
    entry.unsubscribed();
    // The hub handles sub and unsub in arrival order, so an unsub sent while the sub is still in
    // flight leaves the channel unsubscribed; the sub's late reply is then ignored as stale.
    if (onWire && this.link?.connected) this.unsubscribeOnWire(this.link, entry.name);
  }

  private unsubscribeOnWire(link: Link, channel: string): void {
    const { request, result } = this.requests.create({ t: 'unsub', ch: channel }, EmptyResult);
    this.send(link, request);
    result.catch((error: SwitchboardError) => {
      if (this.link !== link) return;
      if (error.code === ClientErrorCode.TIMEOUT) this.drop(TIMEOUT_CLOSE, error.message);
      else this.emit('error', error);
    });
  }

  /**
   * Sends a fresh token (from the `token` function) well before the credentials expire at `exp`,
   * so the hub does not close the connection with 4004; each refresh reply names the next `exp`.
   */
  private scheduleRefresh(link: Link, exp: number | undefined): void {
    const tokenOf = this.options.token;
    if (exp === undefined || typeof tokenOf !== 'function') return;
    const remaining = exp - Date.now();
    link.refresh = setTimeout(
      async () => {
        if (this.link !== link) return;
        let token: string;
        try {
          token = await tokenOf();
        } catch (error) {
          this.emit(
            'error',
            new SwitchboardError(ClientErrorCode.TOKEN, `could not refresh the token: ${messageOf(error)}`, true),
          );
          return;
        }
        if (this.link !== link) return;
        const { request, result } = this.requests.create({ t: 'refresh', token }, RefreshResult);
        this.send(link, request);
        result.then(
          (refreshed) => this.scheduleRefresh(link, refreshed.exp),
          (error: SwitchboardError) => this.emit('error', error),
        );
      },
      Math.max(0, remaining - Math.min(60_000, remaining / 5)),
    );
  }

  /**
   * Pings after `pingMs` without inbound traffic. A connection silently lost (by an L4 balancer,
   * say) shows no error, only silence, so an unanswered ping is what reveals it.
   */
  private watchLiveness(link: Link): void {
    link.lastInbound = Date.now();
    const check = () => {
      const idle = Date.now() - link.lastInbound;
      if (idle < link.pingMs) {
        link.liveness = setTimeout(check, link.pingMs - idle);
        return;
      }
      const { request, result } = this.requests.create({ t: 'ping' }, EmptyResult);
      this.send(link, request);
      result.catch((error: SwitchboardError) => {
        if (this.link === link && error.code === ClientErrorCode.TIMEOUT) this.drop(TIMEOUT_CLOSE, 'no reply to ping');
      });
      link.liveness = setTimeout(check, link.pingMs);
    };
    link.liveness = setTimeout(check, link.pingMs);
  }

  private send(link: Link, request: Outgoing): ClientFrame {
    const frame = this.requests.issue(request);
    if (!link.transport.send(frame)) {
      const limit = link.transport.maxFrame;
      this.requests.refuse(
        request,
        new SwitchboardError(
          ClientErrorCode.FRAME_TOO_LARGE,
          `${frame.t} frame over the hub's ${limit} byte limit`,
          false,
        ),
      );
    }
    return frame;
  }

  /** The socket closed under us. */
  private lost(link: Link, code: number, reason: string): void {
    if (this.link !== link) return;
    const reconnect = shouldReconnect(code);
    this.unlink(code, reason);
    this.emit('disconnected', { code, reason, reconnect });
    if (reconnect) this.retry(this.backoff.next());
    else
      this.terminate(closedError(`the hub closed the connection for good: ${code} ${reason}`), true, { code, reason });
  }

  /** Gives up on a socket that is still open but not working, and connects again. */
  private drop(code: number, reason: string): void {
    this.unlink(code, reason);
    this.emit('disconnected', { code, reason, reconnect: true });
    this.retry(this.backoff.next());
  }

  /** Forgets the current socket: what went out on it fails, and its channels await resubscription. */
  private unlink(code: number, reason: string): void {
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    clearTimeout(link.liveness);
    clearTimeout(link.refresh);
    link.transport.close(code, reason);
    this.requests.failSent(
      new SwitchboardError(ClientErrorCode.DISCONNECTED, 'the connection was lost before the reply', true),
    );
    for (const entry of this.channels.values()) entry.disconnected();
  }

  private retry(delayMs: number): void {
    if (this.current === 'closed') return;
    this.setState('connecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delayMs);
  }

  /**
   * Ends the client for good. `report` says whether the cause is news to the application (the
   * hub refused it), as opposed to its own `close()`; `ended` is the hub's close code and reason.
   */
  private terminate(error: SwitchboardError, report = false, ended?: UnsubscribedEvent): void {
    if (this.current === 'closed') return;
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.requests.failAll(error);
    this.unlink(NORMAL_CLOSE, 'client closed');
    const entries = [...this.channels.values()];
    this.channels.clear();
    this.setState('closed');
    for (const entry of entries) entry.end(error, ended);
    if (report) this.emit('error', error);
  }

  private setState(state: ClientState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }
}

function closedError(message: string): SwitchboardError {
  return new SwitchboardError(ClientErrorCode.CLOSED, message, false);
}
