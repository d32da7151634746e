import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the metrics read at scrape time rather than count on the way. */
export interface MetricSources {
  connections(): number;
  subscriptions(): number;
  channels(): number;
  slowConsumerCloses(): number;
  refusals(): ReadonlyMap<string, number>;
}

/** Close codes get their own label value; anything else is `other`, so cardinality stays bounded. */
const KNOWN_CLOSE_CODES = new Set([
  1000, 1001, 1005, 1006, 1009, 4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4500, 4501, 4502, 4503,
]);

/**
 * The hub's Prometheus metrics (GET /metrics). Labels never carry a channel, user or connection:
 * their values are bounded sets (close codes, reasons, outcomes, Kafka partitions).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly opened: Counter;
  private readonly closed: Counter<'code'>;
  private readonly publications: Counter;
  private readonly deliveries: Counter;
  private readonly deliveredBytes: Counter;
  private readonly deltaSavedBytes: Counter;
  private readonly latency: Histogram;
  private readonly recoveries: Counter<'outcome' | 'reason'>;
  private readonly clientPublishes: Counter<'target' | 'outcome'>;
  private readonly brokerErrors: Counter<'operation'>;
  private readonly kafkaLag: Gauge<'topic' | 'partition'>;
  private readonly kafkaRestarts: Counter<'reason'>;
  private readonly brokerReads: Counter<'purpose' | 'kind'>;
  private readonly streamRepairs: Counter<'outcome'>;
  private readonly presencePushes: Counter;
  private readonly presenceChanges: Counter<'outcome'>;
  private readonly apiCalls: Counter<'method' | 'status'>;
  private readonly controlAnswers: Counter<'outcome'>;
  private readonly sseCommands: Counter<'route' | 'status'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'switchboard_connections',
      help: 'Open client connections.',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'switchboard_subscriptions',
      help: 'Channel subscriptions of the open connections.',
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    new Gauge({
      name: 'switchboard_channels',
      help: 'Distinct channels with local subscribers.',
      registers,
      collect() {
        this.set(sources.channels());
      },
    });
    new Counter({
      name: 'switchboard_slow_consumer_closes_total',
      help: 'Connections closed with 4001 because their unread backlog passed the limit.',
      registers,
      collect() {
        this.reset();
        this.inc(sources.slowConsumerCloses());
      },
    });
    new Counter({
      name: 'switchboard_refusals_total',
      help: 'Requests, frames and connections refused by a limit or an authorization check, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of sources.refusals()) this.inc({ reason }, count);
      },
    });
    this.opened = new Counter({ name: 'switchboard_connections_opened_total', help: 'Connections opened.', registers });
    this.closed = new Counter({
      name: 'switchboard_connections_closed_total',
      help: 'Connections closed, by WebSocket close code.',
      labelNames: ['code'],
      registers,
    });
    this.publications = new Counter({
      name: 'switchboard_publications_total',
      help: 'Publications the broker delivered to this hub for fan-out.',
      registers,
    });
    this.deliveries = new Counter({
      name: 'switchboard_deliveries_total',
      help: 'Publication frames handed to local subscribers.',
      registers,
    });
    this.deliveredBytes = new Counter({
      name: 'switchboard_delivered_bytes_total',
      help: 'Bytes of publication frames handed to local subscribers.',
      registers,
    });
    this.deltaSavedBytes = new Counter({
      name: 'switchboard_delta_saved_bytes_total',
      help: 'Bytes that fossil delta pushes saved against whole publications, over every delta subscriber.',
      registers,
    });
    this.latency = new Histogram({
      name: 'switchboard_delivery_latency_seconds',
      help: 'From the broker accepting a publication to this hub handing it to its subscribers.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.recoveries = new Counter({
      name: 'switchboard_recoveries_total',
      help: 'Subscriptions with `since`, by outcome and, when not recovered, reason.',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.clientPublishes = new Counter({
      name: 'switchboard_client_publishes_total',
      help: 'Client publishes, by target (broker or egress) and outcome.',
      labelNames: ['target', 'outcome'],
      registers,
    });
    this.brokerErrors = new Counter({
      name: 'switchboard_broker_errors_total',
      help: 'Broker operations that failed, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.kafkaLag = new Gauge({
      name: 'switchboard_kafka_consumer_lag',
      help: 'Events of a partition not yet handed to the broker, as of the last batch.',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.brokerReads = new Counter({
      name: 'switchboard_broker_reads_total',
      help:
        'Reads of channel positions (kind=position) and history (kind=history) by the channel streams, ' +
        'by purpose: start, join (a client resuming), repair (a gap or an outage), check (periodic).',
      labelNames: ['purpose', 'kind'],
      registers,
    });
    this.streamRepairs = new Counter({
      name: 'switchboard_stream_repairs_total',
      help:
        'Gaps in what reached this hub, by outcome: repaired from history, or told to subscribers as lost ' +
        '(epoch_changed, trimmed, too_many_missed).',
      labelNames: ['outcome'],
      registers,
    });
    this.presencePushes = new Counter({
      name: 'switchboard_presence_pushes_total',
      help: 'Presence changes (`pres` pushes) this hub sent to the hubs with members of the channel.',
      registers,
    });
    this.presenceChanges = new Counter({
      name: 'switchboard_presence_changes_total',
      help: 'Joins and leaves this hub pushed (outcome=pushed), or dropped because too many waited (dropped).',
      labelNames: ['outcome'],
      registers,
    });
    this.apiCalls = new Counter({
      name: 'switchboard_api_calls_total',
      help: 'Server API calls answered by this hub, by method and HTTP status.',
      labelNames: ['method', 'status'],
      registers,
    });
    this.sseCommands = new Counter({
      name: 'switchboard_sse_commands_total',
      help: 'Command POSTs of SSE streams answered by this hub: for a stream here (local) or sent to its hub (forwarded), by HTTP status.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.controlAnswers = new Counter({
      name: 'switchboard_control_answers_total',
      help: "Hubs asked by this hub's server API commands, by outcome: answered, failed, or missing at the deadline.",
      labelNames: ['outcome'],
      registers,
    });
    this.kafkaRestarts = new Counter({
      name: 'switchboard_kafka_consumer_restarts_total',
      help: 'Kafka consumers restarted by the watchdog, by reason.',
      labelNames: ['reason'],
      registers,
    });
  }

  connectionOpened(): void {
    this.opened.inc();
  }

  connectionClosed(code: number): void {
    this.closed.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' });
  }

  /** One publication fanned out to `subscribers` sockets, `bytes` in all. */
  delivered(subscribers: number, bytes: number, acceptedAt: number | undefined): void {
    this.publications.inc();
    this.deliveries.inc(subscribers);
    this.deliveredBytes.inc(bytes);
    if (acceptedAt !== undefined) this.latency.observe(Math.max(0, Date.now() - acceptedAt) / 1000);
  }

  deltaSaved(bytes: number): void {
    this.deltaSavedBytes.inc(bytes);
  }

  brokerRead(purpose: string, history: boolean): void {
    this.brokerReads.inc({ purpose, kind: history ? 'history' : 'position' });
  }

  streamRepair(outcome: string): void {
    this.streamRepairs.inc({ outcome });
  }

  recovery(recovered: boolean, reason: string | undefined): void {
    this.recoveries.inc({ outcome: recovered ? 'recovered' : 'not_recovered', reason: reason ?? '' });
  }

  clientPublish(target: 'broker' | 'egress', ok: boolean): void {
    this.clientPublishes.inc({ target, outcome: ok ? 'accepted' : 'refused' });
  }

  brokerError(operation: string): void {
    this.brokerErrors.inc({ operation });
  }

  kafkaConsumerLag(topic: string, partition: number, lag: number): void {
    this.kafkaLag.set({ topic, partition: String(partition) }, lag);
  }

  presencePushed(changes: number): void {
    this.presencePushes.inc();
    this.presenceChanges.inc({ outcome: 'pushed' }, changes);
  }

  presenceDropped(changes: number): void {
    this.presenceChanges.inc({ outcome: 'dropped' }, changes);
  }

  /** `method` is one of the API's (unknown ones count as `unknown`), `status` the HTTP status code. */
  apiCall(method: string, status: number): void {
    this.apiCalls.inc({ method, status: String(status) });
  }

  sseCommand(route: 'local' | 'forwarded', status: number): void {
    this.sseCommands.inc({ route, status: String(status) });
  }

  controlAnswered(answered: number, failed: number, missing: number): void {
    if (answered > 0) this.controlAnswers.inc({ outcome: 'answered' }, answered);
    if (failed > 0) this.controlAnswers.inc({ outcome: 'failed' }, failed);
    if (missing > 0) this.controlAnswers.inc({ outcome: 'missing' }, missing);
  }

  kafkaConsumerRestart(reason: string): void {
    this.kafkaRestarts.inc({ reason });
  }
}
