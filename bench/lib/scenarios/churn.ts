/**
 * Churn: connections that connect, subscribe to two channels and close, in a loop.
 */
import { sleep } from '../clock.js';
import { CpuWindow } from '../cpu.js';
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import type { ChurnResult as LoadgenChurn, Target } from '../loadgen/types.js';
import { benchPids, LoadGen, rssKiB, startCeiling, startHub } from '../procs.js';
import { CLIENT_CPU, type Options, SERVER_CPU, SETTLE_MS, sourcesFor } from './common.js';

export interface ChurnResult {
  readonly server: string;
  readonly seconds: number;
  readonly concurrency: number;
  readonly cycles: number;
  readonly cyclesPerSec: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly handshake: Percentiles;
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  /** RSS 15 s after the churn stopped (past the memory broker's 10 s sweep of unused channels); full runs only. */
  readonly rssLaterKiB?: number;
  readonly serverCpu: number;
}

/** Connect, subscribe to two channels, close — in a loop with `concurrency` connections in flight. */
export async function churn(options: Options): Promise<ChurnResult[]> {
  const { progress } = options;
  const seconds = options.quick ? 4 : 10;
  const concurrency = 64;
  const results: ChurnResult[] = [];
  const lg = new LoadGen('churn-loadgen', CLIENT_CPU);
  await lg.ready;
  progress.watch([lg]);
  try {
    for (const kind of ['hub', 'ceiling'] as const) {
      progress.set(`churn: ${kind}`);
      const server =
        kind === 'hub'
          ? await startHub({ name: 'churn-hub', cpu: SERVER_CPU, broker: { type: 'memory' } })
          : await startCeiling('churn-ceiling', 'deferred', SERVER_CPU);
      const target: Target = { host: '127.0.0.1', port: server.port, kind };
      await sleep(500);
      const before = rssKiB(server.pid);
      const cpu = new CpuWindow([server.pid, ...benchPids().filter((pid) => pid !== server.pid)]);
      const r = await lg.call<LoadgenChurn>('churn', {
        target,
        durationMs: seconds * 1000,
        concurrency,
        patterns: [
          { prefix: 'churn:u', mod: 0 },
          { prefix: 'churn:r', mod: 100 },
        ],
        sources: sourcesFor(4),
        base: 0,
      });
      const usage = cpu.end();
      await sleep(SETTLE_MS);
      const h = new Histogram();
      h.addSparse(r.hist, r.histMax);
      const result: ChurnResult = {
        server: kind,
        seconds,
        concurrency,
        cycles: r.cycles,
        cyclesPerSec: Math.round((r.cycles * 1000) / r.ms),
        failed: r.failed,
        failures: r.failures,
        handshake: percentiles(h),
        rssBeforeKiB: before,
        rssAfterKiB: rssKiB(server.pid),
        rssLaterKiB: options.quick ? undefined : await sleep(13_000).then(() => rssKiB(server.pid)),
        serverCpu: usage.cores[0] ?? 0,
      };
      results.push(result);
      progress.log(
        `  churn ${kind}: ${result.cyclesPerSec} connect+subscribe+close cycles/s, handshake p50 ${result.handshake.p50} ms p99 ${result.handshake.p99} ms, ${result.failed} failed`,
      );
      await server.stop();
    }
  } finally {
    await lg.stop();
  }
  return results;
}
