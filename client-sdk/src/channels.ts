import type { Position, PublicationPush, SubscribeResult } from '@switchboard/protocol';
import type { Backoff } from './backoff.js';
import type { SwitchboardError } from './errors.js';
import type { Subscription } from './subscription.js';
import type { Publication, UnsubscribedEvent } from './types.js';

/**
 * Whether a publication at `position` is new to a reader that has seen up to `last`. A new epoch
 * always is: the channel's history was lost and its offsets started again.
 */
export function isNew(position: Position, last: Position | undefined): boolean {
  return last === undefined || position.ep !== last.ep || position.off > last.off;
}

/**
 * The client's state of one channel: the handles sharing its one wire subscription, the last
 * position seen (to resume from, and to drop duplicates), and where the wire subscription is.
 */
export class Channel {
  readonly handles = new Set<Subscription>();
  /** Id of the `sub` request in flight; 0 when none. Replies to any other request are stale. */
  pendingId = 0;
  live = false;
  /** Retries after temporary refusals, with their own backoff; created on the first refusal. */
  retries: Backoff | undefined;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSeen: Position | undefined;
  /** Pushes that came before the `sub` reply, which decides which of them are new. */
  private held: PublicationPush[] = [];

  constructor(
    readonly name: string,
    since: Position | undefined,
    /** Subscription token sent with the `sub` frame, for private channels. */
    readonly token?: string | undefined,
  ) {
    this.lastSeen = since;
  }

  get last(): Position | undefined {
    return this.lastSeen;
  }

  subscribing(requestId: number): void {
    this.pendingId = requestId;
    this.live = false;
  }

  /** Whether a live push skips publications after the last one seen, or starts a new epoch. */
  breaksContinuity(push: PublicationPush): boolean {
    const last = this.lastSeen;
    if (!this.live || last === undefined || push.ep === undefined || push.off === undefined) return false;
    return push.ep !== last.ep || push.off > last.off + 1;
  }

  push(push: PublicationPush): void {
    if (this.live) this.deliver(push);
    else if (this.pendingId !== 0) this.held.push(push);
  }

  /**
   * Applies a `sub` reply. Unless the hub recovered what was missed, its position is where this
   * client now stands. Held pushes go out after 'subscribed', in offset order, because recovered
   * publications may interleave with live ones; live-only pushes (no position) follow them.
   */
  subscribed(result: SubscribeResult): void {
    const position = { ep: result.ep, off: result.off };
    if (result.rec !== true) this.lastSeen = position;
    this.pendingId = 0;
    this.live = true;
    this.retries?.reset();
    const event = {
      position,
      ...(result.rec === undefined ? {} : { recovered: result.rec }),
      ...(result.why === undefined ? {} : { reason: result.why }),
    };
    for (const handle of this.handles) handle.subscribed(event);
    const held = this.held;
    this.held = [];
    const positioned = held.filter((push) => push.off !== undefined);
    positioned.sort((a, b) => (a.off ?? 0) - (b.off ?? 0));
    for (const push of positioned) this.deliver(push);
    for (const push of held) if (push.off === undefined) this.deliver(push);
  }

  /** Back to no wire subscription: after a refusal, or on a socket that is gone. */
  unsubscribed(): void {
    this.pendingId = 0;
    this.live = false;
    this.held = [];
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  disconnected(): void {
    this.unsubscribed();
    for (const handle of this.handles) handle.resubscribing();
  }

  failed(error: SwitchboardError): void {
    for (const handle of this.handles) handle.failed(error);
  }

  /** Ends every handle; the channel is forgotten. */
  end(error: SwitchboardError, event?: UnsubscribedEvent): void {
    this.unsubscribed();
    const handles = [...this.handles];
    this.handles.clear();
    for (const handle of handles) handle.ended(error, event);
  }

  /** Pushes without a position are live-only: they can be neither deduplicated nor resumed from. */
  private deliver(push: PublicationPush): void {
    let publication: Publication;
    if (push.ep === undefined || push.off === undefined) {
      publication = { channel: this.name, data: push.d };
    } else {
      const position = { ep: push.ep, off: push.off };
      if (!isNew(position, this.lastSeen)) return;
      this.lastSeen = position;
      publication = { channel: this.name, position, data: push.d };
    }
    for (const handle of this.handles) handle.deliver(publication);
  }
}
