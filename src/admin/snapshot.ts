import { z } from 'zod';
import type { Metrics } from '../metrics.js';
import type { Streams } from '../streams/streams.js';

const Count = z.number().int().min(0);
const Rate = z.number().min(0);

/** Body of `GET /admin/api/snapshot`: what this hub knows of itself, now. */
export const AdminSnapshot = z.strictObject({
  /** Unix milliseconds when it was taken. */
  takenAt: z.number().int(),
  node: z.strictObject({
    name: z.string(),
    broker: z.enum(['memory', 'redis']),
    startedAt: z.number().int(),
    /** Empty while the hub serves clients; otherwise why it does not (as /readyz says). */
    notReady: z.array(z.string()),
    /** Whether the demo's simulated services run here (`demo.enabled`). */
    demo: z.boolean(),
  }),
  connections: z.strictObject({
    open: Count,
    subscriptions: Count,
    opened: Count,
    /** Closed connections by WebSocket close code (`other` for codes outside the known set). */
    closedByCode: z.record(z.string(), Count),
  }),
  channels: z.strictObject({
    /** Channels with local subscribers. */
    total: Count,
    /** The busiest of them by subscribers, at most `CHANNELS_SHOWN`. */
    top: z.array(z.strictObject({ channel: z.string(), subscribers: Count, publicationsPerSecond: Rate })),
  }),
  fanout: z.strictObject({
    publicationsPerSecond: Rate,
    deliveriesPerSecond: Rate,
    /** The span the rates (these and the channels') were measured over; 0 before a second sample. */
    overSeconds: Rate,
  }),
  slowConsumerCloses: Count,
  /** Refused requests, frames and connections, by reason (limits and authorization). */
  refusals: z.record(z.string(), Count),
  /** Kafka ingress lag per topic partition, as of each partition's last batch. */
  kafkaLag: z.array(z.strictObject({ topic: z.string(), partition: z.number().int(), lag: z.number() })),
});
export type AdminSnapshot = z.infer<typeof AdminSnapshot>;

/** How many channels a snapshot lists; the page shows the busiest, the total says how many more. */
export const CHANNELS_SHOWN = 50;
/** Rates are differences between samples at least this far apart, whoever asks how often. */
const MIN_SAMPLE_MS = 1_000;

/** What the admin view reads from the node (src/node.ts). */
export interface AdminSource {
  readonly name: string;
  readonly brokerType: 'memory' | 'redis';
  readonly startedAt: number;
  readonly demoRunning: boolean;
  readonly streams: Streams;
  readonly metrics: Metrics;
  openConnections(): number;
  subscriptions(): number;
  slowConsumerCloses(): number;
  notReadyReasons(): string[];
}

interface Sample {
  readonly at: number;
  readonly publications: number;
  readonly deliveries: number;
  readonly channels: ReadonlyMap<string, number>;
}

interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
}

/** Builds snapshots; keeps the last sample so that rates span at least a second. */
export class AdminView {
  private previous: Sample | undefined;
  private rates = { publications: 0, deliveries: 0, overSeconds: 0, channels: new Map<string, number>() };

  constructor(private readonly source: AdminSource) {}

  async snapshot(now = Date.now()): Promise<AdminSnapshot> {
    const { source } = this;
    const metrics = new Map((await source.metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m.values]));
    const values = (name: string): readonly MetricValue[] => (metrics.get(name) ?? []) as readonly MetricValue[];
    const total = (name: string) => values(name).reduce((sum, v) => sum + v.value, 0);
    const byLabel = (name: string, label: string) =>
      Object.fromEntries(values(name).map((v) => [String(v.labels[label]), v.value]));

    const top = busiestChannels(source.streams);
    const sample: Sample = {
      at: now,
      publications: total('switchboard_publications_total'),
      deliveries: total('switchboard_deliveries_total'),
      channels: new Map(top.map(({ channel, published }) => [channel, published])),
    };
    this.updateRates(sample);
    return AdminSnapshot.parse({
      takenAt: now,
      node: {
        name: source.name,
        broker: source.brokerType,
        startedAt: source.startedAt,
        notReady: source.notReadyReasons(),
        demo: source.demoRunning,
      },
      connections: {
        open: source.openConnections(),
        subscriptions: source.subscriptions(),
        opened: total('switchboard_connections_opened_total'),
        closedByCode: byLabel('switchboard_connections_closed_total', 'code'),
      },
      channels: {
        total: source.streams.channelCount,
        top: top.map(({ channel, subscribers }) => ({
          channel,
          subscribers,
          publicationsPerSecond: this.rates.channels.get(channel) ?? 0,
        })),
      },
      fanout: {
        publicationsPerSecond: this.rates.publications,
        deliveriesPerSecond: this.rates.deliveries,
        overSeconds: this.rates.overSeconds,
      },
      slowConsumerCloses: source.slowConsumerCloses(),
      refusals: byLabel('switchboard_refusals_total', 'reason'),
      kafkaLag: values('switchboard_kafka_consumer_lag').map((v) => ({
        topic: String(v.labels.topic),
        partition: Number(v.labels.partition),
        lag: v.value,
      })),
    });
  }

  private updateRates(sample: Sample): void {
    const previous = this.previous;
    if (previous && sample.at - previous.at < MIN_SAMPLE_MS) return;
    this.previous = sample;
    if (!previous) return;
    const seconds = (sample.at - previous.at) / 1000;
    const per = (now: number, before: number) => Math.max(0, now - before) / seconds;
    const channels = new Map<string, number>();
    for (const [channel, count] of sample.channels)
      channels.set(channel, per(count, previous.channels.get(channel) ?? count));
    this.rates = {
      publications: per(sample.publications, previous.publications),
      deliveries: per(sample.deliveries, previous.deliveries),
      overSeconds: seconds,
      channels,
    };
  }
}

/** The CHANNELS_SHOWN channels with the most subscribers, with the publications fanned out on each. */
function busiestChannels(streams: Streams): { channel: string; subscribers: number; published: number }[] {
  const all: { channel: string; subscribers: number; published: number }[] = [];
  for (const [channel, subscribers, published] of streams.channels()) all.push({ channel, subscribers, published });
  return all
    .sort((a, b) => b.subscribers - a.subscribers || a.channel.localeCompare(b.channel))
    .slice(0, CHANNELS_SHOWN);
}
