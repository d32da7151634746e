/**
 * A single-node KRaft Kafka for the Kafka ingress scenarios, started by the test suite's service
 * harness (test/services/kafka.ts: jars from .cache, free loopback ports, its own temp dir) and
 * pinned with the load generators. Starting the JVM takes 15–40 s on 2 cores, so one Kafka
 * serves every Kafka scenario of a run, each on its own topic.
 */
import { createTopics, type KafkaService, startKafka } from '../../test/services/kafka.js';
import { adoptPid, pin } from './procs.js';

export interface BenchKafka {
  readonly brokers: string[];
  readonly pid: number;
  /** Creates `topic` (3 partitions unless told, as the tests' default) and waits for its leaders. */
  topic(topic: string, partitions?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchKafka(cpu: number): Promise<BenchKafka> {
  const kafka: KafkaService = await startKafka({ heapMb: 512, stopGraceMs: 10_000 });
  const pid = kafka.pid ?? 0;
  const adopted = adoptPid(pid);
  try {
    pin(pid, cpu);
  } catch (error) {
    await kafka.destroy();
    adopted.forget();
    throw error;
  }
  return {
    brokers: kafka.brokers,
    pid,
    topic: async (topic, partitions = 3) => {
      await createTopics(kafka.brokers, [topic], partitions);
      return topic;
    },
    stop: async () => {
      await kafka.destroy();
      adopted.forget();
    },
  };
}

/** Runs `use` with a Kafka of its own for one scenario group, stopped afterwards whatever happens. */
export async function withBenchKafka<T>(cpu: number, use: (kafka: BenchKafka) => Promise<T>): Promise<T> {
  const kafka = await startBenchKafka(cpu);
  try {
    return await use(kafka);
  } finally {
    await kafka.stop();
  }
}
