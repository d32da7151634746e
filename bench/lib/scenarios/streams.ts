/**
 * Streams that go further (docs/architecture.md, lanes): one hub on the server core, SDK clients
 * in the runner on the load generators' core.
 * - Delta: a feed of near-identical JSON documents to subscribers with and without fossil deltas:
 *   bytes on the wire per push, and hub CPU per publication.
 * - Conflation: one ticker channel published at a fixed rate to subscribers capped at 10/s and to
 *   uncapped ones: hub cores and deliveries per subscriber.
 * - Token streams: concurrent LLM-style streams (10–30-byte tokens at a fixed rate each) from a
 *   service through Redis (the publisher helper) or Kafka (ingress), to one watcher per stream and
 *   to 1,000 watchers in all: tokens/s delivered and end-to-end latency.
 */
import { Kafka, Partitioners, type Producer } from 'kafkajs';
import WebSocket from 'ws';
import { Client, type WebSocketConstructor } from '../../../client-sdk/src/index.js';
import { Publisher } from '../../../src/publisher.js';
import { countingWebSocket } from '../../../test/support/counting-socket.js';
import { sleep } from '../clock.js';
import { CpuWindow } from '../cpu.js';
import { Histogram, type Percentiles, percentiles } from '../histogram.js';
import type { BenchKafka } from '../kafka.js';
import { type HubOptions, type Service, startHub, startRedis } from '../procs.js';
import { CLIENT_CPU, type Options, round2, SERVER_CPU, windowOf } from './common.js';

export interface DeltaResult {
  readonly subscribers: number;
  readonly documents: number;
  readonly documentBytes: number;
  readonly wholeBytesPerPush: number;
  readonly deltaBytesPerPush: number;
  /** Hub CPU ms per publication, for all its subscribers. */
  readonly wholeCpuMs: number;
  readonly deltaCpuMs: number;
}

export interface ConflationResult {
  readonly subscribers: number;
  readonly publicationsPerSec: number;
  readonly maxRate: number;
  readonly wholeCores: number;
  readonly conflatedCores: number;
  readonly wholePerSubscriberPerSec: number;
  readonly conflatedPerSubscriberPerSec: number;
}

export interface TokenResult {
  readonly via: 'redis' | 'kafka';
  readonly streams: number;
  readonly tokensPerSecPerStream: number;
  readonly watchers: number;
  /** Tokens the service got out per second: below streams × rate when the runner could not keep the pace. */
  readonly sentPerSec: number;
  readonly tokensPerSec: number;
  readonly latency: Percentiles;
  readonly hubCores: number;
  /** Tokens that did not arrive by the end of the window plus a second. */
  readonly missing: number;
}

export interface StreamsResult {
  readonly delta: DeltaResult;
  readonly conflation: ConflationResult;
  readonly tokens: TokenResult[];
}

const DELTA_NAMESPACES = { doc: { delta: true }, quote: {}, llm: { mode: 'append' } };

/** A ~4.6 KB JSON document of a feed (a catalogue page); `version` changes one item's stock. */
function document(version: number): Record<string, unknown> {
  const items = Array.from({ length: 40 }, (_, i) => ({
    id: `item-${i}`,
    name: `Product number ${i} of the catalogue`,
    price: 100 + i,
    stock: i === version % 40 ? version : i,
    tags: ['new', 'sale', `group-${i % 5}`],
  }));
  return { version, updated: version * 1000, items };
}

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!condition() && performance.now() < end) await sleep(20);
  return condition();
}

/** Subscribers of `channel`, each its own client and connection, all subscribed. */
async function subscribers(
  url: string,
  count: number,
  channel: string,
  options: { delta?: boolean; maxRate?: number },
  socket: WebSocketConstructor,
  onPublication: (data: unknown) => void,
): Promise<Client[]> {
  const clients = Array.from({ length: count }, () => new Client(url, { WebSocket: socket }));
  await Promise.all(
    clients.map((client) => {
      const subscription = client.subscribe(channel, options);
      subscription.on('publication', ({ data }) => onPublication(data));
      return subscription.ready;
    }),
  );
  return clients;
}

async function deltaFeed(options: Options, hub: Service, url: string): Promise<DeltaResult> {
  const subs = options.quick ? 50 : 200;
  const documents = options.quick ? 100 : 300;
  const run = async (delta: boolean) => {
    const counter = countingWebSocket();
    let received = 0;
    const channel = delta ? 'doc:delta' : 'doc:whole';
    const clients = await subscribers(url, subs, channel, { delta }, counter.WebSocket, () => {
      received += 1;
    });
    const publisher = new Client(url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    await publisher.publish(channel, document(0));
    await waitUntil(() => received >= subs, 10_000);
    const before = counter.bytes();
    received = 0;
    const cpu = new CpuWindow([hub.pid]);
    // 50 documents a second: a feed, not a flood.
    for (let v = 1; v <= documents; v++) {
      await publisher.publish(channel, document(v));
      await sleep(20);
    }
    await waitUntil(() => received >= documents * subs, 30_000);
    const used = cpu.end();
    const bytes = counter.bytes() - before;
    for (const client of [...clients, publisher]) client.close();
    return {
      perPush: round2(bytes / (documents * subs)),
      cpuMs: round2(((used.cpuSeconds[0] ?? 0) * 1000) / documents),
    };
  };
  options.progress.set(`streams: ${documents} documents to ${subs} whole subscribers`);
  const whole = await run(false);
  options.progress.set(`streams: ${documents} documents to ${subs} delta subscribers`);
  const delta = await run(true);
  return {
    subscribers: subs,
    documents,
    documentBytes: JSON.stringify(document(1)).length,
    wholeBytesPerPush: whole.perPush,
    deltaBytesPerPush: delta.perPush,
    wholeCpuMs: whole.cpuMs,
    deltaCpuMs: delta.cpuMs,
  };
}

/** Publishes `{price}` to `channel` at `rate` a second for `ms`, in ticks of 10 ms. */
async function publishAt(client: Client, channel: string, rate: number, ms: number): Promise<void> {
  const perTick = rate / 100;
  const end = performance.now() + ms;
  let sent = 0;
  const started = performance.now();
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    const batch: Promise<unknown>[] = [];
    for (; sent < due; sent++) batch.push(client.publish(channel, { price: sent }));
    await Promise.all(batch);
    await sleep(Math.max(1, 10 - perTick));
  }
}

async function conflation(options: Options, hub: Service, url: string): Promise<ConflationResult> {
  const subs = options.quick ? 200 : 500;
  const rate = 500;
  const maxRate = 10;
  const { measureMs } = windowOf(options);
  const run = async (capped: boolean) => {
    let received = 0;
    const channel = capped ? 'quote:capped' : 'quote:whole';
    const socket = WebSocket as unknown as WebSocketConstructor;
    const clients = await subscribers(url, subs, channel, capped ? { maxRate } : {}, socket, () => {
      received += 1;
    });
    const publisher = new Client(url, { WebSocket: socket });
    const cpu = new CpuWindow([hub.pid]);
    await publishAt(publisher, channel, rate, measureMs);
    const used = cpu.end();
    for (const client of [...clients, publisher]) client.close();
    return { cores: used.cores[0] ?? 0, perSub: round2(received / subs / used.seconds) };
  };
  options.progress.set(`streams: ticker at ${rate}/s to ${subs} uncapped subscribers`);
  const whole = await run(false);
  options.progress.set(`streams: ticker at ${rate}/s to ${subs} subscribers at maxRate ${maxRate}`);
  const capped = await run(true);
  return {
    subscribers: subs,
    publicationsPerSec: rate,
    maxRate,
    wholeCores: whole.cores,
    conflatedCores: capped.cores,
    wholePerSubscriberPerSec: whole.perSub,
    conflatedPerSubscriberPerSec: capped.perSub,
  };
}

/** A token of stream `s`: 10–30 bytes of text, and when it was sent (ms, for the latency). */
function tokenOf(s: number, i: number, at: number): { t: string; s: number } {
  return { t: ` tok${s}-${i}`.padEnd(10 + ((s + i) % 21), '.'), s: at };
}

async function tokens(
  options: Options,
  hub: Service,
  url: string,
  via: TokenResult['via'],
  /** Sends one tick's tokens, one per stream, as the path does it best (a Kafka batch, a Redis pipeline). */
  send: (tokens: ReadonlyArray<readonly [channel: string, data: unknown]>) => Promise<unknown>,
  watchersPerStream: number,
): Promise<TokenResult> {
  const streams = 200;
  const perStream = 50;
  const { measureMs } = windowOf(options);
  const latency = new Histogram();
  let received = 0;
  const socket = WebSocket as unknown as WebSocketConstructor;
  const prefix = `llm:${via}-${watchersPerStream}-`;
  const clients: Client[] = [];
  for (let s = 0; s < streams; s++) {
    clients.push(
      ...(await subscribers(url, watchersPerStream, `${prefix}${s}`, {}, socket, (data) => {
        received += 1;
        latency.record((performance.timeOrigin + performance.now() - (data as { s: number }).s) * 1000);
      })),
    );
  }
  const cpu = new CpuWindow([hub.pid]);
  const started = performance.now();
  let sent = 0;
  // One token per stream every 20 ms: 50 tokens/s each.
  for (let tick = 0; performance.now() - started < measureMs; tick++) {
    const at = performance.timeOrigin + performance.now();
    await send(Array.from({ length: streams }, (_, s) => [`${prefix}${s}`, tokenOf(s, tick, at)] as const));
    sent += streams;
    const next = started + (tick + 1) * (1000 / perStream);
    await sleep(Math.max(0, next - performance.now()));
  }
  const sending = (performance.now() - started) / 1000;
  await waitUntil(() => received >= sent * watchersPerStream, 1000);
  const used = cpu.end();
  for (const client of clients) client.close();
  return {
    via,
    streams,
    tokensPerSecPerStream: perStream,
    watchers: streams * watchersPerStream,
    sentPerSec: Math.round(sent / sending),
    tokensPerSec: Math.round(received / used.seconds),
    latency: percentiles(latency),
    hubCores: used.cores[0] ?? 0,
    missing: sent * watchersPerStream - received,
  };
}

async function withHub<T>(options: HubOptions, run: (hub: Service, url: string) => Promise<T>): Promise<T> {
  const hub = await startHub(options);
  try {
    return await run(hub, `ws://127.0.0.1:${hub.port}/ws`);
  } finally {
    await hub.stop();
  }
}

/** The streams group; `kafka` starts the Kafka the token stream through Kafka needs. */
export async function streams(options: Options, kafka: () => Promise<BenchKafka>): Promise<StreamsResult> {
  const memory = {
    name: 'streams-hub',
    cpu: SERVER_CPU,
    broker: { type: 'memory' },
    namespaces: DELTA_NAMESPACES,
  } as const;
  const { delta, conflated } = await withHub(memory, async (hub, url) => ({
    delta: await deltaFeed(options, hub, url),
    conflated: await conflation(options, hub, url),
  }));
  const results: TokenResult[] = [];
  const redis = await startRedis('streams-redis', CLIENT_CPU);
  try {
    const onRedis = { ...memory, name: 'streams-redis-hub', broker: { type: 'redis', url: redis.url } } as const;
    await withHub(onRedis, async (hub, url) => {
      const publisher = new Publisher({ url: redis.url, history: { size: 50_000, ttlSeconds: 3600 } });
      await publisher.connect();
      try {
        for (const watchers of [1, 5]) {
          options.progress.set(`streams: 200 token streams through Redis, ${watchers * 200} watchers`);
          const send = (batch: ReadonlyArray<readonly [string, unknown]>) =>
            Promise.all(batch.map(([channel, data]) => publisher.publish(channel, data)));
          results.push(await tokens(options, hub, url, 'redis', send, watchers));
        }
      } finally {
        await publisher.close();
      }
    });
  } finally {
    await redis.stop();
  }
  options.progress.set('starting Kafka (KRaft, one node)');
  const broker = await kafka();
  let producer: Producer | undefined;
  try {
    const topic = await broker.topic('bench-llm-tokens');
    const onKafka = {
      ...memory,
      name: 'streams-kafka-hub',
      kafka: { brokers: broker.brokers, ingress: [{ topic, namespace: 'llm' }] },
      namespaces: { llm: { mode: 'append', kafkaIngress: { topic } } },
    } as const;
    producer = new Kafka({ clientId: 'bench-llm', brokers: broker.brokers, logLevel: 0 }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const kafkaProducer = producer;
    await withHub(onKafka, async (hub, url) => {
      options.progress.set('streams: 200 token streams through Kafka, 200 watchers');
      const send = (batch: ReadonlyArray<readonly [string, unknown]>) =>
        kafkaProducer.send({
          topic,
          acks: 1,
          messages: batch.map(([channel, data]) => ({ key: channel, value: JSON.stringify(data) })),
        });
      results.push(await tokens(options, hub, url, 'kafka', send, 1));
    });
  } finally {
    await producer?.disconnect();
    await broker.stop();
  }
  return { delta, conflation: conflated, tokens: results };
}
