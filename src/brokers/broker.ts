import type { Position } from '@switchboard/protocol';

/** A publication as it travels between broker and hub: data stays msgpack-encoded end to end. */
export interface Publication {
  readonly channel: string;
  readonly position: Position;
  readonly data: Uint8Array;
}

export interface HistoryOptions {
  /** How many publications a channel's history keeps; 0 keeps none (positions are still assigned). */
  readonly size: number;
  /** How long a publication stays in history, in milliseconds. */
  readonly ttlMs: number;
}

export interface HistoryQuery {
  /** Return the publications after this position. */
  readonly since: Position;
  /** Read at most this many; more missed than that counts as not recoverable. */
  readonly limit: number;
}

export type HistoryResult =
  | { readonly recoverable: true; readonly publications: readonly Publication[]; readonly top: Position }
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
  publish(channel: string, data: Uint8Array, history: HistoryOptions): Promise<Position>;
  /** The position of the channel's latest publication (offset 0 before the first one). */
  position(channel: string): Promise<Position>;
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  close(): Promise<void>;
}
