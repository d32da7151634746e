import { Emitter } from './emitter.js';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import type { RequestBody, Results } from './requests.js';
import type {
  PresenceChange,
  PresenceMember,
  PresenceStats,
  Publication,
  SubscribedEvent,
  SubscriptionEvents,
  SubscriptionState,
  UnsubscribedEvent,
} from './types.js';

/**
 * One caller's handle on a channel. Many handles of one channel share the client's single wire
 * subscription; releasing a handle affects no other.
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  /** Settles once: resolved by the first successful subscription, rejected if none can be made. */
  readonly ready: Promise<void>;
  private current: SubscriptionState = 'subscribing';
  private resolveReady!: () => void;
  private rejectReady!: (error: SwitchboardError) => void;

  /** @internal Made by `Client.subscribe`, or by the Client for a server-side subscription. */
  constructor(
    readonly channel: string,
    private readonly release: (subscription: Subscription) => void,
    private readonly ask: PresenceAsk,
  ) {
    super();
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Callers that only listen to events need not handle `ready`; Node would otherwise report
    // its rejection as unhandled.
    this.ready.catch(() => {});
  }

  get state(): SubscriptionState {
    return this.current;
  }

  /** Releases this handle; the wire subscription ends with the channel's last handle. */
  unsubscribe(): void {
    if (this.current === 'unsubscribed') return;
    this.current = 'unsubscribed';
    this.rejectReady(new SwitchboardError(ClientErrorCode.UNSUBSCRIBED, `unsubscribed from ${this.channel}`, false));
    this.release(this);
  }

  /**
   * Who is subscribed to the channel, over every hub (namespaces with presence; the channel must be
   * subscribed). Rejects with the hub's refusal otherwise.
   */
  presence(): Promise<PresenceMember[]> {
    return this.ask.presence(this.channel);
  }

  /** How many connections and users are subscribed to the channel, over every hub. */
  presenceStats(): Promise<PresenceStats> {
    return this.ask.stats(this.channel);
  }

  /** @internal A `pres` push: its joins and leaves, one by one and together. */
  presenceChanged(change: PresenceChange): void {
    if (this.current !== 'subscribed') return;
    for (const member of change.leave) this.emit('leave', member);
    for (const member of change.join) this.emit('join', member);
    this.emit('presence', change);
  }

  /** @internal */
  subscribed(event: SubscribedEvent): void {
    if (this.current === 'unsubscribed') return;
    this.current = 'subscribed';
    this.resolveReady();
    this.emit('subscribed', event);
  }

  /** @internal */
  deliver(publication: Publication): void {
    if (this.current === 'subscribed') this.emit('publication', publication);
  }

  /** @internal The connection dropped; the client resubscribes when it is back. */
  resubscribing(): void {
    if (this.current === 'subscribed') this.current = 'subscribing';
  }

  /** @internal A temporary failure: the client retries. */
  failed(error: SwitchboardError): void {
    if (this.current !== 'unsubscribed') this.emit('error', error);
  }

  /**
   * @internal The subscription ended without the caller asking: `event` says why when the hub
   * ended it; without it the client was closed.
   */
  ended(error: SwitchboardError, event?: UnsubscribedEvent): void {
    if (this.current === 'unsubscribed') return;
    this.current = 'unsubscribed';
    this.rejectReady(error);
    if (event) this.emit('unsubscribed', event);
  }
}

/** How a handle asks the hub about its channel's presence (the Client's requests). */
export interface PresenceAsk {
  presence(channel: string): Promise<PresenceMember[]>;
  stats(channel: string): Promise<PresenceStats>;
}

/** The presence questions, over the Client's requests. */
export function asker(request: <B extends RequestBody>(body: B) => Promise<Results[B['t']]>): PresenceAsk {
  return {
    presence: (channel) =>
      request({ t: 'presence', ch: channel }).then(({ who }) =>
        who.map(
          ({ c, u, i }): PresenceMember => ({
            client: c,
            ...(u === undefined ? {} : { user: u }),
            ...(i === undefined ? {} : { info: i }),
          }),
        ),
      ),
    stats: (channel) => request({ t: 'presence_stats', ch: channel }),
  };
}
