import type { Position } from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import { type Channel, FROM_START } from './channel.js';
import type { Connection } from './connection.js';
import { ClientErrorCode, type SwitchboardError } from './errors.js';
import type { Requests } from './requests.js';
import type { Subscription } from './subscription.js';

/** What the channels' subscriptions need from the Client's links. */
export interface WireHost {
  /** The link a channel's requests go out on: during a handover, the next one once its move went there. */
  linkFor(channel: string): Connection | undefined;
  /** The connected links that may hold a subscription of `channel`. */
  holding(channel: string): Connection[];
  /** Whether `connection` is the link in use. */
  inUse(connection: Connection): boolean;
  /** `connection` did not answer a request in time. */
  timedOut(connection: Connection, reason: string): void;
  /** `channel` has ended: nothing may wait for it any more (a handover's move). */
  ended(channel: string): void;
  error(error: SwitchboardError): void;
}

/**
 * The channels' subscriptions on the wire: each channel's `sub` and `unsub` go out on the link the
 * channel is on, and their failures are decided here: a timeout gives up on the link (only a new
 * one makes the state known again), a temporary refusal is retried with the channel's own backoff,
 * and any other refusal ends the channel's handles.
 */
export class Wire {
  constructor(
    private readonly channels: Map<string, Channel>,
    private readonly requests: Requests,
    private readonly host: WireHost,
    private readonly backoff: { readonly initialMs: number; readonly maxMs: number },
  ) {}

  /** The channel's `sub`, after an `unsub` when it replaces its current wire subscription; 0 without a link. */
  subscribe(entry: Channel, since: Position | undefined, replace: boolean): number {
    const on = this.host.linkFor(entry.name);
    if (!on?.result) return 0;
    if (replace) this.unsubscribe(on, entry.name);
    const current = () => this.channels.get(entry.name) === entry;
    const request = this.requests.create(
      {
        t: 'sub',
        ch: entry.name,
        ...(since ? (since.ep === FROM_START.ep ? { start: true as const } : { since }) : {}),
        ...(entry.token ? { token: entry.token } : {}),
        ...(entry.info === undefined ? {} : { info: entry.info }),
        ...(entry.delta ? { delta: 'fossil' as const } : {}),
        ...(entry.maxRate === undefined ? {} : { maxRate: entry.maxRate }),
      },
      {
        ok: (result) => current() && entry.replied(request.id, result),
        fail: (error) => current() && entry.refused(request.id) && this.failed(on, entry, error),
      },
    );
    return on.send(request).id;
  }

  unsubscribe(on: Connection, channel: string): void {
    const request = this.requests.create(
      { t: 'unsub', ch: channel },
      {
        ok: () => {},
        fail: (error) => {
          if (error.code === ClientErrorCode.TIMEOUT) this.host.timedOut(on, error.message);
          else if (error.code !== ClientErrorCode.DISCONNECTED && this.host.inUse(on)) this.host.error(error);
        },
      },
    );
    on.send(request);
  }

  /** A handle is released; the channel's wire subscription ends with its last one. */
  release(handle: Subscription): void {
    const entry = this.channels.get(handle.channel);
    if (!entry?.has(handle) || !entry.leave(handle)) return;
    this.channels.delete(entry.name);
    const onWire = entry.onWire;
    entry.forget();
    // The hub handles sub and unsub in arrival order, so an unsub sent while the sub is still in
    // flight leaves the channel unsubscribed; the sub's late reply is then ignored as stale. During
    // a handover the channel may be subscribed on both links (an unsub is idempotent).
    if (onWire) for (const on of this.host.holding(entry.name)) this.unsubscribe(on, entry.name);
    this.host.ended(entry.name);
  }

  private failed(on: Connection, entry: Channel, error: SwitchboardError): void {
    if (error.code === ClientErrorCode.TIMEOUT) {
      // The hub may still subscribe us; only a new link makes the state known again.
      this.host.timedOut(on, error.message);
    } else if (error.code === ClientErrorCode.DISCONNECTED) {
      // The link is gone; the channel subscribes again on the next one.
    } else if (error.temporary) {
      entry.failed(error);
      entry.retries ??= new Backoff(this.backoff.initialMs, this.backoff.maxMs);
      entry.retryTimer = setTimeout(() => this.host.linkFor(entry.name) === on && entry.retry(), entry.retries.next());
    } else {
      this.channels.delete(entry.name);
      this.host.ended(entry.name);
      entry.failed(error);
      entry.end(error, { code: error.code, reason: error.message });
    }
  }
}
