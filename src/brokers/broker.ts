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
  /**
   * Whether to keep the channel's source anchors (SourceAnchor), for namespaces that read what
   * history trimmed again from Kafka; other channels pay nothing for them.
   */
  readonly anchors?: boolean;
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

/** What to read of a channel: the publications after offset `after`, at most `limit` of them. */
export interface ReadQuery {
  readonly after: number;
  /** 0 reads the top position only. */
  readonly limit: number;
  /** Whether to read the channel's source anchors too (`ChannelRead.sources`). */
  readonly sources?: boolean;
}

/**
 * Where a channel's publications came from, from offset `off` on: the publications at `off`,
 * `off + 1`, … were published with idempotency source `source` (a Kafka topic-partition,
 * `orders/3`) in the order of their sequences (its offsets), the one at `off` with `sequence`,
 * until the next anchor. `source` is '' for publications without one (an HTTP publish): those
 * can only come from history. Brokers keep a bounded list per channel and epoch
 * (source-anchors.ts), so that publications trimmed from history can be read again from their
 * source (src/bridges/kafka-replay.ts).
 */
export interface SourceAnchor {
  readonly off: number;
  readonly source: string;
  readonly sequence: number;
}

/**
 * A channel as the broker holds it now. The broker reports what it has and judges nothing:
 * whether a recovery or a repair is possible, and why not, is decided in one place for every
 * broker (src/streams/recovery.ts).
 */
export interface ChannelRead {
  /** The channel's epoch, and the offset of its latest publication (0 before the first). */
  readonly top: Position;
  /**
   * Retained publications of `top.ep` after the requested offset, oldest first, at most `limit`,
   * none expired and none after `top`. They may start later than asked (trimmed) or be fewer.
   */
  readonly publications: readonly PositionedPublication[];
  /**
   * With `sources` asked: the channel's anchors in `top.ep`, oldest first (possibly fewer than
   * were made: the oldest go first). Absent when the broker keeps none.
   */
  readonly sources?: readonly SourceAnchor[];
}

/**
 * Receives what the broker delivers to this node. Publications can be lost between the broker
 * and the node (Redis pub/sub delivers at most once: nothing published while the connection is
 * down reaches it), and the broker says when that may have happened, so that every channel
 * checks its position against the broker's (src/streams/).
 */
export interface BrokerEventHandler {
  onPublication(publication: Publication): void;
  /** Delivery to this node stopped (its subscription connection dropped). */
  onDeliveryInterrupted(): void;
  /** Delivery is back; whatever was published meanwhile did not arrive. */
  onDeliveryResumed(): void;
  /** Joins and leaves of `channel`'s presence, as one hub sent them (`change` is its JSON). */
  onPresence(channel: string, change: string): void;
}

/**
 * The seam between fan-out and the backbone: a store of positions and history, plus pub/sub.
 * The node asks for the channels it has local subscribers of (I2, docs/architecture.md), and
 * the broker delivers their publications, each with a contiguous position (I3, docs/architecture.md).
 *
 * Contract, for any implementation:
 * - `publish` assigns the channel's next offset, appends to its history (bounded by size and
 *   age) and delivers to subscribed nodes, atomically with respect to other publishes of the
 *   channel; a publish whose idempotency sequence was already seen from its source changes
 *   nothing and answers the channel's current position.
 * - Publishes of a channel made in order without awaiting each other are applied in that order:
 *   callers that need throughput (a Kafka partition's batch, `POST /api/batch`) hand many over at
 *   once, and the broker may coalesce them (the Redis broker sends one script call per channel
 *   per turn of the event loop, brokers/publish-batch.ts).
 * - A channel's epoch changes whenever its history is lost (never otherwise), and offsets
 *   restart at 1 in the new epoch.
 * - `read` never invents or reorders: it returns what is retained, and the top.
 * - Delivery is at most once per subscribed node; when it may have lost publications, the
 *   handler hears `onDeliveryInterrupted` then `onDeliveryResumed`.
 */
export interface Broker {
  start(handler: BrokerEventHandler): Promise<void>;
  /** Whether the broker can currently serve publishes and subscriptions. */
  isReady(): boolean;
  /** Why not, when the broker has parts (shards) it can name: one reason per part that cannot serve. */
  notReady?(): string[];
  subscribe(channels: readonly string[]): Promise<void>;
  unsubscribe(channels: readonly string[]): Promise<void>;
  /** Assigns the next position, appends to history and delivers, atomically; a duplicate changes nothing. */
  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras?: PublishExtras): Promise<Position>;
  read(channel: string, query: ReadQuery): Promise<ChannelRead>;
  /**
   * Delivers a presence change (JSON, src/presence/) to every node subscribed to `channel`, this
   * one included: live only and at most once, like a raw publication, and never in history.
   */
  publishPresence(channel: string, change: string): Promise<void>;
  close(): Promise<void>;
}
