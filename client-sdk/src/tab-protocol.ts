import type { ClientFrame } from '@switchboard/protocol';
import { SwitchboardError } from './errors.js';
import type { LinkFrame, Transport } from './link.js';
import type { BackoffOptions, WireFormat } from './types.js';

/**
 * The messages between a tab and the SharedWorker that holds the connection, over one
 * MessagePort per tab Client. They carry protocol v1 frames as structured clones: the tab's
 * Client speaks to the worker as to a hub, one session (`s`) per link, and the worker answers as
 * a hub would (tab-session.ts) from its own Client, which holds the WebSocket for every tab.
 * The port outlives sessions: when the worker's connection drops, it ends each tab's session and
 * opens the next one when it is back.
 */

/** The Client options that can cross a MessagePort; a token function stays in the tab (`tokenFromTab`). */
export interface HostOptions {
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
  /** Starts session `s` (ending the previous one): the worker's Client for `url`, made with `options` if new. */
  | { readonly t: 'open'; readonly s: number; readonly url: string; readonly options: HostOptions }
  | { readonly t: 'frame'; readonly s: number; readonly f: ClientFrame }
  /** The tab ends session `s`. */
  | { readonly t: 'close'; readonly s: number }
  | { readonly t: 'token'; readonly rid: number; readonly token?: string; readonly error?: LinkError }
  | { readonly t: 'pong' }
  /** The tab is done with this port (pagehide, its Client closed): release everything it held. */
  | { readonly t: 'bye' };

export type WorkerMessage =
  /** Session `s` is connected: the worker's Client is (over `via`), and answers the tab's `connect`. */
  | { readonly t: 'open'; readonly s: number; readonly via?: Transport }
  | { readonly t: 'frame'; readonly s: number; readonly f: LinkFrame }
  /** The worker ended session `s` because its own connection closed with `code`. */
  | { readonly t: 'close'; readonly s: number; readonly code: number; readonly reason: string }
  /** The worker's Client reports a problem (a token it could not get, a bad frame from the hub). */
  | { readonly t: 'error'; readonly error: LinkError }
  | { readonly t: 'token'; readonly rid: number }
  | { readonly t: 'ping' };

/**
 * The worker pings every tab this often. A tab answers from its message handler, which hidden
 * tabs run without the timer throttling browsers apply to them, so silence means closed or frozen.
 */
export const PING_MS = 5_000;
/**
 * Silence after which either side gives the other up: the worker releases the tab's
 * subscriptions; the tab (once it runs again) opens a fresh port and resubscribes from where it was.
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

export function toLinkError(error: unknown, fallback: SwitchboardError['code']): LinkError {
  if (error instanceof SwitchboardError)
    return { code: error.code, message: error.message, temporary: error.temporary };
  return { code: fallback, message: error instanceof Error ? error.message : String(error), temporary: false };
}

export function fromLinkError(error: LinkError): SwitchboardError {
  return new SwitchboardError(error.code, error.message, error.temporary);
}
