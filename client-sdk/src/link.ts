import type { ClientFrame, ServerFrame } from '@switchboard/protocol';
import type { ClientErrorCode, SwitchboardError } from './errors.js';

/**
 * How a Client reaches a hub: a link carries protocol v1 frames, already decoded, both ways.
 * The WebSocket link (websocket-link.ts) speaks to a hub and checks every frame it reads; the
 * port link (port-link.ts) speaks to the SharedWorker, whose Client holds the WebSocket and
 * answers each tab as a hub would (tab-session.ts). The Client above runs the same channel
 * state machine over either.
 */

/**
 * A hub frame as a link hands it over. Over a MessagePort, `err` and `unsubd` can carry the
 * worker Client's own ClientErrorCode (a publish refused as too large, say), not only the hub's.
 */
export type LinkFrame = ServerFrame extends infer F
  ? F extends { code: number }
    ? Omit<F, 'code'> & { readonly code: number | ClientErrorCode }
    : F
  : never;

export interface LinkEvents {
  /** The link is open: the Client sends `connect`. */
  open(): void;
  frame(frame: LinkFrame): void;
  /** Something arrived that is not a frame, or the far side reports a problem; the link stays. */
  problem(error: SwitchboardError): void;
  /**
   * The link closed under the Client (no events follow). `retryMs`, when given, is when to
   * open the next one instead of after the Client's backoff: the SharedWorker paces tabs itself.
   */
  close(code: number, reason: string, retryMs?: number): void;
}

/**
 * How a link reaches its hub, as Client.transport reports it. A tab sharing the SharedWorker's
 * connection reports the worker's (`shared-worker` only until the worker said).
 */
export type Transport = 'websocket' | 'sse' | 'shared-worker';

export interface Link {
  /** How it reaches the hub; a link in memory (tests) says nothing. */
  readonly transport?: Transport;
  /** Sends a request; returns why not when it cannot go out (over the hub's frame limit, not encodable). */
  send(frame: ClientFrame): SwitchboardError | undefined;
  /** The hub's limit on frames it accepts, from its connect result. */
  limit(maxFrame: number): void;
  /** Closes it; no events follow. */
  close(code: number, reason: string): void;
}

/**
 * Opens a link to `url`; its events come only after the dial has returned. A dial that throws or rejects is retried after the Client's backoff,
 * unless it throws a SwitchboardError that is not temporary (a URL no WebSocket can use).
 */
export type Dial = (url: string, events: LinkEvents) => Link | Promise<Link>;
