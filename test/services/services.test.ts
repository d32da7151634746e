/**
 * Starts the real services the integration tests use, proves each one works,
 * restarts Redis and Kafka on the same port, and stops everything.
 * Run: node --import tsx --test test/services/services.test.ts
 * (needs scripts/services/install.sh to have run once).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { createTopics, freePort, redisPing, ServiceProcess, startHaproxy, startKafka, startRedis } from './index.js';

/** Rejects if `promise` does not settle within `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: timer.signal }).then(() => {
        throw new Error(`${what}: timed out after ${ms} ms`);
      }),
    ]);
  } finally {
    timer.abort();
  }
}

function assertProcessGone(pid: number | undefined, what: string): void {
  assert.ok(pid !== undefined, `${what} had a pid`);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `${what} (pid ${pid}) is still alive`);
}

function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  return fn().then((v) => {
    console.log(`${label}: ${Date.now() - t0} ms`);
    return v;
  });
}

test('redis: start, SET/GET, restart and kill9 on the same port, stop', { timeout: 60_000 }, async () => {
  const redis = await timed('redis ready', () => startRedis());
  const client = new Redis(redis.url, { maxRetriesPerRequest: 2, lazyConnect: true });
  client.on('error', () => {}); // reconnect noise during restarts
  try {
    await within(5_000, 'redis connect', client.connect());
    await client.set('sb:k', 'v1');
    assert.equal(await client.get('sb:k'), 'v1');

    const pid1 = redis.pid;
    await timed('redis restart', () => redis.restart());
    assert.notEqual(redis.pid, pid1);
    assertProcessGone(pid1, 'redis before restart');
    assert.equal(await redisPing(redis.host, redis.port), true);
    // ioredis reconnects by itself; no persistence, so the key is gone.
    assert.equal(await within(10_000, 'get after restart', client.get('sb:k')), null);
    await client.set('sb:k', 'v2');
    assert.equal(await client.get('sb:k'), 'v2');

    const pid2 = redis.pid;
    await redis.kill9();
    assertProcessGone(pid2, 'redis after kill9');
    assert.equal(await redisPing(redis.host, redis.port, 500), false);
    await redis.restart();
    assert.equal(await redisPing(redis.host, redis.port), true);
  } finally {
    client.disconnect();
    const pid = redis.pid;
    await redis.stop();
    assert.equal(redis.pid, undefined);
    assertProcessGone(pid, 'redis after stop');
  }
});

test('a service that cannot start fails with its log tail', { timeout: 30_000 }, async () => {
  const blocker = net.createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    await assert.rejects(startRedis({ port }), (err: Error) => {
      assert.match(err.message, /redis on port \d+ failed to start/);
      assert.match(err.message, /Address already in use/i);
      return true;
    });
  } finally {
    blocker.close();
  }
});

test('a service that is not installed names itself and the command that installs it', async () => {
  const missing = new ServiceProcess({
    name: 'redis',
    port: await freePort(),
    command: 'redis-server-that-is-not-installed',
    args: [],
    ready: async () => true,
  });
  await assert.rejects(
    missing.start(),
    /^Error: redis: redis-server-that-is-not-installed is not installed \(not found on PATH\); install it with: bash scripts\/services\/install\.sh$/,
  );
});

test('kafka: missing jars give a clear error', () => {
  const saved = process.env.SWITCHBOARD_KAFKA_HOME;
  process.env.SWITCHBOARD_KAFKA_HOME = '/nonexistent/kafka';
  try {
    return assert.rejects(startKafka(), /run scripts\/services\/install\.sh/);
  } finally {
    if (saved === undefined) delete process.env.SWITCHBOARD_KAFKA_HOME;
    else process.env.SWITCHBOARD_KAFKA_HOME = saved;
  }
});

async function consume(brokers: string[], topic: string, groupId: string, count: number): Promise<string[]> {
  const kafka = new Kafka({ clientId: `services-test-${groupId}`, brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const values: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await within(
      60_000,
      `consume ${count} from ${topic}`,
      new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              values.push(message.value?.toString('utf8') ?? '');
              if (values.length >= count) resolve();
            },
          })
          .catch(reject);
      }),
    );
    return values;
  } finally {
    await consumer.disconnect();
  }
}

async function produce(brokers: string[], topic: string, value: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'services-test-producer', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await within(30_000, 'produce', producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] }));
  } finally {
    await producer.disconnect();
  }
}

test('kafka: start, produce/consume, restart and kill9 keep data, stop', { timeout: 300_000 }, async () => {
  const kafka = await timed('kafka ready', () => startKafka());
  try {
    assert.deepEqual(kafka.brokers, [`127.0.0.1:${kafka.port}`]);
    const topic = 'services-test';
    await timed('kafka createTopics', () => createTopics(kafka.brokers, [topic], 3));
    await timed('kafka produce', () => produce(kafka.brokers, topic, 'before-restart'));
    assert.deepEqual(await timed('kafka consume (new group)', () => consume(kafka.brokers, topic, 'g1', 1)), [
      'before-restart',
    ]);

    const pid1 = kafka.pid;
    await timed('kafka restart', () => kafka.restart());
    assertProcessGone(pid1, 'kafka before restart');
    assert.notEqual(kafka.pid, undefined);
    assert.deepEqual(kafka.brokers, [`127.0.0.1:${kafka.port}`]);

    await produce(kafka.brokers, topic, 'after-restart');
    const values = await consume(kafka.brokers, topic, 'g2', 2);
    assert.deepEqual([...values].sort(), ['after-restart', 'before-restart']);

    // Unclean: kill -9, then start again on the same ports; acknowledged records survive.
    const pid2 = kafka.pid;
    await kafka.kill9();
    assertProcessGone(pid2, 'kafka after kill9');
    await timed('kafka start after kill9', () => kafka.start());
    await produce(kafka.brokers, topic, 'after-kill9');
    const all = await consume(kafka.brokers, topic, 'g3', 3);
    assert.deepEqual([...all].sort(), ['after-kill9', 'after-restart', 'before-restart']);
  } finally {
    const pid = kafka.pid;
    await timed('kafka stop', () => kafka.destroy());
    assert.equal(kafka.pid, undefined);
    assertProcessGone(pid, 'kafka after stop');
  }
});

test('haproxy: bytes round-trip through it to an echo server', { timeout: 60_000 }, async () => {
  const echo = net.createServer((socket) => {
    socket.on('error', () => {}); // haproxy being stopped resets its side
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const address = echo.address();
  assert.ok(address !== null && typeof address !== 'string');
  const haproxy = await timed('haproxy ready', () =>
    startHaproxy({ backends: [{ host: '127.0.0.1', port: address.port }], balance: 'leastconn' }),
  );
  try {
    const payload = Buffer.from('hello through haproxy\n'.repeat(1000));
    const received = await within(
      10_000,
      'echo via haproxy',
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let length = 0;
        const socket = net.connect({ host: haproxy.host, port: haproxy.port }, () => socket.write(payload));
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          length += chunk.length;
          if (length >= payload.length) {
            socket.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        socket.on('error', reject);
      }),
    );
    assert.ok(received.equals(payload));
  } finally {
    const pid = haproxy.pid;
    await haproxy.destroy();
    assert.equal(haproxy.pid, undefined);
    assertProcessGone(pid, 'haproxy after stop');
    echo.close();
  }
});
