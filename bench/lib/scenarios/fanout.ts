/**
 * Fan-out: `channels` × `subscribersPerChannel` subscriber connections on one hub, publications
 * entering by one ingress path, measured at the maximum and at fixed fractions of it; then the
 * same shape on the ceiling server (bare uWebSockets.js), fed deep batches, at the same rates.
 */
import { join } from 'node:path';
import { sleep } from '../clock.js';
import type { BenchKafka } from '../kafka.js';
import type { Snapshot, Target, Via } from '../loadgen/types.js';
import { type Certificate, LoadGen, RESULTS, type Service, startCeiling, startHub, startRedis } from '../procs.js';
import { type ProfileSummary, profilesIn, summariseProfile } from '../profile.js';
import type { Format } from '../wire.js';
import { CLIENT_CPU, type Options, openAll, SERVER_CPU, windowOf } from './common.js';
import { describe, type Load, measureQuiet, type Point, type Rig } from './measure.js';

export interface FanoutSpec {
  readonly id: string;
  readonly title: string;
  readonly channels: number;
  readonly subscribersPerChannel: number;
  readonly broker: 'memory' | 'redis';
  /** How publications enter the hub (lib/loadgen/types.ts, `Via`). */
  readonly ingress: Via;
  /** Wire format of every connection (default msgpack). */
  readonly format?: Format;
  /** wss: for every connection, hub and ceiling alike. */
  readonly tls?: boolean;
  /** Fractions of the hub's maximum publication rate to run at a fixed rate. */
  readonly fractions: readonly number[];
  /** Run the ceiling server for this shape (others compare with a ceiling of the same shape run elsewhere). */
  readonly ceiling: boolean;
  readonly directCeiling: boolean;
}

export interface FanoutResult {
  readonly id: string;
  readonly title: string;
  readonly channels: number;
  readonly subscribersPerChannel: number;
  readonly broker: 'memory' | 'redis';
  readonly ingress: string;
  readonly format?: Format;
  readonly tls?: boolean;
  readonly points: Point[];
  readonly profile?: ProfileSummary;
}

/**
 * Every fan-out scenario names its channels alike (`bench:c0` …), so pushes of the same shape
 * have the same bytes whatever the scenario, and its ceiling publishes the very same frames.
 */
const NAMESPACE = 'bench';
const PREFIX = `${NAMESPACE}:c`;

/** What a run starts once and lends to the scenarios that need it. */
export interface Shared {
  readonly certificate?: Certificate;
  readonly kafka?: BenchKafka;
}

/**
 * Publishes a trickle through Kafka until the hub delivers: a new consumer group starts at the
 * topic's end, which it resolves only at its first fetch, so what is produced before that is not
 * ingested and would count as dropped in the first measurement.
 */
export async function primeKafka(lg: LoadGen, publisher: LoadGen, target: Target, load: Load): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await lg.call('phase');
    await publisher.call('phase');
    const channels = load.channels.map((name) => ({ name, fanout: load.fanout }));
    const args = { target, via: 'kafka', kafka: load.kafka, channels, mode: 'rate', rate: 50, inflight: 1e9 };
    await publisher.call('publish', { ...args, durationMs: 500 });
    // Polled: a consumer already at the end delivers within a few ms; a new one takes ~1 s.
    for (let k = 0; k < 10; k++) {
      await sleep(100);
      if ((await lg.call<Snapshot>('snapshot')).delivered > 0) return;
    }
  }
  throw new Error('Kafka ingress delivered nothing within 30 s (see bench/results/logs/)');
}

export async function fanout(options: Options, spec: FanoutSpec, shared: Shared): Promise<FanoutResult> {
  const { progress } = options;
  const window = windowOf(options);
  const lg = new LoadGen(`${spec.id}-loadgen`, CLIENT_CPU);
  const viaKafka = spec.ingress === 'kafka';
  const publisher = viaKafka ? new LoadGen(`${spec.id}-producer`, CLIENT_CPU) : undefined;
  await lg.ready;
  await publisher?.ready;
  progress.watch([lg]);
  const points: Point[] = [];
  const channels = Array.from({ length: spec.channels }, (_, i) => `${PREFIX}${i}`);
  const patterns = [{ prefix: PREFIX, mod: spec.channels }];
  const conns = spec.channels * spec.subscribersPerChannel;
  const format = spec.format ?? 'msgpack';
  const tls = spec.tls ? shared.certificate : undefined;
  if (spec.tls && !tls) throw new Error(`${spec.id}: TLS needs the run's certificate`);
  let redis: (Service & { url: string }) | undefined;
  let hub: Service | undefined;
  let profile: ProfileSummary | undefined;
  try {
    // The hub first: its maximum sets the fixed rates, which the ceiling then runs at too.
    if (spec.broker === 'redis') redis = await startRedis(`${spec.id}-redis`, CLIENT_CPU);
    const kafka = viaKafka ? shared.kafka : undefined;
    if (viaKafka && !kafka) throw new Error(`${spec.id}: Kafka ingress needs the run's Kafka`);
    const topic = kafka ? await kafka.topic(spec.id) : undefined;
    const profileDir = options.profile ? join(RESULTS, 'profiles', `${options.runId}-${spec.id}`) : undefined;
    progress.set(`${spec.title}: starting hub`);
    hub = await startHub({
      name: `${spec.id}-hub`,
      cpu: SERVER_CPU,
      broker: redis ? { type: 'redis', url: redis.url } : { type: 'memory' },
      profileDir,
      tls,
      kafka: kafka && topic ? { brokers: kafka.brokers, ingress: [{ topic, namespace: NAMESPACE }] } : undefined,
    });
    const hubTarget: Target = { host: '127.0.0.1', port: hub.port, kind: 'hub', format, tls: !!tls };
    progress.set(`${spec.title}: opening ${conns} connections to the hub`);
    await openAll(lg, hubTarget, conns, patterns);
    const load: Load = {
      channels,
      fanout: spec.subscribersPerChannel,
      subscribers: conns,
      via: spec.ingress,
      redisUrl: redis?.url,
      kafka: kafka && topic ? { brokers: kafka.brokers, topic } : undefined,
    };
    const path = redis
      ? { name: 'redis' as const, pid: redis.pid }
      : kafka
        ? { name: 'kafka' as const, pid: kafka.pid }
        : undefined;
    const rig: Rig = { server: 'hub', serverPid: hub.pid, target: hubTarget, lg, publisher, paths: path && [path] };
    if (publisher) {
      progress.set(`${spec.title}: waiting for the hub to ingest from Kafka`);
      await primeKafka(lg, publisher, hubTarget, load);
    }
    progress.set(`${spec.title}: hub at maximum rate`);
    const max = await measureQuiet(options, rig, load, 'max', undefined, window);
    points.push(max);
    progress.log(`  ${describe(max)}`);
    for (const f of spec.fractions) {
      const rate = Math.max(1, Math.round(max.pubsPerSec * f));
      progress.set(`${spec.title}: hub at ${Math.round(f * 100)}% of its maximum`);
      const point = await measureQuiet(options, rig, load, 'rate', rate, window);
      points.push(point);
      progress.log(`  ${describe(point)}`);
    }
    await lg.call('closeAll');
    await publisher?.call('closeAll');
    await hub.stop();
    await redis?.stop();
    redis = undefined;
    const file = profileDir ? profilesIn(profileDir)[0] : undefined;
    if (file) profile = summariseProfile(file);
    if (spec.ceiling) {
      const ceilingLoad: Load = { channels, fanout: spec.subscribersPerChannel, subscribers: conns, via: 'ws' };
      const rates = spec.fractions.map((f) => Math.max(1, Math.round(max.pubsPerSec * f)));
      for (const mode of spec.directCeiling ? (['deferred', 'direct'] as const) : (['deferred'] as const)) {
        points.push(
          ...(await ceilingPoints(options, spec, lg, mode, ceilingLoad, mode === 'deferred' ? rates : [], tls)),
        );
      }
    }
  } finally {
    await lg.stop();
    await publisher?.stop();
    await hub?.stop();
    await redis?.stop();
  }
  return { ...spec, ingress: spec.ingress, points, profile };
}

/** The ceiling server for the same shape: its maximum, then the hub's fixed rates. */
async function ceilingPoints(
  options: Options,
  spec: FanoutSpec,
  lg: LoadGen,
  mode: 'deferred' | 'direct',
  load: Load,
  rates: readonly number[],
  tls: Certificate | undefined,
): Promise<Point[]> {
  const { progress } = options;
  const window = windowOf(options);
  const name = mode === 'deferred' ? 'ceiling' : 'ceiling-direct';
  const points: Point[] = [];
  progress.set(`${spec.title}: starting the ${name} server`);
  const ceiling = await startCeiling(`${spec.id}-${name}`, mode, SERVER_CPU, tls);
  try {
    const target: Target = { host: '127.0.0.1', port: ceiling.port, kind: 'ceiling', format: spec.format, tls: !!tls };
    progress.set(`${spec.title}: opening ${load.subscribers} connections to the ${name} server`);
    await openAll(lg, target, load.subscribers, [{ prefix: PREFIX, mod: spec.channels }]);
    const rig: Rig = { server: name, serverPid: ceiling.pid, target, lg };
    progress.set(`${spec.title}: ${name} at maximum rate`);
    const max = await measureQuiet(options, rig, load, 'max', undefined, window);
    points.push(max);
    progress.log(`  ${describe(max)}`);
    for (const rate of rates) {
      progress.set(`${spec.title}: ${name} at ${rate} publications/s (as the hub)`);
      const point = await measureQuiet(options, rig, load, 'rate', rate, window);
      points.push(point);
      progress.log(`  ${describe(point)}`);
    }
    await lg.call('closeAll');
  } finally {
    await ceiling.stop();
  }
  return points;
}
