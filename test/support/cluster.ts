import {
  createTopics,
  type HaproxyService,
  type KafkaService,
  type RedisService,
  startHaproxy,
  startKafka,
  startRedis,
} from '../services/index.js';
import { type HubProcess, spawnHub } from './hub-process.js';

/** How long HAProxy takes at most to stop routing to a hub whose /readyz fails (test/services/haproxy.ts), with a margin. */
export const HAPROXY_NOTICES_MS = 1_500;

export interface ClusterOptions {
  readonly hubs: number;
  /** Kafka topics to create (3 partitions each); Kafka is started only when some are named. */
  readonly topics?: readonly string[];
  /** Hub configuration on top of the Redis broker and, with topics, the Kafka settings. */
  readonly config?: (kafkaBrokers: string[]) => object;
}

/** N hub processes and HAProxy in front (TCP). */
export interface Hubs {
  readonly hubs: HubProcess[];
  readonly haproxy: HaproxyService;
  /** The WebSocket URL through the balancer. */
  readonly url: string;
  /** Starts hub `index` again, on its port and with the cluster's configuration, after it was stopped or killed. */
  respawn(index: number): Promise<HubProcess>;
}

/** Real Redis, optionally Kafka, N hub processes on the Redis broker, and HAProxy in front (TCP). */
export interface Cluster extends Hubs {
  readonly redis: RedisService;
  readonly kafka: KafkaService | undefined;
  stop(): Promise<void>;
}

/** Real Kafka, N hub processes each on its own memory broker (no Redis), and HAProxy in front. */
export interface KafkaCluster extends Hubs {
  readonly kafka: KafkaService;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const redis = await startRedis();
  const kafka = options.topics?.length ? await startKafka() : undefined;
  if (kafka && options.topics) await createTopics(kafka.brokers, options.topics, 3);
  const hubs = await startHubs(options.hubs, {
    broker: { type: 'redis', url: redis.url },
    // HAProxy checks /readyz every 500 ms and takes a hub out after two failures: by 1 s.
    shutdownDelaySeconds: HAPROXY_NOTICES_MS / 1000,
    shutdownGraceSeconds: 2,
    ...(options.config?.(kafka?.brokers ?? []) ?? {}),
  });
  return {
    ...hubs,
    redis,
    kafka,
    stop: async () => {
      await stopHubs(hubs);
      await kafka?.destroy();
      await redis.destroy();
    },
  };
}

/** For what needs only Kafka between hubs (rpc replies, egress): the memory broker on each hub. */
export async function startKafkaCluster(options: ClusterOptions & { readonly topics: readonly string[] }) {
  const kafka = await startKafka();
  await createTopics(kafka.brokers, options.topics, 3);
  const hubs = await startHubs(options.hubs, { shutdownGraceSeconds: 2, ...(options.config?.(kafka.brokers) ?? {}) });
  const cluster: KafkaCluster = {
    ...hubs,
    kafka,
    stop: async () => {
      await stopHubs(hubs);
      await kafka.destroy();
    },
  };
  return cluster;
}

/** N hub processes on `broker` (a Redis Cluster, shards) behind HAProxy; `stop` stops hubs and balancer. */
export async function startHubsOn(count: number, broker: object): Promise<Hubs & { stop(): Promise<void> }> {
  const hubs = await startHubs(count, {
    broker,
    shutdownDelaySeconds: HAPROXY_NOTICES_MS / 1000,
    shutdownGraceSeconds: 2,
  });
  return { ...hubs, stop: () => stopHubs(hubs) };
}

async function startHubs(count: number, config: object): Promise<Hubs> {
  const hubs = await Promise.all(Array.from({ length: count }, () => spawnHub(config)));
  const haproxy = await startHaproxy({
    backends: hubs.map((hub) => ({ host: '127.0.0.1', port: hub.port })),
    balance: 'roundrobin',
    // What a cloud balancer or Kubernetes does: a draining hub answers 503 on /readyz.
    healthCheckPath: '/readyz',
  });
  return {
    hubs,
    haproxy,
    url: `ws://127.0.0.1:${haproxy.port}/ws`,
    respawn: async (index) => {
      const old = hubs[index];
      if (!old) throw new Error(`no hub ${index}`);
      const hub = await spawnHub(config, old.port);
      hubs[index] = hub;
      return hub;
    },
  };
}

async function stopHubs({ haproxy, hubs }: Hubs): Promise<void> {
  await haproxy.destroy();
  await Promise.allSettled(hubs.map((hub) => hub.process.stop()));
}
