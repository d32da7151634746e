/**
 * The HTTP-streaming fallback against WebSockets, in the same run on the same hub: fan-out of one
 * channel to N SSE streams, then to N WebSocket subscribers (JSON, the flavour SSE carries), at one
 * fixed publication rate; and the hub's memory per idle SSE stream (with its one subscription).
 * The clients live in the runner process (on the load generators' core), both kinds alike: the
 * loadgen speaks WebSocket only. Each stream is read by counting events, and a twentieth of the
 * clients parse theirs for the latency, so that the clients' cost stays small beside the hub's.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { sleep } from '../clock.js';
import { CLK_TCK, processTicks } from '../cpu.js';
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import { rssKiB, startHub } from '../procs.js';
import { type Options, round2, SERVER_CPU, sourcesFor } from './common.js';

export interface SseRow {
  readonly transport: 'sse' | 'websocket-json';
  readonly subscribers: number;
  readonly offeredPubs: number;
  readonly expected: number;
  readonly delivered: number;
  readonly deliveriesPerSec: number;
  /** Hub CPU (user + system) per delivery, µs. */
  readonly serverUsPerDelivery: number;
  readonly latency: Percentiles;
}

export interface SseResult {
  readonly rows: SseRow[];
  readonly idle: {
    readonly streams: number;
    readonly rssBeforeKiB: number;
    readonly rssAfterKiB: number;
    readonly kibPerStream: number;
  };
}

const CHANNEL = 'bench:sse';
const SAMPLE_EVERY = 20;
/** V8 gives back a burst's memory about eight seconds after it (idle.ts). */
const SETTLE_MS = 12_000;

interface Receiver {
  delivered: number;
  close(): void;
}

/** One SSE stream subscribed to CHANNEL over a raw socket; `sample` parses each push for its send time. */
function openStream(port: number, localAddress: string, histogram: Histogram | undefined): Promise<Receiver> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const receiver: Receiver = { delivered: 0, close: () => socket.destroy() };
    let subscribed = false;
    let rest = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`GET /sse?ch=${CHANNEL} HTTP/1.1\r\nHost: bench\r\n\r\n`));
    socket.on('data', (chunk: string) => {
      const text = rest + chunk;
      let from = 0;
      for (;;) {
        const at = text.indexOf(`data: ["${CHANNEL}"`, from);
        if (at < 0) break;
        const end = text.indexOf('\n\n', at);
        if (end < 0) break;
        receiver.delivered += 1;
        if (histogram) {
          const sent = Number(/"t":([\d.]+)/.exec(text.slice(at, end))?.[1]);
          histogram.record((performance.now() - sent) * 1000);
        }
        from = end + 2;
      }
      rest = text.slice(from).slice(-256);
      if (!subscribed && /"id":2,"r"/.test(text)) {
        subscribed = true;
        resolve(receiver);
      }
    });
    socket.on('error', reject);
  });
}

/** One WebSocket (JSON) subscribed to CHANNEL. */
function openSocket(port: number, localAddress: string, histogram: Histogram | undefined): Promise<Receiver> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'switchboard.v2.json', { localAddress });
    const receiver: Receiver = { delivered: 0, close: () => ws.terminate() };
    ws.on('open', () => {
      ws.send(JSON.stringify({ t: 'connect', id: 1 }));
      ws.send(JSON.stringify({ t: 'sub', id: 2, ch: CHANNEL }));
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith(`["${CHANNEL}"`)) {
        receiver.delivered += 1;
        if (histogram) histogram.record((performance.now() - Number(/"t":([\d.]+)/.exec(text)?.[1])) * 1000);
      } else if (text.includes('"id":2,"r"')) resolve(receiver);
    });
    ws.on('error', reject);
  });
}

async function openMany(
  count: number,
  open: (index: number, source: string, histogram: Histogram | undefined) => Promise<Receiver>,
  histogram: Histogram,
): Promise<Receiver[]> {
  const sources = sourcesFor(3);
  const receivers: Receiver[] = [];
  // In batches of 100: a thousand connects at once would be a burst the hub's per-address rate refuses.
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, k) => {
      const index = i + k;
      return open(index, sources[index % sources.length] as string, index % SAMPLE_EVERY === 0 ? histogram : undefined);
    });
    receivers.push(...(await Promise.all(batch)));
  }
  return receivers;
}

/** Publishes at `rate` for `ms` through the HTTP API, each with its send time. */
async function publishFor(http: string, rate: number, ms: number): Promise<number> {
  const count = Math.round((rate * ms) / 1000);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const response = await fetch(`${http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: CHANNEL, data: { t: performance.now() } }),
    });
    if (response.status !== 200) throw new Error(`publish answered ${response.status}`);
  }
  return count;
}

async function measure(
  transport: SseRow['transport'],
  hub: { pid: number; http: string },
  receivers: Receiver[],
  histogram: Histogram,
  rate: number,
  ms: number,
): Promise<SseRow> {
  await publishFor(hub.http, rate, 500);
  await sleep(500);
  histogram.reset();
  for (const receiver of receivers) receiver.delivered = 0;
  const ticks = processTicks(hub.pid);
  const started = performance.now();
  const published = await publishFor(hub.http, rate, ms);
  await sleep(500);
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = ((processTicks(hub.pid) - ticks) / CLK_TCK) * 1e6;
  const delivered = receivers.reduce((sum, receiver) => sum + receiver.delivered, 0);
  return {
    transport,
    subscribers: receivers.length,
    offeredPubs: rate,
    expected: published * receivers.length,
    delivered,
    deliveriesPerSec: Math.round(delivered / seconds),
    serverUsPerDelivery: round2(cpuUs / Math.max(1, delivered)),
    latency: percentiles(histogram),
  };
}

export async function sse(options: Options, subscribers: number, rate: number): Promise<SseResult> {
  const { progress } = options;
  const ms = options.quick ? 2_500 : 4_000;
  progress.set('sse: starting the hub');
  const hub = await startHub({ name: 'sse-hub', cpu: SERVER_CPU, broker: { type: 'memory' } });
  const target = { pid: hub.pid, http: `http://127.0.0.1:${hub.port}` };
  const histogram = new Histogram();
  let receivers: Receiver[] = [];
  try {
    await sleep(SETTLE_MS);
    const rssBeforeKiB = rssKiB(hub.pid);
    progress.set(`sse: opening ${subscribers} SSE streams`);
    receivers = await openMany(subscribers, (_, source, h) => openStream(hub.port, source, h), histogram);
    await sleep(SETTLE_MS);
    const rssAfterKiB = rssKiB(hub.pid);
    const idle = {
      streams: subscribers,
      rssBeforeKiB,
      rssAfterKiB,
      kibPerStream: round2((rssAfterKiB - rssBeforeKiB) / subscribers),
    };
    progress.log(`  idle SSE: ${idle.kibPerStream} KiB per stream with one subscription (${subscribers} streams)`);
    progress.set(`sse: ${rate} publications/s to ${subscribers} SSE streams`);
    const rows = [await measure('sse', target, receivers, histogram, rate, ms)];
    for (const receiver of receivers) receiver.close();
    await sleep(1_000);
    progress.set(`sse: ${rate} publications/s to ${subscribers} WebSockets`);
    receivers = await openMany(subscribers, (_, source, h) => openSocket(hub.port, source, h), histogram);
    rows.push(await measure('websocket-json', target, receivers, histogram, rate, ms));
    for (const row of rows) {
      progress.log(
        `  ${row.transport}: ${row.deliveriesPerSec} deliveries/s, ${row.serverUsPerDelivery} µs hub CPU per delivery, p50 ${row.latency.p50} ms, p99 ${row.latency.p99} ms, ${row.delivered}/${row.expected} delivered`,
      );
    }
    return { rows, idle };
  } finally {
    for (const receiver of receivers) receiver.close();
    await hub.stop();
  }
}
