import type { PublishResult } from '@switchboard/protocol';
import { isNew } from './channels.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, messageOf, SwitchboardError } from './errors.js';
import { Subscription } from './subscription.js';
import {
  fromLinkError,
  type LinkOptions,
  PING_MS,
  type PortLike,
  SILENCE_MS,
  type TabMessage,
  toLinkError,
  type WorkerMessage,
} from './tab-link.js';
import type { ClientEvents, ClientOptions, ClientState, Position, SubscribedEvent, SubscribeOptions } from './types.js';

/** This tab's side of one channel: its handles, and the last position it saw (to rejoin from). */
interface TabChannel {
  readonly handles: Set<Subscription>;
  last: Position | undefined;
  /** Where this tab asked to resume, until the worker answers. */
  since: Position | undefined;
  live: boolean;
}

interface Pending {
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: SwitchboardError) => void;
}

export interface TabClientOptions extends ClientOptions {
  /** Opens a port to the worker: `new SharedWorker(…).port` in browsers, a MessageChannel end in tests. */
  readonly openPort: () => PortLike;
  /** How often to check that the worker still pings. Default PING_MS. */
  readonly pingMs?: number;
}

/**
 * A Client whose connection lives in a SharedWorker, shared with every tab of the origin: the same
 * API, with this tab's handles counted here and its channels counted once more, across tabs, in
 * the worker. If the worker goes silent (this tab was frozen and released, or the worker died),
 * the tab joins again on a fresh port and resubscribes from the last positions it saw.
 */
export class TabClient extends Emitter<ClientEvents> {
  private readonly channels = new Map<string, TabChannel>();
  private readonly publishes = new Map<number, Pending>();
  private current: ClientState = 'idle';
  private port: PortLike | undefined;
  private lastHeard = 0;
  private lastRid = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private readonly unlisten: () => void;

  constructor(
    readonly url: string,
    private readonly options: TabClientOptions,
  ) {
    super();
    this.unlisten = listenForPageLifecycle(
      () => this.leave(),
      () => {
        if (this.current !== 'idle' && this.current !== 'closed') this.join();
      },
    );
  }

  get state(): ClientState {
    return this.current;
  }

  connect(): void {
    if (this.current !== 'idle') return;
    this.setState('connecting');
    this.join();
    const pingMs = this.options.pingMs ?? PING_MS;
    const silenceMs = (SILENCE_MS / PING_MS) * pingMs;
    // Also retries a join that failed (no port): a worker that could not start may start later.
    this.watchdog = setInterval(() => {
      if (!this.port || Date.now() - this.lastHeard > silenceMs) this.join();
    }, pingMs);
  }

  subscribe(channel: string, options: SubscribeOptions = {}): Subscription {
    if (this.current === 'closed') throw closedError('the client is closed');
    const handle = new Subscription(channel, (released) => this.release(released));
    const entry = this.channels.get(channel);
    if (entry) {
      entry.handles.add(handle);
      const position = entry.last;
      // Like Client: a handle joining a live channel learns so once its caller can listen.
      if (entry.live && position)
        queueMicrotask(() => {
          if (entry.live && entry.handles.has(handle)) handle.subscribed({ position });
        });
    } else {
      this.channels.set(channel, {
        handles: new Set([handle]),
        last: options.since,
        since: options.since,
        live: false,
      });
      if (this.port) this.post({ t: 'sub', ch: channel, ...(options.since ? { since: options.since } : {}) });
    }
    this.ensureJoined();
    return handle;
  }

  publish(channel: string, data: unknown): Promise<PublishResult> {
    if (this.current === 'closed') return Promise.reject(closedError('the client is closed'));
    this.ensureJoined();
    if (!this.port) {
      return Promise.reject(
        new SwitchboardError(ClientErrorCode.DISCONNECTED, 'no shared worker to publish through', true),
      );
    }
    const rid = ++this.lastRid;
    return new Promise<PublishResult>((resolve, reject) => {
      this.publishes.set(rid, { resolve, reject });
      try {
        this.post({ t: 'pub', rid, ch: channel, d: data });
      } catch (error) {
        // Data that structured clone cannot copy (functions, DOM nodes) is not JSON either.
        this.publishes.delete(rid);
        reject(new SwitchboardError(ClientErrorCode.BAD_FRAME, `cannot publish: ${messageOf(error)}`, false));
      }
    });
  }

  lastPosition(channel: string): Position | undefined {
    return this.channels.get(channel)?.last;
  }

  /** Closes this tab's share: its handles end and the worker releases them; other tabs are unaffected. */
  close(): void {
    if (this.current === 'closed') return;
    this.end(closedError('the client was closed'));
  }

  /** Joins the worker if this tab is not with it (first use, or back after pagehide). */
  private ensureJoined(): void {
    if (this.current === 'idle') this.connect();
    else if (!this.port) this.join();
  }

  /** Opens a fresh port and tells the worker everything this tab wants. */
  private join(): void {
    this.leave();
    let port: PortLike;
    try {
      port = this.options.openPort();
    } catch (error) {
      // The watchdog tries again; meanwhile the application hears why.
      this.emit(
        'error',
        new SwitchboardError(ClientErrorCode.DISCONNECTED, `no SharedWorker: ${messageOf(error)}`, true),
      );
      return;
    }
    this.port = port;
    this.lastHeard = Date.now();
    port.onmessage = (event) => this.receive(port, event.data as WorkerMessage);
    this.post({ t: 'hello', url: this.url, options: linkOptions(this.options) });
    for (const [ch, entry] of this.channels) {
      entry.since = entry.last;
      this.post({ t: 'sub', ch, ...(entry.last ? { since: entry.last } : {}) });
    }
  }

  /**
   * Says goodbye to the worker (which releases this tab's subscriptions at once) and forgets the
   * port. Publishes in flight fail: the worker may or may not have sent them.
   */
  private leave(): void {
    const port = this.port;
    if (!port) return;
    this.port = undefined;
    port.onmessage = null;
    port.postMessage({ t: 'bye' } satisfies TabMessage);
    port.close();
    this.suspend();
    const lost = new SwitchboardError(ClientErrorCode.DISCONNECTED, 'the tab left the shared connection', true);
    for (const pending of this.publishes.values()) pending.reject(lost);
    this.publishes.clear();
  }

  /** Channels wait for the worker's next 'subscribed'; what comes before it is not theirs to show. */
  private suspend(): void {
    for (const entry of this.channels.values()) {
      entry.live = false;
      for (const handle of entry.handles) handle.resubscribing();
    }
  }

  private receive(port: PortLike, message: WorkerMessage): void {
    if (port !== this.port) return;
    this.lastHeard = Date.now();
    switch (message.t) {
      case 'ping':
        this.post({ t: 'pong' });
        break;
      case 'state':
        if (message.state === 'closed') this.end(closedError('the shared connection closed for good'));
        else this.setState(message.state);
        break;
      case 'connected':
        this.emit('connected', message.result);
        break;
      case 'disconnected':
        this.suspend();
        this.emit('disconnected', message.event);
        break;
      case 'error':
        this.emit('error', fromLinkError(message.error));
        break;
      case 'subscribed':
        this.subscribed(message.ch, message.event);
        break;
      case 'publication': {
        const { publication } = message;
        const entry = this.channels.get(publication.channel);
        if (!entry?.live) return;
        if (publication.position) {
          if (!isNew(publication.position, entry.last)) return;
          entry.last = publication.position;
        }
        for (const handle of entry.handles) handle.deliver(publication);
        break;
      }
      case 'subError':
        for (const handle of this.channels.get(message.ch)?.handles ?? []) handle.failed(fromLinkError(message.error));
        break;
      case 'ended': {
        const entry = this.channels.get(message.ch);
        if (!entry) return;
        this.channels.delete(message.ch);
        for (const handle of entry.handles) handle.ended(fromLinkError(message.error), message.event);
        break;
      }
      case 'published': {
        const pending = this.publishes.get(message.rid);
        this.publishes.delete(message.rid);
        if (message.result) pending?.resolve(message.result);
        else
          pending?.reject(
            fromLinkError(message.error ?? { code: ClientErrorCode.CLOSED, message: 'no result', temporary: false }),
          );
        break;
      }
      case 'token':
        void this.answerToken(port, message.rid);
        break;
    }
  }

  /**
   * The worker's subscription may already have been live for another tab, past where this tab
   * asked to resume: then what lies between was not delivered here, and the event says so.
   */
  private subscribed(channel: string, event: SubscribedEvent): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    const since = entry.since;
    entry.since = undefined;
    let shown = event;
    if (since && event.recovered === undefined) {
      const caughtUp = since.ep === event.position.ep && since.off === event.position.off;
      shown = caughtUp
        ? { ...event, recovered: true }
        : { ...event, recovered: false, reason: 'shared_subscription_ahead' };
    }
    if (shown.recovered !== true) entry.last = event.position;
    entry.live = true;
    for (const handle of entry.handles) handle.subscribed(shown);
  }

  private async answerToken(port: PortLike, rid: number): Promise<void> {
    const { token } = this.options;
    let reply: TabMessage;
    try {
      const value = typeof token === 'function' ? await token() : token;
      reply = value === undefined ? { t: 'token', rid } : { t: 'token', rid, token: value };
    } catch (error) {
      reply = { t: 'token', rid, error: toLinkError(error, ClientErrorCode.TOKEN) };
    }
    if (port === this.port) port.postMessage(reply);
  }

  private release(handle: Subscription): void {
    const entry = this.channels.get(handle.channel);
    if (!entry?.handles.delete(handle) || entry.handles.size > 0) return;
    this.channels.delete(handle.channel);
    if (this.port) this.post({ t: 'unsub', ch: handle.channel });
  }

  private post(message: TabMessage): void {
    this.port?.postMessage(message);
  }

  /** Closed for good: handles end, publishes fail, the page's lifecycle is no longer watched. */
  private end(error: SwitchboardError): void {
    this.leave();
    clearInterval(this.watchdog);
    this.unlisten();
    const entries = [...this.channels.values()];
    this.channels.clear();
    this.setState('closed');
    for (const entry of entries) for (const handle of entry.handles) handle.ended(error);
  }

  private setState(state: ClientState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }
}

/** The options the worker's Client is made with; a token function is asked through the tab. */
function linkOptions(options: ClientOptions): LinkOptions {
  const { format, token, name, version, backoff, requestTimeoutMs } = options;
  return {
    ...(format === undefined ? {} : { format }),
    ...(typeof token === 'function' ? { tokenFromTab: true } : token === undefined ? {} : { token }),
    ...(name === undefined ? {} : { name }),
    ...(version === undefined ? {} : { version }),
    ...(backoff === undefined ? {} : { backoff }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  };
}

/**
 * Leaves on `pagehide` (a closing tab releases its subscriptions at once, without waiting for the
 * worker to notice its silence) and joins again when a page comes back from the back/forward cache.
 */
function listenForPageLifecycle(hide: () => void, show: () => void): () => void {
  if (typeof window === 'undefined') return () => {};
  const onHide = () => hide();
  const onShow = (event: PageTransitionEvent) => {
    if (event.persisted) show();
  };
  window.addEventListener('pagehide', onHide);
  window.addEventListener('pageshow', onShow);
  return () => {
    window.removeEventListener('pagehide', onHide);
    window.removeEventListener('pageshow', onShow);
  };
}

function closedError(message: string): SwitchboardError {
  return new SwitchboardError(ClientErrorCode.CLOSED, message, false);
}
