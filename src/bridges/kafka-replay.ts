import { namespaceOf } from '@switchboard/protocol';
import type * as KafkaJs from 'kafkajs';
import type { Admin, Kafka } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { PositionedPublication } from '../brokers/broker.js';
import type { Logger } from '../log.js';
import { optional } from '../optional.js';
import type { Archive, ArchiveRequest } from '../streams/archive.js';
import type { KafkaSettings } from './kafka-client.js';
import { type PlanRefusal, planReplay } from './replay-plan.js';
import { type ReadFailure, ReplayReader } from './replay-reader.js';

/** How a replay ended (the metric's label). */
export type ReplayOutcome = 'replayed' | 'busy' | PlanRefusal | ReadFailure;

/**
 * Reads again from Kafka what a channel's history trimmed, for the namespaces whose
 * `kafkaIngress` has `replay` (the Archive recovery asks, src/streams/recovery.ts). The broker's
 * source anchors say which partition offsets the missing publications came from (replay-plan.ts);
 * each run is read by a consumer of its own outside the ingress group (replay-reader.ts).
 *
 * Bounded: `kafka.replay.concurrency` runs read at once per hub, `queue` more wait, beyond that a
 * replay is refused at once (`busy`: the resume is answered `trimmed`); each replay reads at most
 * `maxRecords` Kafka records within `timeoutMs`. Resumes asking for the same stretch of a channel
 * at once (every tab of a page reloading) share one replay.
 */
export class KafkaReplay implements Archive {
  readonly timeoutMs: number;
  /** Topics a replay may read: the ingress topics of the namespaces with replay. */
  private readonly readable: ReadonlySet<string>;
  private readonly reader: ReplayReader;
  private readonly inFlight = new Map<string, Promise<readonly PositionedPublication[] | undefined>>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private stopped = false;
  private admin: Promise<Admin> | undefined;
  private readonly outcomes: Counter<'outcome'>;
  private readonly replayed: Counter;
  private readonly seconds: Histogram;

  /** `topics`: the ingress topic of each namespace with replay. */
  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly topics: ReadonlyMap<string, string>,
    registry: Registry,
    private readonly log: Logger,
  ) {
    this.timeoutMs = settings.replay.timeoutMs;
    this.readable = new Set(topics.values());
    this.reader = new ReplayReader(kafka, () => this.connectedAdmin(), `${settings.groupId}.replay`);
    const registers = [registry];
    this.outcomes = new Counter({
      name: 'switchboard_kafka_replays_total',
      help: 'Resumes that asked Kafka for what history trimmed, by outcome: replayed, busy, not_indexed, not_from_kafka, retention, incomplete, mismatch, too_long, timeout, error.',
      labelNames: ['outcome'],
      registers,
    });
    this.replayed = new Counter({
      name: 'switchboard_kafka_replayed_publications_total',
      help: 'Publications read again from Kafka for resumes.',
      registers,
    });
    this.seconds = new Histogram({
      name: 'switchboard_kafka_replay_seconds',
      help: 'How long replays from Kafka took, group join included.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
      registers,
    });
  }

  /**
   * Warns, without holding the start, when the Kafka brokers delay every new group's first join
   * (`group.initial.rebalance.delay.ms`, 3 s by default) by more than a quarter of the replay
   * timeout: each replay joins a group of its own and would spend most of its time waiting.
   */
  start(): void {
    void this.connectedAdmin()
      .then((admin) => rebalanceDelayMs(admin))
      .then((delay) => {
        if (delay !== undefined && delay > this.timeoutMs / 4) {
          this.log.warn(
            { 'group.initial.rebalance.delay.ms': delay, 'kafka.replay.timeoutMs': this.timeoutMs },
            'the Kafka brokers delay each replay by group.initial.rebalance.delay.ms: set it low (docs/operations.md, Replay from Kafka)',
          );
        }
      })
      .catch(() => undefined);
  }

  covers(channel: string): boolean {
    return this.topics.has(namespaceOf(channel));
  }

  fetch(request: ArchiveRequest): Promise<readonly PositionedPublication[] | undefined> {
    const key = `${request.channel}\n${request.ep}\n${request.from}\n${request.to}`;
    let replay = this.inFlight.get(key);
    if (!replay) {
      replay = this.replay(request).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, replay);
    }
    return replay;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const waiting = this.waiting.splice(0);
    this.running += waiting.length;
    for (const wake of waiting) wake();
    await this.reader.stop();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((client) => client.disconnect()).catch(() => undefined);
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= connected(this.kafka.admin()).catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  private async replay(request: ArchiveRequest): Promise<readonly PositionedPublication[] | undefined> {
    const started = Date.now();
    // A finished replay hands its turn to the first waiting one, so at most `concurrency` read.
    if (this.running >= this.settings.replay.concurrency) {
      if (this.waiting.length >= this.settings.replay.queue) return this.end(request, started, 'busy');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running += 1;
    try {
      if (this.stopped) return this.end(request, started, 'busy');
      return await this.read(request, started);
    } catch (error) {
      this.log.warn({ channel: request.channel, err: (error as Error).message }, 'kafka replay failed');
      return this.end(request, started, 'error');
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  private async read(request: ArchiveRequest, started: number): Promise<readonly PositionedPublication[] | undefined> {
    const namespace = namespaceOf(request.channel);
    const plan = planReplay(request.anchors, request.from, request.to, this.readable);
    if (!plan.ok) return this.end(request, started, plan.reason);
    const deadline = started + this.timeoutMs;
    let budget = this.settings.replay.maxRecords;
    const publications: PositionedPublication[] = [];
    for (const run of plan.runs) {
      const result = await this.reader.read({
        run,
        channel: request.channel,
        namespace,
        ep: request.ep,
        maxRecords: budget,
        deadline,
      });
      if (!result.ok) return this.end(request, started, result.reason);
      publications.push(...result.publications);
      budget -= result.records;
    }
    this.replayed.inc(publications.length);
    this.end(request, started, 'replayed');
    return publications;
  }

  /** Counts how a replay ended; undefined (nothing replayed) unless it was. */
  private end(request: ArchiveRequest, started: number, outcome: ReplayOutcome): undefined {
    this.outcomes.inc({ outcome });
    this.seconds.observe((Date.now() - started) / 1000);
    if (outcome !== 'replayed') {
      this.log.info(
        { channel: request.channel, from: request.from, to: request.to, outcome },
        'history trimmed and not replayed from kafka',
      );
    }
    return undefined;
  }
}

async function connected(admin: Admin): Promise<Admin> {
  await admin.connect();
  return admin;
}

/** The brokers' `group.initial.rebalance.delay.ms` (the largest, if they differ), if they tell. */
export async function rebalanceDelayMs(admin: Admin): Promise<number | undefined> {
  const { ConfigResourceTypes } = optional<typeof KafkaJs>('kafkajs');
  const { brokers } = await admin.describeCluster();
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: brokers.map(({ nodeId }) => ({
      type: ConfigResourceTypes.BROKER,
      name: String(nodeId),
      configNames: ['group.initial.rebalance.delay.ms'],
    })),
  });
  const values = described.resources.flatMap(({ configEntries }) =>
    configEntries.flatMap((entry) => (entry.configValue === null ? [] : [Number(entry.configValue)])),
  );
  const known = values.filter(Number.isFinite);
  return known.length > 0 ? Math.max(...known) : undefined;
}
