import type { Position } from '@switchboard/protocol';
import type {
  Broker,
  BrokerEventHandler,
  ChannelRead,
  HistoryOptions,
  PositionedPublication,
  PublishExtras,
  ReadQuery,
} from './broker.js';
import { newEpoch } from './epoch.js';
import { HistoryBudget } from './history-budget.js';
import { entryBytes, HistoryRing } from './history-ring.js';
import { AnchorList } from './source-anchors.js';

/**
 * What the broker knows of a channel. A channel only read (subscribed, never published to)
 * holds just its epoch and offset: its history and idempotency map come with its first
 * publication (about 330 B a channel saved on a hub whose channels are mostly quiet).
 */
interface ChannelState {
  readonly epoch: string;
  offset: number;
  history: HistoryRing | undefined;
  /** Last idempotency sequence seen per source. */
  sequences: Map<string, number> | undefined;
  /** Where its publications came from (source-anchors.ts), from its first publication on. */
  anchors: AnchorList | undefined;
}

export interface MemoryBrokerOptions {
  /** How often channels without subscribers and without live history are forgotten, and expired history dropped. */
  readonly sweepIntervalMs?: number;
  /** Bytes of history over all channels (`broker.maxHistoryBytes`); the oldest publications go first. Default 128 MiB. */
  readonly maxHistoryBytes?: number;
}

const DEFAULT_MAX_HISTORY_BYTES = 128 * 1024 * 1024;

/**
 * The embedded single-node broker. History lives in this process, so it is lost with it; the
 * epoch of a channel changes whenever its state is forgotten, which is what makes that visible.
 * Each channel keeps its history's size and time, and all of them together a node-wide number
 * of bytes (history-budget.ts).
 */
export class MemoryBroker implements Broker {
  private readonly channels = new Map<string, ChannelState>();
  private readonly interest = new Set<string>();
  private readonly budget: HistoryBudget;
  private handler: BrokerEventHandler | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: MemoryBrokerOptions = {}) {
    this.budget = new HistoryBudget(options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES);
  }

  /** Bytes of history retained over all channels. */
  get historyBytes(): number {
    return this.budget.used;
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    this.sweeper = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 10_000);
    this.sweeper.unref();
  }

  isReady(): boolean {
    return this.handler !== undefined;
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.interest.add(channel);
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.interest.delete(channel);
  }

  async publish(
    channel: string,
    data: Uint8Array,
    history: HistoryOptions,
    extras: PublishExtras = {},
  ): Promise<Position> {
    const state = this.stateOf(channel);
    const { idempotency } = extras;
    if (idempotency) {
      const seen = state.sequences?.get(idempotency.source) ?? -1;
      if (idempotency.sequence <= seen) return { ep: state.epoch, off: state.offset };
      state.sequences ??= new Map();
      state.sequences.set(idempotency.source, idempotency.sequence);
    }
    state.offset += 1;
    if (history.anchors) {
      state.anchors ??= new AnchorList();
      state.anchors.record(state.offset, idempotency?.source ?? '', idempotency?.sequence ?? 0);
    }
    const publication: PositionedPublication = {
      channel,
      position: { ep: state.epoch, off: state.offset },
      data,
      time: Date.now(),
      ...(extras.trace ? { trace: extras.trace } : {}),
    };
    if (history.size > 0) {
      state.history ??= new HistoryRing();
      const dropped = state.history.push(publication, Date.now() + history.ttlMs, history.size);
      this.budget.added(state.history, state.offset, entryBytes(publication), dropped);
    } else if (state.history) this.budget.released(state.history.clear());
    if (this.interest.has(channel)) this.handler?.onPublication(publication);
    return publication.position;
  }

  async read(channel: string, query: ReadQuery): Promise<ChannelRead> {
    const state = this.stateOf(channel);
    const top = { ep: state.epoch, off: state.offset };
    const sources = query.sources ? { sources: state.anchors?.list() ?? [] } : {};
    if (query.limit === 0 || !state.history) return { top, publications: [], ...sources };
    return { top, publications: state.history.after(query.after, query.limit, Date.now()), ...sources };
  }

  async publishPresence(channel: string, change: string): Promise<void> {
    if (this.interest.has(channel)) this.handler?.onPresence(channel, change);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.handler = undefined;
    for (const state of this.channels.values()) if (state.history) this.budget.released(state.history.clear());
    this.channels.clear();
    this.interest.clear();
  }

  private stateOf(channel: string): ChannelState {
    let state = this.channels.get(channel);
    if (!state) {
      state = { epoch: newEpoch(), offset: 0, history: undefined, sequences: undefined, anchors: undefined };
      this.channels.set(channel, state);
    }
    return state;
  }

  /**
   * Drops expired history, and forgets channels nobody here listens to whose history has
   * expired, bounding memory.
   */
  private sweep(): void {
    const now = Date.now();
    for (const [channel, state] of this.channels) {
      if (state.history) this.budget.released(state.history.dropExpired(now));
      if (this.interest.has(channel) || (state.history?.size ?? 0) > 0) continue;
      this.channels.delete(channel);
    }
  }
}
