import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { PositionedPublication } from '../brokers/broker.js';
import { namedPartitionAssigner } from './kafka-assigner.js';
import { ingressEvent } from './kafka-event.js';
import type { ReplayRun } from './replay-plan.js';

/** Why reading a run failed. */
export type ReadFailure =
  /** Kafka's retention deleted the run's first record. */
  | 'retention'
  /** The partition ends before the run does (a topic recreated since). */
  | 'incomplete'
  /** A record is not at the partition offset its anchor names: the count would not be exact. */
  | 'mismatch'
  /** More than `maxRecords` records to read. */
  | 'too_long'
  | 'timeout'
  | 'error';

export type RunRead =
  | { readonly ok: true; readonly publications: readonly PositionedPublication[]; readonly records: number }
  | { readonly ok: false; readonly reason: ReadFailure };

export interface RunQuery {
  readonly run: ReplayRun;
  readonly channel: string;
  readonly namespace: string;
  readonly ep: string;
  /** Kafka records read at most. */
  readonly maxRecords: number;
  readonly deadline: number;
}

/**
 * A fetch returns what it has after this long: the end of a run is usually the partition's end,
 * and kafkajs' default (5 s, waiting for `minBytes`) would hold the replay that long.
 */
const FETCH_MAX_WAIT_MS = 50;

/**
 * Reads one run of a channel from its partition: a consumer of its own, in a group of its own
 * with the one partition assigned (namedPartitionAssigner; kafkajs has no `assign()`), outside
 * the ingress group, committing nothing, seeking to the run's first record. The group has no
 * offsets, so Kafka forgets it when the consumer leaves. Records are turned into publications
 * exactly as ingress turned them (ingressEvent): the channel's records are counted from the
 * run's first anchor, each anchor's partition offset is checked on the way, and the read stops
 * at the run's last wanted offset, at the partition's end, or at the bounds.
 */
export class ReplayReader {
  private readonly consumers = new Set<Consumer>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: () => Promise<Admin>,
    private readonly groupPrefix: string,
  ) {}

  async read(query: RunQuery): Promise<RunRead> {
    const { run } = query;
    const offsets = await (await this.admin()).fetchTopicOffsets(run.topic);
    const watermarks = offsets.find((entry) => entry.partition === run.partition);
    if (!watermarks) return { ok: false, reason: 'incomplete' };
    if (Number(watermarks.low) > run.start.sequence) return { ok: false, reason: 'retention' };
    if (Number(watermarks.high) <= run.start.sequence) return { ok: false, reason: 'incomplete' };
    return this.consume(query);
  }

  /** Stops the reads in progress (the hub is stopping). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.disconnect()));
  }

  private async consume(query: RunQuery): Promise<RunRead> {
    const { run } = query;
    const consumer = this.kafka.consumer({
      groupId: `${this.groupPrefix}.${randomUUID()}`,
      partitionAssigners: [namedPartitionAssigner(run.topic, run.partition)],
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      retry: { retries: 2 },
    });
    this.consumers.add(consumer);
    let finish: (outcome: RunRead) => void = () => undefined;
    const outcome = new Promise<RunRead>((resolve) => {
      finish = resolve;
    });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), Math.max(0, query.deadline - Date.now()));
    const counter = new RunCounter(query);
    let closed = false;
    const started = (async () => {
      await consumer.connect();
      if (closed) return;
      await consumer.subscribe({ topics: [run.topic], fromBeginning: true });
      if (closed) return;
      await consumer.run({
        // Nothing committed (the group is thrown away), but each batch resolved: kafkajs fetches
        // on from the last resolved offset, and would fetch the first batch again forever.
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async (payload) => {
          const result = counter.take(payload);
          if (result) finish(result);
        },
      });
      consumer.seek({ topic: run.topic, partition: run.partition, offset: String(run.start.sequence) });
    })();
    // Past the deadline nobody waits for the start any more; its failure is the timeout's.
    started.catch(() => undefined);
    try {
      // The deadline holds from the start: a join that hangs is a timeout like a slow read.
      await Promise.race([started, outcome]);
      return await outcome;
    } catch {
      return { ok: false, reason: 'error' };
    } finally {
      closed = true;
      clearTimeout(timer);
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
    }
  }
}

/** Counts a run's records as batches arrive; answers once the run is read or cannot be. */
class RunCounter {
  private readonly publications: PositionedPublication[] = [];
  private readonly checks: Map<number, number>;
  /** The channel offset the next record of the channel has. */
  private next: number;
  /** The partition offset to read next: earlier ones (a fetch from before the seek) are skipped. */
  private position: number;
  private records = 0;
  private done = false;

  constructor(private readonly query: RunQuery) {
    const { run } = query;
    this.checks = new Map(run.anchors.map((anchor) => [anchor.off, anchor.sequence]));
    this.next = run.start.off;
    this.position = run.start.sequence;
  }

  take({ batch }: EachBatchPayload): RunRead | undefined {
    const { run, channel, namespace, ep } = this.query;
    if (this.done || batch.topic !== run.topic || batch.partition !== run.partition) return undefined;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < this.position) continue;
      this.position = offset + 1;
      if (++this.records > this.query.maxRecords) return this.end({ ok: false, reason: 'too_long' });
      const event = ingressEvent(message, namespace);
      if (!event.ok || event.channel !== channel) continue;
      const off = this.next++;
      const expected = this.checks.get(off);
      if (expected !== undefined && expected !== offset) return this.end({ ok: false, reason: 'mismatch' });
      if (off >= run.from) this.publications.push({ channel, position: { ep, off }, data: event.data });
      if (off >= run.to) return this.end({ ok: true, publications: this.publications, records: this.records });
    }
    if (this.position >= Number(batch.highWatermark)) return this.end({ ok: false, reason: 'incomplete' });
    return undefined;
  }

  private end(result: RunRead): RunRead {
    this.done = true;
    return result;
  }
}
