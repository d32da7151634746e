/**
 * RPC through Kafka: one hub, one service process (switchboard/service) and one process of SDK
 * clients calling it in a closed loop. Each round trip is client → hub → request topic → service
 * → the hub's reply partition → hub → client: what a browser's `client.rpc` costs (docs/rpc.md).
 * The hub runs on the server core; Kafka, the service and the callers share the other.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CpuWindow } from '../cpu.js';
import type { Percentiles } from '../histogram.js';
import type { BenchKafka } from '../kafka.js';
import { ROOT, spawnPinned, startHub, stopProcess } from '../procs.js';
import { CLIENT_CPU, type Options, SERVER_CPU, windowOf } from './common.js';

export interface RpcResult {
  readonly connections: number;
  /** Calls each connection keeps waiting at once. */
  readonly inFlight: number;
  readonly seconds: number;
  readonly calls: number;
  readonly callsPerSec: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly latency: Percentiles;
  /** Cores of the hub's process while measuring. */
  readonly hubCpu: number;
}

interface CallerReport {
  readonly calls: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly ms: number;
  readonly latency: Percentiles;
}

const TOPIC = 'bench-rpc';

/** Spawns a TypeScript child of bench/lib/rpc/ on the load generators' core, with IPC. */
function child(name: string, script: string, args: string[]): ChildProcess {
  const path = join(ROOT, 'bench', 'lib', 'rpc', script);
  return spawnPinned(name, CLIENT_CPU, process.execPath, ['--import', 'tsx', path, ...args], true);
}

/** The first IPC message of `process`, or an error when it exits or `ms` pass first. */
async function firstMessage<T>(process: ChildProcess, ms: number, what: string): Promise<T> {
  const timeout = AbortSignal.timeout(ms);
  const exited = once(process, 'exit', { signal: timeout }).then(([code]) => {
    throw new Error(`${what} exited with code ${String(code)}`);
  });
  const [message] = (await Promise.race([once(process, 'message', { signal: timeout }), exited])) as [T];
  return message;
}

export async function rpc(options: Options, kafka: BenchKafka): Promise<RpcResult> {
  const { progress } = options;
  const { warmupMs, measureMs } = windowOf(options);
  const connections = 50;
  const inFlight = 4;
  await kafka.topic(TOPIC);
  progress.set('rpc: starting the hub and the service');
  const hub = await startHub({
    name: 'rpc-hub',
    cpu: SERVER_CPU,
    broker: { type: 'memory' },
    rpc: { brokers: kafka.brokers, topic: TOPIC },
  });
  const service = child('rpc-service', 'service.ts', [kafka.brokers.join(','), TOPIC]);
  let callers: ChildProcess | undefined;
  try {
    await firstMessage(service, 60_000, 'the rpc service');
    progress.set(`rpc: ${connections} connections × ${inFlight} calls in flight`);
    const url = `ws://127.0.0.1:${hub.port}/ws`;
    callers = child('rpc-callers', 'callers.ts', [JSON.stringify({ url, connections, inFlight, warmupMs, measureMs })]);
    await firstMessage(callers, 120_000 + warmupMs, 'the rpc callers');
    const cpu = new CpuWindow([hub.pid]);
    const report = await firstMessage<CallerReport>(callers, measureMs + 30_000, 'the rpc callers');
    const usage = cpu.end();
    const result: RpcResult = {
      connections,
      inFlight,
      seconds: Math.round(report.ms) / 1000,
      calls: report.calls,
      callsPerSec: Math.round((report.calls * 1000) / report.ms),
      failed: report.failed,
      failures: report.failures,
      latency: report.latency,
      hubCpu: usage.cores[0] ?? 0,
    };
    progress.log(
      `  rpc through Kafka: ${result.callsPerSec} round trips/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.failed} failed, hub CPU ${result.hubCpu}`,
    );
    return result;
  } finally {
    if (callers) await stopProcess(callers);
    await stopProcess(service);
    await hub.stop();
  }
}
