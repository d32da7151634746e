/**
 * Idle connections: hub RSS with N connections, then with two subscriptions each; the same for
 * the bare uWebSockets.js server.
 */
import { sleep } from '../clock.js';
import type { Target } from '../loadgen/types.js';
import { LoadGen, rssKiB, startCeiling, startHub } from '../procs.js';
import { CLIENT_CPU, type Options, openAll, round2, SERVER_CPU } from './common.js';

export interface IdleResult {
  readonly server: string;
  readonly connections: number;
  readonly subscriptionsPerConnection: number;
  readonly rssBeforeKiB: number;
  readonly rssConnectedKiB: number;
  readonly rssSubscribedKiB: number;
  readonly kibPerConnection: number;
  readonly kibPerConnectionBare: number;
  readonly kibPerSubscription: number;
  readonly openMs: number;
}

const IDLE_PATTERNS = [
  { prefix: 'user:', mod: 0 },
  { prefix: 'room:', mod: 100 },
];

/**
 * How long a server is left alone before each RSS reading: V8's memory reducer gives back what a
 * burst took (loading, thousands of connects or subscribes at once) about eight seconds after it:
 * a hub at 66 MB three seconds after start is at 59 MB after ten, one at 123 MB two seconds after
 * 20,000 subscribes at 85 MB twelve seconds after. An idle server is one that has settled; the
 * uWebSockets.js ceiling, with no JavaScript heap to speak of, reads the same either way.
 */
const IDLE_SETTLE_MS = 12_000;

/**
 * Hub RSS with N idle connections, then with two subscriptions each (one own channel, one shared
 * by 1% of them), for each N of `counts`; the first reading of each server is its start-up RSS.
 */
export async function idle(options: Options, counts: readonly number[]): Promise<IdleResult[]> {
  const { progress } = options;
  const results: IdleResult[] = [];
  const lg = new LoadGen('idle-loadgen', CLIENT_CPU);
  await lg.ready;
  progress.watch([lg]);
  try {
    for (const connections of counts)
      for (const kind of ['hub', 'ceiling'] as const) {
        progress.set(`idle: starting the ${kind}`);
        const server =
          kind === 'hub'
            ? await startHub({ name: 'idle-hub', cpu: SERVER_CPU, broker: { type: 'memory' } })
            : await startCeiling('idle-ceiling', 'deferred', SERVER_CPU);
        const target: Target = { host: '127.0.0.1', port: server.port, kind };
        await sleep(IDLE_SETTLE_MS);
        const before = rssKiB(server.pid);
        progress.set(`idle: ${connections} connections to the ${kind}`);
        const opened = await openAll(lg, target, connections, []);
        await sleep(IDLE_SETTLE_MS);
        const connected = rssKiB(server.pid);
        progress.set(`idle: 2 subscriptions on each of ${connections} ${kind} connections`);
        const sub = await lg.call<{ failed: number }>('subscribe', { patterns: IDLE_PATTERNS });
        if (sub.failed > 0) throw new Error(`idle: ${sub.failed} subscriptions failed`);
        await sleep(IDLE_SETTLE_MS);
        const subscribed = rssKiB(server.pid);
        const result: IdleResult = {
          server: kind,
          connections,
          subscriptionsPerConnection: IDLE_PATTERNS.length,
          rssBeforeKiB: before,
          rssConnectedKiB: connected,
          rssSubscribedKiB: subscribed,
          kibPerConnection: round2((subscribed - before) / connections),
          kibPerConnectionBare: round2((connected - before) / connections),
          kibPerSubscription: round2((subscribed - connected) / (connections * IDLE_PATTERNS.length)),
          openMs: opened.ms,
        };
        results.push(result);
        progress.log(
          `  idle ${kind}: ${connections} connections × 2 subscriptions: ${result.kibPerConnection} KiB/connection (${result.kibPerConnectionBare} KiB without subscriptions, ${result.kibPerSubscription} KiB per subscription)`,
        );
        await lg.call('closeAll');
        await server.stop();
      }
  } finally {
    await lg.stop();
  }
  return results;
}
