/**
 * `npm run bench [-- --quick] [--only idle,fanout,redis,churn,cluster|<scenario id>] [--profile] [--record|--no-record] [--no-pin]`
 * `node --import tsx bench/run.ts --render bench/results/<id>.json` prints a run's markdown section again.
 *
 * Measures Switchboard against a bare uWebSockets.js server in the same run: idle connections,
 * fan-out throughput and latency (memory broker and Redis ingress), connection churn, and (full
 * mode) 50,000 connections over three hub processes. Writes bench/results/<id>.json; a full run
 * (or any run with --record) appends a section to docs/BENCHMARKS.md and redraws
 * docs/benchmarks/latency.svg. All traffic stays on 127.0.0.0/8; every scenario is bounded.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS, ROOT, setPinning } from './lib/procs.js';
import { Progress } from './lib/progress.js';
import { consoleTable, evaluateTargets, latencySvg, type Machine, markdown, type RunResults } from './lib/report.js';
import {
  type ChurnResult,
  type ClusterResult,
  churn,
  cluster,
  type FanoutResult,
  type FanoutSpec,
  fanout,
  type IdleResult,
  idle,
  type Options,
} from './lib/scenarios.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    record: { type: 'boolean' },
    'no-record': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
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
const only = new Set((values.only ?? 'idle,fanout,redis,churn,cluster').split(',').map((s) => s.trim()));
const record = values['no-record'] ? false : (values.record ?? !quick);
setPinning(!values['no-pin']);

const SCENARIOS: FanoutSpec[] = quick
  ? [
      spec('one', '1 channel × 1,000 subscribers', 1, 1000, 'memory', 'ws', [0.5], true, true),
      spec('many', '100 channels × 100 subscribers', 100, 100, 'memory', 'ws', [0.5], true, false),
      spec('redis-one', 'Redis ingress: 1 channel × 1,000', 1, 1000, 'redis', 'redis', [0.5], false, false),
    ]
  : [
      spec('one', '1 channel × 1,000 subscribers', 1, 1000, 'memory', 'ws', [0.1, 0.25, 0.5, 0.75, 0.9], true, true),
      spec('wide', '1 channel × 10,000 subscribers', 1, 10_000, 'memory', 'ws', [0.5], true, true),
      spec('many', '100 channels × 100 subscribers', 100, 100, 'memory', 'ws', [0.1, 0.25, 0.5, 0.75, 0.9], true, true),
      spec('tiny', '1,000 channels × 10 subscribers', 1000, 10, 'memory', 'ws', [0.5], true, false),
      spec('http-one', 'HTTP ingress: 1 channel × 1,000', 1, 1000, 'memory', 'http', [], false, false),
      spec('redis-one', 'Redis ingress: 1 channel × 1,000', 1, 1000, 'redis', 'redis', [0.5], false, false),
      spec('redis-many', 'Redis ingress: 100 channels × 100', 100, 100, 'redis', 'redis', [0.5], false, false),
    ];

function spec(
  id: string,
  title: string,
  channels: number,
  subscribersPerChannel: number,
  broker: 'memory' | 'redis',
  ingress: 'ws' | 'http' | 'redis',
  fractions: number[],
  ceiling: boolean,
  directCeiling: boolean,
): FanoutSpec {
  return { id, title, channels, subscribersPerChannel, broker, ingress, fractions, ceiling, directCeiling };
}

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
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    uws,
    loadAverageAtStart: os.loadavg(),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const id = date.replace(/[:.]/g, '-').slice(0, 19) + (quick ? '-quick' : '-full');
  const progress = new Progress();
  const options: Options = {
    quick,
    retryUntil: started + (quick ? 120_000 : 720_000),
    profile: values.profile ?? false,
    progress,
    runId: id,
  };
  const m = machine();
  progress.log(
    `Switchboard benchmark (${quick ? 'quick' : 'full'}) · ${m.cpus} × ${m.cpuModel} · Node ${m.node} · load average ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  if (m.loadAverageAtStart[0] !== undefined && m.loadAverageAtStart[0] > 0.5) {
    progress.log('  note: the machine is not idle; other processes will show in the "other CPU" column');
  }
  progress.start();
  const fanoutResults: FanoutResult[] = [];
  let idleResults: IdleResult[] = [];
  let churnResults: ChurnResult[] = [];
  let clusterResult: ClusterResult | undefined;
  try {
    if (only.has('idle')) {
      progress.log('Idle connections');
      idleResults = await idle(options, quick ? 10_000 : 15_000);
    }
    for (const s of SCENARIOS) {
      const group = s.broker === 'redis' ? 'redis' : 'fanout';
      if (!only.has(group) && !only.has(s.id)) continue;
      progress.log(`Fan-out: ${s.title} (${s.broker} broker, ${s.ingress} ingress)`);
      fanoutResults.push(await fanout(options, s));
    }
    if (only.has('churn')) {
      progress.log('Churn');
      churnResults = await churn(options);
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
    durationSeconds: (performance.now() - started) / 1000,
    fanout: fanoutResults,
    idle: idleResults,
    churn: churnResults,
    cluster: clusterResult,
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
