import { type ClientFrame, type ConnectResult, ErrorCode, type SubscribeRequest } from '@switchboard/protocol';
import type { Client } from './client.js';
import type { SwitchboardError } from './errors.js';
import type { LinkFrame } from './link.js';
import type { Subscription } from './subscription.js';

/**
 * One tab's session with the SharedWorker, answered as a hub answers a connection: the tab's
 * Client sends protocol frames, and each of its channels is one handle on the worker's Client,
 * which holds the WebSocket for every tab. So the worker's reference counting spans the tabs,
 * a tab that resumes behind a channel another tab holds gets its own replay (the worker's
 * channel subscribes again from the tab's `since`), and what the tab hears — `ok`, `msg`,
 * `lost`, `unsubd` — is what its Client would hear from a hub.
 */
export class TabSession {
  private readonly handles = new Map<string, Subscription>();
  private closed = false;

  constructor(
    private readonly client: Client,
    /** The worker Client's connect result, or the error that refused it for good. */
    private readonly connection: () => ConnectResult | SwitchboardError,
    private readonly send: (frame: LinkFrame) => void,
  ) {}

  receive(frame: ClientFrame): void {
    if (this.closed) return;
    switch (frame.t) {
      case 'connect': {
        const connection = this.connection();
        this.send('client' in connection ? { t: 'ok', id: frame.id, r: connection } : errorReply(frame.id, connection));
        break;
      }
      case 'sub':
        this.subscribe(frame);
        break;
      case 'unsub':
        this.release(frame.ch);
        this.send({ t: 'ok', id: frame.id });
        break;
      // The tab's Client retries a publish with its key, and owns the call's deadline.
      case 'pub':
        this.answer(
          frame.id,
          this.client.publish(frame.ch, frame.d, { ...(frame.key ? { key: frame.key } : {}), retryMs: 0 }),
        );
        break;
      case 'rpc':
        this.answer(
          frame.id,
          this.client.rpc(frame.method, frame.d, { timeoutMs: 300_000 }).then((d) => ({ d })),
        );
        break;
      // The worker's Client renews its own credentials (it asks a tab for the token); pings need only an answer.
      case 'refresh':
      case 'ping':
        this.send({ t: 'ok', id: frame.id, r: {} });
        break;
    }
  }

  /** The session is over: every channel the tab held is released. */
  close(): void {
    this.closed = true;
    for (const channel of [...this.handles.keys()]) this.release(channel);
  }

  private subscribe(frame: SubscribeRequest): void {
    const { id, ch } = frame;
    if (this.handles.has(ch)) {
      this.send({ t: 'err', id, code: ErrorCode.ALREADY_SUBSCRIBED, msg: `already subscribed to ${ch}` });
      return;
    }
    const handle = this.client.subscribe(ch, {
      ...(frame.since ? { since: frame.since } : {}),
      ...(frame.token ? { token: frame.token } : {}),
    });
    this.handles.set(ch, handle);
    let answered = false;
    const mine = () => !this.closed && this.handles.get(ch) === handle;
    /** The tab's `sub` is answered once: `ok` when subscribed, `err` when refused or ended first. */
    const answer = (frame: LinkFrame) => {
      answered = true;
      this.send(frame);
    };
    handle.on('subscribed', ({ position, recovered, reason }) => {
      if (!mine()) return;
      if (!answered) {
        const result = { ...position, ...(recovered === undefined ? {} : { rec: recovered }) };
        answer({ t: 'ok', id, r: reason === undefined ? result : { ...result, why: reason } });
      } else if (recovered === false) {
        this.send({ t: 'lost', ch, ...position, why: reason ?? 'unknown' });
      }
    });
    handle.on('publication', ({ position, data }) => {
      if (mine()) this.send(position ? { t: 'msg', ch, ...position, d: data } : { t: 'msg', ch, d: data });
    });
    // A refusal: the tab's Client retries a temporary one itself, as it would with a hub.
    handle.on('error', (error) => {
      if (!mine() || answered) return;
      this.release(ch);
      answer(errorReply(id, error));
    });
    handle.on('unsubscribed', ({ code, reason }) => {
      if (!mine()) return;
      this.handles.delete(ch);
      if (answered) this.send({ t: 'unsubd', ch, code, msg: reason });
      else answer({ t: 'err', id, code, msg: reason });
    });
  }

  private release(channel: string): void {
    this.handles.get(channel)?.unsubscribe();
    this.handles.delete(channel);
  }

  private answer(id: number, result: Promise<object>): void {
    result.then(
      (r) => this.reply({ t: 'ok', id, r }),
      (error: SwitchboardError) => this.reply(errorReply(id, error)),
    );
  }

  private reply(frame: LinkFrame): void {
    if (!this.closed) this.send(frame);
  }
}

function errorReply(id: number, error: SwitchboardError): LinkFrame {
  return {
    t: 'err',
    id,
    code: error.code,
    msg: error.message,
    ...(error.temporary ? { tmp: true } : {}),
    ...(error.serviceCode === undefined ? {} : { svc: error.serviceCode }),
  };
}
