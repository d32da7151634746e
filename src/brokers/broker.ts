import type { Position } from '@switchboard/protocol';

/**
 * A publication as it travels between broker and hub: data stays msgpack-encoded end to end.
 * Without a position it is live-only (a raw PUBLISH by a service): delivered, never recoverable.
 */
export interface Publication {
  readonly channel: string;
  readonly position?: Position;
  readonly data: Uint8Array;
  /** When the broker accepted it (Unix ms), for the delivery latency metric; absent for replays and raw PUBLISH. */
  readonly time?: number;
  /** W3C traceparent of the span that published it, when traced. */
  readonly trace?: string;
}

/** A publication with its place in the channel: what history holds and replays. */
export interface PositionedPublication extends Publication {
  readonly position: Position;
}

export interface HistoryOptions {
  /** How many publications a channel's history keeps; 0 keeps none (positions are still assigned). */
  readonly size: number;
  /** How long a publication stays in history, in milliseconds. */
  readonly ttlMs: number;
}

/**
 * Makes a publish idempotent: within one channel, a publication whose sequence is not above the
 * last one seen from the same source is a duplicate and is dropped (e.g. a Kafka message
 * redelivered after a rebalance: source = topic and partition, sequence = its offset).
 */
export interface Idempotency {
  readonly source: string;
  readonly sequence: number;
}

/** Optional parts of a publish. */
export interface PublishExtras {
  readonly idempotency?: Idempotency;
  /** W3C traceparent to carry to every hub's fan-out. */
  readonly trace?: string | undefined;
}

export interface HistoryQuery {
  /** Return the publications after this position. */
  readonly since: Position;
  /** Read at most this many; more missed than that counts as not recoverable. */
  readonly limit: number;
}

export type HistoryResult =
  | { readonly recoverable: true; readonly publications: readonly PositionedPublication[]; readonly top: Position }
  | { readonly recoverable: false; readonly reason: UnrecoverableReason; readonly top: Position };

export type UnrecoverableReason = 'epoch_changed' | 'trimmed' | 'too_many_missed' | 'ahead_of_stream';

/** Receives the publications of the channels this node is subscribed to. */
export interface BrokerEventHandler {
  onPublication(publication: Publication): void;
}

/**
 * The seam between fan-out and transport: the hub asks for channels it has local subscribers of,
 * and the broker delivers their publications, each with a contiguous position (design I2, I3).
 */
export interface Broker {
  start(handler: BrokerEventHandler): Promise<void>;
  /** Whether the broker can currently serve publishes and subscriptions. */
  isReady(): boolean;
  subscribe(channels: readonly string[]): Promise<void>;
  unsubscribe(channels: readonly string[]): Promise<void>;
  /** Assigns the next position, appends to history and delivers, atomically; a duplicate changes nothing. */
  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras?: PublishExtras): Promise<Position>;
  /** The position of the channel's latest publication (offset 0 before the first one). */
  position(channel: string): Promise<Position>;
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  close(): Promise<void>;
}
