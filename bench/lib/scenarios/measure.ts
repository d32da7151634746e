/**
 * One measurement: publish for a warm-up then a window, count and time every delivery, and take
 * the CPU of every process involved over the window — the server's (its cost per delivery is the
 * headline), the load generators', Redis' or Kafka's where they are in the path, and the rest of
 * the machine's ("other load", which disturbs the figures and is reported beside them).
 */
import { sleep } from '../clock.js';
import { CpuWindow } from '../cpu.js';
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import type { Peek, PublishResult, Snapshot, Target, Via } from '../loadgen/types.js';
import { benchPids, type LoadGen } from '../procs.js';
import { fmtRate } from '../progress.js';
import { type Options, round2, type Window } from './common.js';

/** Other load (cores) under which a window counts as quiet. */
export const QUIET_CORES = 0.1;

/** The processes of one measurement. */
export interface Rig {
  /** `hub`, `ceiling` or `ceiling-direct`. */
  readonly server: string;
  readonly serverPid: number;
  readonly target: Target;
  /** The subscribers' load generator, which also publishes unless `publisher` does. */
  readonly lg: LoadGen;
  /** A publisher-only process (Kafka's producer), paced by the deliveries `lg` counts. */
  readonly publisher?: LoadGen;
  /** Services in the path of every publication: Redis, Kafka, or (Kafka ingress on Redis) both. */
  readonly paths?: readonly { readonly name: string; readonly pid: number }[];
}

/** What is published, and how. */
export interface Load {
  readonly channels: readonly string[];
  readonly fanout: number;
  readonly subscribers: number;
  readonly via: Via;
  readonly redisUrl?: string;
  readonly kafka?: { readonly brokers: string[]; readonly topic: string };
  /** Deliveries in flight at most in max mode (4× that at fixed rates); default inflightFor(subscribers). */
  readonly inflight?: number;
  /** Keep-alive connections of the HTTP paths. */
  readonly connections?: number;
}

export interface PathCpu {
  readonly name: string;
  readonly cores: number;
  readonly usPerDelivery: number;
  readonly usPerPublication: number;
}

export interface Point {
  readonly server: string;
  /** Measurements made to get this one (see measureQuiet), and whether its window was quiet. */
  readonly attempts?: number;
  readonly quiet?: boolean;
  readonly mode: 'max' | 'rate';
  /** Publications per second asked for (rate mode). */
  readonly offeredPubs?: number;
  readonly offeredDeliveries?: number;
  readonly pubsPerSec: number;
  readonly deliveriesPerSec: number;
  /** Mean WebSocket payload of a push, and mean whole frame (header + payload) as received: bytes per push. */
  readonly frameBytes: number;
  readonly pushBytes?: number;
  readonly latency: Percentiles;
  readonly expected: number;
  readonly delivered: number;
  readonly drops: number;
  readonly gaps: number;
  readonly skipped: number;
  readonly closes: Record<string, number>;
  readonly errors: Record<string, number>;
  /** Cores the server used over the window, and its CPU time per delivery (µs). */
  readonly serverCpu: number;
  readonly serverUsPerDelivery?: number;
  readonly loadgenCpu: number;
  /** The first service in the path (what the fan-out tables show), and all of them. */
  readonly path?: PathCpu;
  readonly paths?: PathCpu[];
  /** Redis cores in results recorded before `path` existed. */
  readonly redisCpu?: number;
  readonly otherCpu: number;
}

/** Deliveries allowed in flight in max mode: every stage busy, ~32 frames per subscriber per read. */
function inflightFor(subscribers: number): number {
  return Math.max(64_000, 32 * subscribers);
}

const us = (seconds: number, count: number) => (count > 0 ? Math.round((seconds * 1e8) / count) / 100 : 0);

/** Feeds a publisher-only process the deliveries counted elsewhere, every 5 ms, until `done`. */
async function relayCredit(lg: LoadGen, publisher: LoadGen, done: () => boolean): Promise<void> {
  while (!done()) {
    const peek = await lg.call<Peek>('peek');
    await publisher.call('credit', { delivered: peek.delivered });
    await sleep(5);
  }
}

export async function measure(
  rig: Rig,
  load: Load,
  mode: 'max' | 'rate',
  rate: number | undefined,
  window: Window,
): Promise<Point> {
  const publisher = rig.publisher ?? rig.lg;
  await rig.lg.call('phase');
  if (rig.publisher) await rig.publisher.call('phase');
  let publishing = true;
  const published = publisher
    .call<PublishResult>('publish', {
      target: rig.target,
      via: load.via,
      redisUrl: load.redisUrl,
      kafka: load.kafka,
      channels: load.channels.map((name) => ({ name, fanout: load.fanout })),
      mode,
      rate,
      durationMs: window.warmupMs + window.measureMs,
      inflight: (load.inflight ?? inflightFor(load.subscribers)) * (mode === 'max' ? 1 : 4),
      connections: load.connections,
    })
    .finally(() => {
      publishing = false;
    });
  const relay = rig.publisher ? relayCredit(rig.lg, rig.publisher, () => !publishing) : Promise.resolve();
  await sleep(window.warmupMs);
  await rig.lg.call('reset');
  const loadgens = rig.publisher ? [rig.lg.pid, rig.publisher.pid] : [rig.lg.pid];
  const services = rig.paths ?? [];
  const watched = [rig.serverPid, ...loadgens, ...services.map((s) => s.pid)];
  const cpu = new CpuWindow([...watched, ...benchPids().filter((pid) => !watched.includes(pid))]);
  await sleep(window.measureMs);
  const snap = await rig.lg.call<Snapshot>('snapshot');
  const usage = cpu.end();
  const pub = await published;
  await relay;
  const expected = pub.published * load.fanout;
  let final = await rig.lg.call<Snapshot>('snapshot');
  const deadline = Date.now() + 5000;
  while (final.delivered < expected && Date.now() < deadline) {
    await sleep(100);
    final = await rig.lg.call<Snapshot>('snapshot');
  }
  const h = new Histogram();
  h.addSparse(snap.hist, snap.histMax);
  const seconds = snap.windowMs / 1000;
  const n = snap.windowDelivered;
  const paths = services.map((service, k): PathCpu => {
    const at = 1 + loadgens.length + k;
    const seconds = usage.cpuSeconds[at] ?? 0;
    return {
      name: service.name,
      cores: usage.cores[at] ?? 0,
      usPerDelivery: us(seconds, n),
      usPerPublication: us(seconds, n / load.fanout),
    };
  });
  return {
    server: rig.server,
    mode,
    offeredPubs: rate,
    offeredDeliveries: rate === undefined ? undefined : rate * load.fanout,
    pubsPerSec: Math.round(n / load.fanout / seconds),
    deliveriesPerSec: Math.round(n / seconds),
    frameBytes: n > 0 ? Math.round((10 * snap.windowBytes) / n) / 10 : 0,
    pushBytes: n > 0 ? Math.round((10 * snap.windowFrameBytes) / n) / 10 : 0,
    latency: percentiles(h),
    expected,
    delivered: final.delivered,
    drops: expected - final.delivered,
    gaps: final.gaps,
    skipped: pub.skipped,
    closes: final.closes,
    errors: { ...final.errors, ...(pub.errors > 0 ? { 'publish errors': pub.errors } : {}) },
    serverCpu: usage.cores[0] ?? 0,
    serverUsPerDelivery: us(usage.cpuSeconds[0] ?? 0, n),
    loadgenCpu: round2(loadgens.reduce((a, _, i) => a + (usage.cores[1 + i] ?? 0), 0)),
    path: paths[0],
    paths: paths.length > 0 ? paths : undefined,
    otherCpu: usage.other,
  };
}

/** Waits up to `maxWaitMs` for the rest of the machine to use less than QUIET_CORES. */
export async function waitQuiet(maxWaitMs: number): Promise<void> {
  const deadline = Date.now() + maxWaitMs;
  while (Date.now() < deadline) {
    const w = new CpuWindow(benchPids());
    await sleep(250);
    if (w.end().other < QUIET_CORES) return;
  }
}

/**
 * `measure`, repeated up to `options.untilQuiet` times while other processes took QUIET_CORES or
 * more during the window; keeps the least disturbed attempt and marks whether it was quiet.
 */
export async function measureQuiet(options: Options, ...args: Parameters<typeof measure>): Promise<Point> {
  let best: Point | undefined;
  for (let i = 1; i <= Math.max(1, options.untilQuiet); i++) {
    if (i > 1 && performance.now() > options.retryUntil) break;
    await waitQuiet(args[4].quietWaitMs ?? (options.quick ? 2000 : 5000));
    const point: Point = { ...(await measure(...args)), attempts: i };
    if (!best || point.otherCpu < best.otherCpu) best = point;
    if (point.otherCpu < QUIET_CORES) break;
  }
  const kept = best as Point;
  return { ...kept, quiet: kept.otherCpu < QUIET_CORES };
}

export function describe(p: Point): string {
  const l = p.latency;
  const offered = p.mode === 'max' ? 'max' : `${fmtRate(p.offeredDeliveries ?? 0)}/s offered`;
  const cost = `${p.serverUsPerDelivery ?? '—'} µs/delivery`;
  const path = p.path ? ` (+ ${p.path.name} ${p.path.usPerDelivery} µs)` : '';
  const other = `other ${p.otherCpu}${p.quiet === false ? ' (disturbed)' : ''}`;
  return `${p.server.padEnd(16)} ${offered.padEnd(16)} ${fmtRate(p.deliveriesPerSec).padStart(8)} deliveries/s  p99 ${l.p99.toFixed(1)} ms  ${cost}${path}  ${p.pushBytes ?? p.frameBytes} B/push  drops ${p.drops}  ${other}`;
}
