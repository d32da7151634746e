import type { LostPush, Position, PresencePush, PublicationPush, SubscribeResult } from '@switchboard/protocol';
import type { Backoff } from './backoff.js';
import type { SwitchboardError } from './errors.js';
import type { Subscription } from './subscription.js';
import type { PresenceMember, SubscribedEvent, UnsubscribedEvent } from './types.js';

/**
 * Where a handle stands that asked for the channel from its start (`fromStart`): the `sub` says
 * `start` instead of `since`, and the reply's epoch tells where that was. No epoch is empty.
 */
export const FROM_START: Position = { ep: '', off: 0 };

/** Whether two positions are the same. */
export function samePosition(a: Position, b: Position): boolean {
  return a.ep === b.ep && a.off === b.off;
}

/**
 * Whether a publication at `position` is new to a reader that has seen up to `last`. Another
 * epoch is: the channel's continuity has been decided before a publication reaches a reader.
 */
export function isNew(position: Position, last: Position | undefined): boolean {
  return last === undefined || position.ep !== last.ep || position.off > last.off;
}

/** How the channel sends its `sub` (after an `unsub` when `replace`); 0 when there is no link. */
export type SubscribeOnWire = (channel: Channel, since: Position | undefined, replace: boolean) => number;

/** One handle's place in the channel. */
interface Place {
  /** Where it stands: what it has delivered, or asked to resume after; undefined before anything. */
  at: Position | undefined;
  /** Awaiting a `sub` reply that covers `at`; nothing reaches it meanwhile. */
  waiting: boolean;
}

/** A push with its full position: its offset, and the epoch of the subscription it came on. */
type Positioned = PublicationPush & Position;
/** A push as the channel keeps it: with its epoch when it has an offset. */
type Received = PublicationPush & { readonly ep?: string | undefined };
const hasPosition = (push: Received): push is Positioned => push.ep !== undefined && push.off !== undefined;

/**
 * The client's state of one channel (protocol/README.md section 4): its one wire subscription,
 * shared by handles that may each stand at another position, since a handle can ask to resume
 * after its own `since` (a tab coming back through the SharedWorker, say).
 *
 * The stream: `stream` is where the wire subscription continues; a push that follows it is
 * delivered, an older one is a duplicate, anything else (a gap, or a new epoch nobody announced
 * with `lost`) is a fault, repaired by subscribing again after it while later pushes are held.
 * Each handle drops what it has already seen, so replays and recoveries deliver exactly once.
 *
 * Resubscribing ("a round") asks for the oldest position a waiting handle needs. The reply covers
 * the handles it can: with `rec: true` every position from `since` to the reply's (the replay
 * follows); otherwise only the reply's own position, where the stream now continues. A handle the
 * reply does not cover waits for one more round, from its own position; the handles at `since`
 * always learn the answer, so every round settles at least one position.
 *
 * A move (a hub draining, make-before-break): the channel subscribes on the next link after where
 * its stream stands while the current link keeps delivering; at the reply the stream goes on from
 * the next link, and what it replays that the current one already delivered is dropped as old.
 */
export class Channel {
  /** Retries after temporary refusals, with their own backoff; made on the first refusal. */
  retries: Backoff | undefined;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly places = new Map<Subscription, Place>();
  private wire: 'none' | 'pending' | 'live' = 'none';
  /** Id of the `sub` request in flight; replies to any other request are stale. */
  private pendingId = 0;
  private sentSince: Position | undefined;
  private stream: Position | undefined;
  /**
   * The epoch of the pushes arriving now: pushes carry only their offset, and the hub sends a
   * `sub` reply before the pushes of its subscription and a `lost` push before those of a new epoch.
   */
  private epoch: string | undefined;
  /** Pushes that came before the `sub` reply (from the previous subscription), which decides which follow. */
  private held: Received[] = [];
  /** After a recovering reply: the replay runs up to here, and may come out of order until then. */
  private replayTo: Position | undefined;
  /** Replayed pushes that came before the ones they follow, by offset. */
  private readonly early = new Map<number, Positioned>();
  /** Id of the `sub` moving the channel to the next link, in flight, and where it resumes. */
  private movingId = 0;
  private movingSince: Position | undefined;
  /**
   * Subscribed by the hub on its own (a server-side subscription, `subd`): after a reconnection
   * the hub subscribes it again itself, resuming from where the client says it stood.
   */
  server = false;

  constructor(
    readonly name: string,
    private readonly subscribeOnWire: SubscribeOnWire,
    /** Subscription token sent with the `sub` frame, for private channels. */
    readonly token?: string | undefined,
    /** What presence shows of this subscriber, sent with the `sub` frame. */
    readonly info?: unknown,
    /** Whether the `sub` frame asks for delta pushes (the link applies them). */
    readonly delta = false,
    /** The `sub` frame's rate cap: pushes may then skip offsets, saying how many (`skip`). */
    readonly maxRate?: number | undefined,
  ) {}

  /** Where the stream stands: the last publication it delivered, or where it resumes. */
  get last(): Position | undefined {
    return this.stream;
  }

  /** Whether a `sub` is in flight or live on the current link. */
  get onWire(): boolean {
    return this.wire !== 'none';
  }

  /**
   * Where a move to the next link resumes: the stream's position, when the channel is live with
   * handles and not moving already; otherwise undefined (it subscribes on the next link once that
   * one is in use, as after any reconnection).
   */
  get movable(): Position | undefined {
    return this.wire === 'live' && this.movingId === 0 && this.places.size > 0 ? this.stream : undefined;
  }

  /** The move's `sub` went out on the next link as request `id`, after `since`. */
  moving(id: number, since: Position): void {
    this.movingId = id;
    this.movingSince = since;
  }

  /**
   * Applies the reply to the move's `sub` `id`; false when stale. A recovering reply in the
   * stream's epoch changes nothing the handles see: the stream goes on from the next link, which
   * replays from `since`, and whatever of that the current link delivered meanwhile is old. Any
   * other reply is taken as a fresh subscription's, as after a reconnection. While a round
   * (started after the move, on the next link too) is in flight, its reply decides.
   */
  moved(id: number, result: SubscribeResult): boolean {
    if (id === 0 || id !== this.movingId) return false;
    this.movingId = 0;
    const since = this.movingSince as Position;
    const at = this.stream;
    if (this.wire === 'pending') return true;
    if (result.rec === true && at && at.ep === since.ep && result.ep === since.ep) {
      this.epoch = since.ep;
      this.replayTo = result.off > at.off ? { ep: since.ep, off: result.off } : undefined;
      this.early.clear();
      return true;
    }
    this.wire = 'pending';
    this.pendingId = id;
    this.sentSince = since;
    this.replied(id, result);
    return true;
  }

  /** The hub moves it to the next link on its own (a server-side subscription), after `since`. */
  movingByServer(since: Position): void {
    this.moving(SERVER_REPLY, since);
  }

  /** Applies the `subd` push that answers `movingByServer`; false when it was not moving. */
  movedByServer(result: SubscribeResult): boolean {
    return this.moved(SERVER_REPLY, result);
  }

  /** The move's `sub` `id` failed: the channel stays on the current link. False when stale. */
  unmoved(id: number): boolean {
    if (id === 0 || id !== this.movingId) return false;
    this.movingId = 0;
    return true;
  }

  /**
   * Back on the current link after the next one failed. A channel that had `switched` to it
   * subscribes again after where its stream stands (what the current link delivered meanwhile
   * was not taken); one whose round on the next link was lost with it subscribes afresh.
   */
  resume(switched: boolean): void {
    this.movingId = 0;
    if (this.places.size === 0) return;
    if (this.wire === 'live' && switched) this.round(this.stream);
    else if (this.wire === 'none' && this.retryTimer === undefined) this.round();
  }

  has(handle: Subscription): boolean {
    return this.places.has(handle);
  }

  /**
   * Adds a handle that resumes after `since`, or (without) starts from wherever the channel is.
   * On a live channel it learns so once its caller can listen; one behind or beside the stream
   * makes a round that replays what it missed.
   */
  join(handle: Subscription, since: Position | undefined): void {
    const place: Place = { at: since, waiting: true };
    this.places.set(handle, place);
    if (this.wire === 'none' && this.retryTimer === undefined && !this.server) this.round();
    else if (this.wire === 'live') queueMicrotask(() => this.joinLive(handle, place, since));
  }

  /** Removes a handle; returns whether none is left (the caller then ends the wire subscription). */
  leave(handle: Subscription): boolean {
    this.places.delete(handle);
    return this.places.size === 0;
  }

  /** A link is up: subscribe again, from the oldest position a handle stands at (the hub does it for a server-side one). */
  connected(): void {
    if (this.places.size > 0 && this.wire === 'none' && !this.server) this.round();
  }

  /**
   * A `subd` push: the hub subscribed the channel on its own, resuming after where the stream
   * stood. Applied as the reply to a `sub` sent from there; any `sub` of ours in flight is stale.
   */
  serverSubscribed(result: SubscribeResult): void {
    this.server = true;
    this.wire = 'pending';
    this.pendingId = SERVER_REPLY;
    this.sentSince = this.stream;
    this.replied(SERVER_REPLY, result);
  }

  /** A `pres` push: each handle subscribed hears its joins and leaves. */
  presence(push: PresencePush): void {
    if (this.wire !== 'live') return;
    const change = { join: (push.join ?? []).map(member), leave: (push.leave ?? []).map(member) };
    for (const [handle, place] of this.places) if (!place.waiting) handle.presenceChanged(change);
  }

  /** Subscribes again after a temporary refusal, from the oldest position a handle stands at. */
  retry(): void {
    this.retryTimer = undefined;
    if (this.wire === 'none') this.round();
  }

  /** Applies the reply to `sub` request `id` (ignored when stale). */
  replied(id: number, result: SubscribeResult): void {
    if (id !== this.pendingId) return;
    const reply = { ep: result.ep, off: result.off };
    const sent = this.sentSince;
    // From the start: the hub read the channel from offset 0 of the epoch it answers with.
    const since = sent?.ep === FROM_START.ep ? { ep: result.ep, off: 0 } : sent;
    const recovered = since !== undefined && result.rec === true;
    // The stream continues after `from`: the replay follows `since`, or nothing before the reply's position.
    const from = recovered ? since : reply;
    this.pendingId = 0;
    this.wire = 'live';
    this.stream = from;
    this.epoch = from.ep;
    this.replayTo = recovered ? reply : undefined;
    this.early.clear();
    this.retries?.reset();
    for (const [handle, place] of this.places) {
      const at = place.at;
      if (at === undefined) {
        // It asked for no past: it starts at the reply's position, however far back the replay goes.
        place.at = reply;
        this.tell(handle, place, { position: reply });
      } else if (sent && samePosition(at, sent)) {
        place.at = from;
        if (place.waiting || !recovered) this.tell(handle, place, answer(reply, result));
      } else if (recovered ? at.ep === from.ep && at.off >= from.off && at.off <= reply.off : samePosition(at, reply)) {
        if (place.waiting) this.tell(handle, place, { position: reply, recovered: true });
      } else {
        place.waiting = true;
      }
    }
    const held = this.held;
    this.held = [];
    const following = held.filter((push): push is Positioned => hasPosition(push) && push.ep === from.ep);
    following.sort((a, b) => a.off - b.off);
    // Held pushes of another epoch came from the previous subscription, before this reply.
    for (const push of following) this.push(push);
    for (const push of held) if (!hasPosition(push)) this.push(push);
    if (this.wire === 'live' && [...this.places.values()].some((place) => place.waiting)) this.round();
  }

  /**
   * The `sub` request `id` was refused, or its link is gone: no wire subscription, every handle
   * waits for the next round. Returns whether `id` was the request in flight.
   */
  refused(id: number): boolean {
    if (id !== this.pendingId) return false;
    this.unsubscribed();
    return true;
  }

  push(wire: PublicationPush): void {
    const push: Received = wire.off === undefined ? wire : { ...wire, ep: this.epoch };
    if (this.wire === 'pending') this.held.push(push);
    else if (this.wire !== 'live') return;
    else if (hasPosition(push)) this.take(push);
    else this.deliver(push, undefined);
  }

  private take(push: Positioned): void {
    const at = this.stream;
    if (at && push.ep === at.ep && push.off <= at.off) return;
    if (at === undefined || (push.ep === at.ep && push.off === at.off + 1)) {
      this.advance(push);
      return;
    }
    // A rate cap left out what lies between: it follows when what it skipped reaches back to us.
    if (push.skip !== undefined && push.ep === at.ep && push.off - push.skip - 1 <= at.off) {
      this.advance(push);
      return;
    }
    const replay = this.replayTo;
    if (replay && push.ep === replay.ep && push.off <= replay.off) {
      // Part of a replay that sent later publications first: the earlier ones are on their way.
      this.early.set(push.off, push);
      return;
    }
    // The hub repairs gaps and announces lost history, so this is a fault: resubscribe, keep it.
    this.held.push(push, ...this.early.values());
    this.round(at);
  }

  /** Delivers a push that follows the stream, then whatever of the replay it was waiting for. */
  private advance(push: Positioned): void {
    for (let next: Positioned | undefined = push; next; next = this.early.get(next.off + 1)) {
      this.early.delete(next.off);
      const skipped = this.stream && next.ep === this.stream.ep ? next.off - this.stream.off - 1 : 0;
      this.stream = { ep: next.ep, off: next.off };
      this.deliver(next, this.stream, skipped);
    }
    const replay = this.replayTo;
    if (replay && this.stream && (this.stream.ep !== replay.ep || this.stream.off >= replay.off)) {
      this.replayTo = undefined;
      this.early.clear();
    }
  }

  /** The hub could not repair a gap: every handle continues after the push's position, not recovered. */
  lost(push: LostPush): void {
    if (this.wire !== 'live') return;
    const position = { ep: push.ep, off: push.off };
    this.stream = position;
    this.epoch = push.ep;
    this.replayTo = undefined;
    this.early.clear();
    for (const [handle, place] of this.places) {
      place.at = position;
      this.tell(handle, place, { position, recovered: false, reason: push.why });
    }
  }

  /** The link is gone: handles wait for the next link, each at its own position. */
  disconnected(): void {
    this.unsubscribed();
    for (const handle of this.places.keys()) handle.resubscribing();
  }

  failed(error: SwitchboardError): void {
    for (const handle of this.places.keys()) handle.failed(error);
  }

  /** Ends every handle; the channel is forgotten. */
  end(error: SwitchboardError, event?: UnsubscribedEvent): void {
    this.unsubscribed();
    const handles = [...this.places.keys()];
    this.places.clear();
    for (const handle of handles) handle.ended(error, event);
  }

  /** The last handle left: nothing more happens on this channel. */
  forget(): void {
    this.unsubscribed();
  }

  private unsubscribed(): void {
    this.wire = 'none';
    this.pendingId = 0;
    this.movingId = 0;
    this.held = [];
    this.replayTo = undefined;
    this.early.clear();
    for (const place of this.places.values()) place.waiting = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Decided once the caller can listen: by then pushes may have moved the stream on. */
  private joinLive(handle: Subscription, place: Place, since: Position | undefined): void {
    const at = this.stream;
    if (this.places.get(handle) !== place || !place.waiting || this.wire !== 'live' || !at) return;
    if (since === undefined || samePosition(since, at)) {
      place.at = at;
      this.tell(handle, place, since === undefined ? { position: at } : { position: at, recovered: true });
    } else {
      this.round();
    }
  }

  /** Sends `sub` after `since`: by default the oldest position a waiting handle stands at. */
  private round(since = this.oldestWaiting()): void {
    const id = this.subscribeOnWire(this, since, this.wire !== 'none');
    if (id === 0) return;
    this.wire = 'pending';
    this.pendingId = id;
    this.sentSince = since;
  }

  /**
   * The oldest position a waiting handle stands at, in the stream's epoch when any is in it.
   * Handles that are not waiting are left out: one standing ahead of the hub would otherwise
   * bring every round back to the same `since` and never be covered.
   */
  private oldestWaiting(): Position | undefined {
    let oldest: Position | undefined;
    const epoch = this.stream?.ep;
    for (const { at, waiting } of this.places.values()) {
      if (!at || !waiting) continue;
      if (!oldest || (at.ep === epoch && oldest.ep !== epoch) || (at.ep === oldest.ep && at.off < oldest.off)) {
        oldest = at;
      }
    }
    return oldest;
  }

  private tell(handle: Subscription, place: Place, event: SubscribedEvent): void {
    place.waiting = false;
    handle.subscribed(event);
  }

  private deliver(push: PublicationPush, position: Position | undefined, skipped = 0): void {
    const publication = position
      ? { channel: this.name, position, data: push.d, ...(skipped > 0 ? { skipped } : {}) }
      : { channel: this.name, data: push.d };
    for (const [handle, place] of this.places) {
      if (place.waiting) continue;
      if (position) {
        if (!isNew(position, place.at)) continue;
        place.at = position;
      }
      handle.deliver(publication);
    }
  }
}

/** The request id a `subd` push is applied as: no `sub` request has it. */
const SERVER_REPLY = -1;

function member({ c, u, i }: NonNullable<PresencePush['join']>[number]): PresenceMember {
  return { client: c, ...(u === undefined ? {} : { user: u }), ...(i === undefined ? {} : { info: i }) };
}

/** What a handle hears of the reply to its own `since`. */
function answer(position: Position, result: SubscribeResult): SubscribedEvent {
  return {
    position,
    ...(result.rec === undefined ? {} : { recovered: result.rec }),
    ...(result.why === undefined ? {} : { reason: result.why }),
  };
}
