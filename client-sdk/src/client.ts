import {
  type ConnectResult,
  ErrorCode,
  type Position,
  type PublishResult,
  type SubscribedPush,
  shouldReconnect,
} from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import { Channel, FROM_START, type SubscribeOnWire } from './channel.js';
import { Connection } from './connection.js';
import { defaultLink } from './default-link.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, messageOf, SwitchboardError } from './errors.js';
import { Handover, type HandoverHost } from './handover.js';
import type { Dial, Link, LinkFrame, Transport } from './link.js';
import { PublishKeys, retryUnknown } from './publishing.js';
import { type RequestBody, Requests, type Results } from './requests.js';
import { asker, type PresenceAsk, Subscription } from './subscription.js';
import type {
  ClientEvents,
  ClientOptions,
  ClientState,
  PublishOptions,
  RpcOptions,
  SubscribeOptions,
  UnsubscribedEvent,
} from './types.js';
import { Wire } from './wire.js';

/** Sent when the client drops a link because a reply did not come (IANA-registered "Timeout"). */
const TIMEOUT_CLOSE = 3008;
const NORMAL_CLOSE = 1000;

/**
 * One connection to a hub, shared by any number of subscriptions: connects, authenticates,
 * (re)subscribes every channel with handles, matches replies to requests, keeps the connection
 * alive and reconnects with backoff until closed for good. The connection is a link (link.ts):
 * a WebSocket to the hub by default, or a MessagePort to the SharedWorker that holds one for
 * every tab; channels, handles and recovery are this same code over either. When its hub
 * drains, the next link is open and delivering before the old one closes (handover.ts).
 */
export class Client extends Emitter<ClientEvents> {
  private readonly dial: Dial;
  private readonly options: ClientOptions;
  private readonly requests: Requests;
  private readonly backoff: Backoff;
  private readonly backoffOptions: { readonly initialMs: number; readonly maxMs: number };
  private readonly channels = new Map<string, Channel>();
  /** The channels' `sub` and `unsub`, on the link each channel is on. */
  private readonly wire: Wire;
  private current: ClientState = 'idle';
  private active: Connection | undefined;
  /** While the hub of the link in use drains: the move to the next link. */
  private handover: Handover | undefined;
  private readonly handoverHost: HandoverHost;
  /** Bumped whenever a connection attempt is abandoned, so that its late steps do nothing. */
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly keys = new PublishKeys();
  /** How handles ask about their channel's presence. */
  private readonly presenceAsk: PresenceAsk = asker((body) => this.request(body));

  constructor(
    readonly url: string,
    options: ClientOptions = {},
  ) {
    super();
    this.dial = options.link ?? defaultLink(options);
    this.options = options;
    this.requests = new Requests(options.requestTimeoutMs ?? 10_000);
    const backoff = { initialMs: options.backoff?.initialMs ?? 200, maxMs: options.backoff?.maxMs ?? 10_000 };
    this.backoffOptions = backoff;
    this.backoff = new Backoff(backoff.initialMs, backoff.maxMs);
    this.wire = new Wire(
      this.channels,
      this.requests,
      {
        linkFor: (channel) => this.linkFor(channel),
        holding: (channel) => {
          const next = this.handover?.next;
          const touched = next?.result && this.handover?.touchedNext(channel) ? [next] : [];
          return this.active?.result ? [this.active, ...touched] : touched;
        },
        inUse: (connection) => this.active === connection,
        timedOut: (connection, reason) => this.timedOut(connection, reason),
        ended: (channel) => this.handover?.forget(channel),
        error: (error) => this.emit('error', error),
      },
      backoff,
    );
    this.handoverHost = {
      channels: () => this.channels.values(),
      channel: (name) => this.channels.get(name),
      current: (handover) => this.handover === handover,
      uses: (connection) => this.active === connection,
      owed: () => this.active !== undefined && this.requests.awaiting(this.active.link),
      adopt: (next, code, reason) => {
        this.handover = undefined;
        this.active?.close(code, reason);
        this.active = next;
      },
      ready: (connection) => this.ready(connection),
      dropped: () => {
        this.handover = undefined;
        this.handOverLater(this.backoff.next());
      },
      unsubscribe: (on, channel) => this.wire.unsubscribe(on, channel),
    };
  }

  /** How the connection in use reaches the hub: `websocket`, `sse` (the fallback) or `shared-worker`; undefined while not connected. */
  get transport(): Transport | undefined {
    return this.active?.result ? this.active.link.transport : undefined;
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
    const handle = new Subscription(channel, (released) => this.wire.release(released), this.presenceAsk);
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = this.newChannel(channel, options.token, options.info, options.delta === true, options.maxRate);
      this.channels.set(channel, entry);
    }
    entry.join(handle, options.since ?? (options.fromStart ? FROM_START : undefined));
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

  /** Sends a request now (on the link in use), or once connected, within the request timeout (or `timeoutMs`). */
  private request<B extends RequestBody>(body: B, timeoutMs?: number): Promise<Results[B['t']]> {
    if (this.current === 'closed') return Promise.reject(closedError('the client is closed'));
    const { request, result } = this.requests.ask(body, timeoutMs);
    if (this.active?.result) this.active.send(request);
    else this.connect();
    return result;
  }

  private newChannel(channel: string, token?: string, info?: unknown, delta = false, maxRate?: number): Channel {
    const subscribe: SubscribeOnWire = (target, since, replace) => this.wire.subscribe(target, since, replace);
    return new Channel(channel, subscribe, token, info, delta, maxRate);
  }

  /** The position of the last publication seen on `channel`, while it has handles. */
  lastPosition(channel: string): Position | undefined {
    return this.channels.get(channel)?.last;
  }

  /** Closes for good: the link closes, pending requests fail, handles end, nothing reconnects. */
  close(): void {
    this.terminate(closedError('the client was closed'));
  }

  /** Dials a link: the one to use, or (with `handover`) the next one while the hub of the one in use drains. */
  private async open(handover?: Handover): Promise<void> {
    const attempt = handover ? this.attempt : ++this.attempt;
    const stale = () => attempt !== this.attempt || this.handover !== handover;
    let token: string | undefined;
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    } catch (error) {
      if (stale()) return;
      const message = `could not get a token: ${messageOf(error)}`;
      this.emit('error', new SwitchboardError(ClientErrorCode.TOKEN, message, true));
      this.openFailed(handover);
      return;
    }
    if (stale()) return;
    let opened: Connection | undefined;
    let link: Link;
    try {
      link = await this.dial(this.url, {
        open: () => opened && this.handshake(opened, token),
        frame: (frame) => opened && this.receive(opened, frame),
        problem: (error) => this.emit('error', error),
        close: (code, reason, retryMs) => opened && this.lost(opened, code, reason, retryMs),
      });
    } catch (error) {
      if (stale()) return;
      if (!handover && error instanceof SwitchboardError && !error.temporary) this.terminate(error, true);
      else {
        this.emit('error', new SwitchboardError(ClientErrorCode.DISCONNECTED, messageOf(error), true));
        this.openFailed(handover);
      }
      return;
    }
    if (stale()) {
      link.close(NORMAL_CLOSE, 'client closed');
      return;
    }
    opened = new Connection(link, this.requests);
    if (handover) handover.next = opened;
    else this.active = opened;
  }

  /** A token or a dial failed: the link to use is tried again after the backoff, a next link while the old one lasts. */
  private openFailed(handover: Handover | undefined): void {
    if (handover) handover.abandon();
    else this.retry(this.backoff.next());
  }

  private handshake(connection: Connection, token: string | undefined): void {
    const { name, version } = this.options;
    // Where each server-side subscription stands, so that the hub resumes it from there (on a
    // handover's next link too: the hub's `subd` push is then the channel's move).
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
      ok: (result) => this.connected(connection, result),
      fail: (error) => {
        if (this.handover?.next === connection) {
          this.emit('error', error);
          this.handover.abandon();
          return;
        }
        if (this.active !== connection) return;
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
    connection.send(request);
  }

  private connected(connection: Connection, result: ConnectResult): void {
    const handover = this.handover;
    if (handover?.next === connection) {
      this.start(connection, result);
      handover.begin(connection);
      return;
    }
    if (this.active !== connection) return;
    this.start(connection, result);
    this.backoff.reset();
    this.ready(connection);
  }

  /** The link in use is connected: channels not live subscribe, waiting requests go out. */
  private ready(connection: Connection): void {
    // Server-side subscriptions the hub no longer keeps end; the others follow as `subd` pushes.
    const kept = new Set(connection.result?.subs);
    for (const entry of [...this.channels.values()]) {
      if (!entry.server || kept.has(entry.name)) continue;
      this.channels.delete(entry.name);
      this.handover?.forget(entry.name);
      const reason = 'no longer subscribed by the server';
      entry.end(new SwitchboardError(ErrorCode.PERMISSION_DENIED, reason, false), {
        code: ErrorCode.PERMISSION_DENIED,
        reason,
      });
    }
    for (const entry of this.channels.values()) entry.connected();
    for (const request of this.requests.waiting()) connection.send(request);
    this.setState('connected');
    if (this.active !== connection || !connection.result) return;
    this.emit('connected', connection.result);
    if (connection.drained) this.handOverLater(0);
  }

  private start(connection: Connection, result: ConnectResult): void {
    connection.start(result, {
      token: typeof this.options.token === 'function' ? this.options.token : undefined,
      inUse: () => this.active === connection || this.handover?.next === connection,
      timedOut: (reason) => this.timedOut(connection, reason),
      error: (error) => this.emit('error', error),
    });
  }

  private receive(connection: Connection, frame: LinkFrame): void {
    connection.heard();
    switch (frame.t) {
      case 'ok':
      case 'err':
        // Id 0: the hub could not tell which request a frame was; nothing waits for this.
        if (frame.t === 'err' && frame.id === 0)
          this.emit('error', new SwitchboardError(frame.code, frame.msg, frame.tmp === true));
        else this.requests.settle(frame);
        // The old link of a handover may owe no reply any more.
        if (this.handover && connection === this.active) this.handover.check();
        break;
      case 'msg':
        if (this.carries(connection, frame.ch)) this.channels.get(frame.ch)?.push(frame);
        break;
      case 'lost':
        if (this.carries(connection, frame.ch)) this.channels.get(frame.ch)?.lost(frame);
        break;
      case 'subd':
        this.serverSubscribed(connection, frame);
        break;
      case 'pres':
        if (this.carries(connection, frame.ch)) this.channels.get(frame.ch)?.presence(frame);
        break;
      case 'unsubd': {
        const entry = this.channels.get(frame.ch);
        if (!entry || !this.carries(connection, frame.ch)) return;
        this.channels.delete(frame.ch);
        this.handover?.forget(frame.ch);
        entry.end(new SwitchboardError(frame.code, frame.msg, false), { code: frame.code, reason: frame.msg });
        break;
      }
      case 'drain':
        // Make before break: the next link opens now (the hub spreads its clients' pushes) and
        // this one closes once every channel delivers on the next.
        connection.drained = true;
        if (connection === this.active && connection.result) this.handOverLater(frame.after);
        break;
    }
  }

  /**
   * The hub subscribed a channel on its own: a new one gets a handle, announced before it hears
   * anything. On a handover's next link it is the channel's move (the hub resumes it there from
   * the position the connect named).
   */
  private serverSubscribed(connection: Connection, push: SubscribedPush): void {
    const handover = this.handover;
    const next = handover?.next === connection;
    if (!next && connection !== this.active) return;
    let entry = this.channels.get(push.ch);
    if (next && entry) {
      handover.serverMoved(entry, push);
      return;
    }
    if (entry && !this.carries(connection, push.ch)) return;
    if (!entry) {
      entry = this.newChannel(push.ch);
      this.channels.set(push.ch, entry);
      const handle = new Subscription(push.ch, (released) => this.wire.release(released), this.presenceAsk);
      entry.server = true;
      entry.join(handle, undefined);
      this.emit('subscription', handle);
      // New on the next link: it stays there.
      if (next) handover.arrived(push.ch);
    }
    entry.serverSubscribed(push);
  }

  /** Whether pushes of `channel` arriving on `connection` are taken: during a handover, from the link the channel is on. */
  private carries(connection: Connection, channel: string): boolean {
    const handover = this.handover;
    if (connection === this.active) return !handover?.fromNext(channel);
    return handover?.next === connection && handover.fromNext(channel);
  }

  /** The link for a channel's requests: the next one once its move went out there, else the one in use. */
  private linkFor(channel: string): Connection | undefined {
    const handover = this.handover;
    return handover?.next && handover.onNext(channel) ? handover.next : this.active;
  }

  /** Moves to a next link in `delayMs` (the drain push's `after`), unless a move is under way or nothing is connected. */
  private handOverLater(delayMs: number): void {
    if (this.handover || !this.active?.result) return;
    const handover = new Handover(this.handoverHost, this.requests);
    this.handover = handover;
    handover.timer = setTimeout(() => {
      handover.timer = undefined;
      void this.open(handover);
    }, delayMs);
  }

  /** `connection` did not answer in time: the link in use is dropped, a next one abandoned. */
  private timedOut(connection: Connection, reason: string): void {
    if (this.active === connection) this.drop(TIMEOUT_CLOSE, reason);
    else if (this.handover?.next === connection) this.handover.abandon();
  }

  /** The link closed under us. */
  private lost(connection: Connection, code: number, reason: string, retryMs: number | undefined): void {
    const handover = this.handover;
    if (handover?.next === connection) {
      handover.abandon();
      return;
    }
    if (this.active !== connection) return;
    const reconnect = shouldReconnect(code);
    if (reconnect && handover?.next) {
      // The old link went before the move finished (the hub's grace period ended, say): the next
      // one takes over now. Only if it is not connected yet is the client without a connection.
      if (!handover.next.result) {
        this.emit('disconnected', { code, reason, reconnect });
        this.setState('connecting');
      }
      handover.promote(code, reason);
      return;
    }
    this.unlink(code, reason);
    this.emit('disconnected', { code, reason, reconnect });
    if (reconnect) this.retry(retryMs ?? this.backoff.next());
    else
      this.terminate(closedError(`the hub closed the connection for good: ${code} ${reason}`), true, { code, reason });
  }

  /** Gives up on the link in use, open but not working: a connected next link takes over, or it connects again. */
  private drop(code: number, reason: string): void {
    const handover = this.handover;
    if (handover?.next?.result) {
      handover.promote(code, reason);
      return;
    }
    this.unlink(code, reason);
    this.emit('disconnected', { code, reason, reconnect: true });
    this.retry(this.backoff.next());
  }

  /** Forgets the link in use (and a next one): what went out on it fails, and its channels await resubscription. */
  private unlink(code: number, reason: string): void {
    const handover = this.handover;
    this.handover = undefined;
    clearTimeout(handover?.timer);
    handover?.next?.close(code, reason);
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    active.close(code, reason);
    for (const entry of this.channels.values()) entry.disconnected();
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
