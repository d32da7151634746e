import type { ConnectResult } from '@switchboard/protocol';
import { Client } from './client.js';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import {
  type HostOptions,
  PING_MS,
  type PortLike,
  SILENCE_MS,
  type TabMessage,
  toLinkError,
  type WorkerMessage,
} from './tab-protocol.js';
import { TabSession } from './tab-session.js';
import type { ClientOptions } from './types.js';

/** One tab's port, and its session: pending until the worker's Client is connected. */
interface Tab {
  readonly port: PortLike;
  hosted: Hosted | undefined;
  providesToken: boolean;
  lastHeard: number;
  session: { readonly s: number; running: TabSession | undefined } | undefined;
}

/** The one Client of a URL and the tabs using it. */
interface Hosted {
  readonly url: string;
  readonly client: Client;
  readonly tabs: Set<Tab>;
  /** While connected, what the hub answered; once closed for good by a refusal, that error. */
  connection: ConnectResult | SwitchboardError | undefined;
}

interface TokenRequest {
  readonly resolve: (token: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface WorkerHostOptions {
  /** Added to the options of every Client made (the WebSocket implementation, in Node tests). */
  readonly client?: ClientOptions;
  /** How often tabs are pinged; a tab silent for three intervals is released. Default PING_MS. */
  readonly pingMs?: number;
}

/**
 * The SharedWorker's side: one Client per URL for every tab of the origin, each tab served by a
 * TabSession on it. A session runs while the Client is connected; when the Client's connection
 * drops, every tab's session ends with the hub's close code, and the next one opens when the
 * Client is back, so each tab's own Client resubscribes from its own positions. The Client closes
 * with its last tab (goodbye, or silence after three missed pings).
 */
export class WorkerHost {
  private readonly hosted = new Map<string, Hosted>();
  private readonly tabs = new Set<Tab>();
  private readonly tokens = new Map<number, TokenRequest>();
  private lastTokenId = 0;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(private readonly options: WorkerHostOptions = {}) {
    const pingMs = options.pingMs ?? PING_MS;
    const silenceMs = (SILENCE_MS / PING_MS) * pingMs;
    this.sweeper = setInterval(() => this.sweep(silenceMs), pingMs);
  }

  /** Serves a new tab's port (from the SharedWorker's `connect` event). */
  accept(port: PortLike): void {
    const tab: Tab = { port, hosted: undefined, providesToken: false, lastHeard: Date.now(), session: undefined };
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
      case 'open':
        this.open(tab, message.s, message.url, message.options);
        break;
      case 'frame':
        if (tab.session?.s === message.s) tab.session.running?.receive(message.f);
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

  /** Starts session `s` of the tab, on the URL's Client (made now, with these options, if there is none). */
  private open(tab: Tab, s: number, url: string, options: HostOptions): void {
    if (!tab.hosted) {
      tab.providesToken = options.tokenFromTab === true;
      tab.hosted = this.hosted.get(url) ?? this.host(url, options);
      tab.hosted.tabs.add(tab);
    }
    tab.session?.running?.close();
    tab.session = { s, running: undefined };
    const hosted = tab.hosted;
    hosted.client.connect();
    if (hosted.connection) this.start(tab, hosted);
  }

  private start(tab: Tab, hosted: Hosted): void {
    const session = tab.session;
    if (!session || session.running) return;
    const { s } = session;
    session.running = new TabSession(
      hosted.client,
      () => hosted.connection ?? new SwitchboardError(ClientErrorCode.DISCONNECTED, 'not connected', true),
      (frame) => send(tab, { t: 'frame', s, f: frame }),
    );
    const via = hosted.client.transport;
    send(tab, via ? { t: 'open', s, via } : { t: 'open', s });
  }

  /** The URL's Client, made with the options of the first tab that asks for it. */
  private host(url: string, options: HostOptions): Hosted {
    const { token, tokenFromTab, ...rest } = options;
    const tabs = new Set<Tab>();
    const client = new Client(url, {
      ...this.options.client,
      ...rest,
      ...(tokenFromTab ? { token: () => this.askToken(tabs) } : token === undefined ? {} : { token }),
    });
    const hosted: Hosted = { url, client, tabs, connection: undefined };
    client.on('connected', (result) => {
      hosted.connection = result;
      for (const tab of tabs) this.start(tab, hosted);
    });
    client.on('disconnected', ({ code, reason }) => {
      hosted.connection = undefined;
      for (const tab of tabs) {
        const session = tab.session;
        if (!session?.running) continue;
        session.running.close();
        tab.session = undefined;
        send(tab, { t: 'close', s: session.s, code, reason });
      }
    });
    client.on('subscription', (handle) => {
      for (const tab of tabs) tab.session?.running?.serverSubscribed(handle.channel);
    });
    client.on('state', (state) => {
      if (state === 'closed' && this.hosted.get(url) === hosted) this.hosted.delete(url);
    });
    client.on('error', (error) => {
      if (client.state === 'closed' && !hosted.connection) {
        // Refused for good (a bad token, say): every waiting tab is answered as the hub answered.
        hosted.connection = error;
        for (const tab of tabs) this.start(tab, hosted);
      } else {
        for (const tab of tabs) send(tab, { t: 'error', error: toLinkError(error, ClientErrorCode.CLOSED) });
      }
    });
    this.hosted.set(url, hosted);
    return hosted;
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
    tab.session?.running?.close();
    tab.session = undefined;
    const hosted = tab.hosted;
    if (!hosted?.tabs.delete(tab) || hosted.tabs.size > 0) return;
    if (this.hosted.get(hosted.url) === hosted) this.hosted.delete(hosted.url);
    hosted.client.close();
  }
}

/** Posting to the port of a tab that is gone does nothing, so there is no error to handle. */
function send(tab: Tab, message: WorkerMessage): void {
  tab.port.postMessage(message);
}
