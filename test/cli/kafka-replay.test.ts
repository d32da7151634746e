/**
 * The acceptance line of replay from Kafka, as a user meets it: a hub started by
 * `switchboard serve` with examples/hub-redis-kafka.yaml (on this test's Redis and Kafka), and
 * `switchboard sub orders:42 --since EPOCH:1` after Redis history was trimmed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { parse } from 'yaml';
import { createTopics, type KafkaService, type RedisService, startKafka, startRedis } from '../services/index.js';
import { CLI } from '../support/cli.js';
import { type HubProcess, spawnHub } from '../support/hub-process.js';
import { waitFor } from '../support/wait.js';

const EXAMPLE = new URL('../../examples/hub-redis-kafka.yaml', import.meta.url);

describe('switchboard sub --since on a Kafka-fed channel whose Redis history was trimmed', () => {
  let kafka: KafkaService;
  let redis: RedisService;
  let hub: HubProcess;
  let producer: Producer;
  let child: ChildProcess | undefined;

  before(async () => {
    [kafka, redis] = await Promise.all([startKafka(), startRedis()]);
    await createTopics(kafka.brokers, ['orders', 'commands'], 3);
    const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, Record<string, unknown>>;
    hub = await spawnHub({
      ...example,
      broker: { ...example.broker, url: redis.url },
      // A fresh topic: read it whole, so nothing produced while the group joins is skipped.
      kafka: { brokers: kafka.brokers, fromBeginning: true },
    });
    producer = new Kafka({ clientId: 'orders-service', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  });
  after(async () => {
    child?.kill('SIGKILL');
    await producer?.disconnect();
    await hub?.process.stop();
    await Promise.all([kafka?.destroy(), redis?.destroy()]);
  });

  const send = (first: number, count: number) =>
    producer.send({
      topic: 'orders',
      messages: Array.from({ length: count }, (_, i) => ({
        key: 'orders:42',
        value: JSON.stringify({ n: first + i }),
      })),
    });

  it('prints every record Kafka still holds for the channel, then live ones', { timeout: 120_000 }, async () => {
    // 250 records; the example keeps 100 per channel in Redis.
    await send(1, 250);
    let top = { epoch: '', offset: 0 };
    await waitFor(
      () => {
        void fetch(`${hub.http}/api/history`, {
          method: 'POST',
          body: JSON.stringify({ channel: 'orders:42', limit: 1 }),
        })
          .then((response) => response.json())
          .then((body) => {
            top = body as typeof top;
          })
          .catch(() => undefined);
        return top.offset === 250;
      },
      'the hub to ingest all 250',
      30_000,
    );
    child = spawn(process.execPath, [CLI, 'sub', 'orders:42', '--since', `${top.epoch}:1`, '--url', hub.url]);
    const lines: Array<{ offset: number; data: { n: number } }> = [];
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(() => lines.length === 249, 'offsets 2 to 250', 20_000);
    await send(251, 2);
    await waitFor(() => lines.length === 251, 'two live ones', 20_000);
    child.kill('SIGINT');
    await once(child, 'exit');
    assert.match(stderr, /missed publications recovered/);
    assert.deepEqual(
      lines.map((line) => [line.offset, line.data.n]),
      Array.from({ length: 251 }, (_, i) => [i + 2, i + 2]),
    );
  });
});
