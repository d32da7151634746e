import {
  type ClientFrame,
  type ConnectResult,
  ErrorCode,
  type Position,
  type PresenceEntry,
  type SubscribeRequest,
} from '@switchboard/protocol';
import type { Client } from './client.js';
import type { SwitchboardError } from './errors.js';
import type { LinkFrame } from './link.js';
import type { Subscription } from './subscription.js';
import type { PresenceMember, SubscribedEvent } from './types.js';

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
        if (!('client' in connection)) {
          this.send(errorReply(frame.id, connection));
          break;
        }
        // The worker's server-side subscriptions are the tab's too; each follows as `subd`.
        const subs = this.client.serverSubscriptions();
        const { subs: _, ...rest } = connection;
        this.send({ t: 'ok', id: frame.id, r: subs.length > 0 ? { ...rest, subs } : rest });
        for (const channel of subs) this.serverSubscribed(channel, frame.subs?.[channel]);
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
      case 'presence':
      case 'presence_stats': {
        const handle = this.handles.get(frame.ch);
        if (!handle) {
          this.send({
            t: 'err',
            id: frame.id,
            code: ErrorCode.PERMISSION_DENIED,
            msg: `subscribe to ${frame.ch} first`,
          });
          break;
        }
        const answer =
          frame.t === 'presence'
            ? handle.presence().then((members) => ({ who: members.map(toEntry) }))
            : handle.presenceStats();
        answer.then(
          (result) => this.reply({ t: 'ok', id: frame.id, r: result }),
          (error: SwitchboardError) => this.reply(errorReply(frame.id, error)),
        );
        break;
      }
      // The worker's Client renews its own credentials (it asks a tab for the token); pings need only an answer.
      case 'refresh':
      case 'ping':
        this.send({ t: 'ok', id: frame.id, r: {} });
        break;
    }
  }

  /**
   * The hub subscribed the worker's connection to `channel` on its own: the tab hears it as a
   * `subd` push, resuming after `since` when it says where it stood.
   */
  serverSubscribed(channel: string, since?: Position): void {
    if (this.closed || this.handles.has(channel)) return;
    const handle = this.client.subscribe(channel, since ? { since } : {});
    this.handles.set(channel, handle);
    let told = false;
    this.forward(channel, handle, ({ position, recovered, reason }) => {
      if (told && recovered !== false) return;
      const push = {
        ...position,
        ...(recovered === undefined ? {} : { rec: recovered }),
        ...(reason ? { why: reason } : {}),
      };
      this.send(
        told ? { t: 'lost', ch: channel, ...position, why: reason ?? 'unknown' } : { t: 'subd', ch: channel, ...push },
      );
      told = true;
    });
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
      ...(frame.info === undefined ? {} : { info: frame.info }),
      ...(frame.delta ? { delta: true } : {}),
      ...(frame.maxRate === undefined ? {} : { maxRate: frame.maxRate }),
      ...(frame.start ? { fromStart: true } : {}),
    });
    this.handles.set(ch, handle);
    let answered = false;
    const mine = () => !this.closed && this.handles.get(ch) === handle;
    /** The tab's `sub` is answered once: `ok` when subscribed, `err` when refused or ended first. */
    const answer = (frame: LinkFrame) => {
      answered = true;
      this.send(frame);
    };
    this.forward(
      ch,
      handle,
      ({ position, recovered, reason }) => {
        if (!answered) {
          const result = { ...position, ...(recovered === undefined ? {} : { rec: recovered }) };
          answer({ t: 'ok', id, r: reason === undefined ? result : { ...result, why: reason } });
        } else if (recovered === false) {
          this.send({ t: 'lost', ch, ...position, why: reason ?? 'unknown' });
        }
      },
      (code, reason) =>
        answered ? this.send({ t: 'unsubd', ch, code, msg: reason }) : answer({ t: 'err', id, code, msg: reason }),
    );
    // A refusal: the tab's Client retries a temporary one itself, as it would with a hub.
    handle.on('error', (error) => {
      if (!mine() || answered) return;
      this.release(ch);
      answer(errorReply(id, error));
    });
  }

  /**
   * Relays a worker handle's news to the tab as a hub would send it: `subscribed` through
   * `subscribed`, publications as `msg`, presence as `pres`, its end as `unsubd`.
   */
  private forward(
    ch: string,
    handle: Subscription,
    subscribed: (event: SubscribedEvent) => void,
    ended: (code: SwitchboardError['code'], reason: string) => void = (code, reason) =>
      this.send({ t: 'unsubd', ch, code, msg: reason }),
  ): void {
    const mine = () => !this.closed && this.handles.get(ch) === handle;
    handle.on('subscribed', (event) => {
      if (mine()) subscribed(event);
    });
    handle.on('publication', ({ position, data, skipped }) => {
      if (!mine()) return;
      // What a rate cap left out travels on, so that the tab's channel sees no gap.
      const skip = skipped ? { skip: skipped } : {};
      this.send(position ? { t: 'msg', ch, ...position, d: data, ...skip } : { t: 'msg', ch, d: data });
    });
    handle.on('presence', ({ join, leave }) => {
      if (mine()) this.send({ t: 'pres', ch, join: join.map(toEntry), leave: leave.map(toEntry) });
    });
    handle.on('unsubscribed', ({ code, reason }) => {
      if (!mine()) return;
      this.handles.delete(ch);
      ended(code, reason);
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

function toEntry({ client, user, info }: PresenceMember): PresenceEntry {
  return { c: client, ...(user === undefined ? {} : { u: user }), ...(info === undefined ? {} : { i: info }) };
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
