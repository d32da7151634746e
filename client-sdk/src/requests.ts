import type {
  ClientFrame,
  ConnectResult,
  PresenceResult,
  PresenceStatsResult,
  PublishResult,
  RefreshResult,
  SubscribeResult,
} from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import type { LinkFrame } from './link.js';

type WithoutId<F> = F extends unknown ? Omit<F, 'id'> : never;
/** A request frame before it has an id. */
export type RequestBody = WithoutId<ClientFrame>;

/** What an `ok` reply carries for each command; the link has checked it (websocket-link.ts). */
export interface Results {
  connect: ConnectResult;
  sub: SubscribeResult;
  unsub: object;
  pub: PublishResult;
  refresh: RefreshResult;
  ping: object;
  presence: PresenceResult;
  presence_stats: PresenceStatsResult;
}

/**
 * How a request ends. Called at once, inside the handling of the reply's frame, so that what a
 * reply changes (a channel going live) is in place before the next frame is read.
 */
export interface Settle<T> {
  ok(result: T): void;
  fail(error: SwitchboardError): void;
}

/** A request awaiting its reply; it gets its id when it goes out. */
export interface Outgoing {
  readonly body: RequestBody;
  id: number;
  /** The link it went out on, once it did: while a hub drains, two links are open. */
  via: object | undefined;
  readonly settle: Settle<unknown>;
  readonly timer: ReturnType<typeof setTimeout>;
}

const MAX_ID = 0xffffffff;

/**
 * Requests awaiting their reply. Each one settles exactly once: with its reply, its timeout, or
 * the loss of the link it went out on, whichever comes first; later news is ignored. Ids are
 * given out as requests go out, so that they increase along the wire, from 1.
 */
export class Requests {
  private lastId = 0;
  /** Created while there was no connection to send them on, in order. */
  private readonly unsent = new Set<Outgoing>();
  private readonly sent = new Map<number, Outgoing>();

  constructor(private readonly timeoutMs: number) {}

  /** Starts the request's timeout; the caller sends it (see `issue`) now or once connected. */
  create<B extends RequestBody>(body: B, settle: Settle<Results[B['t']]>): Outgoing {
    const request: Outgoing = {
      body,
      id: 0,
      via: undefined,
      settle: settle as Settle<unknown>,
      timer: setTimeout(() => {
        this.forget(request);
        settle.fail(
          new SwitchboardError(ClientErrorCode.TIMEOUT, `no reply to ${body.t} within ${this.timeoutMs} ms`, true),
        );
      }, this.timeoutMs),
    };
    this.unsent.add(request);
    return request;
  }

  /** `create` for callers that want a promise. */
  ask<B extends RequestBody>(body: B): { request: Outgoing; result: Promise<Results[B['t']]> } {
    let settle!: Settle<Results[B['t']]>;
    const result = new Promise<Results[B['t']]>((ok, fail) => {
      settle = { ok, fail };
    });
    return { request: this.create(body, settle), result };
  }

  /** Gives the request its id as it goes out on link `via`, and returns its frame. */
  issue(request: Outgoing, via: object): ClientFrame {
    this.unsent.delete(request);
    this.lastId = this.lastId === MAX_ID ? 1 : this.lastId + 1;
    request.id = this.lastId;
    request.via = via;
    this.sent.set(request.id, request);
    return { ...request.body, id: request.id } as ClientFrame;
  }

  /** Requests made while there was no connection, oldest first. */
  waiting(): Outgoing[] {
    return [...this.unsent];
  }

  settle(reply: Extract<LinkFrame, { t: 'ok' | 'err' }>): void {
    const pending = this.sent.get(reply.id);
    if (!pending) return;
    this.forget(pending);
    if (reply.t === 'ok') pending.settle.ok(reply.r ?? {});
    else pending.settle.fail(new SwitchboardError(reply.code, reply.msg, reply.tmp === true));
  }

  /** Fails one request that could not be sent. */
  refuse(request: Outgoing, error: SwitchboardError): void {
    this.forget(request);
    request.settle.fail(error);
  }

  /** Fails the requests that went out on link `via`, which is gone; the unsent ones keep waiting. */
  failSent(error: SwitchboardError, via: object): void {
    for (const pending of [...this.sent.values()]) if (pending.via === via) this.refuse(pending, error);
  }

  /** Whether a request that went out on link `via` still awaits its reply. */
  awaiting(via: object): boolean {
    for (const pending of this.sent.values()) if (pending.via === via) return true;
    return false;
  }

  failAll(error: SwitchboardError): void {
    for (const pending of [...this.sent.values(), ...this.unsent]) this.refuse(pending, error);
  }

  private forget(pending: Outgoing): void {
    clearTimeout(pending.timer);
    this.unsent.delete(pending);
    this.sent.delete(pending.id);
  }
}
