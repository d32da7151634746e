/** A client publish on its way to the services. */
export interface EgressMessage {
  readonly channel: string;
  /** The publication's data, JSON-encoded: services consume JSON. */
  readonly json: string;
  readonly connection: string;
  readonly user?: string | undefined;
  readonly timestamp: number;
  /** W3C traceparent of the client publish, when traced. */
  readonly trace?: string | undefined;
  /** The client's idempotency key, the same on every retry: services drop a key they have seen (docs/publishing.md). */
  readonly key?: string | undefined;
}

/** Where a namespace's client publishes go; `send` settles only once the target accepted it (I4, docs/architecture.md). */
export interface Egress {
  send(message: EgressMessage): Promise<void>;
}

import { within as withinTime } from '../time.js';

/**
 * A send that was handed to its target but not answered in time: it may still be accepted.
 * `pending` is the send itself, still running, so that a retry with the same key can wait for it
 * instead of sending again (src/handlers/publish.ts).
 */
export class OutcomeUnknown extends Error {
  constructor(
    message: string,
    readonly pending: Promise<unknown>,
  ) {
    super(message);
    this.name = 'OutcomeUnknown';
  }
}

/** Rejects with OutcomeUnknown when `promise` has not settled within `ms`, naming `what` timed out. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  // The send may fail after the timeout; nobody may be waiting then, so its rejection is handled here.
  promise.catch(() => undefined);
  return withinTime(promise, ms, () => new OutcomeUnknown(`${what} timed out after ${ms} ms`, promise));
}
