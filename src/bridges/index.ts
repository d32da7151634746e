import type { Broker } from '../brokers/broker.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../brokers/redis-store.js';
import type { Config, EgressSettings } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Namespaces } from '../namespaces.js';
import type { Egress } from './egress.js';
import { createKafka } from './kafka-client.js';
import { KafkaProducer } from './kafka-egress.js';
import { KafkaIngress } from './kafka-ingress.js';
import { KafkaReplay } from './kafka-replay.js';
import { RedisEgressConnection } from './redis-egress.js';

interface Part {
  readonly name: string;
  start(): Promise<void>;
  isReady(): boolean;
  stop(): Promise<void>;
}

/**
 * The hub's links to the services' backbones: Kafka ingress into the broker, and the egress
 * targets of client publishes, one per namespace that names one.
 */
export class Bridges {
  /** Reads from Kafka what history trimmed, when a namespace's ingress has `replay`. */
  readonly archive: KafkaReplay | undefined;
  private readonly parts: Part[] = [];
  private readonly egresses = new Map<string, Egress>();

  constructor(config: Config, broker: Broker, namespaces: Namespaces, log: Logger, metrics: Metrics) {
    const settings = [
      ['', config.defaultNamespace] as const,
      ...Object.entries(config.namespaces).map(([name, ns]) => [name, ns] as const),
    ];
    const kafka = config.kafka ? createKafka(config.kafka, log.child({ component: 'kafka' })) : undefined;
    const routes = settings.flatMap(([name, ns]) =>
      ns.kafkaIngress
        ? [{ topic: ns.kafkaIngress.topic, namespace: name, history: namespaces.named(name).history }]
        : [],
    );
    if (kafka && config.kafka && routes.length > 0) {
      const ingress = new KafkaIngress(
        kafka,
        config.kafka,
        routes,
        broker,
        log.child({ component: 'kafka-ingress' }),
        metrics,
      );
      this.parts.push({
        name: 'kafka ingress',
        start: () => ingress.start(),
        isReady: () => ingress.isReady(),
        stop: () => ingress.stop(),
      });
    }
    const replayed = new Map(
      settings.flatMap(([name, ns]) => (ns.kafkaIngress?.replay ? [[name, ns.kafkaIngress.topic] as const] : [])),
    );
    if (kafka && config.kafka && replayed.size > 0) {
      const archive = new KafkaReplay(
        kafka,
        config.kafka,
        replayed,
        metrics.registry,
        log.child({ component: 'kafka-replay' }),
      );
      this.parts.push({
        name: 'kafka replay',
        start: async () => archive.start(),
        isReady: () => true,
        stop: () => archive.stop(),
      });
      this.archive = archive;
    }
    let producer: KafkaProducer | undefined;
    const redisConnections = new Map<string, RedisEgressConnection>();
    const timeoutMs = config.kafka?.produceTimeoutMs ?? 10_000;
    // A Redis egress answers within the broker's command timeout, or its default on another Redis.
    const redisTimeoutMs = config.broker.type === 'redis' ? config.broker.commandTimeoutMs : DEFAULT_COMMAND_TIMEOUT_MS;
    const egressOf = (egress: EgressSettings): Egress => {
      if (egress.type === 'kafka') {
        if (!kafka) throw new Error('kafka egress without kafka settings');
        if (!producer) {
          const created = new KafkaProducer(kafka, timeoutMs, log.child({ component: 'kafka-egress' }));
          this.parts.push({
            name: 'kafka egress',
            start: () => created.start(),
            isReady: () => created.isReady(),
            stop: () => created.stop(),
          });
          producer = created;
        }
        return producer.egressTo(egress.topic);
      }
      const url = egress.url ?? (config.broker.type === 'redis' ? config.broker.url : undefined);
      if (!url) throw new Error('redis egress without a url');
      let connection = redisConnections.get(url);
      if (!connection) {
        const created = new RedisEgressConnection(url, redisTimeoutMs, log.child({ component: 'redis-egress' }));
        this.parts.push({
          name: 'redis egress',
          start: () => created.start(),
          isReady: () => created.isReady(),
          stop: () => created.stop(),
        });
        redisConnections.set(url, created);
        connection = created;
      }
      return egress.type === 'redis-stream'
        ? connection.streamEgress(egress.stream, egress.maxLen)
        : connection.pubsubEgress(egress.channel);
    };
    for (const [name, ns] of settings) if (ns.egress) this.egresses.set(name, egressOf(ns.egress));
  }

  /** The egress of a namespace, if client publishes there go to the services rather than the broker. */
  egress(namespace: string): Egress | undefined {
    return this.egresses.get(namespace);
  }

  async start(): Promise<void> {
    for (const part of this.parts) await part.start();
  }

  notReady(): string[] {
    return this.parts.filter((part) => !part.isReady()).map((part) => `${part.name} not ready`);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.parts.map((part) => part.stop()));
  }
}
