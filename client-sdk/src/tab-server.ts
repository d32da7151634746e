import type { ConnectResult } from '@switchboard/protocol';
import { Client } from './client.js';
import { ClientErrorCode } from './errors.js';
import type { Subscription } from './subscription.js';
import {
  type LinkOptions,
  PING_MS,
  type PortLike,
  SILENCE_MS,
  type TabMessage,
  toLinkError,
  type WorkerMessage,
} from './tab-link.js';
import type { ClientOptions, Position } from './types.js';

/** One tab's port and what it holds: one worker-side handle per channel it wants. */
interface Tab {
  readonly port: PortLike;
  url: string | undefined;
  providesToken: boolean;
  lastHeard: number;
  readonly subscriptions: Map<string, Subscription>;
}

/** The one Client of a URL and the tabs using it. */
interface Hosted {
  readonly client: Client;
  readonly tabs: Set<Tab>;
  lastConnected: ConnectResult | undefined;
}

interface TokenRequest {
  readonly resolve: (token: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface TabServerOptions {
  /** Added to the options of every Client made (the WebSocket implementation, in Node tests). */
  readonly client?: ClientOptions;
  /** How often tabs are pinged; a tab silent for three intervals is released. Default PING_MS. */
  readonly pingMs?: number;
}

/**
 * The SharedWorker's side: one Client per URL for every tab of the origin. Each tab's channel is
 * one handle on that Client, so the Client's own reference counting spans the tabs, and releasing
 * a tab (goodbye, silence, close) is releasing its handles. Reconnect, recovery and tokens are the
 * Client's, exactly as with a connection of the tab's own.
 */
export class TabServer {
  private readonly hosted = new Map<string, Hosted>();
  private readonly tabs = new Set<Tab>();
  private readonly tokens = new Map<number, TokenRequest>();
  private lastTokenId = 0;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(private readonly options: TabServerOptions = {}) {
    const pingMs = options.pingMs ?? PING_MS;
    const silenceMs = (SILENCE_MS / PING_MS) * pingMs;
    this.sweeper = setInterval(() => this.sweep(silenceMs), pingMs);
  }

  /** Serves a new tab's port (from the SharedWorker's `connect` event). */
  accept(port: PortLike): void {
    const tab: Tab = { port, url: undefined, providesToken: false, lastHeard: Date.now(), subscriptions: new Map() };
    this.tabs.add(tab);
    port.onmessage = (event) => this.receive(tab, event.data as TabMessage);
  }

  /** How many tabs are served (for tests and diagnostics). */
  get tabCount(): number {
    return this.tabs.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const tab of [...this.tabs]) this.leave(tab);
  }

  private receive(tab: Tab, message: TabMessage): void {
    tab.lastHeard = Date.now();
    switch (message.t) {
      case 'hello':
        this.hello(tab, message.url, message.options);
        break;
      case 'sub':
        this.subscribe(tab, message.ch, message.since);
        break;
      case 'unsub':
        tab.subscriptions.get(message.ch)?.unsubscribe();
        tab.subscriptions.delete(message.ch);
        break;
      case 'pub':
        this.publish(tab, message.rid, message.ch, message.d);
        break;
      case 'token':
        this.tokenReply(message.rid, message.token, message.error?.message);
        break;
      case 'bye':
        this.leave(tab);
        break;
      // 'pong' only refreshes lastHeard.
    }
  }

  private hello(tab: Tab, url: string, options: LinkOptions): void {
    if (tab.url !== undefined) return;
    tab.url = url;
    tab.providesToken = options.tokenFromTab === true;
    const hosted = this.hosted.get(url) ?? this.host(url, options);
    hosted.tabs.add(tab);
    hosted.client.connect();
    send(tab, { t: 'state', state: hosted.client.state });
    if (hosted.client.state === 'connected' && hosted.lastConnected) {
      send(tab, { t: 'connected', result: hosted.lastConnected });
    }
  }

  /** The URL's Client, made with the options of the first tab that asks for it (as `shared()` does). */
  private host(url: string, options: LinkOptions): Hosted {
    const { token, tokenFromTab, ...rest } = options;
    const tabs = new Set<Tab>();
    const client = new Client(url, {
      ...this.options.client,
      ...rest,
      ...(tokenFromTab ? { token: () => this.askToken(tabs) } : token === undefined ? {} : { token }),
    });
    const hosted: Hosted = { client, tabs, lastConnected: undefined };
    const broadcast = (message: WorkerMessage) => {
      for (const tab of tabs) send(tab, message);
    };
    client.on('state', (state) => {
      if (state === 'closed' && this.hosted.get(url) === hosted) this.hosted.delete(url);
      broadcast({ t: 'state', state });
    });
    client.on('connected', (result) => {
      hosted.lastConnected = result;
      broadcast({ t: 'connected', result });
    });
    client.on('disconnected', (event) => broadcast({ t: 'disconnected', event }));
    client.on('error', (error) => broadcast({ t: 'error', error: toLinkError(error) }));
    this.hosted.set(url, hosted);
    return hosted;
  }

  private subscribe(tab: Tab, channel: string, since: Position | undefined): void {
    const client = this.clientOf(tab);
    if (!client || tab.subscriptions.has(channel)) return;
    const handle = client.subscribe(channel, since ? { since } : {});
    tab.subscriptions.set(channel, handle);
    const current = () => tab.subscriptions.get(channel) === handle;
    handle.on('subscribed', (event) => send(tab, { t: 'subscribed', ch: channel, event }));
    handle.on('publication', (publication) => send(tab, { t: 'publication', publication }));
    handle.on('error', (error) => send(tab, { t: 'subError', ch: channel, error: toLinkError(error) }));
    handle.on('unsubscribed', (event) => {
      if (!current()) return;
      tab.subscriptions.delete(channel);
      send(tab, {
        t: 'ended',
        ch: channel,
        error: { code: event.code, message: event.reason, temporary: false },
        event,
      });
    });
    // Ended before it was ever subscribed, without an 'unsubscribed' event (the Client closed).
    handle.ready.catch((error: unknown) => {
      if (!current()) return;
      tab.subscriptions.delete(channel);
      send(tab, { t: 'ended', ch: channel, error: toLinkError(error) });
    });
  }

  private publish(tab: Tab, rid: number, channel: string, data: unknown): void {
    const client = this.clientOf(tab);
    if (!client) {
      send(tab, {
        t: 'published',
        rid,
        error: { code: ClientErrorCode.CLOSED, message: 'send hello first', temporary: false },
      });
      return;
    }
    client.publish(channel, data).then(
      (result) => send(tab, { t: 'published', rid, result }),
      (error: unknown) => send(tab, { t: 'published', rid, error: toLinkError(error) }),
    );
  }

  private clientOf(tab: Tab): Client | undefined {
    return tab.url === undefined ? undefined : this.hosted.get(tab.url)?.client;
  }

  /** A token for the Client's next connect, from a tab that has a token function. */
  private askToken(tabs: Set<Tab>): Promise<string> {
    const tab = [...tabs].find((candidate) => candidate.providesToken);
    if (!tab) return Promise.reject(new Error('no open tab provides a token'));
    const rid = ++this.lastTokenId;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.tokenReply(rid, undefined, 'the tab did not answer in time'), SILENCE_MS);
      this.tokens.set(rid, { resolve, reject, timer });
      send(tab, { t: 'token', rid });
    });
  }

  private tokenReply(rid: number, token: string | undefined, problem: string | undefined): void {
    const request = this.tokens.get(rid);
    if (!request) return;
    this.tokens.delete(rid);
    clearTimeout(request.timer);
    if (token !== undefined) request.resolve(token);
    else request.reject(new Error(problem ?? 'no token'));
  }

  /** Pings every tab; releases those silent for too long (closed, crashed, or frozen by the browser). */
  private sweep(silenceMs: number): void {
    const now = Date.now();
    for (const tab of [...this.tabs]) {
      if (now - tab.lastHeard > silenceMs) this.leave(tab);
      else send(tab, { t: 'ping' });
    }
  }

  /** Releases everything the tab held; the URL's Client closes with its last tab. */
  private leave(tab: Tab): void {
    if (!this.tabs.delete(tab)) return;
    tab.port.onmessage = null;
    tab.port.close();
    for (const handle of tab.subscriptions.values()) handle.unsubscribe();
    tab.subscriptions.clear();
    const hosted = tab.url === undefined ? undefined : this.hosted.get(tab.url);
    if (!hosted?.tabs.delete(tab) || hosted.tabs.size > 0) return;
    this.hosted.delete(hosted.client.url);
    hosted.client.close();
  }
}

/** Posting to the port of a tab that is gone does nothing, so there is no error to handle. */
function send(tab: Tab, message: WorkerMessage): void {
  tab.port.postMessage(message);
}
