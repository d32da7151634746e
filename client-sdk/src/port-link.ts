import { shouldReconnect } from '@switchboard/protocol';
import { ClientErrorCode, messageOf, SwitchboardError } from './errors.js';
import type { Dial, Link, LinkEvents, Transport } from './link.js';
import {
  fromLinkError,
  type HostOptions,
  PING_MS,
  type PortLike,
  SILENCE_MS,
  type TabMessage,
  toLinkError,
  type WorkerMessage,
} from './tab-protocol.js';

export interface PortLinkOptions {
  /** Opens a port to the worker: `new SharedWorker(…).port` in browsers, a MessageChannel end in tests. */
  readonly openPort: () => PortLike;
  /** The worker Client's options, used if this tab is the first to ask for the URL. */
  readonly host: HostOptions;
  /** The tab's token function: the worker asks for a token through the port before each connect. */
  readonly token?: (() => string | Promise<string>) | undefined;
  /** How often to check that the worker still pings. Default PING_MS. */
  readonly pingMs?: number;
}

/**
 * Links a tab's Client to the SharedWorker that holds the connection for every tab of the
 * origin (worker-host.ts). One port serves one session after another: the worker ends a session
 * when its own connection drops and opens the next when it is back, so the tab's Client
 * reconnects without a backoff of its own. When the tab ends a session (its Client closed, or
 * gave up on a worker that stopped answering) it says goodbye and the next dial opens a fresh
 * port — to a new worker, if the old one is gone.
 */
export function portLink(options: PortLinkOptions): Dial {
  const connection = new PortConnection(options);
  return (url, events) => connection.session(url, events);
}

class PortConnection {
  private port: PortLike | undefined;
  private lastHeard = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private sessions = 0;
  private current: { readonly s: number; readonly events: LinkEvents; via?: Transport } | undefined;
  /** After pagehide: dials wait for the page to be shown again (from the back/forward cache). */
  private hidden = false;
  private readonly resumes: Array<() => void> = [];
  private unlisten: (() => void) | undefined;

  constructor(private readonly options: PortLinkOptions) {}

  session(url: string, events: LinkEvents): Link | Promise<Link> {
    this.unlisten ??= listenForPageLifecycle(
      () => this.hide(),
      () => this.show(),
    );
    if (this.hidden) return new Promise((resume) => this.resumes.push(() => resume(this.session(url, events))));
    const port = this.port ?? this.openPort();
    const s = ++this.sessions;
    const current: { s: number; events: LinkEvents; via?: Transport } = { s, events };
    this.current = current;
    this.post(port, { t: 'open', s, url, options: this.options.host });
    return {
      /** How the worker's connection reaches the hub, once the worker said; until then, only that it is shared. */
      get transport(): Transport {
        return current.via ?? 'shared-worker';
      },
      send: (frame) => {
        if (this.current?.s !== s) return undefined;
        try {
          port.postMessage({ t: 'frame', s, f: frame } satisfies TabMessage);
          return undefined;
        } catch (error) {
          // Data that structured clone cannot copy (functions, DOM nodes) is not JSON either.
          return new SwitchboardError(ClientErrorCode.BAD_FRAME, `cannot send ${frame.t}: ${messageOf(error)}`, false);
        }
      },
      limit: () => {},
      close: () => {
        if (this.current?.s !== s) return;
        this.current = undefined;
        this.closePort();
      },
    };
  }

  private openPort(): PortLike {
    let port: PortLike;
    try {
      port = this.options.openPort();
    } catch (error) {
      throw new SwitchboardError(ClientErrorCode.DISCONNECTED, `no SharedWorker: ${messageOf(error)}`, true);
    }
    this.port = port;
    this.lastHeard = Date.now();
    port.onmessage = (event) => this.receive(port, event.data as WorkerMessage);
    const pingMs = this.options.pingMs ?? PING_MS;
    const silenceMs = (SILENCE_MS / PING_MS) * pingMs;
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard > silenceMs) this.gone(1006, 'the shared worker stopped answering', undefined);
    }, pingMs);
    return port;
  }

  private receive(port: PortLike, message: WorkerMessage): void {
    if (port !== this.port) return;
    this.lastHeard = Date.now();
    const current = this.current;
    switch (message.t) {
      case 'ping':
        this.post(port, { t: 'pong' });
        break;
      case 'token':
        void this.answerToken(port, message.rid);
        break;
      case 'error':
        current?.events.problem(fromLinkError(message.error));
        break;
      case 'open':
        if (current?.s !== message.s) return;
        if (message.via) current.via = message.via;
        current.events.open();
        break;
      case 'frame':
        if (current?.s === message.s) current.events.frame(message.f);
        break;
      case 'close':
        if (current?.s !== message.s) return;
        this.current = undefined;
        // Closed for good, the Client will not dial again: the port goes now, not after its silence.
        if (!shouldReconnect(message.code)) this.closePort();
        // Otherwise the worker opens the next session once its connection is back; no backoff on top.
        current.events.close(message.code, message.reason, 0);
        break;
    }
  }

  private async answerToken(port: PortLike, rid: number): Promise<void> {
    let reply: TabMessage;
    try {
      const token = await this.options.token?.();
      reply = token === undefined ? { t: 'token', rid } : { t: 'token', rid, token };
    } catch (error) {
      reply = { t: 'token', rid, error: toLinkError(error, ClientErrorCode.TOKEN) };
    }
    if (port === this.port) this.post(port, reply);
  }

  /** The session ends from this side: the port goes, so that the worker releases what it held. */
  private gone(code: number, reason: string, retryMs: number | undefined): void {
    const current = this.current;
    this.current = undefined;
    this.closePort();
    current?.events.close(code, reason, retryMs);
  }

  private closePort(): void {
    const port = this.port;
    if (!port) return;
    this.port = undefined;
    clearInterval(this.watchdog);
    port.onmessage = null;
    this.post(port, { t: 'bye' });
    port.close();
    if (!this.hidden) {
      this.unlisten?.();
      this.unlisten = undefined;
    }
  }

  /** Leaves at once, so that a closing tab's subscriptions are released without waiting for its silence. */
  private hide(): void {
    this.hidden = true;
    this.gone(1001, 'the page was hidden', 0);
  }

  private show(): void {
    this.hidden = false;
    for (const resume of this.resumes.splice(0)) resume();
  }

  private post(port: PortLike, message: TabMessage): void {
    port.postMessage(message);
  }
}

/** `pagehide`, and `pageshow` of a page coming back from the back/forward cache. */
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
