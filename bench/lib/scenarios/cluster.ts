/**
 * Many connections over several hub processes on one Redis, then broadcasts through Redis.
 */
import { sleep } from '../clock.js';
import { CpuWindow } from '../cpu.js';
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import type { OpenResult, PublishResult, Snapshot, Target } from '../loadgen/types.js';
import { benchPids, LoadGen, rssKiB, type Service, startHub, startRedis } from '../procs.js';
import { fmtRate } from '../progress.js';
import { CLIENT_CPU, type Options, round2, SERVER_CPU, SETTLE_MS, sourcesFor, windowOf } from './common.js';
import { waitQuiet } from './measure.js';

export interface ClusterHub {
  readonly name: string;
  readonly connections: number;
  readonly rssBeforeKiB: number;
  readonly rssConnectedKiB: number;
  readonly rssSubscribedKiB: number;
  readonly kibPerConnection: number;
  readonly kibPerSubscription: number;
}

export interface ClusterResult {
  readonly connections: number;
  readonly hubs: ClusterHub[];
  readonly loadgens: number;
  readonly openMs: number;
  readonly broadcasts: Broadcast[];
}

export interface Broadcast {
  readonly rooms: number;
  readonly subscribersPerRoom: number;
  readonly offeredPubs: number;
  readonly pubsPerSec: number;
  readonly deliveriesPerSec: number;
  readonly latency: Percentiles;
  readonly expected: number;
  readonly delivered: number;
  readonly drops: number;
  readonly gaps: number;
  readonly hubCpu: number[];
  readonly loadgenCpu: number[];
  readonly redisCpu: number;
  readonly otherCpu: number;
}

/**
 * N connections over three hub processes on one Redis (three pods), from three load-generator
 * processes: no process can hold more than ~19,900 sockets here (`ulimit -n` 20,000, hard).
 * Each connection subscribes to its own `user:` channel and to one of `rooms` shared channels;
 * then the rooms are published to through Redis (the publisher helper) at fixed rates.
 */
export async function cluster(options: Options, connections: number, rooms: number, rates: readonly number[]) {
  const { progress } = options;
  const window = windowOf(options);
  const hubsCount = 3;
  const counts = Array.from(
    { length: hubsCount },
    (_, j) => Math.floor(connections / hubsCount) + (j < connections % hubsCount ? 1 : 0),
  );
  const bases = counts.map((_, j) => counts.slice(0, j).reduce((a, b) => a + b, 0));
  const lgs = Array.from({ length: hubsCount }, (_, j) => new LoadGen(`cluster-loadgen-${j}`, CLIENT_CPU));
  await Promise.all(lgs.map((lg) => lg.ready));
  progress.watch(lgs);
  let redis: (Service & { url: string }) | undefined;
  const hubs: Service[] = [];
  try {
    redis = await startRedis('cluster-redis', CLIENT_CPU);
    const url = redis.url;
    progress.set(`${connections} connections: starting ${hubsCount} hubs on Redis`);
    for (let j = 0; j < hubsCount; j++) {
      hubs.push(await startHub({ name: `cluster-hub-${j}`, cpu: SERVER_CPU, broker: { type: 'redis', url } }));
    }
    await sleep(SETTLE_MS);
    const before = hubs.map((h) => rssKiB(h.pid));
    const targets = hubs.map((h): Target => ({ host: '127.0.0.1', port: h.port, kind: 'hub' }));
    progress.set(`${connections} connections: opening`);
    const started = performance.now();
    const opened = await Promise.all(
      lgs.map((lg, j) =>
        lg.call<OpenResult>('open', {
          target: targets[j],
          count: counts[j],
          base: bases[j],
          patterns: [],
          sources: sourcesFor(8 + j),
        }),
      ),
    );
    const failed = opened.reduce((a, o) => a + o.failed, 0);
    if (failed > 0) throw new Error(`${failed} connections failed: ${JSON.stringify(opened.map((o) => o.failures))}`);
    await sleep(SETTLE_MS);
    const connected = hubs.map((h) => rssKiB(h.pid));
    progress.set(`${connections} connections: 2 subscriptions each`);
    const patterns = [
      { prefix: 'user:', mod: 0 },
      { prefix: 'room:', mod: rooms },
    ];
    const subs = await Promise.all(lgs.map((lg) => lg.call<{ failed: number }>('subscribe', { patterns })));
    const openMs = Math.round(performance.now() - started);
    if (subs.some((s) => s.failed > 0)) throw new Error(`subscriptions failed: ${JSON.stringify(subs)}`);
    await sleep(SETTLE_MS);
    const subscribed = hubs.map((h) => rssKiB(h.pid));
    const hubResults: ClusterHub[] = hubs.map((h, j) => ({
      name: h.name,
      connections: counts[j] ?? 0,
      rssBeforeKiB: before[j] ?? 0,
      rssConnectedKiB: connected[j] ?? 0,
      rssSubscribedKiB: subscribed[j] ?? 0,
      kibPerConnection: round2(((subscribed[j] ?? 0) - (before[j] ?? 0)) / (counts[j] ?? 1)),
      kibPerSubscription: round2(((subscribed[j] ?? 0) - (connected[j] ?? 0)) / ((counts[j] ?? 1) * 2)),
    }));
    for (const h of hubResults)
      progress.log(`  ${h.name}: ${h.connections} connections, ${h.kibPerConnection} KiB/connection`);

    const roomNames = Array.from({ length: rooms }, (_, i) => `room:${i}`);
    const subscribersPerRoom = connections / rooms;
    const broadcasts: Broadcast[] = [];
    for (const rate of rates) {
      progress.set(`${connections} connections: ${rate} publications/s to ${rooms} rooms through Redis`);
      await waitQuiet(5000);
      await Promise.all(lgs.map((lg) => lg.call('phase')));
      const [publisher] = lgs as [LoadGen];
      const publishing = publisher.call<PublishResult>('publish', {
        target: targets[0],
        via: 'redis',
        redisUrl: url,
        channels: roomNames.map((name) => ({ name, fanout: Math.round(subscribersPerRoom / hubsCount) })),
        mode: 'rate',
        rate,
        durationMs: window.warmupMs + window.measureMs,
        inflight: 10_000_000,
      });
      await sleep(window.warmupMs);
      await Promise.all(lgs.map((lg) => lg.call('reset')));
      const own = [...hubs.map((h) => h.pid), ...lgs.map((lg) => lg.pid), redis.pid];
      const cpu = new CpuWindow([...own, ...benchPids().filter((pid) => !own.includes(pid))]);
      await sleep(window.measureMs);
      const snaps = await Promise.all(lgs.map((lg) => lg.call<Snapshot>('snapshot')));
      const usage = cpu.end();
      const pub = await publishing;
      const expected = Math.round(pub.published * subscribersPerRoom);
      let finals = snaps;
      const deadline = Date.now() + 5000;
      const sum = (s: Snapshot[]) => s.reduce((a, x) => a + x.delivered, 0);
      while (sum(finals) < expected && Date.now() < deadline) {
        await sleep(100);
        finals = await Promise.all(lgs.map((lg) => lg.call<Snapshot>('snapshot')));
      }
      const h = new Histogram();
      for (const snap of snaps) h.addSparse(snap.hist, snap.histMax);
      const windowDelivered = snaps.reduce((a, snap) => a + snap.windowDelivered, 0);
      const seconds = (snaps[0]?.windowMs ?? window.measureMs) / 1000;
      const b: Broadcast = {
        rooms,
        subscribersPerRoom,
        offeredPubs: rate,
        pubsPerSec: Math.round(windowDelivered / subscribersPerRoom / seconds),
        deliveriesPerSec: Math.round(windowDelivered / seconds),
        latency: percentiles(h),
        expected,
        delivered: sum(finals),
        drops: expected - sum(finals),
        gaps: finals.reduce((a, snap) => a + snap.gaps, 0),
        hubCpu: usage.cores.slice(0, hubsCount),
        loadgenCpu: usage.cores.slice(hubsCount, hubsCount * 2),
        redisCpu: usage.cores[hubsCount * 2] ?? 0,
        otherCpu: usage.other,
      };
      broadcasts.push(b);
      progress.log(
        `  broadcast at ${rate} publications/s: ${fmtRate(b.deliveriesPerSec)} deliveries/s over ${connections} connections, p50 ${b.latency.p50} ms p99 ${b.latency.p99} ms p99.9 ${b.latency.p999} ms, drops ${b.drops}`,
      );
    }
    const result: ClusterResult = {
      connections,
      hubs: hubResults,
      loadgens: lgs.length,
      openMs,
      broadcasts,
    };
    await Promise.all(lgs.map((lg) => lg.call('closeAll')));
    return result;
  } finally {
    await Promise.all(lgs.map((lg) => lg.stop()));
    await Promise.all(hubs.map((h) => h.stop()));
    await redis?.stop();
  }
}
