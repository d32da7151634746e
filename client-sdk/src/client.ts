import {
  ErrorCode,
  type Position,
  type PublishResult,
  type SubscribedPush,
  shouldReconnect,
} from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import { Channel } from './channel.js';
import { defaultLink } from './default-link.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, messageOf, SwitchboardError } from './errors.js';
import type { Dial, Link, LinkFrame } from './link.js';
import { PublishKeys, retryUnknown } from './publishing.js';
import { type Outgoing, type RequestBody, Requests, type Results } from './requests.js';
import { type PresenceAsk, Subscription } from './subscription.js';
import type {
  ClientEvents,
  ClientOptions,
  ClientState,
  PresenceMember,
  PublishOptions,
  RpcOptions,
  SubscribeOptions,
  UnsubscribedEvent,
} from './types.js';
import { Upkeep } from './upkeep.js';

/** The current link and what is known about it. */
interface Current {
  readonly link: Link;
  /** Whether the connect handshake succeeded. */
  connected: boolean;
  readonly upkeep: Upkeep;
}

/** Sent when the client drops a link because a reply did not come (IANA-registered "Timeout"). */
const TIMEOUT_CLOSE = 3008;
const NORMAL_CLOSE = 1000;

/**
 * One connection to a hub, shared by any number of subscriptions: connects, authenticates,
 * (re)subscribes every channel with handles, matches replies to requests, keeps the connection
 * alive and reconnects with backoff until closed for good. The connection is a link (link.ts):
 * a WebSocket to the hub by default, or a MessagePort to the SharedWorker that holds one for
 * every tab; channels, handles and recovery are this same code over either.
 */
export class Client extends Emitter<ClientEvents> {
  private readonly dial: Dial;
  private readonly options: ClientOptions;
  private readonly requests: Requests;
  private readonly backoff: Backoff;
  private readonly backoffOptions: { readonly initialMs: number; readonly maxMs: number };
  private readonly channels = new Map<string, Channel>();
  private current: ClientState = 'idle';
  private active: Current | undefined;
  /** Bumped whenever a connection attempt is abandoned, so that its late steps do nothing. */
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly keys = new PublishKeys();
  /** How handles ask about their channel's presence. */
  private readonly presenceAsk: PresenceAsk = {
    presence: (channel) =>
      this.request({ t: 'presence', ch: channel }).then(({ who }) =>
        who.map(
          ({ c, u, i }): PresenceMember => ({
            client: c,
            ...(u === undefined ? {} : { user: u }),
            ...(i === undefined ? {} : { info: i }),
          }),
        ),
      ),
    stats: (channel) => this.request({ t: 'presence_stats', ch: channel }),
  };

  constructor(
    readonly url: string,
    options: ClientOptions = {},
  ) {
    super();
    this.dial = options.link ?? defaultLink(options);
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

  /**
   * A new handle on `channel`; its channel is subscribed on the wire once, however many handles
   * it has. With `since`, this handle resumes after that position even when the channel is
   * already live for others: what it missed is replayed to it alone.
   */
  subscribe(channel: string, options: SubscribeOptions = {}): Subscription {
    if (this.current === 'closed') throw closedError('the client is closed');
    const handle = new Subscription(channel, (released) => this.release(released), this.presenceAsk);
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = this.newChannel(channel, options.token, options.info);
      this.channels.set(channel, entry);
    }
    entry.join(handle, options.since);
    this.connect();
    return handle;
  }

  /**
   * Publishes `data` (a JSON value) on `channel`; settles with the hub's reply. With an idempotency
   * key: when the outcome is unknown (115, or no reply in time) it is sent again with that key.
   */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const key = options.key ?? this.keys.next();
    return retryUnknown(
      () => this.request({ t: 'pub', ch: channel, d: data, key }),
      options.retryMs ?? 3 * (this.options.requestTimeoutMs ?? 10_000),
      (tries) => Math.min(this.backoffOptions.maxMs, this.backoffOptions.initialMs * 2 ** tries),
    );
  }

  /**
   * Calls a service's `method` (docs/rpc.md); settles with its reply's data. Errors: 116 no route,
   * 117 / `timeout`, 118 the service's (`serviceCode`), `disconnected`. Never retried.
   */
  async rpc(method: string, data: unknown, options: RpcOptions = {}): Promise<unknown> {
    return (await this.request({ t: 'rpc', method, d: data }, options.timeoutMs)).d;
  }

  /** Channels the hub subscribed this connection to on its own (server-side subscriptions). */
  serverSubscriptions(): string[] {
    return [...this.channels.values()].filter((entry) => entry.server).map((entry) => entry.name);
  }

  /** Sends a request now, or once connected, within the request timeout (or `timeoutMs`). */
  private request<B extends RequestBody>(body: B, timeoutMs?: number): Promise<Results[B['t']]> {
    if (this.current === 'closed') return Promise.reject(closedError('the client is closed'));
    const { request, result } = this.requests.ask(body, timeoutMs);
    if (this.active?.connected) this.send(this.active, request);
    else this.connect();
    return result;
  }

  private newChannel(channel: string, token?: string, info?: unknown): Channel {
    return new Channel(channel, (target, since, replace) => this.subscribeOnWire(target, since, replace), token, info);
  }

  /** The position of the last publication seen on `channel`, while it has handles. */
  lastPosition(channel: string): Position | undefined {
    return this.channels.get(channel)?.last;
  }

  /** Closes for good: the link closes, pending requests fail, handles end, nothing reconnects. */
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
    let active: Current | undefined;
    let link: Link;
    try {
      link = await this.dial(this.url, {
        open: () => active && this.handshake(active, token),
        frame: (frame) => active && this.receive(active, frame),
        problem: (error) => this.emit('error', error),
        close: (code, reason, retryMs) => active && this.lost(active, code, reason, retryMs),
      });
    } catch (error) {
      if (attempt !== this.attempt) return;
      if (error instanceof SwitchboardError && !error.temporary) this.terminate(error, true);
      else {
        this.emit('error', new SwitchboardError(ClientErrorCode.DISCONNECTED, messageOf(error), true));
        this.retry(this.backoff.next());
      }
      return;
    }
    if (attempt !== this.attempt) {
      link.close(NORMAL_CLOSE, 'client closed');
      return;
    }
    active = { link, connected: false, upkeep: new Upkeep() };
    this.active = active;
  }

  private handshake(active: Current, token: string | undefined): void {
    const { name, version } = this.options;
    // Where each server-side subscription stands, so that the hub resumes it from there.
    const subs: Record<string, Position> = {};
    for (const entry of this.channels.values()) if (entry.server && entry.last) subs[entry.name] = entry.last;
    const body: RequestBody = {
      t: 'connect',
      ...(token ? { token } : {}),
      ...(name === undefined ? {} : { name }),
      ...(version === undefined ? {} : { version }),
      ...(Object.keys(subs).length > 0 ? { subs } : {}),
    };
    const request = this.requests.create(body, {
      ok: (result) => this.connected(active, result),
      fail: (error) => {
        if (this.active !== active) return;
        // An expired token is worth another try only when the next connect asks for a fresh one.
        const retryable =
          error.temporary || (error.code === ErrorCode.TOKEN_EXPIRED && typeof this.options.token === 'function');
        if (!retryable) this.terminate(error, true, { code: error.code, reason: error.message });
        else if (error.code === ClientErrorCode.TIMEOUT) this.drop(TIMEOUT_CLOSE, error.message);
        else {
          this.emit('error', error);
          this.drop(NORMAL_CLOSE, error.message);
        }
      },
    });
    this.send(active, request);
  }

  private connected(active: Current, result: Results['connect']): void {
    if (this.active !== active) return;
    active.connected = true;
    active.link.limit(result.maxFrame);
    this.backoff.reset();
    // Server-side subscriptions the hub no longer keeps end; the others follow as `subd` pushes.
    const kept = new Set(result.subs);
    for (const entry of [...this.channels.values()]) {
      if (!entry.server || kept.has(entry.name)) continue;
      this.channels.delete(entry.name);
      const reason = 'no longer subscribed by the server';
      entry.end(new SwitchboardError(ErrorCode.PERMISSION_DENIED, reason, false), {
        code: ErrorCode.PERMISSION_DENIED,
        reason,
      });
    }
    for (const entry of this.channels.values()) entry.connected();
    for (const request of this.requests.waiting()) this.send(active, request);
    active.upkeep.start(result, {
      ping: () => {
        const request = this.requests.create(
          { t: 'ping' },
          {
            ok: () => {},
            fail: (error) => {
              if (this.active === active && error.code === ClientErrorCode.TIMEOUT)
                this.drop(TIMEOUT_CLOSE, 'no reply to ping');
            },
          },
        );
        this.send(active, request);
      },
      token: typeof this.options.token === 'function' ? this.options.token : undefined,
      refresh: (token, next) => {
        if (this.active !== active) return;
        const request = this.requests.create(
          { t: 'refresh', token },
          { ok: (refreshed) => next(refreshed.exp), fail: (error) => this.emit('error', error) },
        );
        this.send(active, request);
      },
      error: (error) => this.emit('error', error),
    });
    this.setState('connected');
    if (this.active === active) this.emit('connected', result);
  }

  private receive(active: Current, frame: LinkFrame): void {
    active.upkeep.heard();
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
        this.channels.get(frame.ch)?.push(frame);
        break;
      case 'lost':
        this.channels.get(frame.ch)?.lost(frame);
        break;
      case 'subd':
        this.serverSubscribed(frame);
        break;
      case 'pres':
        this.channels.get(frame.ch)?.presence(frame);
        break;
      case 'unsubd': {
        const entry = this.channels.get(frame.ch);
        if (!entry) return;
        this.channels.delete(frame.ch);
        entry.end(new SwitchboardError(frame.code, frame.msg, false), { code: frame.code, reason: frame.msg });
        break;
      }
      case 'drain':
        // The hub spreads its clients' `after` itself, so no backoff on top.
        this.unlink(NORMAL_CLOSE, 'drain');
        this.emit('disconnected', { code: NORMAL_CLOSE, reason: 'drain', reconnect: true });
        this.retry(frame.after);
        break;
    }
  }

  /** The hub subscribed a channel on its own: a new one gets a handle, announced before it hears anything. */
  private serverSubscribed(push: SubscribedPush): void {
    let entry = this.channels.get(push.ch);
    if (!entry) {
      entry = this.newChannel(push.ch);
      this.channels.set(push.ch, entry);
      const handle = new Subscription(push.ch, (released) => this.release(released), this.presenceAsk);
      entry.server = true;
      entry.join(handle, undefined);
      this.emit('subscription', handle);
    }
    entry.serverSubscribed(push);
  }

  /** The channel's `sub`, after an `unsub` when it replaces the current wire subscription. */
  private subscribeOnWire(entry: Channel, since: Position | undefined, replace: boolean): number {
    const active = this.active;
    if (!active?.connected) return 0;
    if (replace) this.unsubscribeOnWire(active, entry.name);
    const current = () => this.channels.get(entry.name) === entry;
    const request = this.requests.create(
      {
        t: 'sub',
        ch: entry.name,
        ...(since ? { since } : {}),
        ...(entry.token ? { token: entry.token } : {}),
        ...(entry.info === undefined ? {} : { info: entry.info }),
      },
      {
        ok: (result) => current() && entry.replied(request.id, result),
        fail: (error) => current() && entry.refused(request.id) && this.subscribeFailed(active, entry, error),
      },
    );
    return this.send(active, request).id;
  }

  private subscribeFailed(active: Current, entry: Channel, error: SwitchboardError): void {
    if (error.code === ClientErrorCode.TIMEOUT) {
      // The hub may still subscribe us; only a new link makes the state known again.
      if (this.active === active) this.drop(TIMEOUT_CLOSE, error.message);
    } else if (error.code === ClientErrorCode.DISCONNECTED) {
      // The link is gone; the channel subscribes again on the next one.
    } else if (error.temporary) {
      entry.failed(error);
      entry.retries ??= new Backoff(this.backoffOptions.initialMs, this.backoffOptions.maxMs);
      entry.retryTimer = setTimeout(() => this.active === active && entry.retry(), entry.retries.next());
    } else {
      this.channels.delete(entry.name);
      entry.failed(error);
      entry.end(error, { code: error.code, reason: error.message });
    }
  }

  private release(handle: Subscription): void {
    const entry = this.channels.get(handle.channel);
    if (!entry?.has(handle) || !entry.leave(handle)) return;
    this.channels.delete(entry.name);
    const onWire = entry.onWire;
    entry.forget();
    // The hub handles sub and unsub in arrival order, so an unsub sent while the sub is still in
    // flight leaves the channel unsubscribed; the sub's late reply is then ignored as stale.
    if (onWire && this.active?.connected) this.unsubscribeOnWire(this.active, entry.name);
  }

  private unsubscribeOnWire(active: Current, channel: string): void {
    const request = this.requests.create(
      { t: 'unsub', ch: channel },
      {
        ok: () => {},
        fail: (error) => {
          if (this.active !== active) return;
          if (error.code === ClientErrorCode.TIMEOUT) this.drop(TIMEOUT_CLOSE, error.message);
          else if (error.code !== ClientErrorCode.DISCONNECTED) this.emit('error', error);
        },
      },
    );
    this.send(active, request);
  }

  /**
   * A request the link cannot send fails a moment later, once the caller has noted its id (a
   * channel ignores the failure of a `sub` it does not know to be its own).
   */
  private send(active: Current, request: Outgoing): { id: number } {
    const frame = this.requests.issue(request);
    const refused = active.link.send(frame);
    if (refused) queueMicrotask(() => this.requests.refuse(request, refused));
    return frame;
  }

  /** The link closed under us. */
  private lost(active: Current, code: number, reason: string, retryMs: number | undefined): void {
    if (this.active !== active) return;
    const reconnect = shouldReconnect(code);
    this.unlink(code, reason);
    this.emit('disconnected', { code, reason, reconnect });
    if (reconnect) this.retry(retryMs ?? this.backoff.next());
    else
      this.terminate(closedError(`the hub closed the connection for good: ${code} ${reason}`), true, { code, reason });
  }

  /** Gives up on a link that is still open but not working, and connects again. */
  private drop(code: number, reason: string): void {
    this.unlink(code, reason);
    this.emit('disconnected', { code, reason, reconnect: true });
    this.retry(this.backoff.next());
  }

  /** Forgets the current link: what went out on it fails, and its channels await resubscription. */
  private unlink(code: number, reason: string): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    active.upkeep.stop();
    active.link.close(code, reason);
    for (const entry of this.channels.values()) entry.disconnected();
    this.requests.failSent(
      new SwitchboardError(ClientErrorCode.DISCONNECTED, 'the connection was lost before the reply', true),
    );
  }

  private retry(delayMs: number): void {
    if (this.current === 'closed') return;
    this.setState('connecting');
    clearTimeout(this.reconnectTimer);
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
