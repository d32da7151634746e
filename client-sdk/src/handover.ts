import type { SubscribeResult } from '@switchboard/protocol';
import type { Channel } from './channel.js';
import type { Connection } from './connection.js';
import { ClientErrorCode, type SwitchboardError } from './errors.js';
import type { Requests } from './requests.js';

/** How long a handover waits for the replies still due on the old link before closing it anyway. */
const SETTLE_MS = 2_000;
const NORMAL_CLOSE = 1000;

/** What a handover needs from its Client. */
export interface HandoverHost {
  /** The channels with handles. */
  channels(): Iterable<Channel>;
  channel(name: string): Channel | undefined;
  /** Whether `handover` is still the Client's move in progress. */
  current(handover: Handover): boolean;
  /** Whether the Client uses `connection` as its link now. */
  uses(connection: Connection): boolean;
  /** Whether a reply is still due on the link in use. */
  owed(): boolean;
  /** Ends the handover: `next` becomes the link in use, and the old one closes. */
  adopt(next: Connection, code: number, reason: string): void;
  /** The link in use is connected: channels not live subscribe, waiting requests go out. */
  ready(connection: Connection): void;
  /** Ends the handover without a move, to be tried again later. */
  dropped(): void;
  unsubscribe(on: Connection, channel: string): void;
}

/**
 * A move of the Client from the link in use to the next one, while the hub of the first drains
 * (make-before-break). The next link is dialled through the balancer (to another hub); once it is
 * connected every live channel subscribes there after the position its stream stands at, while
 * the link in use keeps delivering. A channel takes its pushes from the next link from the reply
 * to its move on; the next link becomes the one in use once every move is answered and nothing
 * else awaits a reply on the old one (SETTLE_MS at most), which then closes. What both links
 * deliver is dropped by position, so the overlap costs bytes and no channel pauses.
 *
 * The Client (client.ts) dials, routes frames by `fromNext` and requests by `onNext`, and
 * promotes or abandons the move; this holds what the move knows and sends the moves.
 */
export class Handover {
  /** The next link, once dialled. */
  next: Connection | undefined;
  /** Dials after the drain push's delay; later, bounds the wait for the old link's last replies. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Channels whose move went out on the next link: `asked` until its reply, then `moved`. */
  private readonly moves = new Map<string, 'asked' | 'moved'>();
  /** Channels that sent a `sub` on the next link at all, even if their move failed since. */
  private readonly touched = new Set<string>();

  constructor(
    private readonly host: HandoverHost,
    private readonly requests: Requests,
  ) {}

  /** The next link is connected: every live channel subscribes there after where its stream stands. */
  begin(next: Connection): void {
    const kept = new Set(next.result?.subs);
    for (const entry of this.host.channels()) {
      const since = entry.movable;
      if (!since) continue;
      if (entry.server) {
        // The hub subscribes it there itself (the connect named where it stands): its `subd` is the reply.
        if (!kept.has(entry.name)) continue;
        this.moves.set(entry.name, 'asked');
        this.touched.add(entry.name);
        entry.movingByServer(since);
        continue;
      }
      this.moves.set(entry.name, 'asked');
      this.touched.add(entry.name);
      const mine = () => this.host.channel(entry.name) === entry;
      const request = this.requests.create(
        {
          t: 'sub',
          ch: entry.name,
          since,
          ...(entry.token ? { token: entry.token } : {}),
          ...(entry.info === undefined ? {} : { info: entry.info }),
          ...(entry.delta ? { delta: 'fossil' as const } : {}),
          ...(entry.maxRate === undefined ? {} : { maxRate: entry.maxRate }),
        },
        {
          ok: (reply) => mine() && this.moved(entry, request.id, reply),
          fail: (error) => mine() && this.unmoved(entry, request.id, error),
        },
      );
      entry.moving(next.send(request).id, since);
    }
    this.check();
  }

  /** Promotes the next link once every move is answered and the old link owes no reply. */
  check(): void {
    if (!this.host.current(this) || !this.next?.result) return;
    for (const move of this.moves.values()) if (move === 'asked') return;
    if (!this.host.owed()) this.promote(NORMAL_CLOSE, 'drain');
    else this.timer ??= setTimeout(() => this.promote(NORMAL_CLOSE, 'drain'), SETTLE_MS);
  }

  /**
   * The next link becomes the one in use, the old one closes (its hub drains, or it is gone
   * already); the channels that did not move subscribe there afresh, as after a reconnection.
   */
  promote(code: number, reason: string): void {
    const next = this.next;
    if (!this.host.current(this) || !next) return;
    clearTimeout(this.timer);
    this.host.adopt(next, code, reason);
    for (const entry of this.host.channels()) {
      if (this.onNext(entry.name)) continue;
      // A move that failed may have left a subscription there: a fresh `sub` must not meet it.
      if (next.result && this.touched.has(entry.name)) this.host.unsubscribe(next, entry.name);
      entry.disconnected();
    }
    // Not connected yet: its connect reply does the rest.
    if (next.result) this.host.ready(next);
  }

  /**
   * The next link failed before it took over: the channels it carried subscribe on the link in
   * use again from where they stand; the Client tries again later, for as long as the old link
   * lasts (its hub closes it with 4000 at the end of its grace period).
   */
  abandon(): void {
    if (!this.host.current(this)) return;
    clearTimeout(this.timer);
    this.host.dropped();
    this.next?.close(NORMAL_CLOSE, 'handover abandoned');
    for (const [name, move] of this.moves) this.host.channel(name)?.resume(move === 'moved');
  }

  /** `channel` has no handle left, or was ended: nothing waits for its move. */
  forget(channel: string): void {
    this.moves.delete(channel);
    this.check();
  }

  /** Whether requests of `channel` go out on the next link: its move did. */
  onNext(channel: string): boolean {
    return this.moves.has(channel);
  }

  /** Whether `channel` takes its pushes from the next link: its move was answered. */
  fromNext(channel: string): boolean {
    return this.moves.get(channel) === 'moved';
  }

  /** Whether `channel` may hold a subscription on the next link (an `unsub` there is needed before a fresh `sub`). */
  touchedNext(channel: string): boolean {
    return this.touched.has(channel);
  }

  /**
   * A `subd` push on the next link: the move of a server-side subscription, or (one that was not
   * moving) a fresh subscription there, as after a reconnection. Either way it stays there.
   */
  serverMoved(entry: Channel, push: SubscribeResult): void {
    if (this.moves.get(entry.name) === 'asked' && entry.movedByServer(push)) this.moves.set(entry.name, 'moved');
    else {
      entry.serverSubscribed(push);
      this.arrived(entry.name);
    }
    this.check();
  }

  /** `channel` is subscribed on the next link (the hub did it on its own): it takes its pushes from there. */
  arrived(channel: string): void {
    this.moves.set(channel, 'moved');
    this.touched.add(channel);
  }

  private moved(entry: Channel, id: number, reply: SubscribeResult): void {
    if (!entry.moved(id, reply) || !this.host.current(this)) return;
    this.moves.set(entry.name, 'moved');
    this.check();
  }

  private unmoved(entry: Channel, id: number, error: SwitchboardError): void {
    if (!entry.unmoved(id)) return;
    if (this.host.current(this)) {
      // It stays on the old link, and subscribes on the next one once that one is in use.
      this.moves.delete(entry.name);
      if (error.code === ClientErrorCode.TIMEOUT) this.abandon();
      else this.check();
    } else if (this.next && this.host.uses(this.next)) {
      // The next link took over meanwhile, without a subscription of this channel: subscribe afresh.
      entry.disconnected();
      entry.connected();
    }
  }
}
