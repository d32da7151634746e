/**
 * Redis ingress over 1, 2 and 3 independent shards (`broker.shards`): publications/s into one hub
 * by batch HTTP, the hub spreading the channels over the shards by the hash of their names, each
 * publication delivered to one subscriber. Per shard: the channels it holds (counted in Redis
 * after the row) and its CPU per publication of the whole row (from /proc), so the spread and
 * what each shard costs are read side by side.
 *
 * One hub process serves each row with its own Redis instances; the hub is pinned to one core,
 * so a row shows where the shards stop being what limits it.
 */
import { execFileSync } from 'node:child_process';
import type { Target } from '../loadgen/types.js';
import { LoadGen, type Service, startHub, startRedis } from '../procs.js';
import { CLIENT_CPU, type Options, openAll, SERVER_CPU, type Window } from './common.js';
import { describe, type Load, measureQuiet, type Point, type Rig } from './measure.js';

export interface ShardsResult {
  readonly id: string;
  readonly shards: number;
  readonly channels: number;
  /** Channels held by each shard, in the order of `broker.shards`. */
  readonly spread?: number[];
  readonly unavailable?: string;
  readonly max?: Point;
  readonly half?: Point;
}

/** Shard counts measured, each a row `shards-<N>`. */
export const SHARD_COUNTS = [1, 2, 3] as const;
/** Channels per row, one subscriber each: enough that three shards get a fair share (±30%). */
const CHANNELS = 60;
const PREFIX = 'shard:c';

function window(options: Options): Window {
  return options.quick
    ? { warmupMs: 500, measureMs: 1500, quietWaitMs: 200 }
    : { warmupMs: 1000, measureMs: 3000, quietWaitMs: 1500 };
}

/** Channels of this row held by the Redis on `port` (their meta hashes). */
function channelsOn(port: number): number {
  const keys = execFileSync('redis-cli', ['-p', String(port), '--scan', '--pattern', `sb:{${PREFIX}*}:m`], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return keys.split('\n').filter((line) => line.trim() !== '').length;
}

async function row(options: Options, count: number): Promise<ShardsResult> {
  const { progress } = options;
  const id = `shards-${count}`;
  const redis: Array<Service & { url: string }> = [];
  const lg = new LoadGen(`${id}-loadgen`, CLIENT_CPU);
  let hub: Service | undefined;
  try {
    await lg.ready;
    progress.watch([lg]);
    for (let k = 0; k < count; k++) redis.push(await startRedis(`${id}-redis-${k}`, CLIENT_CPU));
    progress.set(`Shards (${count}): starting hub`);
    hub = await startHub({
      name: `${id}-hub`,
      cpu: SERVER_CPU,
      broker: { type: 'redis', shards: redis.map((r) => r.url) },
    });
    const target: Target = { host: '127.0.0.1', port: hub.port, kind: 'hub', format: 'msgpack' };
    await openAll(lg, target, CHANNELS, [{ prefix: PREFIX, mod: CHANNELS }]);
    const load: Load = {
      channels: Array.from({ length: CHANNELS }, (_, i) => `${PREFIX}${i}`),
      fanout: 1,
      subscribers: CHANNELS,
      via: 'http-batch',
      inflight: 8192,
      connections: 8,
    };
    const rig: Rig = {
      server: 'hub',
      serverPid: hub.pid,
      target,
      lg,
      paths: redis.map((r, k) => ({ name: `redis-${k}`, pid: r.pid })),
    };
    progress.set(`Shards (${count}): maximum`);
    const max = await measureQuiet(options, rig, load, 'max', undefined, window(options));
    progress.log(`  ${'max'.padEnd(5)} ${describe(max)}`);
    if (max.pubsPerSec === 0) return { id, shards: count, channels: CHANNELS, max, unavailable: 'nothing delivered' };
    const rate = Math.max(1, Math.round(max.pubsPerSec / 2));
    progress.set(`Shards (${count}): ${rate} publications/s (half)`);
    const half = await measureQuiet(options, rig, load, 'rate', rate, window(options));
    progress.log(`  ${'half'.padEnd(5)} ${describe(half)}`);
    const spread = redis.map((r) => channelsOn(r.port));
    progress.log(`  channels per shard: ${spread.join(' · ')}`);
    return { id, shards: count, channels: CHANNELS, spread, max, half };
  } finally {
    await lg.call('closeAll').catch(() => undefined);
    await Promise.all([lg.stop(), hub?.stop()]);
    await Promise.all(redis.map((r) => r.stop()));
  }
}

/** The rows of `counts`, one after the other, each on fresh processes. */
export async function shards(options: Options, counts: readonly number[]): Promise<ShardsResult[]> {
  const results: ShardsResult[] = [];
  for (const count of counts) {
    options.progress.log(`Redis ingress over ${count} shard${count === 1 ? '' : 's'}`);
    try {
      results.push(await row(options, count));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.progress.log(`  failed: ${message}`);
      results.push({ id: `shards-${count}`, shards: count, channels: CHANNELS, unavailable: `failed: ${message}` });
    }
  }
  return results;
}
