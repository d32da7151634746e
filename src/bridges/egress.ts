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
}

/** Where a namespace's client publishes go; `send` settles only once the target accepted it (I4, docs/architecture.md). */
export interface Egress {
  send(message: EgressMessage): Promise<void>;
}

import { within as withinTime } from '../time.js';

/** Rejects when `promise` has not settled within `ms`, naming `what` timed out. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withinTime(promise, ms, () => new Error(`${what} timed out after ${ms} ms`));
}
