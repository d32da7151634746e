import type { ConnectResult, Position, PublishResult, WireFormat } from '@switchboard/protocol';
import type { SwitchboardError } from './errors.js';
import type { Dial } from './link.js';
import type { Subscription } from './subscription.js';

export type { ConnectResult, Position, PublishResult, WireFormat };

/**
 * A function-typed property that is checked bivariantly, so that the handler properties of both
 * the DOM WebSocket and the `ws` package (whose event types differ) satisfy `WebSocketLike`.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the client uses: the browser's, or a compatible one like `ws`. */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface BackoffOptions {
  /** Cap of the first reconnect delay, doubled per failed attempt. Default 200. */
  readonly initialMs?: number;
  /** Largest cap. Default 10 000. */
  readonly maxMs?: number;
}

export interface ClientOptions {
  /** The WebSocket implementation. Default: `globalThis.WebSocket` (in Node 20, pass the `ws` package). */
  readonly WebSocket?: WebSocketConstructor;
  /** Wire format. Default `'msgpack'`; `'json'` sends readable text frames for debugging. */
  readonly format?: WireFormat;
  /**
   * How the client reaches the hub (link.ts). Default: a WebSocket, with the two options above.
   * `connect(url, { shareAcrossTabs: true })` passes the link to the tabs' SharedWorker; tests
   * pass one in memory.
   */
  readonly link?: Dial;
  /**
   * Where WebSocket upgrades fail, fall back to HTTP streaming (protocol §1.1) and try WebSocket
   * again every `retryWebSocketMs` (60 s). Default: on in the browser bundle, off in Node.
   */
  readonly fallback?: boolean | { readonly retryWebSocketMs?: number };
  /** Sent in the connect frame; a function is called again before every (re)connect. */
  readonly token?: string | (() => string | Promise<string>);
  /** Client name and version, sent in the connect frame (at most 64 characters each). */
  readonly name?: string;
  readonly version?: string;
  readonly backoff?: BackoffOptions;
  /** How long a request waits for its reply, including a publish waiting for a connection. Default 10 000. */
  readonly requestTimeoutMs?: number;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'closed';

export interface DisconnectedEvent {
  /** The WebSocket close code (1006 when the connection failed without one). */
  readonly code: number;
  readonly reason: string;
  /** Whether the client will reconnect. */
  readonly reconnect: boolean;
}

export interface ClientEvents {
  state: ClientState;
  connected: ConnectResult;
  disconnected: DisconnectedEvent;
  error: SwitchboardError;
  /**
   * The hub subscribed this connection to a channel on its own (the server API's `subscribe`):
   * the handle behaves as one of `subscribe`'s, its `subscribed` event follows. It is resumed
   * from where it stood after a reconnection, as long as the hub keeps it.
   */
  subscription: Subscription;
}

/** A connection in a channel's presence. */
export interface PresenceMember {
  /** The connection's id (its connect reply's `client`). */
  readonly client: string;
  /** Its user (the token's `sub`); absent when anonymous. */
  readonly user?: string;
  /** What it shows: its token's `info` claim, or (where the namespace allows) what it gave when subscribing. */
  readonly info?: unknown;
}

/** Joins and leaves of a channel's presence, as one `pres` push carried them. */
export interface PresenceChange {
  readonly join: readonly PresenceMember[];
  readonly leave: readonly PresenceMember[];
}

export interface PresenceStats {
  /** Connections subscribed. */
  readonly clients: number;
  /** Distinct users among them. */
  readonly users: number;
}

export interface SubscribeOptions {
  /**
   * Resume after this position: what was published since is delivered to this handle, or its
   * `subscribed` event says `recovered: false`. On a channel already live for other handles, the
   * client subscribes again from there and each handle still gets every publication once.
   */
  readonly since?: Position;
  /** What presence shows of this subscriber, where the channel's namespace lets clients say (`presence.clientInfo`). */
  readonly info?: unknown;
  /**
   * A subscription token (a JWT naming the channel) for a private channel; sent with every
   * (re)subscription of the channel made by this handle. When it expires the hub ends the
   * subscription (`unsubscribed`, code 109): subscribe again with a fresh one.
   */
  readonly token?: string;
  /**
   * Ask for publications as fossil deltas against the previous one (protocol §3.3), in namespaces
   * with `delta: true`: far fewer bytes for a feed of similar documents. Handles still get whole
   * data. The channel's first handle decides for all of them.
   */
  readonly delta?: boolean;
  /**
   * At most this many publications a second (1..100), the latest winning (per key where the
   * namespace names one, `conflation.key`); each publication says how many were left out before it
   * (`skipped`). Resuming replays the latest of what was missed. Whole data, never deltas. The
   * channel's first handle decides for all of them.
   */
  readonly maxRate?: number;
  /**
   * Without `since`: everything the channel's history holds of its current epoch, then live — a
   * token stream read whole by its id after a page reload. `subscribed` says `recovered: false`
   * (why: `trimmed`, `too_many_missed`) when history no longer reaches its first publication.
   */
  readonly fromStart?: boolean;
}

export interface PublishOptions {
  /** The idempotency key; default a new one per publish. Give your own to dedupe across client restarts. */
  readonly key?: string;
  /** How long a publish whose outcome is unknown is retried with its key. Default 3 × `requestTimeoutMs`; 0: never. */
  readonly retryMs?: number;
}

export interface RpcOptions {
  /** How long to wait for the reply. Default `requestTimeoutMs`; the hub's route may have a shorter deadline (117). */
  readonly timeoutMs?: number;
}

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';

export interface Publication {
  readonly channel: string;
  /** Absent for live-only publications (e.g. a raw Redis PUBLISH), which cannot be resumed from. */
  readonly position?: Position;
  readonly data: unknown;
  /** On a subscription with `maxRate`: publications left out (conflated) between the previous one and this. */
  readonly skipped?: number;
}

export interface SubscribedEvent {
  /**
   * The channel's position when the subscription was made; when not recovered, the position
   * the subscription continues after.
   */
  readonly position: Position;
  /**
   * Present when the handle resumed (after its `since`, a reconnection, or a gap the hub could
   * not repair): whether every missed publication follows. After `false`, reload what you show.
   */
  readonly recovered?: boolean;
  /**
   * Why the missed publications could not be recovered, when `recovered` is false: the hub's
   * `epoch_changed`, `trimmed`, `too_many_missed`, `ahead_of_stream`, or another it may add.
   */
  readonly reason?: string;
}

export interface UnsubscribedEvent {
  /**
   * The hub's ErrorCode, the WebSocket close code when the hub closed the client for good, or a
   * ClientErrorCode when the client gave up on its own.
   */
  readonly code: SwitchboardError['code'];
  readonly reason: string;
}

export interface SubscriptionEvents {
  publication: Publication;
  subscribed: SubscribedEvent;
  unsubscribed: UnsubscribedEvent;
  error: SwitchboardError;
  /** A connection joined the channel's presence (namespaces with `presence.joinLeave`). */
  join: PresenceMember;
  leave: PresenceMember;
  /** Every join and leave of one push at once, for views that apply them together. */
  presence: PresenceChange;
}
