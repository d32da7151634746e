import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Broker, HistoryOptions } from '../brokers/broker.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { type Carrier, SpanKind, traced } from '../tracing.js';
import type { KafkaSettings } from './kafka-client.js';
import { ingressEvent } from './kafka-event.js';

/** A Kafka topic and the namespace (with its history settings) its events feed. */
export interface IngressRoute {
  readonly topic: string;
  readonly namespace: string;
  readonly history: HistoryOptions;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/**
 * Events of a partition handed to the broker at once. A fetched batch holds up to 1 MiB of a
 * partition (kafkajs' maxBytesPerPartition), thousands of small events; handing it over in
 * slices lets offsets be resolved and heartbeats sent as it progresses.
 */
const HANDOVER_EVENTS = 2_000;

/**
 * A fetch waits for this many bytes, or FETCH_MAX_WAIT_MS: with kafkajs' defaults (1 byte) every
 * fetch returns at once with the few events there are, and Kafka spent more CPU per event
 * answering fetches than the hub spent publishing them (70 µs against 30, 3 partitions).
 */
const FETCH_MIN_BYTES = 64 * 1024;
const FETCH_MAX_WAIT_MS = 10;

/** An event ready for the broker. */
interface Handover {
  readonly channel: string;
  readonly data: Uint8Array;
  readonly offset: string;
  readonly carrier: Carrier | undefined;
}

/**
 * Feeds Kafka events into the broker. Every hub joins one consumer group, so the cluster reads
 * each event once; an offset is committed only after the broker accepted its event (I4,
 * docs/architecture.md), and the broker drops redeliveries by topic-partition and offset, so a
 * rebalance duplicates nothing.
 *
 * A partition's fetched batch is handed over at once, in slices of HANDOVER_EVENTS: every event
 * published without waiting for the one before, in order, so the broker applies them in that
 * order and coalesces them into one call per channel and one round trip (publish-batch.ts);
 * the slice's last offset is resolved once all are accepted. One event at a time cost a Redis
 * round trip each: 5,900 events/s. Up to `kafka.partitionsConsumedConcurrently` partitions are
 * handed over at once. A slow or absent broker holds the partition (the slice is retried, the
 * next batch not fetched), so memory stays bounded by what kafkajs fetches.
 *
 * kafkajs can stop fetching silently after broker restarts, or crash for good on some errors,
 * so a watchdog restarts a consumer that crashed without restarting or stopped fetching.
 */
export class KafkaIngress {
  private consumer: Consumer | undefined;
  private joined = false;
  private stopping = false;
  /**
   * When the consumer last fetched, or last retried handing a slice to a broker that refused it:
   * a partition held back by a broker outage is not a stalled consumer, and restarting it would
   * only rejoin the group.
   */
  private lastActivity = Date.now();
  private restarting: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly routes: Map<string, IngressRoute>;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaSettings,
    routes: readonly IngressRoute[],
    private readonly broker: Broker,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.routes = new Map(routes.map((route) => [route.topic, route]));
  }

  async start(): Promise<void> {
    await this.run();
    const stallMs = this.settings.stallTimeoutSeconds * 1000;
    this.watchdog = setInterval(
      () => {
        if (!this.restarting && this.consumer && Date.now() - this.lastActivity > stallMs)
          void this.restart('stopped fetching');
      },
      Math.min(5_000, stallMs / 2),
    );
    this.watchdog.unref();
  }

  /** Ready once the consumer joined its group; not while it is being restarted. */
  isReady(): boolean {
    return this.joined && !this.restarting;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    await this.restarting;
    await this.consumer?.disconnect();
  }

  private async run(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(this.settings.sessionTimeoutMs / 10)),
      minBytes: FETCH_MIN_BYTES,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    });
    this.consumer = consumer;
    this.joined = false;
    this.lastActivity = Date.now();
    consumer.on(consumer.events.FETCH_START, () => {
      this.lastActivity = Date.now();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      this.log.warn({ err: payload.error.message, restart: payload.restart }, 'kafka consumer crashed');
      if (!payload.restart) void this.restart('crashed without restarting');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.routes.keys()], fromBeginning: this.settings.fromBeginning });
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private restart(why: string): Promise<void> {
    if (this.stopping || this.restarting) return this.restarting ?? Promise.resolve();
    this.log.warn({ why }, 'restarting the kafka consumer');
    this.metrics.kafkaConsumerRestart(why);
    this.restarting = (async () => {
      for (let attempt = 1; !this.stopping; attempt++) {
        try {
          await this.consumer?.disconnect().catch(() => undefined);
          await this.run();
          return;
        } catch (error) {
          this.log.warn({ err: (error as Error).message, attempt }, 'kafka consumer restart failed');
          await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt));
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload) {
    const route = this.routes.get(batch.topic);
    if (!route) return;
    const source = `${batch.topic}/${batch.partition}`;
    const active = () => isRunning() && !isStale() && !this.stopping;
    for (let start = 0; start < batch.messages.length; start += HANDOVER_EVENTS) {
      if (!active()) return;
      const slice = batch.messages.slice(start, start + HANDOVER_EVENTS);
      if (!(await this.handOver(route, source, slice, active, heartbeat))) return;
      const last = slice[slice.length - 1] as KafkaMessage;
      resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      this.metrics.kafkaConsumerLag(
        batch.topic,
        batch.partition,
        Number(batch.highWatermark) - Number(last.offset) - 1,
      );
    }
    await heartbeat();
  }

  /**
   * Publishes a slice of a partition's events, all at once and in order, waiting out broker
   * outages (the partition stalls rather than skipping): events the broker refused are published
   * again, in order; those it accepted are not, and a redelivery would be dropped by its offset.
   * Returns false when the consumer is stopping: the slice stays unresolved and is redelivered.
   */
  private async handOver(
    route: IngressRoute,
    source: string,
    messages: readonly KafkaMessage[],
    active: () => boolean,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    let pending: Handover[] = [];
    for (const message of messages) {
      const event = ingressEvent(message, route.namespace);
      if (event.ok) {
        pending.push({
          channel: event.channel,
          data: event.data,
          offset: message.offset,
          carrier: traceCarrier(message),
        });
      } else {
        this.log.warn(
          { source, offset: message.offset, reason: event.reason },
          'skipped a kafka event that names no valid channel',
        );
      }
    }
    for (let attempt = 1; pending.length > 0; attempt++) {
      const outcomes = await Promise.allSettled(pending.map((event) => this.publish(route, source, event)));
      const refused = pending.filter((_, i) => outcomes[i]?.status === 'rejected');
      if (refused.length === 0) return true;
      if (!active()) return false;
      if (attempt === 1) {
        const first = outcomes.find((outcome) => outcome.status === 'rejected');
        const reason = first?.status === 'rejected' && first.reason instanceof Error ? first.reason.message : 'refused';
        this.log.warn({ err: reason, source, refused: refused.length }, 'broker refused kafka events; retrying');
      }
      await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt));
      await heartbeat().catch(() => undefined);
      this.lastActivity = Date.now();
      pending = refused;
    }
    return true;
  }

  private publish(route: IngressRoute, source: string, event: Handover) {
    const idempotency = { source, sequence: Number(event.offset) };
    return traced(
      'switchboard.ingress kafka',
      SpanKind.CONSUMER,
      event.carrier,
      { 'messaging.destination.name': event.channel },
      (trace) => this.broker.publish(event.channel, event.data, route.history, { idempotency, trace }),
    );
  }
}

/** The W3C trace context a service put in the message's headers, if any. */
function traceCarrier(message: KafkaMessage): Carrier | undefined {
  const value = (name: string) => {
    const header = message.headers?.[name];
    return (Array.isArray(header) ? header[0] : header)?.toString();
  };
  const traceparent = value('traceparent');
  return traceparent === undefined ? undefined : { traceparent, tracestate: value('tracestate') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
