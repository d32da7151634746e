import { Counter, Histogram, type Registry } from 'prom-client';

/** What a broker with shards (Redis Cluster masters, independent Redis shards) reports of each. */
export interface ShardObserver {
  /** A publish call to `shard` ended after `seconds`, accepted or failed. */
  published(shard: string, seconds: number, ok: boolean): void;
  /** The pub/sub connection to `shard` was lost (it reconnects and resubscribes). */
  pubsubLost(shard: string): void;
}

export const NO_SHARD_OBSERVER: ShardObserver = { published: () => undefined, pubsubLost: () => undefined };

/**
 * Per-shard metrics, labelled by the shard's `host:port` only (a bounded set: the configured
 * shards or the cluster's masters), never by channel.
 */
export function shardMetrics(registry: Registry): ShardObserver {
  const registers = [registry];
  const publishes = new Counter({
    name: 'switchboard_redis_shard_publishes_total',
    help: 'Publish calls (one script call each, up to 256 publications) per Redis shard, by outcome.',
    labelNames: ['shard', 'outcome'],
    registers,
  });
  const latency = new Histogram({
    name: 'switchboard_redis_shard_publish_seconds',
    help: 'Time from a publish to its shard answering, per Redis shard.',
    labelNames: ['shard'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers,
  });
  const lost = new Counter({
    name: 'switchboard_redis_shard_pubsub_reconnects_total',
    help: 'Pub/sub connections lost per Redis shard (each is followed by a resubscription and a position check).',
    labelNames: ['shard'],
    registers,
  });
  return {
    published: (shard, seconds, ok) => {
      publishes.inc({ shard, outcome: ok ? 'ok' : 'error' });
      if (ok) latency.observe({ shard }, seconds);
    },
    pubsubLost: (shard) => lost.inc({ shard }),
  };
}

/** `command` to `shard`, reported to `observer` when it ends; answers what the command answers. */
export function observed<T>(observer: ShardObserver, shard: string, command: Promise<T>): Promise<T> {
  const started = performance.now();
  return command.then(
    (value) => {
      observer.published(shard, (performance.now() - started) / 1000, true);
      return value;
    },
    (error: unknown) => {
      observer.published(shard, (performance.now() - started) / 1000, false);
      throw error;
    },
  );
}
