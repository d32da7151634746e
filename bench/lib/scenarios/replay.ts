/**
 * Replay from Kafka beyond Redis history (docs/operations.md, Replay from Kafka): a hub on the
 * server core with Redis keeping 100 publications per channel, fed by Kafka ingress with
 * `replay`; one channel's 10,000 records interleaved with as many of 50 neighbours over 3
 * partitions. A client resumes from offset 1 (all but one read again from Kafka), from the middle
 * (half), and from inside Redis history (no Kafka read): time to the `sub` reply and to the last
 * publication, publications per second, and the hub's CPU for it. Each resume runs alone, after
 * the previous one ended, so nothing is shared between them.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { RawClient } from '../../../test/support/raw-client.js';
import { sleep } from '../clock.js';
import { CpuWindow } from '../cpu.js';
import type { BenchKafka } from '../kafka.js';
import { startHub, startRedis } from '../procs.js';
import { CLIENT_CPU, type Options, round2, SERVER_CPU } from './common.js';

export interface ReplayRow {
  /** Publications the resume missed, and how many of them came from Kafka. */
  readonly missed: number;
  readonly fromKafka: number;
  readonly recovered: boolean;
  /** Median over the runs: ms to the `sub` reply, and to the last missed publication. */
  readonly replyMs: number;
  readonly lastMs: number;
  readonly publicationsPerSec: number;
  /** Hub CPU ms per resume. */
  readonly hubCpuMs: number;
  readonly runs: number;
}

export interface ReplayResult {
  readonly records: number;
  readonly neighbours: number;
  readonly historySize: number;
  readonly recordBytes: number;
  readonly rows: readonly ReplayRow[];
}

const RECORDS = 10_000;
const NEIGHBOURS = 50;
const HISTORY = 100;
const CHANNEL = 'replay:42';

export async function replay(options: Options, kafka: BenchKafka): Promise<ReplayResult> {
  const redis = await startRedis('replay-redis', CLIENT_CPU);
  try {
    const topic = await kafka.topic('bench-replay');
    const hub = await startHub({
      name: 'replay-hub',
      cpu: SERVER_CPU,
      broker: { type: 'redis', url: redis.url },
      kafka: { brokers: kafka.brokers, ingress: [{ topic, namespace: 'replay' }] },
      namespaces: {
        replay: {
          kafkaIngress: { topic, replay: true },
          clientPublish: false,
          history: { size: HISTORY, ttlSeconds: 3600 },
        },
      },
    });
    try {
      const recordBytes = await produce(kafka.brokers, topic);
      const http = `http://127.0.0.1:${hub.port}`;
      const url = `ws://127.0.0.1:${hub.port}/ws`;
      options.progress.set(`replay: waiting for the hub to ingest ${RECORDS * 2} records`);
      const ep = await ingested(http, RECORDS);
      const rows: ReplayRow[] = [];
      for (const since of [1, RECORDS / 2, RECORDS - HISTORY / 2]) {
        options.progress.set(`replay: resuming ${CHANNEL} after offset ${since}`);
        rows.push(await resume(options, url, hub.pid, ep, since));
      }
      return { records: RECORDS, neighbours: NEIGHBOURS, historySize: HISTORY, recordBytes, rows };
    } finally {
      await hub.stop();
    }
  } finally {
    await redis.stop();
  }
}

/** The channel's records interleaved with its neighbours', in requests well under 1 MiB; returns a record's size. */
async function produce(brokers: string[], topic: string): Promise<number> {
  const producer = new Kafka({ clientId: 'bench-replay', brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const value = (n: number) => JSON.stringify({ n, status: 'shipped', items: [{ sku: `A-${n % 97}`, qty: n % 7 }] });
  try {
    for (let start = 1; start <= RECORDS; start += 1_000) {
      const messages = [];
      for (let n = start; n < start + 1_000 && n <= RECORDS; n++) {
        messages.push({ key: CHANNEL, value: value(n) });
        messages.push({ key: `replay:n${n % NEIGHBOURS}`, value: value(n) });
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return Buffer.byteLength(value(RECORDS));
}

/** Waits until the channel's latest offset is `off` (server API `history`); returns its epoch. */
async function ingested(http: string, off: number): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${http}/api/history`, {
      method: 'POST',
      body: JSON.stringify({ channel: CHANNEL, limit: 1 }),
    }).catch(() => undefined);
    const body = (await response?.json().catch(() => undefined)) as { epoch: string; offset: number } | undefined;
    if (body?.offset === off) return body.epoch;
    await sleep(200);
  }
  throw new Error(`the hub did not ingest ${off} records of ${CHANNEL} within 120 s`);
}

async function resume(options: Options, url: string, hubPid: number, ep: string, since: number): Promise<ReplayRow> {
  const missed = RECORDS - since;
  const runs = options.quick ? 1 : 3;
  const samples: Array<{ reply: number; last: number; cpuMs: number; recovered: boolean }> = [];
  for (let run = 0; run < runs; run++) {
    const client = await RawClient.connected(url);
    try {
      const window = new CpuWindow([hubPid]);
      const t0 = performance.now();
      const reply = await client.request({ t: 'sub', ch: CHANNEL, since: { ep, off: since } });
      const replyMs = performance.now() - t0;
      const recovered = reply.t === 'ok' && (reply.r as { rec?: boolean }).rec === true;
      const deadline = Date.now() + 60_000;
      while (recovered && client.publications(CHANNEL).length < missed && Date.now() < deadline) await sleep(1);
      const last = performance.now() - t0;
      const cpu = window.end();
      samples.push({ reply: replyMs, last, cpuMs: (cpu.cpuSeconds[0] ?? 0) * 1000, recovered });
      if (recovered && client.publications(CHANNEL).length !== missed)
        throw new Error(`resume after ${since} incomplete`);
    } finally {
      client.close();
    }
    await sleep(500);
  }
  const median = (pick: (s: (typeof samples)[number]) => number) =>
    [...samples.map(pick)].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
  const lastMs = median((s) => s.last);
  return {
    missed,
    fromKafka: Math.max(0, RECORDS - HISTORY - since),
    recovered: samples.every((s) => s.recovered),
    replyMs: round2(median((s) => s.reply)),
    lastMs: round2(lastMs),
    publicationsPerSec: lastMs > 0 ? Math.round(missed / (lastMs / 1000)) : 0,
    hubCpuMs: round2(median((s) => s.cpuMs)),
    runs,
  };
}
