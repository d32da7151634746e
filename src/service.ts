import { type Consumer, type EachBatchPayload, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import { Header, parseReplyAddress, type ReplyEnvelope, requestData } from './rpc/wire.js';

/** What a handler knows of a call besides its data. */
export interface Call {
  readonly method: string;
  /** The caller's user (the `sub` of its token), when it has one. */
  readonly user: string | undefined;
  /** The caller's connection id. */
  readonly connection: string;
  /** Unix milliseconds after which nobody waits for the reply. */
  readonly deadline: number;
}

/** Answers a call: what it returns (a JSON value) is the reply; a ServiceError it throws is the caller's error. */
export type CallHandler = (data: unknown, call: Call) => unknown | Promise<unknown>;

/** An error for the caller: `code` is yours (the client sees it as `serviceCode`), `message` is shown to it. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export interface ServiceOptions {
  /** The Kafka the hubs use. */
  readonly brokers: string[];
  /** The request topic: a `kafka` route's `topic` in the hubs' `rpc.routes`. */
  readonly topic: string;
  /** The service's consumer group: its instances share the calls. Default `<topic>-service`. */
  readonly groupId?: string;
  /** Answers each call; or give `handlers` by method. */
  readonly handler?: CallHandler;
  /** One handler per method; a method with none is answered with the error `no_method`. */
  readonly handlers?: Readonly<Record<string, CallHandler>>;
  readonly clientId?: string;
}

/** Calls answered and skipped, for logs and tests. */
export interface ServiceCounts {
  answered: number;
  failed: number;
  /** Past their deadline when read or answered: nobody waits for their reply, none is sent. */
  expired: number;
  /** Without a usable reply address or correlation id: no reply can be sent. */
  invalid: number;
}

/**
 * For services answering client calls through Kafka (docs/rpc.md): consumes the request topic,
 * calls the handler with each request's data, and produces the reply to the address the request
 * names, with its correlation id and hub id, so that it reaches the hub holding the caller's
 * connection and only that hub.
 *
 * ```ts
 * const service = new Service({ brokers: ['kafka:9092'], topic: 'orders-rpc',
 *   handlers: { 'orders.get': async ({ id }) => db.order(id) } });
 * await service.start();
 * ```
 */
export class Service {
  readonly counts: ServiceCounts = { answered: 0, failed: 0, expired: 0, invalid: 0 };
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;

  constructor(private readonly options: ServiceOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'switchboard-service',
      brokers: options.brokers,
      logLevel: logLevel.WARN,
    });
    this.consumer = this.kafka.consumer({ groupId: options.groupId ?? `${options.topic}-service` });
    // acks=1: a reply lost with a failing leader is a call that times out; a round trip saved per call.
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
  }

  /** Starts answering calls sent from now on (a new group starts at the topic's end). */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: false });
    // Partitions are answered side by side: one slow call holds up its own partition only.
    await this.consumer.run({ partitionsConsumedConcurrently: 8, eachBatch: (payload) => this.onBatch(payload) });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  /** Answers a batch's calls concurrently, and sends their replies together. */
  private async onBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const replies = await Promise.all(batch.messages.map((message) => this.answer(message)));
    const byTopic = new Map<string, Array<{ partition: number; value: string; headers: Record<string, string> }>>();
    for (const reply of replies) {
      if (!reply) continue;
      const list = byTopic.get(reply.topic) ?? [];
      list.push(reply.message);
      byTopic.set(reply.topic, list);
    }
    if (byTopic.size > 0)
      await this.producer.sendBatch({
        acks: 1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    const last = batch.messages.at(-1);
    if (last) resolveOffset(last.offset);
    await heartbeat();
  }

  private async answer(message: KafkaMessage) {
    const header = (name: string) => {
      const value = message.headers?.[name];
      return (Array.isArray(value) ? value[0] : value)?.toString();
    };
    const address = parseReplyAddress(header(Header.REPLY_TO) ?? '');
    const correlation = header(Header.CORRELATION);
    if (!address || !correlation) {
      this.counts.invalid += 1;
      return undefined;
    }
    const deadline = Number(header(Header.DEADLINE) ?? Number.POSITIVE_INFINITY);
    if (Date.now() > deadline) {
      this.counts.expired += 1;
      return undefined;
    }
    const call: Call = {
      method: header(Header.METHOD) ?? '',
      user: header(Header.USER),
      connection: header(Header.CONNECTION) ?? '',
      deadline,
    };
    // A handler still running at the deadline is answered by nobody: its partition moves on.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.min(deadline - Date.now(), 2 ** 31 - 1));
    });
    const envelope = await Promise.race([this.handle(message.value?.toString('utf8') ?? '', call), expired]);
    clearTimeout(timer);
    if (!envelope) {
      this.counts.expired += 1;
      return undefined;
    }
    return {
      topic: address.topic,
      message: {
        partition: address.partition,
        value: JSON.stringify(envelope),
        headers: { [Header.CORRELATION]: correlation, [Header.HUB]: address.hub },
      },
    };
  }

  private async handle(value: string, call: Call): Promise<ReplyEnvelope> {
    const request = requestData(value);
    const handler = this.options.handlers?.[call.method] ?? this.options.handler;
    try {
      if (!request) throw new ServiceError('bad_request', 'the request is not {"data": …} JSON');
      if (!handler) throw new ServiceError('no_method', `no handler for ${call.method}`);
      const data = await handler(request.data, call);
      this.counts.answered += 1;
      return { data: data ?? null };
    } catch (error) {
      this.counts.failed += 1;
      if (error instanceof ServiceError) return { error: { code: error.code, message: error.message } };
      return { error: { code: 'internal', message: 'internal error' } };
    }
  }
}
