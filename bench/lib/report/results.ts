/**
 * A run's results file (bench/results/<id>.json) and the comparisons every view of it makes: the
 * hub's maximum against the ceiling server's for the same shape, in server CPU per delivery (the
 * headline: it carries over to other machines) and in deliveries per second (a limit of this
 * machine's single load-generator core as much as of the server).
 */
import type { ChurnResult } from '../scenarios/churn.js';
import type { ClusterResult } from '../scenarios/cluster.js';
import type { FanoutResult } from '../scenarios/fanout.js';
import type { IdleResult } from '../scenarios/idle.js';
import type { IngressResult } from '../scenarios/ingress.js';
import type { Point } from '../scenarios/measure.js';
import type { PresenceResult } from '../scenarios/presence.js';
import type { ReplayResult } from '../scenarios/replay.js';
import type { RpcResult } from '../scenarios/rpc.js';
import type { ShardsResult } from '../scenarios/shards.js';
import type { SseResult } from '../scenarios/sse.js';
import type { StreamsResult } from '../scenarios/streams.js';

export interface Machine {
  readonly cpus: number;
  /** As /proc/cpuinfo names it. */
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly uws: string;
  readonly loadAverageAtStart: number[];
  /** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`). */
  readonly clockTicks?: number;
}

export interface Target {
  readonly what: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

export interface RunResults {
  readonly id: string;
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly command: string;
  readonly mode: 'quick' | 'full';
  readonly machine: Machine;
  readonly durationSeconds: number;
  /** Measurements were repeated up to this many times until other load stayed under `quietCores`. */
  readonly untilQuiet?: number;
  readonly quietCores?: number;
  readonly fanout: FanoutResult[];
  /** Publications/s into one hub by each ingress path (absent in results recorded before it existed). */
  readonly ingress?: IngressResult[];
  /** Redis ingress over 1, 2 and 3 independent shards (absent in runs before it existed, or without `shards`). */
  readonly shards?: ShardsResult[];
  readonly idle: IdleResult[];
  readonly churn: ChurnResult[];
  readonly cluster?: ClusterResult;
  /** RPC round trips through Kafka (absent in runs before it existed, or without `rpc`). */
  readonly rpc?: RpcResult;
  /** Presence churn and server API calls (absent in runs before it existed, or without `presence`). */
  readonly presence?: PresenceResult;
  /** SSE streams against WebSockets on one hub, and memory per idle SSE stream (absent before it existed). */
  readonly sse?: SseResult;
  /** Delta, conflation and token streams (absent in runs before it existed, or without `streams`). */
  readonly streams?: StreamsResult;
  /** Replay from Kafka beyond Redis history (absent in runs before it existed, or without `replay`). */
  readonly replay?: ReplayResult;
  readonly targets: Target[];
}

export const pct = (n: number) => `${(100 * n).toFixed(1)}%`;

export function maxOf(result: FanoutResult | undefined, server: string): Point | undefined {
  return result?.points.find((p) => p.server === server && p.mode === 'max');
}

/** The ceiling's maximum for the same shape (channels × subscribers, wire format, TLS), measured in this run. */
export function ceilingFor(all: FanoutResult[], r: FanoutResult, server = 'ceiling'): Point | undefined {
  const same = all.find(
    (x) =>
      x.channels === r.channels &&
      x.subscribersPerChannel === r.subscribersPerChannel &&
      (x.format ?? 'msgpack') === (r.format ?? 'msgpack') &&
      !!x.tls === !!r.tls &&
      x.points.some((p) => p.server === server && p.mode === 'max'),
  );
  return maxOf(same, server);
}

/** Hub µs per delivery ÷ ceiling µs per delivery (1.00 = as cheap as bare uWS); undefined without both. */
export function costRatio(hub: Point | undefined, ceiling: Point | undefined): number | undefined {
  const h = hub?.serverUsPerDelivery;
  const c = ceiling?.serverUsPerDelivery;
  return h && c ? h / c : undefined;
}

export function throughputRatio(hub: Point | undefined, ceiling: Point | undefined): number | undefined {
  return hub && ceiling && ceiling.deliveriesPerSec > 0 ? hub.deliveriesPerSec / ceiling.deliveriesPerSec : undefined;
}

/** The ceiling row measured at the same offered rate as `p` in the same scenario, if any. */
export function ceilingAtSameRate(r: FanoutResult, p: Point): Point | undefined {
  return p.mode === 'rate'
    ? r.points.find((c) => c.server === 'ceiling' && c.mode === 'rate' && c.offeredPubs === p.offeredPubs)
    : undefined;
}

export const times = (n: number | undefined) => (n === undefined ? '—' : `${n.toFixed(2)}×`);
export const fixed = (n: number | undefined, digits = 3) => (n === undefined ? '—' : n.toFixed(digits));

/** Other load over every measurement window of the run: the largest, and how many windows were not quiet. */
export function otherLoad(results: RunResults): { max: number; disturbed: number; windows: number; threshold: number } {
  const threshold = results.quietCores ?? 0.1;
  const points = [
    ...results.fanout.flatMap((r) => r.points),
    ...(results.ingress ?? []).flatMap((r) => (r.max && r.half ? [r.max, r.half] : [])),
  ];
  return {
    max: Math.max(0, ...points.map((p) => p.otherCpu)),
    disturbed: points.filter((p) => p.otherCpu >= threshold).length,
    windows: points.length,
    threshold,
  };
}
