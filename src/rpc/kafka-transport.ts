import { dataProblem } from '@switchboard/protocol';
import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { namedPartitionAssigner } from '../bridges/kafka-assigner.js';
import type { Logger } from '../log.js';
import { within } from '../time.js';
import type { DroppedReply, PendingCalls } from './calls.js';
import type { RpcSettings } from './config.js';
import { formatReplyAddress, Header, ReplyEnvelope } from './wire.js';

/** A request on its way to a service's topic. */
export interface KafkaRequest {
  readonly topic: string;
  readonly key: string | null;
  readonly correlation: string;
  readonly method: string;
  readonly value: string;
  readonly connection: string;
  readonly user: string | undefined;
  readonly deadline: number;
  readonly trace: string | undefined;
}

/** Bounds the wait for this hub's reply consumer to join its group and start fetching. */
const JOIN_TIMEOUT_MS = 60_000;

/**
 * Calls over Kafka and their replies (docs/rpc.md). Requests go to the route's topic with the
 * reply address in a header; every hub reads one partition of the reply topic, alone, in a
 * consumer group named after itself (kafkajs has no manual assignment: a custom assigner gives the
 * member the partition it names, assigner.ts). At start the hub picks a partition no running
 * hub's group reads (the group names carry the partition), reads it from its latest offset,
 * and deletes its group when it stops. Two hubs that picked the same partition at once both read
 * it; each drops the replies whose `hub` header names the other (counted, not lost: the right
 * hub reads them too).
 */
export class KafkaCalls {
  private readonly producer: Producer;
  private consumer: Consumer | undefined;
  private partition = -1;
  private groupId = '';
  private fetching = false;
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: RpcSettings,
    private readonly hub: string,
    private readonly calls: PendingCalls,
    private readonly dropped: (reason: DroppedReply) => void,
    private readonly log: Logger,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
  }

  /** The reply address requests carry, once started. */
  get replyTo(): string {
    return formatReplyAddress({ topic: this.settings.replyTopic, partition: this.partition, hub: this.hub });
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const partitions = await this.replyPartitions(admin);
      this.partition = await this.freePartition(admin, partitions);
    } finally {
      await admin.disconnect();
    }
    this.groupId = `${this.settings.replyGroupPrefix}-${this.partition}-${this.hub}`;
    await this.producer.connect();
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      partitionAssigners: [namedPartitionAssigner(this.settings.replyTopic, this.partition)],
    });
    this.consumer = consumer;
    // Ready once fetching: by then the group's offset is the partition's latest, so no reply to a
    // request sent from now on can fall before it.
    const fetching = new Promise<void>((resolve) => {
      consumer.on(consumer.events.FETCH_START, () => {
        this.fetching = true;
        resolve();
      });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.fetching = false;
      this.log.warn({ err: payload.error.message, restart: payload.restart }, 'rpc reply consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.settings.replyTopic], fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
    await within(fetching, JOIN_TIMEOUT_MS, () => new Error('the rpc reply consumer did not start fetching'));
    this.log.info({ partition: this.partition, group: this.groupId }, 'reading rpc replies');
  }

  isReady(): boolean {
    return this.fetching && !this.stopping;
  }

  /** Sends a request; rejects when Kafka refused it. */
  async send(request: KafkaRequest): Promise<void> {
    const headers: IHeaders = {
      [Header.CORRELATION]: request.correlation,
      [Header.REPLY_TO]: this.replyTo,
      [Header.METHOD]: request.method,
      [Header.CONNECTION]: request.connection,
      [Header.DEADLINE]: String(request.deadline),
    };
    if (request.user !== undefined) headers[Header.USER] = request.user;
    if (request.trace !== undefined) headers[Header.TRACEPARENT] = request.trace;
    // acks=1: a request lost with a failing leader is a call that times out; a round trip saved per call.
    await this.producer.send({
      topic: request.topic,
      acks: 1,
      timeout: Math.max(100, request.deadline - Date.now()),
      messages: [{ key: request.key, value: request.value, headers }],
    });
  }

  /** Stops reading and deletes this hub's group: nothing of it stays in Kafka. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    if (!this.groupId) return;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch (error) {
      this.log.warn({ err: (error as Error).message, group: this.groupId }, 'could not delete the rpc reply group');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** The reply topic's partition count; the topic is created when missing. */
  private async replyPartitions(admin: Admin): Promise<number> {
    const topic = this.settings.replyTopic;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin
        .createTopics({ topics: [{ topic, numPartitions: this.settings.replyPartitions }], waitForLeaders: true })
        .catch((error: Error) => this.log.debug({ err: error.message }, 'reply topic not created (another hub did?)'));
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`the rpc reply topic ${topic} has no partitions`);
    return count;
  }

  /** A partition no running hub reads, at random; any partition when every one is taken. */
  private async freePartition(admin: Admin, partitions: number): Promise<number> {
    const prefix = `${this.settings.replyGroupPrefix}-`;
    const { groups } = await admin.listGroups();
    const ours = groups.map((group) => group.groupId).filter((id) => id.startsWith(prefix));
    const taken = new Set<number>();
    if (ours.length > 0) {
      const described = await admin.describeGroups(ours);
      for (const group of described.groups) {
        if (group.state === 'Empty' || group.state === 'Dead') continue;
        const partition = Number(group.groupId.slice(prefix.length).split('-')[0]);
        if (Number.isInteger(partition)) taken.add(partition);
      }
    }
    const free = Array.from({ length: partitions }, (_, index) => index).filter((p) => !taken.has(p));
    const choices = free.length > 0 ? free : Array.from({ length: partitions }, (_, index) => index);
    return choices[Math.floor(Math.random() * choices.length)] ?? 0;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      this.onReply(message);
      resolveOffset(message.offset);
    }
    await heartbeat();
  }

  private onReply(message: KafkaMessage): void {
    const hub = headerOf(message, Header.HUB);
    const correlation = headerOf(message, Header.CORRELATION);
    if (hub !== undefined && hub !== this.hub) {
      this.dropped('other_hub');
      return;
    }
    const value = message.value;
    if (correlation === undefined || value === null || value.byteLength > this.settings.maxReplyBytes) {
      this.dropped('invalid');
      return;
    }
    const envelope = parseReply(value.toString('utf8'));
    if (!envelope) {
      this.dropped('invalid');
      return;
    }
    this.calls.settle(correlation, envelope);
  }
}

/** A reply's value as an envelope whose data a client can receive; undefined otherwise. */
export function parseReply(text: string): ReplyEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ReplyEnvelope.safeParse(value);
  if (!parsed.success) return undefined;
  if ('data' in parsed.data && dataProblem(parsed.data.data) !== undefined) return undefined;
  return parsed.data;
}

function headerOf(message: KafkaMessage, name: string): string | undefined {
  const header = message.headers?.[name];
  return (Array.isArray(header) ? header[0] : header)?.toString();
}
