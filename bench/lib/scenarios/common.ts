/**
 * What every scenario shares: the run's options, the cores, loopback source addresses, the
 * measurement window, and opening connections through a load generator.
 *
 * Cores: the server under test (hub or ceiling) runs on CPU 0; load generators, redis-server and
 * Kafka on CPU 1. The runner itself is unpinned and idle while measuring.
 */

import type { OpenResult, Target } from '../loadgen/types.js';
import type { LoadGen } from '../procs.js';
import type { Progress } from '../progress.js';

export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;
/** Settling time before an RSS reading. */
export const SETTLE_MS = 2000;

export interface Options {
  readonly quick: boolean;
  /** performance.now() after which measurements are no longer repeated (keeps --quick bounded). */
  readonly retryUntil: number;
  /** Measurements made at most to get one with other load under QUIET_CORES (`--until-quiet N`). */
  readonly untilQuiet: number;
  readonly profile: boolean;
  readonly progress: Progress;
  readonly runId: string;
}

/** Loopback source addresses of load generator `j`: 127.<j+1>.0.2 … (each pair has ~28k ports). */
export function sourcesFor(j: number, count = 8): string[] {
  return Array.from({ length: count }, (_, k) => `127.${j + 1}.0.${k + 2}`);
}

export interface Window {
  readonly warmupMs: number;
  readonly measureMs: number;
  /** How long to wait for a quiet machine before measuring (default 5 s, 2 s with --quick). */
  readonly quietWaitMs?: number;
}

export function windowOf(options: Options): Window {
  return options.quick ? { warmupMs: 1000, measureMs: 2500 } : { warmupMs: 1500, measureMs: 4000 };
}

export const round2 = (n: number) => Math.round(n * 100) / 100;

export async function openAll(
  lg: LoadGen,
  target: Target,
  count: number,
  patterns: object[],
  j = 0,
): Promise<OpenResult> {
  const result = await lg.call<OpenResult>('open', { target, count, base: 0, patterns, sources: sourcesFor(j) });
  if (result.failed > 0)
    throw new Error(`${result.failed} of ${count} connections failed: ${JSON.stringify(result.failures)}`);
  return result;
}
