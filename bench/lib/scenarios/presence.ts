/**
 * Presence churn and server API calls, on one hub with the Redis broker (presence lives in Redis).
 *
 * - Churn: the load generator's connect + subscribe + close loop into 100 rooms, with presence
 *   (and join/leave pushes) off, then on, for the same time: the hub's and Redis' CPU per cycle
 *   say what presence costs per join and leave. One SDK watcher per room counts the `pres`
 *   pushes it gets: with one hub they are bounded by one per room per `pushIntervalMs` (1 s),
 *   however fast members come and go (docs/guarantees.md).
 * - Server API: `presence`, `presence_stats`, `channels` and `info` in a closed loop of 8
 *   callers for a window each, while the rooms are full: calls/s, latency, and the hub's CPU per
 *   call.
 */
import WebSocket from 'ws';
import { Client, type Subscription } from '../../../client-sdk/src/index.js';
import { sleep } from '../clock.js';
import { CpuWindow } from '../cpu.js';
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import type { ChurnResult as LoadgenChurn, Target } from '../loadgen/types.js';
import { benchPids, LoadGen, type Service, startHub, startRedis } from '../procs.js';
import { CLIENT_CPU, type Options, SERVER_CPU, sourcesFor, windowOf } from './common.js';

const ROOMS = 100;
const NAMESPACE = 'room';
const API_CALLERS = 8;
const API_METHODS = ['presence', 'presence_stats', 'channels', 'info'] as const;

export interface PresenceChurnRow {
  readonly presence: boolean;
  readonly seconds: number;
  readonly cyclesPerSec: number;
  readonly failed: number;
  /** CPU per connect + subscribe + close cycle, µs. */
  readonly hubUsPerCycle: number;
  readonly redisUsPerCycle: number;
  /** `pres` pushes one watcher got per second, on average and at most (over the rooms). */
  readonly pushesPerWatcherPerSec: number;
  readonly maxPushesPerWatcherPerSec: number;
  /** Joins and leaves per push, on average. */
  readonly changesPerPush: number;
}

export interface ApiCallRow {
  readonly method: (typeof API_METHODS)[number];
  readonly callsPerSec: number;
  readonly failed: number;
  readonly latency: Percentiles;
  readonly hubUsPerCall: number;
}

export interface PresenceResult {
  readonly rooms: number;
  readonly churn: PresenceChurnRow[];
  readonly api: ApiCallRow[];
}

/** One SDK client per room, counting the presence changes pushed to it. */
class Watchers {
  private readonly clients: Client[] = [];
  private readonly subscriptions: Subscription[] = [];
  readonly pushes: number[] = [];
  readonly changes: number[] = [];

  static async open(url: string): Promise<Watchers> {
    const watchers = new Watchers();
    for (let room = 0; room < ROOMS; room++) {
      const client = new Client(url, { WebSocket });
      client.connect();
      const subscription = client.subscribe(`${NAMESPACE}:r${room}`);
      watchers.pushes.push(0);
      watchers.changes.push(0);
      subscription.on('presence', (change) => {
        watchers.pushes[room] = (watchers.pushes[room] ?? 0) + 1;
        watchers.changes[room] = (watchers.changes[room] ?? 0) + change.join.length + change.leave.length;
      });
      watchers.clients.push(client);
      watchers.subscriptions.push(subscription);
    }
    const until = Date.now() + 30_000;
    while (watchers.subscriptions.some((s) => s.state !== 'subscribed')) {
      if (Date.now() > until) throw new Error('presence watchers did not subscribe within 30 s');
      await sleep(50);
    }
    return watchers;
  }

  reset(): void {
    this.pushes.fill(0);
    this.changes.fill(0);
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}

async function churnRow(
  options: Options,
  lg: LoadGen,
  redis: Service & { url: string },
  presence: boolean,
): Promise<{ row: PresenceChurnRow; hub: Service; watchers: Watchers }> {
  const seconds = options.quick ? 4 : 10;
  const hub = await startHub({
    name: `presence-${presence ? 'on' : 'off'}-hub`,
    cpu: SERVER_CPU,
    broker: { type: 'redis', url: redis.url },
    namespaces: { [NAMESPACE]: { presence: { enabled: presence, joinLeave: presence } } },
  });
  const watchers = await Watchers.open(`ws://127.0.0.1:${hub.port}/ws`);
  const target: Target = { host: '127.0.0.1', port: hub.port, kind: 'hub' };
  await sleep(1_500);
  watchers.reset();
  const cpu = new CpuWindow([hub.pid, redis.pid, ...benchPids().filter((pid) => pid !== hub.pid && pid !== redis.pid)]);
  const r = await lg.call<LoadgenChurn>('churn', {
    target,
    durationMs: seconds * 1000,
    concurrency: 64,
    patterns: [{ prefix: `${NAMESPACE}:r`, mod: ROOMS }],
    sources: sourcesFor(4),
    base: 0,
  });
  const usage = cpu.end();
  const cycles = Math.max(1, r.cycles);
  const perSecond = (n: number) => n / usage.seconds;
  const pushes = watchers.pushes.reduce((a, b) => a + b, 0);
  const changes = watchers.changes.reduce((a, b) => a + b, 0);
  const row: PresenceChurnRow = {
    presence,
    seconds,
    cyclesPerSec: Math.round((r.cycles * 1000) / r.ms),
    failed: r.failed,
    hubUsPerCycle: ((usage.cpuSeconds[0] ?? 0) * 1e6) / cycles,
    redisUsPerCycle: ((usage.cpuSeconds[1] ?? 0) * 1e6) / cycles,
    pushesPerWatcherPerSec: perSecond(pushes / ROOMS),
    maxPushesPerWatcherPerSec: perSecond(Math.max(...watchers.pushes)),
    changesPerPush: pushes === 0 ? 0 : changes / pushes,
  };
  options.progress.log(
    `  presence ${presence ? 'on ' : 'off'}: ${row.cyclesPerSec} connect+subscribe+close cycles/s, hub ${row.hubUsPerCycle.toFixed(1)} µs/cycle, Redis ${row.redisUsPerCycle.toFixed(1)} µs/cycle; pres pushes per watcher ${row.pushesPerWatcherPerSec.toFixed(2)}/s (max ${row.maxPushesPerWatcherPerSec.toFixed(2)}), ${row.changesPerPush.toFixed(1)} changes each`,
  );
  return { row, hub, watchers };
}

/** `method` in a closed loop of API_CALLERS callers for one window. */
async function apiRow(options: Options, hub: Service, method: ApiCallRow['method']): Promise<ApiCallRow> {
  const { warmupMs, measureMs } = windowOf(options);
  const body = JSON.stringify(
    method === 'presence' || method === 'presence_stats'
      ? { channel: `${NAMESPACE}:r0` }
      : method === 'channels'
        ? { pattern: `${NAMESPACE}:*`, limit: 100 }
        : {},
  );
  const url = `http://127.0.0.1:${hub.port}/api/${method}`;
  const histogram = new Histogram();
  let calls = 0;
  let failed = 0;
  let measuring = false;
  let cpu: CpuWindow | undefined;
  const end = performance.now() + warmupMs + measureMs;
  const measureAt = performance.now() + warmupMs;
  const caller = async () => {
    while (performance.now() < end) {
      if (!measuring && performance.now() >= measureAt) {
        measuring = true;
        cpu = new CpuWindow([hub.pid]);
      }
      const started = performance.now();
      const ok = await fetch(url, { method: 'POST', body }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.ok;
        },
        () => false,
      );
      if (!measuring) continue;
      if (ok) {
        calls += 1;
        histogram.record((performance.now() - started) * 1000);
      } else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: API_CALLERS }, caller));
  const usage = cpu?.end();
  const seconds = usage?.seconds ?? measureMs / 1000;
  const row: ApiCallRow = {
    method,
    callsPerSec: Math.round(calls / seconds),
    failed,
    latency: percentiles(histogram),
    hubUsPerCall: calls === 0 ? 0 : ((usage?.cpuSeconds[0] ?? 0) * 1e6) / calls,
  };
  options.progress.log(
    `  api ${method}: ${row.callsPerSec} calls/s, p50 ${row.latency.p50} ms, p99 ${row.latency.p99} ms, hub ${row.hubUsPerCall.toFixed(0)} µs/call, ${failed} failed`,
  );
  return row;
}

export async function presenceAndApi(options: Options): Promise<PresenceResult> {
  const lg = new LoadGen('presence-loadgen', CLIENT_CPU);
  await lg.ready;
  options.progress.watch([lg]);
  const redis = await startRedis('presence-redis', CLIENT_CPU);
  const churn: PresenceChurnRow[] = [];
  const api: ApiCallRow[] = [];
  try {
    for (const presence of [false, true]) {
      options.progress.set(`presence churn, presence ${presence ? 'on' : 'off'}`);
      const { row, hub, watchers } = await churnRow(options, lg, redis, presence);
      churn.push(row);
      try {
        if (presence) {
          // The rooms hold their watchers (one member each) and the load generator's 64 in flight.
          for (const method of API_METHODS) {
            options.progress.set(`server API: ${method}`);
            api.push(await apiRow(options, hub, method));
          }
        }
      } finally {
        watchers.close();
        await hub.stop();
      }
    }
  } finally {
    await lg.stop();
    await redis.stop();
  }
  return { rooms: ROOMS, churn, api };
}
