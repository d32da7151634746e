/**
 * `npm run bench [-- --quick] [--only <groups or scenario ids>] [--until-quiet N] [--profile] [--record|--no-record] [--no-pin]`
 * `node --import tsx bench/run.ts --render bench/results/<id>.json` prints a run's markdown section again.
 *
 * Measures Switchboard against a bare uWebSockets.js server in the same run: server CPU per
 * delivery, deliveries per second, latency and bytes per push for each publish pattern (deep and
 * single WebSocket publishes, HTTP, Redis, Kafka), wire format and TLS; publications per second
 * into one hub by each ingress path (Kafka with 1, 3 and 12 partitions, HTTP, batch HTTP, client
 * publishes, the publisher helper) on the memory and Redis brokers; idle connections, connection
 * churn, RPC round trips through Kafka, presence churn and server API calls, fan-out to SSE
 * streams against WebSockets and idle memory per SSE stream, delta bytes, conflation and LLM token
 * streams, replay from Kafka beyond Redis history, Redis ingress over 1, 2 and 3 independent
 * shards, and (full mode) 50,000 connections
 * over three hub processes. Groups for --only: fanout, patterns, redis, kafka, json, tls, ingress,
 * idle, churn, rpc, presence (also `api`), sse, streams, replay, shards (or shards-1, shards-2, shards-3),
 * cluster.
 * --until-quiet N repeats each measurement up to N times until the rest of the machine used under
 * 0.1 core during its window (default 3, quick 1), and marks those that never got there.
 * Writes bench/results/<id>.json; a full run (or any run with --record) appends a section to
 * docs/BENCHMARKS.md and redraws docs/benchmarks/latency.svg. All traffic stays on 127.0.0.0/8;
 * every scenario is bounded.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLK_TCK, cpuModel } from './lib/cpu.js';
import { type BenchKafka, startBenchKafka, withBenchKafka } from './lib/kafka.js';
import { RESULTS, ROOT, selfSignedCertificate, setPinning } from './lib/procs.js';
import { Progress } from './lib/progress.js';
import { consoleTable } from './lib/report/headline.js';
import { markdown } from './lib/report/markdown.js';
import type { Machine, RunResults } from './lib/report/results.js';
import { latencySvg } from './lib/report/svg.js';
import { evaluateTargets } from './lib/report/targets.js';
import { type ChurnResult, churn } from './lib/scenarios/churn.js';
import { type ClusterResult, cluster } from './lib/scenarios/cluster.js';
import { CLIENT_CPU, type Options } from './lib/scenarios/common.js';
import { type FanoutResult, fanout } from './lib/scenarios/fanout.js';
import { type IdleResult, idle } from './lib/scenarios/idle.js';
import { type IngressResult, ingress, ingressSpecs } from './lib/scenarios/ingress.js';
import { QUIET_CORES } from './lib/scenarios/measure.js';
import { type PresenceResult, presenceAndApi } from './lib/scenarios/presence.js';
import { type ReplayResult, replay } from './lib/scenarios/replay.js';
import { type RpcResult, rpc } from './lib/scenarios/rpc.js';
import { SHARD_COUNTS, type ShardsResult, shards } from './lib/scenarios/shards.js';
import { type SseResult, sse } from './lib/scenarios/sse.js';
import { type StreamsResult, streams } from './lib/scenarios/streams.js';
import { scenarios } from './lib/scenarios/table.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    record: { type: 'boolean' },
    'no-record': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'until-quiet': { type: 'string' },
    render: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    `${readFileSync(new URL(import.meta.url), 'utf8')
      .split('*/')[0]
      ?.replace(/^\/\*\*|^ \* ?/gm, '')}\n`,
  );
  process.exit(0);
}

if (values.render) {
  // Re-renders the markdown section (and the chart, to docs/benchmarks/latency.svg) of a results file.
  const results = JSON.parse(readFileSync(values.render, 'utf8')) as RunResults;
  const svg = latencySvg(results);
  if (svg) writeFileSync(join(ROOT, 'docs', 'benchmarks', 'latency.svg'), svg);
  process.stdout.write(`${markdown(results, svg ? 'benchmarks/latency.svg' : undefined)}\n`);
  process.exit(0);
}

const quick = values.quick ?? false;
const only = new Set(
  (
    values.only ??
    'idle,fanout,patterns,redis,kafka,json,tls,ingress,churn,rpc,sse,streams,replay,shards,cluster,presence,api'
  )
    .split(',')
    .map((s) => s.trim()),
);
const record = values['no-record'] ? false : (values.record ?? !quick);
const untilQuiet = Number(values['until-quiet'] ?? (quick ? 1 : 3));
if (!Number.isInteger(untilQuiet) || untilQuiet < 1 || untilQuiet > 20) {
  process.stderr.write('--until-quiet takes a whole number from 1 to 20\n');
  process.exit(2);
}
setPinning(!values['no-pin']);

const SCENARIOS = scenarios(quick).filter((e) => only.has(e.group) || only.has(e.spec.id));
const INGRESS = ingressSpecs().filter((s) => only.has('ingress') || only.has(s.id));
const SHARDS = SHARD_COUNTS.filter((n) => only.has('shards') || only.has(`shards-${n}`));

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(): Machine {
  let uws = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'uWebSockets.js', 'package.json'), 'utf8'));
    uws = `${pkg.version} (${pkg.name})`;
  } catch {}
  return {
    cpus: os.cpus().length,
    cpuModel: cpuModel(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    uws,
    loadAverageAtStart: os.loadavg(),
    clockTicks: CLK_TCK,
  };
}

/**
 * The fan-out scenarios in table order. The certificate is made once; Kafka is started for the
 * first Kafka scenario and stopped after the last, so its JVM idles on the load generators' core
 * only while it is needed.
 */
async function runFanouts(options: Options): Promise<FanoutResult[]> {
  const results: FanoutResult[] = [];
  const certificate = SCENARIOS.some((e) => e.spec.tls) ? selfSignedCertificate() : undefined;
  let kafka: BenchKafka | undefined;
  try {
    for (const [i, { spec }] of SCENARIOS.entries()) {
      if (spec.ingress === 'kafka' && !kafka) {
        options.progress.set('starting Kafka (KRaft, one node)');
        kafka = await startBenchKafka(CLIENT_CPU);
      }
      const how = `${spec.broker} broker, ${spec.ingress} ingress, ${spec.format ?? 'msgpack'}${spec.tls ? ', TLS' : ''}`;
      options.progress.log(`Fan-out: ${spec.title} (${how})`);
      results.push(await fanout(options, spec, { certificate, kafka }));
      if (kafka && !SCENARIOS.slice(i + 1).some((e) => e.spec.ingress === 'kafka')) {
        await kafka.stop();
        kafka = undefined;
      }
    }
  } finally {
    await kafka?.stop();
  }
  return results;
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const id = date.replace(/[:.]/g, '-').slice(0, 19) + (quick ? '-quick' : '-full');
  const progress = new Progress();
  const options: Options = {
    quick,
    // Repeats stop after this, so a busy machine cannot stretch a run without bound.
    retryUntil: started + (quick ? 240_000 : 1_200_000) * untilQuiet,
    untilQuiet,
    profile: values.profile ?? false,
    progress,
    runId: id,
  };
  const m = machine();
  progress.log(
    `Switchboard benchmark (${quick ? 'quick' : 'full'}) · ${m.cpus} × ${m.cpuModel} · Node ${m.node} · load average ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  if (m.loadAverageAtStart[0] !== undefined && m.loadAverageAtStart[0] > 0.5) {
    progress.log('  note: the machine is not idle; other processes will show in the "other load" column');
  }
  progress.start();
  const fanoutResults: FanoutResult[] = [];
  let ingressResults: IngressResult[] = [];
  let idleResults: IdleResult[] = [];
  let churnResults: ChurnResult[] = [];
  let clusterResult: ClusterResult | undefined;
  let rpcResult: RpcResult | undefined;
  let presenceResult: PresenceResult | undefined;
  let sseResult: SseResult | undefined;
  let streamsResult: StreamsResult | undefined;
  let replayResult: ReplayResult | undefined;
  let shardsResults: ShardsResult[] = [];
  try {
    if (only.has('idle')) {
      progress.log('Idle connections');
      idleResults = await idle(options, quick ? [10_000] : [10_000, 15_000]);
    }
    fanoutResults.push(...(await runFanouts(options)));
    if (INGRESS.length > 0) {
      progress.log('Ingress: publications/s into one hub');
      ingressResults = await ingress(options, INGRESS, () => startBenchKafka(CLIENT_CPU));
    }
    if (only.has('churn')) {
      progress.log('Churn');
      churnResults = await churn(options);
    }
    if (only.has('rpc')) {
      progress.log('RPC through Kafka (one hub, one service process)');
      progress.set('starting Kafka (KRaft, one node)');
      rpcResult = await withBenchKafka(CLIENT_CPU, (kafka) => rpc(options, kafka));
    }
    if (only.has('presence') || only.has('api')) {
      progress.log('Presence churn and server API calls (one hub, Redis broker)');
      presenceResult = await presenceAndApi(options);
    }
    if (only.has('sse')) {
      progress.log('SSE fallback against WebSocket: one channel, 1,000 subscribers each, one hub');
      sseResult = await sse(options, 1_000, 50);
    }
    if (only.has('streams')) {
      progress.log('Streams: delta bytes, conflation, LLM token streams through Redis and Kafka');
      streamsResult = await streams(options, () => startBenchKafka(CLIENT_CPU));
    }
    if (only.has('replay')) {
      progress.log('Replay from Kafka beyond Redis history (one hub, Redis broker)');
      progress.set('starting Kafka (KRaft, one node)');
      replayResult = await withBenchKafka(CLIENT_CPU, (kafka) => replay(options, kafka));
    }
    if (SHARDS.length > 0) {
      progress.log('Redis ingress over independent shards');
      shardsResults = await shards(options, SHARDS);
    }
    if (!quick && only.has('cluster')) {
      progress.log('50,000 connections over 3 hub processes (Redis broker)');
      clusterResult = await cluster(options, 50_000, 500, [500, 2000]);
    }
  } finally {
    progress.stop();
  }
  const partial = {
    id,
    date,
    commit: git('rev-parse', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    mode: quick ? ('quick' as const) : ('full' as const),
    machine: m,
    untilQuiet,
    quietCores: QUIET_CORES,
    durationSeconds: (performance.now() - started) / 1000,
    fanout: fanoutResults,
    ingress: ingressResults,
    shards: shardsResults,
    idle: idleResults,
    churn: churnResults,
    cluster: clusterResult,
    rpc: rpcResult,
    presence: presenceResult,
    sse: sseResult,
    streams: streamsResult,
    replay: replayResult,
  };
  const results: RunResults = { ...partial, targets: evaluateTargets(partial) };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${id}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${consoleTable(results)}\n\nResults: ${file}\n`);
  if (record) {
    const svg = latencySvg(results);
    const chart = svg ? 'benchmarks/latency.svg' : undefined;
    if (svg) {
      mkdirSync(join(ROOT, 'docs', 'benchmarks'), { recursive: true });
      writeFileSync(join(ROOT, 'docs', 'benchmarks', 'latency.svg'), svg);
    }
    const doc = join(ROOT, 'docs', 'BENCHMARKS.md');
    if (!existsSync(doc)) writeFileSync(doc, '# Benchmarks\n\nRuns of `npm run bench`, newest last.\n');
    appendFileSync(doc, `\n${markdown(results, chart)}\n`);
    process.stdout.write(`Recorded in docs/BENCHMARKS.md${svg ? ' and docs/benchmarks/latency.svg' : ''}\n`);
  }
  process.stdout.write(`Done in ${Math.round(results.durationSeconds)} s\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
