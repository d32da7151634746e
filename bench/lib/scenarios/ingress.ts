/**
 * Ingress: publications per second into ONE hub process, by each way services and clients
 * publish (Kafka with 1, 3 and 12 partitions, HTTP one per request and in batches, client
 * publishes over a WebSocket, the publisher helper), on the memory and Redis brokers.
 *
 * 20 channels with one subscriber each, so every publication is delivered once and counted end
 * to end: the figure is publications accepted AND delivered per second. Each row measures the
 * maximum (a closed loop: publications in flight bounded, see PATHS), then half of it at a fixed
 * rate for the latency and the CPU per publication of the hub and of Redis or Kafka.
 *
 * One hub per broker serves every row of that broker (it consumes the Kafka topics of all three
 * partition counts in one consumer group); each row opens its own 20 subscribers and closes them.
 */
import http from 'node:http';
import { join } from 'node:path';
import type { BenchKafka } from '../kafka.js';
import type { Target, Via } from '../loadgen/types.js';
import { LoadGen, RESULTS, type Service, startHub, startRedis } from '../procs.js';
import { profilesIn, summariseProfile } from '../profile.js';
import { CLIENT_CPU, type Options, openAll, SERVER_CPU, type Window } from './common.js';
import { primeKafka } from './fanout.js';
import { describe, type Load, measureQuiet, type Point, type Rig } from './measure.js';

export type IngressPath = 'kafka' | 'http' | 'http-batch' | 'ws' | 'publisher' | 'publisher-many';
export type BrokerType = 'memory' | 'redis';

export interface IngressSpec {
  readonly id: string;
  readonly title: string;
  readonly path: IngressPath;
  readonly broker: BrokerType;
  /** Partitions of the topic (Kafka rows). */
  readonly partitions?: number;
}

export interface IngressResult extends IngressSpec {
  readonly channels: number;
  /** Why the row has no figures: a path this build lacks, a service that did not start, a failure. */
  readonly unavailable?: string;
  readonly max?: Point;
  readonly half?: Point;
}

/** Channels per row, one subscriber each. */
export const INGRESS_CHANNELS = 20;
const PARTITIONS = [1, 3, 12] as const;
const HTTP_CONNECTIONS = 64;
const BATCH_CONNECTIONS = 8;

/**
 * How each path publishes, and the publications it keeps in flight at the maximum. 8,192 keeps
 * every stage busy (at 50,000/s it is 160 ms of work) without measuring a queue; Kafka gets
 * 20,000, as the consumer only fetches what the producer's acknowledged batches made visible.
 * The HTTP and helper paths are bounded by their own concurrency first (64 requests; 8 × 512
 * batched; 2,000 helper promises; 4 × 512 in publishMany calls).
 */
const PATHS: Record<IngressPath, { readonly via: Via; readonly inflight: number; readonly connections?: number }> = {
  kafka: { via: 'kafka', inflight: 20_000 },
  http: { via: 'http-single', inflight: 8192, connections: HTTP_CONNECTIONS },
  'http-batch': { via: 'http-batch', inflight: 8192, connections: BATCH_CONNECTIONS },
  ws: { via: 'ws', inflight: 8192 },
  publisher: { via: 'redis', inflight: 8192 },
  'publisher-many': { via: 'redis-many', inflight: 8192 },
};

const TITLES: Record<Exclude<IngressPath, 'kafka'>, string> = {
  http: `HTTP POST /api/publish, ${HTTP_CONNECTIONS} keep-alive connections`,
  'http-batch': `HTTP POST /api/batch, ${BATCH_CONNECTIONS} keep-alive connections`,
  ws: 'Client pub frames, one WebSocket',
  publisher: 'Publisher helper, publish',
  'publisher-many': 'Publisher helper, publishMany',
};

/** Every row, memory broker first: `ingress-<path>[-<partitions>]-<broker>`. */
export function ingressSpecs(): IngressSpec[] {
  const specs: IngressSpec[] = [];
  for (const broker of ['memory', 'redis'] as const) {
    for (const partitions of PARTITIONS) {
      specs.push({
        id: `ingress-kafka-${partitions}-${broker}`,
        title: `Kafka ingress, ${partitions} partition${partitions === 1 ? '' : 's'}`,
        path: 'kafka',
        broker,
        partitions,
      });
    }
    for (const path of Object.keys(TITLES) as (keyof typeof TITLES)[]) {
      specs.push({ id: `ingress-${path}-${broker}`, title: TITLES[path], path, broker });
    }
  }
  return specs;
}

/**
 * Shorter than the fan-out windows: 20 subscribers reach a steady state within a few hundred ms.
 * Kafka warms up longer: the producer's first batches, the consumer's fetches and (Redis broker)
 * the first round trips fill the pipeline over about a second.
 */
function ingressWindow(options: Options, path: IngressPath): Window {
  const warmupMs = (options.quick ? 500 : 1000) + (path === 'kafka' ? (options.quick ? 500 : 1000) : 0);
  return options.quick
    ? { warmupMs, measureMs: 1500, quietWaitMs: 200 }
    : { warmupMs, measureMs: 3000, quietWaitMs: 1500 };
}

const namespaceOf = (spec: IngressSpec) => (spec.path === 'kafka' ? `kafka${spec.partitions}` : 'bench');
const topicOf = (partitions: number) => `ingress-p${partitions}`;

/** Whether the hub serves `POST /api/batch`: anything but 404 (an empty batch may well be a 400). */
function hasBatchApi(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const body = '{"publications":[]}';
    const request = http.request(
      { host: '127.0.0.1', port, path: '/api/batch', method: 'POST', timeout: 5000 },
      (res) => {
        res.resume();
        resolve(res.statusCode !== 404);
      },
    );
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('no answer to POST /api/batch within 5 s')));
    request.end(body);
  });
}

/** Whether this build's publisher helper has `publishMany`. */
async function hasPublishMany(): Promise<boolean> {
  const { Publisher } = await import('switchboard/publisher');
  return typeof (Publisher.prototype as { publishMany?: unknown }).publishMany === 'function';
}

interface BrokerRig {
  readonly hub: Service;
  readonly target: Target;
  readonly lg: LoadGen;
  readonly producer?: LoadGen;
  readonly redis?: Service & { url: string };
  readonly kafka?: BenchKafka;
  readonly batch: boolean;
  readonly many: boolean;
}

/** Why a row cannot run on this rig, if it cannot. */
function unavailable(spec: IngressSpec, rig: BrokerRig, kafkaError: string | undefined): string | undefined {
  if (spec.path === 'kafka' && !rig.kafka) return `Kafka did not start: ${kafkaError ?? 'unknown'}`;
  if ((spec.path === 'publisher' || spec.path === 'publisher-many') && spec.broker !== 'redis')
    return 'the helper publishes into Redis (Redis broker only)';
  if (spec.path === 'http-batch' && !rig.batch) return 'not available (POST /api/batch answered 404)';
  if (spec.path === 'publisher-many' && !rig.many) return 'not available (the helper has no publishMany)';
  return undefined;
}

async function measureRow(options: Options, spec: IngressSpec, rig: BrokerRig): Promise<IngressResult> {
  const { progress } = options;
  const window = ingressWindow(options, spec.path);
  const prefix = `${namespaceOf(spec)}:c`;
  const channels = Array.from({ length: INGRESS_CHANNELS }, (_, i) => `${prefix}${i}`);
  const viaKafka = spec.path === 'kafka';
  const { via, inflight, connections } = PATHS[spec.path];
  progress.set(`${spec.title} (${spec.broker}): opening ${INGRESS_CHANNELS} subscribers`);
  await openAll(rig.lg, rig.target, INGRESS_CHANNELS, [{ prefix, mod: INGRESS_CHANNELS }]);
  const load: Load = {
    channels,
    fanout: 1,
    subscribers: INGRESS_CHANNELS,
    via,
    redisUrl: rig.redis?.url,
    kafka: viaKafka && rig.kafka ? { brokers: rig.kafka.brokers, topic: topicOf(spec.partitions ?? 1) } : undefined,
    inflight,
    connections,
  };
  const measured: Rig = {
    server: 'hub',
    serverPid: rig.hub.pid,
    target: rig.target,
    lg: rig.lg,
    publisher: viaKafka ? rig.producer : undefined,
    paths: [
      ...(viaKafka && rig.kafka ? [{ name: 'kafka' as const, pid: rig.kafka.pid }] : []),
      ...(rig.redis ? [{ name: 'redis' as const, pid: rig.redis.pid }] : []),
    ],
  };
  try {
    if (viaKafka && rig.producer) {
      progress.set(`${spec.title} (${spec.broker}): waiting for the hub to ingest from Kafka`);
      await primeKafka(rig.lg, rig.producer, rig.target, load);
    }
    progress.set(`${spec.title} (${spec.broker}): maximum`);
    const max = await measureQuiet(options, measured, load, 'max', undefined, window);
    progress.log(`  ${'max'.padEnd(5)} ${describe(max)}`);
    if (max.pubsPerSec === 0) {
      // Half of nothing measures nothing; the maximum stays in the results for what it shows.
      return { ...spec, channels: INGRESS_CHANNELS, max, unavailable: 'nothing delivered at the maximum' };
    }
    const rate = Math.max(1, Math.round(max.pubsPerSec / 2));
    progress.set(`${spec.title} (${spec.broker}): ${rate} publications/s (half)`);
    const half = await measureQuiet(options, measured, load, 'rate', rate, window);
    progress.log(`  ${'half'.padEnd(5)} ${describe(half)}`);
    return { ...spec, channels: INGRESS_CHANNELS, max, half };
  } finally {
    await rig.lg.call('closeAll');
  }
}

/**
 * The rows of one broker on one hub (and its Redis), in order. Its processes are stopped in the
 * background (a hub leaving its Kafka group takes seconds); `stopping` collects those stops.
 */
async function runBroker(
  options: Options,
  broker: BrokerType,
  specs: readonly IngressSpec[],
  kafka: BenchKafka | undefined,
  kafkaError: string | undefined,
  stopping: Promise<void>[],
): Promise<IngressResult[]> {
  const { progress } = options;
  const results: IngressResult[] = [];
  const partitions = [...new Set(specs.flatMap((s) => (s.path === 'kafka' && s.partitions ? [s.partitions] : [])))];
  const viaKafka = kafka && partitions.length > 0 ? kafka : undefined;
  let redis: (Service & { url: string }) | undefined;
  let hub: Service | undefined;
  const lg = new LoadGen(`ingress-${broker}-loadgen`, CLIENT_CPU);
  const producer = viaKafka ? new LoadGen(`ingress-${broker}-producer`, CLIENT_CPU) : undefined;
  try {
    await lg.ready;
    await producer?.ready;
    progress.watch([lg]);
    if (broker === 'redis') redis = await startRedis(`ingress-${broker}-redis`, CLIENT_CPU);
    progress.set(`Ingress (${broker} broker): starting hub`);
    hub = await startHub({
      name: `ingress-${broker}-hub`,
      cpu: SERVER_CPU,
      profileDir: profileDirOf(options, broker),
      broker: redis ? { type: 'redis', url: redis.url } : { type: 'memory' },
      kafka: viaKafka && {
        brokers: viaKafka.brokers,
        ingress: partitions.map((p) => ({ topic: topicOf(p), namespace: `kafka${p}` })),
      },
    });
    const rig: BrokerRig = {
      hub,
      target: { host: '127.0.0.1', port: hub.port, kind: 'hub', format: 'msgpack' },
      lg,
      producer,
      redis,
      kafka: viaKafka,
      batch: await hasBatchApi(hub.port),
      many: await hasPublishMany(),
    };
    for (const spec of specs) {
      const why = unavailable(spec, rig, kafkaError);
      progress.log(`Ingress: ${spec.title} (${broker} broker)${why ? `: ${why}` : ''}`);
      if (why) {
        results.push({ ...spec, channels: INGRESS_CHANNELS, unavailable: why });
        continue;
      }
      try {
        results.push(await measureRow(options, spec, rig));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress.log(`  failed: ${message}`);
        results.push({ ...spec, channels: INGRESS_CHANNELS, unavailable: `failed: ${message}` });
      }
    }
  } finally {
    const stops = [lg.stop(), producer?.stop(), hub?.stop()];
    const redisStopped = redis;
    stopping.push(Promise.all(stops).then(() => redisStopped?.stop()));
  }
  return results;
}

/** With --profile, where the hub of a broker's rows writes its CPU profile (one for all its rows). */
function profileDirOf(options: Options, broker: BrokerType): string | undefined {
  return options.profile ? join(RESULTS, 'profiles', `${options.runId}-ingress-${broker}`) : undefined;
}

/** Prints where a broker's hub spent its CPU, over every row it served: run one row to see that row's. */
function logProfile(options: Options, broker: BrokerType): void {
  const dir = profileDirOf(options, broker);
  const file = dir ? profilesIn(dir)[0] : undefined;
  if (!file) return;
  const summary = summariseProfile(file, 20);
  options.progress.log(`Ingress (${broker} broker): hub CPU profile, ${summary.totalMs} ms sampled (${summary.file})`);
  for (const entry of summary.top) {
    options.progress.log(`  ${entry.percent.toFixed(1).padStart(5)}%  ${entry.fn}  ${entry.where}`);
  }
}

/**
 * Runs `specs` (a selection of ingressSpecs(), in its order). Kafka is started here when a Kafka
 * row is selected, and stopped at the end; rows it would feed are marked when it does not start.
 */
export async function ingress(
  options: Options,
  specs: readonly IngressSpec[],
  startKafka: () => Promise<BenchKafka>,
): Promise<IngressResult[]> {
  // Repeats (--until-quiet) stop after this, so the group stays within ~4 minutes (~1.5 quick).
  const bounded: Options = {
    ...options,
    retryUntil: Math.min(options.retryUntil, performance.now() + (options.quick ? 45_000 : 150_000)),
  };
  let kafka: BenchKafka | undefined;
  let kafkaError: string | undefined;
  const results: IngressResult[] = [];
  const stopping: Promise<void>[] = [];
  try {
    const partitions = [...new Set(specs.flatMap((s) => (s.path === 'kafka' && s.partitions ? [s.partitions] : [])))];
    if (partitions.length > 0) {
      options.progress.set('starting Kafka (KRaft, one node)');
      try {
        kafka = await startKafka();
        for (const p of partitions) await kafka.topic(topicOf(p), p);
      } catch (error) {
        kafkaError = error instanceof Error ? error.message : String(error);
        options.progress.log(`Ingress: Kafka did not start (${kafkaError}); its rows are skipped`);
        await kafka?.stop();
        kafka = undefined;
      }
    }
    for (const broker of ['memory', 'redis'] as const) {
      const mine = specs.filter((s) => s.broker === broker);
      if (mine.length > 0) results.push(...(await runBroker(bounded, broker, mine, kafka, kafkaError, stopping)));
    }
  } finally {
    await Promise.all(stopping);
    await kafka?.stop();
  }
  for (const broker of ['memory', 'redis'] as const) logProfile(options, broker);
  return results;
}
