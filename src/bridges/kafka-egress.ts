import type * as KafkaJs from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../log.js';
import { optional } from '../optional.js';
import { type Egress, type EgressMessage, within } from './egress.js';

/**
 * One idempotent producer (acks=all) shared by every namespace with a Kafka egress. A message's
 * key is its channel, so a channel's messages keep their order within one partition.
 */
export class KafkaProducer {
  private readonly producer: Producer;
  private connected = false;
  private stopping = false;

  constructor(
    kafka: Kafka,
    private readonly timeoutMs: number,
    log: Logger,
  ) {
    // kafkajs requires one request in flight for its idempotent producer.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Murmur2 on the key, like the Java client: a channel lands in the same partition either way.
      createPartitioner: optional<typeof KafkaJs>('kafkajs').Partitioners.DefaultPartitioner,
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
      if (!this.stopping) log.warn('kafka producer disconnected');
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
  }

  isReady(): boolean {
    return this.connected;
  }

  egressTo(topic: string): Egress {
    return { send: (message) => this.send(topic, message) };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.producer.disconnect();
  }

  private async send(topic: string, message: EgressMessage): Promise<void> {
    const headers: Record<string, string> = {
      channel: message.channel,
      connection: message.connection,
      timestamp: String(message.timestamp),
    };
    if (message.user !== undefined) headers.user = message.user;
    if (message.trace !== undefined) headers.traceparent = message.trace;
    if (message.key !== undefined) headers['idempotency-key'] = message.key;
    await within(
      this.producer.send({
        topic,
        acks: -1,
        timeout: this.timeoutMs,
        messages: [{ key: message.channel, value: message.json, headers, timestamp: String(message.timestamp) }],
      }),
      this.timeoutMs,
      `producing to ${topic}`,
    );
  }
}
