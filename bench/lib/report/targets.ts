/**
 * The targets of README's Performance paragraph, evaluated on a run's results. They are about
 * deliveries per second against the ceiling (the reference shapes: deep WebSocket batches,
 * msgpack, plain TCP), latency at half the maximum, and idle memory; and (issue 19) publications
 * per second into one hub with the Redis broker by Kafka ingress and by HTTP publish.
 */
import { fmtRate } from '../progress.js';
import type { FanoutResult } from '../scenarios/fanout.js';
import type { Point } from '../scenarios/measure.js';
import { ceilingFor, costRatio, maxOf, pct, type RunResults, type Target } from './results.js';

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)}` : '—');
const kib = (n: number) => `${n.toFixed(2)}`;

export function evaluateTargets(results: Omit<RunResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  // The targets speak of the reference path: deep WebSocket batches, msgpack, no TLS.
  const memory = results.fanout.filter(
    (r) => r.broker === 'memory' && r.ingress === 'ws' && (r.format ?? 'msgpack') === 'msgpack' && !r.tls,
  );
  const one = memory.find((r) => r.channels === 1);
  const many = memory.find((r) => r.channels > 1);
  for (const [r, goal, what] of [
    [one, 0.85, 'one channel'],
    [many, 0.75, 'many channels'],
  ] as const) {
    if (!r) continue;
    const hub = maxOf(r, 'hub');
    const ceiling = ceilingFor(results.fanout, r);
    if (!hub || !ceiling) continue;
    const ratio = hub.deliveriesPerSec / ceiling.deliveriesPerSec;
    targets.push({
      what: `memory broker, ${what} (${r.channels} × ${r.subscribersPerChannel}): deliveries/s vs ceiling`,
      goal: `≥ ${pct(goal)}`,
      measured: `${pct(ratio)} (${fmtRate(hub.deliveriesPerSec)} vs ${fmtRate(ceiling.deliveriesPerSec)})`,
      met: ratio >= goal,
    });
    const cost = costRatio(hub, ceiling);
    if (cost !== undefined)
      targets.push({
        what: `memory broker, ${what} (${r.channels} × ${r.subscribersPerChannel}): server µs per delivery vs ceiling`,
        goal: '≤ 1.30×',
        measured: `${cost.toFixed(2)}× (${hub.serverUsPerDelivery ?? '—'} vs ${ceiling.serverUsPerDelivery ?? '—'} µs)`,
        met: cost <= 1.3,
      });
  }
  for (const r of memory) {
    const half = r.points.find((p) => p.server === 'hub' && p.mode === 'rate' && isHalf(r, p));
    if (!half) continue;
    const ceiling = r.points.find(
      (p) => p.server === 'ceiling' && p.mode === 'rate' && p.offeredPubs === half.offeredPubs,
    );
    targets.push({
      what: `p99 at half the hub's maximum rate (${r.channels} × ${r.subscribersPerChannel}, ${fmtRate(half.offeredDeliveries ?? 0)} deliveries/s)`,
      goal: '< 50 ms',
      measured: `${ms(half.latency.p99)} ms${ceiling ? ` (ceiling at the same rate: ${ms(ceiling.latency.p99)} ms)` : ''}`,
      met: half.latency.p99 < 50 && half.drops === 0,
    });
  }
  for (const r of results.fanout.filter((x) => x.broker === 'redis' && x.ingress === 'redis')) {
    const hub = maxOf(r, 'hub');
    const ceiling = ceilingFor(results.fanout, r);
    if (!hub || !ceiling) continue;
    const ratio = hub.deliveriesPerSec / ceiling.deliveriesPerSec;
    targets.push({
      what: `Redis ingress (${r.channels} × ${r.subscribersPerChannel}): deliveries/s vs ceiling`,
      goal: '≥ 50.0%',
      measured: `${pct(ratio)} (${fmtRate(hub.deliveriesPerSec)} vs ${fmtRate(ceiling.deliveriesPerSec)})`,
      met: ratio >= 0.5,
    });
  }
  for (const idleHub of results.idle.filter((i) => i.server === 'hub')) {
    targets.push({
      what: `idle connection with 2 subscriptions: hub RSS (${idleHub.connections} connections, one hub)`,
      goal: '< 3 KB',
      measured: `${kib((idleHub.kibPerConnection * 1024) / 1000)} KB`,
      met: (idleHub.kibPerConnection * 1024) / 1000 < 3,
    });
  }
  const startup = results.idle.find((i) => i.server === 'hub');
  if (startup) {
    targets.push({
      what: 'start-up RSS of a hub on the embedded defaults, settled',
      goal: '≤ 60 MB',
      measured: `${(startup.rssBeforeKiB / 1024).toFixed(1)} MB`,
      met: startup.rssBeforeKiB / 1024 <= 60,
    });
  }
  for (const h of results.cluster?.hubs ?? []) {
    targets.push({
      what: `idle connection with 2 subscriptions: ${h.name} RSS (${h.connections} connections, Redis broker)`,
      goal: '< 3 KB',
      measured: `${kib((h.kibPerConnection * 1024) / 1000)} KB`,
      met: (h.kibPerConnection * 1024) / 1000 < 3,
    });
  }
  targets.push(...ingressTargets(results));
  return targets;
}

/** Kafka ingress on Redis (each partition count): ≥ 50,000/s, p99 < 50 ms at half; HTTP publish on Redis: ≥ 25,000/s. */
function ingressTargets(results: Omit<RunResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  for (const r of results.ingress ?? []) {
    if (r.broker !== 'redis' || !r.max) continue;
    if (r.path === 'kafka') {
      targets.push({
        what: `Kafka ingress, Redis broker, ${r.partitions} partition(s): publications/s into one hub`,
        goal: '≥ 50,000/s',
        measured: `${fmtRate(r.max.pubsPerSec)}/s`,
        met: r.max.pubsPerSec >= 50_000,
      });
      if (!r.half) continue;
      targets.push({
        what: `Kafka ingress, Redis broker, ${r.partitions} partition(s): p99 at half the maximum (${fmtRate(r.half.offeredPubs ?? 0)}/s)`,
        goal: '< 50 ms, nothing dropped',
        measured: `${ms(r.half.latency.p99)} ms, ${r.half.drops} dropped`,
        met: r.half.latency.p99 < 50 && r.half.drops === 0,
      });
    } else if (r.path === 'http') {
      targets.push({
        what: 'HTTP publish (one publication per request), Redis broker: publications/s into one hub',
        goal: '≥ 25,000/s',
        measured: `${fmtRate(r.max.pubsPerSec)}/s`,
        met: r.max.pubsPerSec >= 25_000,
      });
    }
  }
  return targets;
}

function isHalf(r: FanoutResult, p: Point): boolean {
  const max = maxOf(r, 'hub');
  return !!max && !!p.offeredPubs && Math.abs(p.offeredPubs / max.pubsPerSec - 0.5) < 0.02;
}
