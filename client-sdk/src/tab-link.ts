import type { ConnectResult, Position, PublishResult } from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import type {
  BackoffOptions,
  ClientState,
  DisconnectedEvent,
  Publication,
  SubscribedEvent,
  UnsubscribedEvent,
  WireFormat,
} from './types.js';

/**
 * The messages between a tab and the SharedWorker that owns the connection, over one MessagePort
 * per tab. Subscriptions are per channel: a tab holds at most one in the worker for each channel,
 * however many of its components want it, and the worker's Client counts them across tabs.
 */

/** The Client options that can cross a MessagePort; a token function stays in the tab (`tokenFromTab`). */
export interface LinkOptions {
  readonly format?: WireFormat;
  readonly token?: string;
  /** The tab answers the worker's `token` requests by calling its own token function. */
  readonly tokenFromTab?: boolean;
  readonly name?: string;
  readonly version?: string;
  readonly backoff?: BackoffOptions;
  readonly requestTimeoutMs?: number;
}

/** A SwitchboardError as structured clone can carry it (a class instance would arrive as a plain Error). */
export interface LinkError {
  readonly code: SwitchboardError['code'];
  readonly message: string;
  readonly temporary: boolean;
}

export type TabMessage =
  | { readonly t: 'hello'; readonly url: string; readonly options: LinkOptions }
  | { readonly t: 'sub'; readonly ch: string; readonly since?: Position }
  | { readonly t: 'unsub'; readonly ch: string }
  | { readonly t: 'pub'; readonly rid: number; readonly ch: string; readonly d: unknown }
  | { readonly t: 'token'; readonly rid: number; readonly token?: string; readonly error?: LinkError }
  | { readonly t: 'pong' }
  /** The tab is going away (pagehide, close()): release its subscriptions now. */
  | { readonly t: 'bye' };

export type WorkerMessage =
  | { readonly t: 'state'; readonly state: ClientState }
  | { readonly t: 'connected'; readonly result: ConnectResult }
  | { readonly t: 'disconnected'; readonly event: DisconnectedEvent }
  | { readonly t: 'error'; readonly error: LinkError }
  | { readonly t: 'subscribed'; readonly ch: string; readonly event: SubscribedEvent }
  | { readonly t: 'publication'; readonly publication: Publication }
  | { readonly t: 'subError'; readonly ch: string; readonly error: LinkError }
  /** The channel's subscription ended without the tab asking (the hub ended it, or it was refused). */
  | { readonly t: 'ended'; readonly ch: string; readonly error: LinkError; readonly event?: UnsubscribedEvent }
  | { readonly t: 'published'; readonly rid: number; readonly result?: PublishResult; readonly error?: LinkError }
  | { readonly t: 'token'; readonly rid: number }
  | { readonly t: 'ping' };

/**
 * The worker pings every tab this often. A tab answers from its message handler, which hidden
 * tabs run without the timer throttling browsers apply to them, so silence means closed or frozen.
 */
export const PING_MS = 5_000;
/**
 * Silence after which either side gives the other up: the worker releases the tab's subscriptions,
 * the tab (once it runs again) joins anew with a fresh port and resubscribes from where it was.
 */
export const SILENCE_MS = 3 * PING_MS;

/** A handler property checked bivariantly, so that DOM's MessagePort (whose handler takes a MessageEvent) fits. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of MessagePort both ends use (the browser's, or Node's in tests). */
export interface PortLike {
  onmessage: Handler<{ readonly data: unknown }> | null;
  postMessage(message: unknown): void;
  close(): void;
}

export function toLinkError(error: unknown, fallback: ClientErrorCode = ClientErrorCode.CLOSED): LinkError {
  if (error instanceof SwitchboardError)
    return { code: error.code, message: error.message, temporary: error.temporary };
  return { code: fallback, message: error instanceof Error ? error.message : String(error), temporary: false };
}

export function fromLinkError(error: LinkError): SwitchboardError {
  return new SwitchboardError(error.code, error.message, error.temporary);
}
